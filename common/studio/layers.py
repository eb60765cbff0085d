"""Layers: artwork and text placed on a product's print areas, and their geometry.

Geometry — the storefront draws layers exactly this way, and `common.studio.mockups` renders
them so:

- A print area is a box (x, y, width, height) in pixels of the product template, whose side is
  `TEMPLATE_SIZE` (1024) pixels. Each layer sits on the `front` or `back` area.
- `x`, `y` place the layer's centre, as fractions (0..1) of the area's width and height.
- An image layer's natural box is the largest box of the artwork's aspect ratio that fits the
  area; `scale` multiplies it. A text layer's em size is `size` x area width x `scale`, in
  Aileron (Pillow's bundled scalable font); the weights `Aileron Bold` and `Aileron Black` add
  a stroke in the text's color of `FONT_WEIGHTS[font]` x em on every glyph edge.
- `rotation` turns the layer clockwise, in degrees, about its centre.
- Layers are painted in list order (the first is at the bottom). A layer, rotated, must lie
  inside its print area; the print is clipped to the area all the same.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Literal, Protocol

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
)

from common.core import errors
from common.core.colors import HexColor
from common.core.fonts import Font
from common.core.model import Model
from common.core.text import normalize_text

if TYPE_CHECKING:
    from PIL import ImageFont

Side = Literal["front", "back"]
SIDES: tuple[Side, ...] = ("front", "back")
FONT_WEIGHTS: dict[str, float] = {"Aileron": 0.0, "Aileron Bold": 0.035, "Aileron Black": 0.065}
MAX_LAYERS = 8
MAX_TEXT_CHARS = 40
INSIDE_TOLERANCE = 0.02  # of the area's size: a rounding margin, not a licence to bleed
ASSET_KEY = r"^(artwork|uploads)/[A-Za-z0-9_-]{20,40}\.png$"


class UnknownAsset(errors.Unprocessable):
    code = "unknown_asset"


class Area(Protocol):
    """A print area in template pixels (`catalog.PrintArea`, `garments.Box`)."""

    @property
    def x(self) -> int: ...
    @property
    def y(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


def clean_text(value: str) -> str:
    """Printed text: normalised (no invisible characters), non-empty, within the limit."""
    cleaned = normalize_text(value, max_chars=MAX_TEXT_CHARS + 1)
    if not cleaned:
        raise ValueError("the text is empty once invisible characters are removed")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise ValueError(f"a text holds at most {MAX_TEXT_CHARS} characters")
    return cleaned


# --- layers -----------------------------------------------------------------------------


class _LayerBase(Model):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9-]{1,24}$", description="unique within the design")
    area: Side = Field(description="the print area the layer sits on")
    x: float = Field(ge=0, le=1, description="centre, as a fraction of the area's width")
    y: float = Field(ge=0, le=1, description="centre, as a fraction of the area's height")
    scale: float = Field(default=1.0, ge=0.05, le=4, description="multiplies the natural size")
    rotation: float = Field(default=0.0, ge=-180, le=180, description="degrees, clockwise")


class ImageLayer(_LayerBase):
    type: Literal["image"] = "image"
    asset: str = Field(pattern=ASSET_KEY, description="the stored artwork or upload")
    label: str = Field(default="", max_length=120, description="what the image shows")
    url: str | None = Field(default=None, description="where to load it (set by the server)")


class TextLayer(_LayerBase):
    type: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS * 4)
    font: Font = "Aileron Bold"
    size: float = Field(default=0.12, ge=0.02, le=0.6, description="em, x the area's width")
    color: HexColor = "#ffffff"

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        return clean_text(value)


Layer = Annotated[ImageLayer | TextLayer, Field(discriminator="type")]


# --- geometry ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def font(em_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Aileron at `em_px` pixels: Pillow's own scalable default font (Pillow: on first use)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=max(1, em_px))


def text_em(layer: TextLayer, area: Area) -> float:
    return layer.size * area.width * layer.scale


def text_ink(layer: TextLayer, em_px: float) -> tuple[int, int, int, int, int]:
    """(left, top, right, bottom, stroke) of the text's ink at `em_px`, as Pillow draws it."""
    em = max(1, round(em_px))
    stroke = round(em * FONT_WEIGHTS[layer.font])
    left, top, right, bottom = font(em).getbbox(layer.text, stroke_width=stroke)
    return int(left), int(top), int(right), int(bottom), stroke


