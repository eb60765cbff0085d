"""The mockup compositor: dyed templates, layers inside print areas, text, front and back.

Golden images (tests/golden/, 512 px) are compared with a tolerance, not byte for byte:
Pillow versions may anti-alias a little differently. After an intended change of the look,
rewrite them with `UPDATE_GOLDEN=1 pytest tests/test_mockups.py` and look at them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from common.core import colors
from common.providers.local import artwork
from common.studio import mockups, prompts
from common.studio.garments import PRINT_AREAS, SIDES
from common.studio.layers import ImageLayer, TextLayer

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_SIZE = 512
ASSET = "artwork/" + "g" * 24 + ".png"
COLORS = {
    "classic-tee": "#151515",
    "premium-tee": "#ffffff",
    "hoodie": "#1f2a44",
    "crewneck": "#9ea3a8",
    "tote": "#efe6d2",
    "cap": "#c3b091",
}


def assets() -> dict[str, Image.Image]:
    art = artwork.generate(prompts.ArtworkRequest("tiger", "bold", ("#f77f00",)), size=512)
    return {ASSET: art}


def golden_layers() -> list[ImageLayer | TextLayer]:
    return [
        ImageLayer(id="art", area="front", x=0.5, y=0.42, scale=0.75, asset=ASSET),
        TextLayer(
            id="text-1",
            area="front",
            x=0.5,
            y=0.9,
            text="NIGHT SHIFT",
            size=0.13,
            color="#e63946",
            font="Aileron Black",
        ),
        ImageLayer(id="back-art", area="back", x=0.5, y=0.5, scale=0.9, rotation=-8, asset=ASSET),
        TextLayer(id="text-2", area="back", x=0.5, y=0.08, text="Auren", size=0.1, color="#2a9d52"),
    ]


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0..255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 4


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("product_id", sorted(PRINT_AREAS))
def test_mockup_matches_its_golden_image(product_id: str, side: str) -> None:
    rendered = mockups.render_side(
        product_id,
        COLORS[product_id],
        side,
        PRINT_AREAS[product_id][side],
        golden_layers(),
        assets(),
        size=GOLDEN_SIZE,
    )
    path = GOLDEN / f"{product_id}-{side}.png"
    if os.environ.get("UPDATE_GOLDEN"):
        rendered.save(path, optimize=True)
    golden = Image.open(path).convert("RGBA")
    assert rendered.size == golden.size == (GOLDEN_SIZE, GOLDEN_SIZE)
    assert difference(rendered, golden) < 1.5


@pytest.mark.parametrize("product_id", sorted(PRINT_AREAS))
def test_ink_never_leaves_the_print_area(product_id: str) -> None:
    area = PRINT_AREAS[product_id]["front"]
    huge = ImageLayer(id="art", area="front", x=0.5, y=0.5, scale=4.0, asset=ASSET)
    solid = {ASSET: Image.new("RGBA", (64, 64), (255, 0, 0, 255))}
    printed = mockups.render_side(product_id, "#ffffff", "front", area, [huge], solid)
    blank = mockups.render_side(product_id, "#ffffff", "front", area, [], {})
    box = (area.x, area.y, area.x + area.width, area.y + area.height)
    changed = ImageChops.difference(printed, blank).getbbox(alpha_only=False)
    assert changed is not None
    assert box[0] <= changed[0] and box[1] <= changed[1]
    assert changed[2] <= box[2] and changed[3] <= box[3]


@pytest.mark.parametrize("color", ["#ffffff", "#c8102e", "#2452a4", "#d8c8a8"])
def test_flat_fabric_takes_the_dye_color(color: str) -> None:
    dyed = mockups.dyed_template("classic-tee", "front", color)
    area = PRINT_AREAS["classic-tee"]["front"]
    # The middle of the chest is flat fabric: it shows the color itself.
    centre = dyed.getpixel((area.x + area.width // 2, area.y + area.height // 2))
    assert isinstance(centre, tuple)
    red, green, blue, alpha = centre
    wanted = colors.rgb(color)
    assert alpha == 255
    assert max(abs(a - b) for a, b in zip((red, green, blue), wanted, strict=True)) <= 20


def test_dark_garments_keep_their_folds_visible() -> None:
    dyed = mockups.dyed_template("hoodie", "front", "#151515").convert("L")
    alpha = mockups.dyed_template("hoodie", "front", "#151515").getchannel("A")
    low, high = ImageStat.Stat(dyed, mask=alpha).extrema[0]
    assert high - low >= 25


def test_text_is_drawn_in_its_color_and_weight() -> None:
    area = PRINT_AREAS["classic-tee"]["front"]
    layer = TextLayer(id="t", area="front", x=0.5, y=0.5, text="HELLO", size=0.2, color="#00ff00")
    regular = mockups.render_text(layer.model_copy(update={"font": "Aileron"}), 60)
    black = mockups.render_text(layer.model_copy(update={"font": "Aileron Black"}), 60)
    assert black.width > regular.width
    ink = (
        sum(black.getchannel("A").histogram()[128:]),
        sum(regular.getchannel("A").histogram()[128:]),
    )
    assert ink[0] > ink[1] * 1.3
    printed = mockups.render_side("classic-tee", "#ffffff", "front", area, [layer], {})
    centre = printed.crop((area.x, area.y, area.x + area.width, area.y + area.height))
    red, green, blue, _ = centre.split()
    is_green = ImageChops.multiply(
        green.point(lambda v: 255 if v > 200 else 0),
        ImageChops.lighter(red, blue).point(lambda v: 255 if v < 80 else 0),
    )
    assert is_green.histogram()[255] > 500


def test_rotation_and_order_are_respected() -> None:
    area = PRINT_AREAS["tote"]["front"]
    red = {ASSET: Image.new("RGBA", (100, 40), (255, 0, 0, 255))}
    flat = ImageLayer(id="a", area="front", x=0.5, y=0.5, scale=0.5, asset=ASSET)
    upright = mockups.render_side("tote", "#ffffff", "front", area, [flat], red)
    turned = mockups.render_side(
        "tote", "#ffffff", "front", area, [flat.model_copy(update={"rotation": 90})], red
    )
    box_flat = ImageChops.difference(upright, mockups.dyed_template("tote", "front", "#ffffff"))
    box_turned = ImageChops.difference(turned, mockups.dyed_template("tote", "front", "#ffffff"))
    (x0, y0, x1, y1) = box_flat.getbbox(alpha_only=False) or (0, 0, 0, 0)
    (u0, v0, u1, v1) = box_turned.getbbox(alpha_only=False) or (0, 0, 0, 0)
    assert x1 - x0 > y1 - y0 and v1 - v0 > u1 - u0
