"""The mockup compositor: a design drawn onto its product, the same way the storefront draws it.

A mockup is the product's template (`common.studio.garments`) dyed to the design's color, with every
layer of one side placed in that side's print area (`common.studio.designs` defines the geometry)
and printed into the fabric: the print follows the garment's folds and never leaves the print
area or the garment. Text is set in Aileron, the scalable font that ships inside Pillow.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from PIL import Image, ImageChops, ImageDraw

from common.core import colors
from common.studio.garments import TEMPLATE_SIZE, render_template
from common.studio.layers import Area, ImageLayer, TextLayer, image_box, text_em, text_ink
from common.studio.layers import font as text_font

FABRIC_TONE = 246  # the flat fabric grey of the templates: shading is the ratio to it
DARK_SHEEN = 0.4  # how much of the template's relief shows on dark dyes as a sheen
PRINT_SHADING = 0.85  # how strongly folds and seams darken the print


@functools.lru_cache(maxsize=12)
def _shading(product_id: str, side: str) -> tuple[Image.Image, Image.Image]:
    """The template's relief as an L image (255 = flat fabric, darker in folds) and its alpha."""
    template = render_template(product_id, side, TEMPLATE_SIZE)
    luminance = template.convert("L")
    relief = luminance.point(lambda v: min(255, round(v * 255 / FABRIC_TONE)))
    return relief, template.getchannel("A")


@functools.lru_cache(maxsize=16)
def dyed_template(product_id: str, side: str, color_hex: str) -> Image.Image:
    """The template dyed `color_hex`: folds darken light dyes and catch a sheen on dark ones."""
    relief, alpha = _shading(product_id, side)
    rgb = colors.rgb(color_hex)
    dye = Image.new("RGB", relief.size, rgb)
    shaded = ImageChops.multiply(dye, Image.merge("RGB", (relief, relief, relief)))
    darkness = 1 - colors.luma(color_hex)
    if darkness > 0.5:
        # A black multiplied by its folds stays flat black; real dark cloth shows its relief
        # as lighter ridges, so the inverted relief is added back as a faint sheen.
        gain = DARK_SHEEN * (darkness - 0.5) * 2
        sheen = ImageChops.invert(relief).point(lambda v: round(v * gain))
        shaded = ImageChops.add(shaded, Image.merge("RGB", (sheen, sheen, sheen)))
    dyed = shaded.convert("RGBA")
    dyed.putalpha(alpha)
    return dyed


