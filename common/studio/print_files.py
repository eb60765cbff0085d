"""Print files: each printed side of a design, ready for production, and print-quality warnings.

A print file is one side's print area at its physical size (`catalog.PrintArea.width_in` x
`height_in`) at `DPI` (300): `round(width_in * 300)` x `round(height_in * 300)` pixels, RGBA on
a transparent background (no garment), in sRGB, with exactly the geometry the mockup shows:
the layers are placed by the mockup compositor's own `mockups.paint_layers`, in a box of the
print file's pixels instead of the template's, so images are resampled from their source and
text is set at print resolution (never upscaled).

A print file of a tee's front is 3660 x 4800 pixels, 70 MB decoded: render and store one side
at a time (`common.effects.production` does).

Print files are private objects (`print/<name>.png`): they have no public URL and are read back
only through `storage.get`, by whoever serves them behind its own check.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from common.providers import storage
from common.shop import catalog
from common.studio.briefs import Brief
from common.studio.design_models import PrintWarning
from common.studio.layers import SIDES, ImageLayer, Side, TextLayer, image_box
from common.studio.layout import ART_LAYER, UPLOADED

if TYPE_CHECKING:
    from PIL import Image

    from common.studio.garments import Box

DPI = 300
MIN_DPI = 150  # below this an image prints visibly soft

Layers = Sequence[ImageLayer | TextLayer]


class UnknownPrintArea(ValueError):
    pass


def area_of(product: catalog.Product, side: str) -> catalog.PrintArea:
    area = next((a for a in product.print_areas if a.name == side), None)
    if area is None:
        raise UnknownPrintArea(f"{product.id} has no {side} print area")
    return area


def print_box(area: catalog.PrintArea) -> Box:
    """The print file's own pixels: the area at its physical size, at `DPI`."""
    from common.studio.garments import Box  # the garment templates: on the first print file

    return Box(0, 0, round(area.width_in * DPI), round(area.height_in * DPI))


def printed_sides(layers: Layers) -> list[Side]:
    """The sides that are printed (those with at least one layer), front first."""
    used = {layer.area for layer in layers}
    return [side for side in SIDES if side in used]


def render_print(
    product: catalog.Product, side: str, layers: Layers, assets: Mapping[str, Image.Image]
) -> Image.Image:
    """The print file of one side: RGBA, transparent where nothing is printed, 300 DPI of the
    print area's physical size. `assets` holds the decoded source image of each image layer."""
    from common.studio import mockups

    box = print_box(area_of(product, side))
    return mockups.paint_layers((box.width, box.height), side, box, layers, assets)


def encode_print(image: Image.Image) -> bytes:
    """The print file as a PNG marked sRGB at 300 DPI, with no other metadata: the same
    image always gives the same bytes."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add(b"sRGB", b"\x00")  # perceptual rendering intent: the pixels are sRGB
    out = io.BytesIO()
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    rgba.save(out, format="PNG", pnginfo=info, dpi=(DPI, DPI), optimize=False, compress_level=6)
    return out.getvalue()


def print_png(
    product: catalog.Product, side: str, layers: Layers, assets: Mapping[str, Image.Image]
) -> bytes:
    """`render_print` encoded by `encode_print`."""
    return encode_print(render_print(product, side, layers, assets))


def load_assets(layers: Layers) -> dict[str, Image.Image]:
    """The stored source image of every image layer; a missing one is a LookupError, since a
    print without its artwork is not what was paid for."""
    from PIL import Image

    files = storage.storage()
    assets: dict[str, Image.Image] = {}
    for layer in layers:
        if isinstance(layer, ImageLayer) and layer.asset not in assets:
            data = files.get(layer.asset)
            if data is None:
                raise LookupError(f"the image {layer.asset} of layer {layer.id!r} is not stored")
            image = Image.open(io.BytesIO(data), formats=["PNG"])
            image.load()
            assets[layer.asset] = image.convert("RGBA")
    return assets


# --- print quality ------------------------------------------------------------------------


def effective_dpi(layer: ImageLayer, area: catalog.PrintArea, source: tuple[int, int]) -> float:
    """Pixels per printed inch of an image layer whose source is `source` (width, height)
    pixels: its pixels across / its printed width in inches, the printed box being the one
    `render_print` draws."""
    width_px, _ = image_box(layer, print_box(area), source[0] / source[1])
    return source[0] * DPI / width_px


def from_upload(layer: ImageLayer, brief: Brief) -> bool:
    """Whether the layer prints the shopper's own image: an upload placed by hand, or the
    design's artwork when it is an upload printed as it is (not art generated from it)."""
    if layer.asset.startswith("uploads/"):
        return True
    image = brief.image
    return (
        layer.id == ART_LAYER
        and image is not None
        and image.upload is not None
        and image.prompt == UPLOADED
    )


def warnings(
    product: catalog.Product,
    layers: Layers,
    brief: Brief,
    size_of: Callable[[str], tuple[int, int] | None],
) -> list[PrintWarning]:
    """A `low_resolution` warning for each uploaded image printed at under `MIN_DPI`.

    `size_of` gives a stored asset's (width, height) in pixels, or None when it is gone.
    """
    found: list[PrintWarning] = []
    areas = {area.name: area for area in product.print_areas}
    for layer in layers:
        if not isinstance(layer, ImageLayer) or not from_upload(layer, brief):
            continue
        area, size = areas.get(layer.area), size_of(layer.asset)
        if area is None or size is None:
            continue
        dpi = effective_dpi(layer, area, size)
        if dpi < MIN_DPI:
            found.append(
                PrintWarning(code="low_resolution", layer=layer.id, effective_dpi=int(dpi))
            )
    return found
