"""Names and numbers on the back: a group member's print as text layers, drawn on the back
mockup for the member to see, and as a print file of its own for each personalized piece.

The name sits across the top of the back print area, the number large below it, both centred,
in the group's font, colour and size (`group_store.Style`), shrunk if need be to lie inside the
area (`layers.fit_inside`). A piece's print file holds only these layers, at the back print
area's 300 DPI geometry: it is printed over the design's own back print (`print_files`), which
every piece of the order shares.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from common.providers import storage
from common.shop import catalog
from common.shop.group_store import Entry, Style
from common.shop.groups import Target
from common.shop.order_store import Piece
from common.studio import images, mockups, print_files
from common.studio.layers import Area, Layer, Side, TextLayer, fit_inside

SIDE: Side = "back"
NAME_Y = 0.14  # of the area's height: across the shoulders
NUMBER_Y = 0.5
NAME_EM = {"small": 0.09, "medium": 0.11, "large": 0.13}  # x the area's width
NUMBER_EM = {"small": 0.3, "medium": 0.38, "large": 0.46}
LAYERS = TypeAdapter(list[Layer])


def text_layers(
    style: Style, print_name: str | None, print_number: str | None, area: Area
) -> list[TextLayer]:
    """The member's name and number as back layers that lie inside `area`."""
    placed: list[TextLayer] = []
    for layer_id, value, y, em in (
        ("print-name", print_name, NAME_Y, NAME_EM),
        ("print-number", print_number, NUMBER_Y, NUMBER_EM),
    ):
        if value is None:
            continue
        layer = TextLayer(
            id=layer_id,
            area=SIDE,
            x=0.5,
            y=y,
            text=value,
            font=style.font,  # type: ignore[arg-type]  # stored from the edge's `Font`
            size=em[style.size],
            color=style.color,
        )
        fitted = fit_inside(layer, area, 1.0)
        assert isinstance(fitted, TextLayer)
        placed.append(fitted)
    return placed


def back_preview(target: Target, entry: Entry) -> str | None:
    """The URL of the back mockup with the entry's name and number on the group's design;
    None for an entry that prints nothing of its own."""
    if not entry.personalized:
        return None
    group, product = target.group, target.product
    area = print_files.area_of(product, SIDE)
    design = [layer for layer in LAYERS.validate_python(target.design_layers) if layer.area == SIDE]
    color = product.color(group.color)
    layers = [*design, *text_layers(group.style, entry.print_name, entry.print_number, area)]
    image = mockups.render_side(
        product.id,
        color.hex if color else "#ffffff",
        SIDE,
        area,
        layers,
        print_files.load_assets(design),
    )
    key = storage.new_key("mockups")
    files = storage.storage()
    files.put(key, images.encode_png(image))
    return files.url(key)


def piece_print(product: catalog.Product, piece: Piece) -> bytes:
    """A personalized piece's print file: its name and number only, at 300 DPI of the back
    print area (placed in the template's area, as on the mockup; drawn in its own pixels)."""
    area = print_files.area_of(product, SIDE)
    style = Style(True, True, piece.font, piece.text_color, piece.text_size)
    layers = text_layers(style, piece.print_name, piece.print_number, area)
    return print_files.print_png(product, SIDE, layers, {})