def text_box(layer: TextLayer, area: Area) -> tuple[float, float]:
    left, top, right, bottom, _ = text_ink(layer, text_em(layer, area))
    return float(right - left), float(bottom - top)


def image_box(layer: ImageLayer, area: Area, aspect: float) -> tuple[float, float]:
    """The image's size in template pixels: the area's contain-fit for `aspect`, x scale."""
    if aspect >= area.width / area.height:
        width, height = float(area.width), area.width / aspect
    else:
        width, height = area.height * aspect, float(area.height)
    return width * layer.scale, height * layer.scale


def layer_size(layer: ImageLayer | TextLayer, area: Area, aspect: float) -> tuple[float, float]:
    if isinstance(layer, ImageLayer):
        return image_box(layer, area, aspect)
    return text_box(layer, area)


def bounds(
    layer: ImageLayer | TextLayer, area: Area, aspect: float
) -> tuple[float, float, float, float]:
    """The rotated layer's bounding box in template pixels: (left, top, right, bottom)."""
    width, height = layer_size(layer, area, aspect)
    turn = math.radians(layer.rotation)
    half_w = (abs(width * math.cos(turn)) + abs(height * math.sin(turn))) / 2
    half_h = (abs(width * math.sin(turn)) + abs(height * math.cos(turn))) / 2
    cx = area.x + layer.x * area.width
    cy = area.y + layer.y * area.height
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def inside(layer: ImageLayer | TextLayer, area: Area, aspect: float) -> bool:
    left, top, right, bottom = bounds(layer, area, aspect)
    slack_x, slack_y = area.width * INSIDE_TOLERANCE, area.height * INSIDE_TOLERANCE
    return (
        left >= area.x - slack_x
        and top >= area.y - slack_y
        and right <= area.x + area.width + slack_x
        and bottom <= area.y + area.height + slack_y
    )


def fit_inside(layer: ImageLayer | TextLayer, area: Area, aspect: float) -> ImageLayer | TextLayer:
    """The layer shrunk (never grown) and moved just enough to lie inside its area."""
    left, top, right, bottom = bounds(layer, area, aspect)
    shrink = min(1.0, area.width / max(right - left, 1e-6), area.height / max(bottom - top, 1e-6))
    if shrink < 1.0:
        factor = shrink * 0.995
        if isinstance(layer, TextLayer):
            layer = layer.model_copy(update={"size": max(0.02, layer.size * factor)})
        else:
            layer = layer.model_copy(update={"scale": max(0.05, layer.scale * factor)})
        left, top, right, bottom = bounds(layer, area, aspect)
    half_w = (right - left) / 2 / area.width
    half_h = (bottom - top) / 2 / area.height
    x = min(max(layer.x, min(half_w, 0.5)), max(1 - half_w, 0.5))
    y = min(max(layer.y, min(half_h, 0.5)), max(1 - half_h, 0.5))
    return layer.model_copy(update={"x": x, "y": y})


def check_layers(
    layers: Sequence[ImageLayer | TextLayer],
    areas: Mapping[str, Area],
    aspect_of: Callable[[str], float | None],
) -> None:
    """Raise a 422 naming the first layer that is unknown, duplicated or outside its area."""
    if len(layers) > MAX_LAYERS:
        raise errors.Unprocessable(
            f"a design holds at most {MAX_LAYERS} layers", code="too_many_layers", field="layers"
        )
    seen: set[str] = set()
    for index, layer in enumerate(layers):
        where = f"layers.{index}"
        if layer.id in seen:
            raise errors.Unprocessable(
                f"two layers have the id {layer.id!r}", code="duplicate_layer", field=where
            )
        seen.add(layer.id)
        area = areas.get(layer.area)
        if area is None:
            raise errors.Unprocessable(
                f"this product has no {layer.area} print area",
                code="unknown_print_area",
                field=f"{where}.area",
            )
        aspect = 1.0
        if isinstance(layer, ImageLayer):
            found = aspect_of(layer.asset)
            if found is None:
                raise UnknownAsset("that image is not stored here", field=f"{where}.asset")
            aspect = found
        if not inside(layer, area, aspect):
            raise errors.Unprocessable(
                f"layer {layer.id!r} reaches outside the {layer.area} print area",
                code="layer_outside_print_area",
                field=where,
            )
