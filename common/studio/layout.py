"""A brief laid out on a product's print areas as layers, and merged with hand-placed ones."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from common.core import colors
from common.studio.briefs import IMAGE_SCALES, TEXT_SIZES, Brief, TextBrief
from common.studio.layers import SIDES, Area, ImageLayer, TextLayer, fit_inside, image_box, text_box

# --- laying a brief out on the print areas -------------------------------------------------

ART_LAYER = "art"
UPLOADED = "your uploaded image"  # the prompt of an upload sent without one: print it as is
TEXT_GAP = 0.03  # of the area's height, between stacked elements
EDGE = 0.02


def text_layer_id(index: int) -> str:
    return f"text-{index + 1}"


def _from_brief(layer_id: str) -> bool:
    return layer_id == ART_LAYER or re.fullmatch(r"text-\d", layer_id) is not None


def contrast_ink(garment_hex: str) -> str:
    return "#151515" if colors.luma(garment_hex) > 0.55 else "#ffffff"


def _text_layer(text: TextBrief, index: int, area: Area, garment_hex: str) -> TextLayer:
    layer = TextLayer(
        id=text_layer_id(index),
        area=text.area,
        x=0.5,
        y=0.5,
        text=text.text,
        font=text.font,
        size=TEXT_SIZES[text.size],
        color=text.color or contrast_ink(garment_hex),
    )
    width, _ = text_box(layer, area)
    widest = area.width * (1 - 2 * EDGE)
    if width > widest:
        layer = layer.model_copy(update={"size": max(0.02, layer.size * widest / width * 0.98)})
    return layer


def layout(
    brief: Brief,
    areas: Mapping[str, Area],
    garment_hex: str,
    art: tuple[str, float] | None,
) -> list[ImageLayer | TextLayer]:
    """Fresh layers for `brief`: on each side, top texts, then the artwork, then bottom texts.

    `art` is the artwork's (asset key, aspect ratio). Middle texts go over the artwork's centre
    when it shares their side, and to the middle of the area otherwise.
    """
    layers: list[ImageLayer | TextLayer] = []
    for side in SIDES:
        area = areas.get(side)
        if area is None:
            continue
        has_art = brief.image is not None and brief.image.area == side and art is not None
        auto = "bottom" if has_art else "middle"
        texts = [
            (
                index,
                _text_layer(t, index, area, garment_hex),
                auto if t.position == "auto" else t.position,
            )
            for index, t in enumerate(brief.texts)
            if t.area == side
        ]
        heights = {index: text_box(layer, area)[1] / area.height for index, layer, _ in texts}
        placed: dict[int, TextLayer] = {}
        cursor = EDGE
        for index, layer, position in texts:
            if position == "top":
                placed[index] = layer.model_copy(update={"y": cursor + heights[index] / 2})
                cursor += heights[index] + TEXT_GAP
        band_top = cursor
        cursor = 1 - EDGE
        for index, layer, position in reversed(texts):
            if position == "bottom":
                placed[index] = layer.model_copy(update={"y": cursor - heights[index] / 2})
                cursor -= heights[index] + TEXT_GAP
        band_bottom = cursor
        middle = [(index, layer) for index, layer, position in texts if position == "middle"]
        if has_art and art is not None and brief.image is not None:
            asset, aspect = art
            image = ImageLayer(
                id=ART_LAYER,
                area=side,
                x=0.5,
                y=(band_top + band_bottom) / 2,
                scale=IMAGE_SCALES[brief.image.size],
                asset=asset,
                label=brief.image.prompt[:120],
            )
            _, natural = image_box(image.model_copy(update={"scale": 1.0}), area, aspect)
            room = max(0.1, band_bottom - band_top) * area.height
            image = image.model_copy(update={"scale": max(0.05, min(image.scale, room / natural))})
            layers.append(image)
        else:
            total = sum(heights[index] for index, _ in middle) + TEXT_GAP * (len(middle) - 1)
            band_top = (band_top + band_bottom) / 2 - total / 2
        stack = None if has_art else band_top
        for index, layer in middle:
            if stack is None:
                placed[index] = layer
            else:
                placed[index] = layer.model_copy(update={"y": stack + heights[index] / 2})
                stack += heights[index] + TEXT_GAP
        layers.extend(
            fit_inside(placed[index], area, 1.0) for index, _, _ in texts if index in placed
        )
    return layers


def _side_plan(brief: Brief | None, side: str) -> tuple[object, ...]:
    """What decides a side's layout; while it stays the same, hand-placed layers stay put."""
    if brief is None:
        return ()
    image = brief.image
    return (
        (image.size if image is not None and image.area == side else None),
        tuple((i, t.size, t.position) for i, t in enumerate(brief.texts) if t.area == side),
    )


def merge(
    fresh: list[ImageLayer | TextLayer],
    old_layers: Sequence[ImageLayer | TextLayer],
    old_brief: Brief | None,
    new_brief: Brief,
    areas: Mapping[str, Area],
    aspect_of: Callable[[str], float | None],
) -> list[ImageLayer | TextLayer]:
    """The new brief's layers, keeping the old geometry of a side whose plan did not change,
    and every layer the shopper added by hand (ids not made from a brief)."""
    old_by_id = {layer.id: layer for layer in old_layers}
    merged: list[ImageLayer | TextLayer] = []
    for layer in fresh:
        old = old_by_id.get(layer.id)
        same_plan = _side_plan(old_brief, layer.area) == _side_plan(new_brief, layer.area)
        if old is not None and old.area == layer.area and same_plan and type(old) is type(layer):
            geometry = {"x": old.x, "y": old.y, "scale": old.scale, "rotation": old.rotation}
            if isinstance(old, TextLayer):
                geometry["size"] = old.size
            layer = layer.model_copy(update=geometry)
            aspect = aspect_of(layer.asset) if isinstance(layer, ImageLayer) else 1.0
            layer = fit_inside(layer, areas[layer.area], aspect or 1.0)
        merged.append(layer)
    kept = [layer for layer in old_layers if not _from_brief(layer.id)]
    return [*kept, *merged]
