"""Names and numbers on the back: the text layers lie inside the back print area of every
product, and a piece's print file holds them alone at 300 DPI."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from common.shop import catalog
from common.shop.group_store import Style
from common.shop.order_store import Piece
from common.studio import layers, personalization, print_files

PRODUCTS = ("classic-tee", "premium-tee", "hoodie", "crewneck", "tote", "cap")


@pytest.mark.parametrize("product_id", PRODUCTS)
def test_the_longest_name_and_number_fit_the_back_of_every_product(
    database_url, product_id
) -> None:
    product = catalog.catalog().product(product_id)
    assert product is not None
    area = print_files.area_of(product, "back")
    style = Style(True, True, "Aileron Black", "#ffffff", "large")
    placed = personalization.text_layers(style, "WWWWWWWWWWWWWW", "88", area)
    assert [layer.text for layer in placed] == ["WWWWWWWWWWWWWW", "88"]
    for layer in placed:
        assert layers.inside(layer, area, 1.0), (product_id, layer)
    name, number = placed
    assert name.y < number.y  # the name across the shoulders, the number below


def test_a_piece_print_holds_only_its_name_and_number(database_url) -> None:
    product = catalog.catalog().product("classic-tee")
    assert product is not None
    piece = Piece(0, "Ana", "M", 1, "ANA", "7", "Aileron Black", "#ffffff", "medium")
    image = Image.open(io.BytesIO(personalization.piece_print(product, piece)))
    box = print_files.print_box(print_files.area_of(product, "back"))
    assert image.size == (box.width, box.height) and image.mode == "RGBA"
    left, top, right, bottom = image.getchannel("A").getbbox() or (0, 0, 0, 0)
    assert top < box.height * 0.2 < bottom  # the name starts near the top
    assert left > 0 and right < box.width  # centred, inside the area
    assert image.getchannel("A").getpixel((box.width // 2, 5)) == 0  # transparent around the ink
    blank = Piece(1, "Cleo", "S", 2, None, None, "Aileron Black", "#ffffff", "medium")
    empty = Image.open(io.BytesIO(personalization.piece_print(product, blank)))
    assert empty.getchannel("A").getbbox() is None
