"""Product templates: shape of the images, print areas on the garment, committed pictures."""

from pathlib import Path

import pytest
from PIL import Image

from common.studio import garments
from common.studio.garments import PRINT_AREAS, SIDES, TEMPLATE_SIZE, render_template
from devtools.product_images import IMAGE_SIZE

PRODUCT_IMAGES = Path(__file__).resolve().parents[1] / "hosting" / "img" / "products"
VIEWS = [(product_id, side) for product_id in PRINT_AREAS for side in SIDES]


def test_every_catalog_product_has_a_print_area_per_side() -> None:
    assert set(PRINT_AREAS) == {"classic-tee", "premium-tee", "hoodie", "crewneck", "tote", "cap"}
    assert all(set(areas) == set(SIDES) for areas in PRINT_AREAS.values())


@pytest.mark.parametrize(("product_id", "side"), VIEWS)
def test_template_is_rgba_at_the_requested_size(product_id: str, side: str) -> None:
    image = render_template(product_id, side, 200)

    assert image.mode == "RGBA"
    assert image.size == (200, 200)


@pytest.mark.parametrize(("product_id", "side"), VIEWS)
def test_garment_sits_on_a_transparent_background(product_id: str, side: str) -> None:
    alpha = render_template(product_id, side).getchannel("A")

    last = TEMPLATE_SIZE - 1
    assert [alpha.getpixel(c) for c in ((0, 0), (last, 0), (0, last), (last, last))] == [0] * 4


@pytest.mark.parametrize(("product_id", "side"), VIEWS)
def test_print_area_lies_on_the_garment(product_id: str, side: str) -> None:
    box = PRINT_AREAS[product_id][side]
    image = render_template(product_id, side)

    assert box.x >= 0 and box.x + box.width <= TEMPLATE_SIZE
    assert box.y >= 0 and box.y + box.height <= TEMPLATE_SIZE
    assert box.width > 0 and box.height > 0
    area = image.crop((box.x, box.y, box.x + box.width, box.y + box.height))
    assert area.getchannel("A").getextrema() == (255, 255)
    centre = image.getpixel((box.x + box.width // 2, box.y + box.height // 2))
    assert isinstance(centre, tuple)
    grey, _, _, alpha = centre
    assert alpha == 255
    assert grey > 200  # light fabric that a tint can colour, not an outline or the inside


@pytest.mark.parametrize(("product_id", "side"), VIEWS)
def test_template_is_neutral_grey(product_id: str, side: str) -> None:
    red, green, blue, _ = render_template(product_id, side, 128).split()

    assert red.tobytes() == green.tobytes() == blue.tobytes()


def test_rendering_is_deterministic() -> None:
    draw = garments._render.__wrapped__

    for product_id, side in VIEWS:
        first, second = draw(product_id, side, 96), draw(product_id, side, 96)
        assert first.tobytes() == second.tobytes()
        assert render_template(product_id, side, 96).tobytes() == first.tobytes()


def test_callers_get_their_own_copy() -> None:
    image = render_template("cap", "front", 64)
    image.paste((255, 0, 0, 255), (0, 0, 64, 64))

    assert render_template("cap", "front", 64).getpixel((0, 0)) == (140, 140, 140, 0)


def test_unknown_product_or_side_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown product"):
        render_template("sock", "front")
    with pytest.raises(ValueError, match="unknown side"):
        render_template("hoodie", "left")


@pytest.mark.parametrize(("product_id", "side"), VIEWS)
def test_product_picture_is_committed(product_id: str, side: str) -> None:
    path = PRODUCT_IMAGES / f"{product_id}-{side}.webp"

    with Image.open(path) as picture:
        assert picture.format == "WEBP"
        assert picture.size == (IMAGE_SIZE, IMAGE_SIZE)
        assert picture.convert("RGBA").getchannel("A").getpixel((0, 0)) == 0