def render_text(layer: TextLayer, em_px: float) -> Image.Image:
    """The text layer as a tight RGBA image of its ink, unrotated, with its weight's stroke."""
    left, top, right, bottom, stroke = text_ink(layer, em_px)
    canvas = Image.new("RGBA", (max(1, right - left), max(1, bottom - top)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    rgb = colors.rgb(layer.color)
    draw.text(
        (-left, -top),
        layer.text,
        font=text_font(max(1, round(em_px))),
        fill=(*rgb, 255),
        stroke_width=stroke,
        stroke_fill=(*rgb, 255),
    )
    return canvas


# Artwork is kept at 2048 px (`images.ARTWORK_SIZE`) and a mockup draws it a few hundred pixels
# wide: Pillow first shrinks it by a whole factor with a box filter (`Image.reduce`), to no
# less than this many times the size drawn, then resamples that with Lanczos: a quarter of a
# full Lanczos pass over 2048 px, and the same picture to the eye (the golden images agree). A
# print file, at 300 DPI, seldom shrinks artwork that much: it is resampled as before.
REDUCING_GAP = 3.0


def _placed(
    layer: ImageLayer | TextLayer, area: Area, assets: Mapping[str, Image.Image]
) -> tuple[Image.Image, tuple[float, float]] | None:
    """The layer drawn at its final size and rotation, and its centre, in the pixels `area`
    is measured in (the template's for a mockup, the print file's for a print)."""
    cx = area.x + layer.x * area.width
    cy = area.y + layer.y * area.height
    if isinstance(layer, ImageLayer):
        art = assets.get(layer.asset)
        if art is None:
            return None
        width, height = image_box(layer, area, art.width / art.height)
        size = (max(1, round(width)), max(1, round(height)))
        rgba = art if art.mode == "RGBA" else art.convert("RGBA")
        drawn = rgba.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    else:
        drawn = render_text(layer, text_em(layer, area))
    if layer.rotation:
        drawn = drawn.rotate(-layer.rotation, resample=Image.Resampling.BICUBIC, expand=True)
    return drawn, (cx, cy)


def paint_layers(
    canvas: tuple[int, int],
    side: str,
    area: Area,
    layers: Sequence[ImageLayer | TextLayer],
    assets: Mapping[str, Image.Image],
) -> Image.Image:
    """The layers of `side` placed in `area` on a transparent RGBA canvas of size `canvas`.

    The one placement of layers: a mockup paints them in the print area's box on the template,
    a print file (`common.studio.print_files`) in a box of its own pixels at 300 DPI, so the
    two show the same design, each drawn at its own resolution.
    """
    painted = Image.new("RGBA", canvas, (0, 0, 0, 0))
    for layer in layers:
        if layer.area != side:
            continue
        placed = _placed(layer, area, assets)
        if placed is None:
            continue
        drawn, (cx, cy) = placed
        _composite(painted, drawn, (round(cx - drawn.width / 2), round(cy - drawn.height / 2)))
    return painted


COMPOSITE_ROWS = 256  # rows composited at a time: the copies it makes stay a few megabytes


def _composite(canvas: Image.Image, drawn: Image.Image, at: tuple[int, int]) -> None:
    """`drawn` composited over `canvas` with its top left at `at`; what falls outside is
    dropped. Band by band, so the copies `alpha_composite` makes stay small (a print file's
    canvas is tens of megabytes); the pixels are the same as in one go."""
    left, top = max(0, at[0]), max(0, at[1])
    right = min(canvas.width, at[0] + drawn.width)
    bottom = min(canvas.height, at[1] + drawn.height)
    for row in range(top, bottom, COMPOSITE_ROWS):
        end = min(bottom, row + COMPOSITE_ROWS)
        if right > left:
            source = (left - at[0], row - at[1], right - at[0], end - at[1])
            canvas.alpha_composite(drawn, (left, row), source)


def render_side(
    product_id: str,
    color_hex: str,
    side: str,
    area: Area,
    layers: Sequence[ImageLayer | TextLayer],
    assets: Mapping[str, Image.Image],
    size: int = TEMPLATE_SIZE,
) -> Image.Image:
    """One side of the product, dyed and printed with that side's layers, as RGBA."""
    garment = dyed_template(product_id, side, color_hex).copy()
    print_layer = paint_layers(garment.size, side, area, layers, assets)
    if print_layer.getbbox() is not None:
        garment.alpha_composite(_into_fabric(print_layer, product_id, side, area))
    if size != TEMPLATE_SIZE:
        garment = garment.resize((size, size), Image.Resampling.LANCZOS)
    return garment


def _into_fabric(print_layer: Image.Image, product_id: str, side: str, area: Area) -> Image.Image:
    """The print limited to the print area and the garment, shaded by the fabric's relief."""
    relief, garment_alpha = _shading(product_id, side)
    box = (area.x, area.y, area.x + area.width, area.y + area.height)
    area_mask = Image.new("L", print_layer.size, 0)
    area_mask.paste(255, box)
    alpha = ImageChops.multiply(print_layer.getchannel("A"), area_mask)
    alpha = ImageChops.multiply(alpha, garment_alpha)
    shade = relief.point(lambda v: round(255 - (255 - v) * PRINT_SHADING))
    red, green, blue, _ = print_layer.split()
    shaded = [ImageChops.multiply(channel, shade) for channel in (red, green, blue)]
    return Image.merge("RGBA", (*shaded, alpha))
