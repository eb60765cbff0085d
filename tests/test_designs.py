"""The design model: layer validation, geometry, laying out a brief, keeping hand placement."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from common.core import errors
from common.studio import layers, layout
from common.studio.briefs import Brief, ImageBrief, TextBrief
from common.studio.garments import PRINT_AREAS
from common.studio.layers import ImageLayer, TextLayer

AREAS = dict(PRINT_AREAS["classic-tee"])
ASSET = "artwork/" + "a" * 24 + ".png"


def aspect_square(key: str) -> float | None:
    return 1.0 if key == ASSET else None


def text_layer(**changes: object) -> TextLayer:
    values: dict[str, object] = {"id": "t", "area": "front", "x": 0.5, "y": 0.5, "text": "Hi"}
    return TextLayer.model_validate({**values, **changes})


def test_text_is_normalised_and_limited() -> None:
    assert text_layer(text="  Night\u200b\u202e  Shift\n").text == "Night Shift"
    with pytest.raises(ValidationError):
        text_layer(text="\u200b\u200d")
    with pytest.raises(ValidationError):
        text_layer(text="x" * 41)
    assert text_layer(text="x" * 40).text == "x" * 40


@pytest.mark.parametrize(
    "changes",
    [
        {"font": "Comic Sans"},
        {"color": "red"},
        {"color": "#12345"},
        {"size": 0.9},
        {"x": 1.5},
        {"rotation": 400},
        {"scale": 0},
        {"area": "sleeve"},
        {"id": "Bad Id!"},
        {"onclick": "alert(1)"},
    ],
)
def test_out_of_range_layer_values_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        text_layer(**changes)


def test_hex_colors_are_lowercased() -> None:
    assert text_layer(color="#FFAA00").color == "#ffaa00"


@pytest.mark.parametrize("asset", ["../../etc/passwd", "mockups/" + "a" * 24 + ".png", "x.png"])
def test_image_layers_only_point_at_stored_artwork_or_uploads(asset: str) -> None:
    with pytest.raises(ValidationError):
        ImageLayer(id="art", area="front", x=0.5, y=0.5, asset=asset)


def test_layers_must_lie_inside_their_print_area() -> None:
    inside = ImageLayer(id="art", area="front", x=0.5, y=0.5, scale=1.0, asset=ASSET)
    layers.check_layers([inside], AREAS, aspect_square)
    for layer in (
        inside.model_copy(update={"x": 0.7}),
        inside.model_copy(update={"scale": 1.2}),
        inside.model_copy(update={"rotation": 45}),
        text_layer(text="A very long line of text here", size=0.3),
    ):
        with pytest.raises(errors.Unprocessable) as raised:
            layers.check_layers([layer], AREAS, aspect_square)
        assert raised.value.code == "layer_outside_print_area"


def test_duplicate_ids_unknown_assets_and_too_many_layers_are_refused() -> None:
    layer = text_layer(size=0.1)
    with pytest.raises(errors.Unprocessable, match="two layers"):
        layers.check_layers([layer, layer], AREAS, aspect_square)
    ghost = ImageLayer(
        id="g", area="front", x=0.5, y=0.5, scale=0.5, asset="uploads/" + "b" * 24 + ".png"
    )
    with pytest.raises(errors.Unprocessable) as raised:
        layers.check_layers([ghost], AREAS, aspect_square)
    assert raised.value.code == "unknown_asset"
    many = [layer.model_copy(update={"id": f"t{i}"}) for i in range(9)]
    with pytest.raises(errors.Unprocessable) as raised:
        layers.check_layers(many, AREAS, aspect_square)
    assert raised.value.code == "too_many_layers"


def test_fit_inside_shrinks_and_moves_but_never_grows() -> None:
    area = AREAS["front"]
    too_big = ImageLayer(id="art", area="front", x=0.9, y=0.5, scale=1.6, rotation=30, asset=ASSET)
    fitted = layers.fit_inside(too_big, area, 1.0)
    assert layers.inside(fitted, area, 1.0)
    assert fitted.scale < too_big.scale
    small = too_big.model_copy(update={"scale": 0.2, "rotation": 0, "x": 0.3})
    assert layers.fit_inside(small, area, 1.0) == small


def test_image_box_keeps_the_aspect_ratio() -> None:
    area = AREAS["front"]
    layer = ImageLayer(id="art", area="front", x=0.5, y=0.5, scale=1.0, asset=ASSET)
    wide_w, wide_h = layers.image_box(layer, area, 3.0)
    assert wide_w == area.width and abs(wide_w / wide_h - 3.0) < 1e-9
    tall_w, tall_h = layers.image_box(layer, area, 0.25)
    assert tall_h == area.height and abs(tall_w / tall_h - 0.25) < 1e-9


def test_layout_stacks_text_and_artwork_without_overlap() -> None:
    brief = Brief(
        product_id="classic-tee",
        color="Black",
        image=ImageBrief(prompt="tiger", size="full"),
        texts=[
            TextBrief(text="NIGHT SHIFT", position="top", size="large"),
            TextBrief(text="est. 2024", position="bottom"),
            TextBrief(text="On the back", area="back"),
        ],
    )
    laid_out = layout.layout(brief, AREAS, "#151515", (ASSET, 1.0))
    by_id = {layer.id: layer for layer in laid_out}
    assert set(by_id) == {"art", "text-1", "text-2", "text-3"}
    layers.check_layers(laid_out, AREAS, aspect_square)
    area = AREAS["front"]
    top = layers.bounds(by_id["text-1"], area, 1.0)
    art = layers.bounds(by_id["art"], area, 1.0)
    bottom = layers.bounds(by_id["text-2"], area, 1.0)
    assert top[3] <= art[1] and art[3] <= bottom[1]
    assert by_id["text-3"].area == "back" and by_id["text-3"].y == pytest.approx(0.5)
    assert all(
        layer.color == "#ffffff" for layer in laid_out if isinstance(layer, TextLayer)
    )  # white on a black tee


def test_long_text_is_shrunk_to_the_width_of_the_area() -> None:
    brief = Brief(texts=[TextBrief(text="W" * 40, size="full")])
    [layer] = layout.layout(brief, AREAS, "#ffffff", None)
    assert isinstance(layer, TextLayer) and layer.color == "#151515"
    width, _ = layers.text_box(layer, AREAS["front"])
    assert width <= AREAS["front"].width


def test_hand_placement_survives_edits_that_keep_the_plan() -> None:
    before = Brief(image=ImageBrief(prompt="tiger"), texts=[TextBrief(text="Hi")])
    fresh = layout.layout(before, AREAS, "#ffffff", (ASSET, 1.0))
    moved = [
        layer.model_copy(update={"x": 0.4, "rotation": 10}) if layer.id == "text-1" else layer
        for layer in fresh
    ]
    extra = text_layer(id="mine", text="hand made", size=0.05, y=0.1)
    recolored = before.model_copy(deep=True)
    recolored.texts[0].color = "#ff0000"
    merged = layout.merge(
        layout.layout(recolored, AREAS, "#ffffff", (ASSET, 1.0)),
        [*moved, extra],
        before,
        recolored,
        AREAS,
        aspect_square,
    )
    by_id = {layer.id: layer for layer in merged}
    assert by_id["text-1"].x == 0.4 and by_id["text-1"].rotation == 10
    assert isinstance(by_id["text-1"], TextLayer) and by_id["text-1"].color == "#ff0000"
    assert by_id["mine"] == extra
    bigger = before.model_copy(deep=True)
    assert bigger.image is not None
    bigger.image.size = "full"
    relaid = layout.merge(
        layout.layout(bigger, AREAS, "#ffffff", (ASSET, 1.0)),
        moved,
        before,
        bigger,
        AREAS,
        aspect_square,
    )
    assert {layer.id: layer for layer in relaid}["text-1"].x == 0.5  # the plan changed
