"""Designs: layers of artwork and text on a product's print areas, the brief they come from,
their validation, and their persistence in `designs` (owned by a session, public id `dsn_...`).

Geometry — the storefront draws layers exactly this way, and `common.mockups` renders them so:

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
import io
import json
import math
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, cast

from PIL import Image, ImageFont
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
)
from sqlalchemy import text
from sqlalchemy.engine import Connection

from common import artwork, catalog, db, errors, imagegen, owners, storage
from common.sessions import Session
from common.text import normalize_text

Side = Literal["front", "back"]
SIDES: tuple[Side, ...] = ("front", "back")
Font = Literal["Aileron", "Aileron Bold", "Aileron Black"]
FONT_WEIGHTS: dict[str, float] = {"Aileron": 0.0, "Aileron Bold": 0.035, "Aileron Black": 0.065}
MAX_LAYERS = 8
MAX_TEXT_CHARS = 40
INSIDE_TOLERANCE = 0.02  # of the area's size: a rounding margin, not a licence to bleed
ASSET_KEY = r"^(artwork|uploads)/[A-Za-z0-9_-]{20,40}\.png$"
DESIGN_ID = re.compile(r"^dsn_[A-Za-z0-9_-]{20,40}$")

HexColor = Annotated[
    str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$", to_lower=True, strip_whitespace=True)
]


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


class _LayerBase(BaseModel):
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
    """Aileron at `em_px` pixels: Pillow's own scalable default font."""
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
                raise errors.Unprocessable(
                    "that image is not stored here", code="unknown_asset", field=f"{where}.asset"
                )
            aspect = found
        if not inside(layer, area, aspect):
            raise errors.Unprocessable(
                f"layer {layer.id!r} reaches outside the {layer.area} print area",
                code="layer_outside_print_area",
                field=where,
            )


# --- the brief: what the shopper asked for -------------------------------------------------

Style = Literal[
    "bold", "neon", "vintage", "minimal", "geometric", "watercolor", "retro", "grunge", "pixel"
]
Size = Literal["small", "medium", "large", "full"]
TextPosition = Literal["auto", "top", "middle", "bottom"]
IMAGE_SCALES: dict[str, float] = {"small": 0.4, "medium": 0.6, "large": 0.8, "full": 1.0}
TEXT_SIZES: dict[str, float] = {"small": 0.08, "medium": 0.12, "large": 0.17, "full": 0.24}
SIZE_ORDER: tuple[Size, ...] = ("small", "medium", "large", "full")


class ImageBrief(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=300, description="what the artwork shows")
    style: Style = "bold"
    colors: list[HexColor] = Field(default_factory=list, max_length=4, description="its inks")
    area: Side = "front"
    size: Size = "large"
    upload: str | None = Field(
        default=None, pattern=ASSET_KEY, description="an uploaded image the artwork is made from"
    )

    @field_validator("prompt")
    @classmethod
    def _clean_prompt(cls, value: str) -> str:
        cleaned = normalize_text(value, max_chars=300)
        if not cleaned:
            raise ValueError("the prompt is empty once invisible characters are removed")
        return cleaned

    def artwork_key(self) -> tuple[str, str, tuple[str, ...], str | None]:
        """What decides the artwork: the same key means the same picture can be reused."""
        return self.prompt, self.style, tuple(self.colors), self.upload


class TextBrief(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS * 4)
    area: Side = "front"
    font: Font = "Aileron Bold"
    color: HexColor | None = Field(default=None, description="none: chosen to stand out")
    size: Size = "medium"
    position: TextPosition = Field(
        default="auto", description="auto: under the artwork, or centred when there is none"
    )

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        return clean_text(value)


class Brief(BaseModel):
    """A validated design request: the chat produces it, `generate-image` makes it real."""

    model_config = ConfigDict(extra="forbid")

    product_id: str | None = Field(default=None, max_length=64)
    color: str | None = Field(default=None, max_length=40, description="a color of the product")
    image: ImageBrief | None = None
    texts: list[TextBrief] = Field(default_factory=list, max_length=4)

    @property
    def empty(self) -> bool:
        return self.image is None and not self.texts


# --- laying a brief out on the print areas -------------------------------------------------

ART_LAYER = "art"
UPLOADED = "your uploaded image"  # the prompt of an upload sent without one: print it as is
TEXT_GAP = 0.03  # of the area's height, between stacked elements
EDGE = 0.02


def text_layer_id(index: int) -> str:
    return f"text-{index + 1}"


def _from_brief(layer_id: str) -> bool:
    return layer_id == ART_LAYER or re.fullmatch(r"text-\d", layer_id) is not None


def luma(hex_value: str) -> float:
    red, green, blue = (int(hex_value[i : i + 2], 16) for i in (1, 3, 5))
    return (0.299 * red + 0.587 * green + 0.114 * blue) / 255


def contrast_ink(garment_hex: str) -> str:
    return "#151515" if luma(garment_hex) > 0.55 else "#ffffff"


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


# --- the edge's models ----------------------------------------------------------------------


class Mockups(BaseModel):
    front: str = Field(description="URL of the front mockup PNG")
    back: str = Field(description="URL of the back mockup PNG")


class DesignOut(BaseModel):
    design_id: str
    product_id: str
    color: str
    color_hex: str
    layers: list[Layer]
    brief: Brief
    prompt: str | None
    artwork_url: str | None = Field(description="the current artwork, when there is one")
    mockups: Mockups
    mockup_url: str = Field(description="the front mockup (same as mockups.front)")
    version: int


class GenerateIn(BaseModel):
    """`POST /api/generate-image`: a prompt (or a brief from the chat) on a product."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(default="", max_length=500)
    product_id: str = Field(min_length=1, max_length=64)
    color: str = Field(min_length=1, max_length=40)
    design_id: str | None = Field(default=None, min_length=1, max_length=64)
    brief: Brief | None = None


class DesignIn(BaseModel):
    """`POST /api/designs`: the layers of a design, as edited in the storefront."""

    model_config = ConfigDict(extra="forbid")

    design_id: str | None = Field(default=None, min_length=1, max_length=64)
    product_id: str = Field(min_length=1, max_length=64)
    color: str = Field(min_length=1, max_length=40)
    layers: list[Layer] = Field(max_length=MAX_LAYERS)


# --- persistence ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    pk: int
    public_id: str
    product_id: str
    color: str
    layers: list[ImageLayer | TextLayer]
    brief: Brief
    prompt: str | None
    artwork_url: str | None
    front_url: str | None
    back_url: str | None
    version: int


_LAYERS = TypeAdapter(list[Layer])


def new_design_id() -> str:
    return "dsn_" + secrets.token_urlsafe(18)


def _not_found() -> errors.NotFound:
    return errors.NotFound("there is no such design", code="design_not_found")


def load(conn: Connection, session: Session | None, design_id: str) -> Stored:
    """The caller's design; 404 for anyone else's, for a guess, or without a session."""
    if session is None or not DESIGN_ID.match(design_id):
        raise _not_found()
    owner_sql, params = owners.owner_clause(session, "d")
    row = conn.execute(
        text(
            "SELECT d.id, d.public_id, d.product_id, d.color, d.layers, d.brief, d.prompt,"
            " d.artwork_url, d.final_image_url, d.mockup_back_url, d.version"
            f" FROM designs d WHERE d.public_id = :pid AND {owner_sql}"
        ),
        {**params, "pid": design_id},
    ).first()
    if row is None:
        raise _not_found()
    return Stored(
        pk=int(row.id),
        public_id=row.public_id,
        product_id=row.product_id,
        color=row.color,
        layers=list(_LAYERS.validate_python(row.layers)),
        brief=Brief.model_validate(row.brief) if row.brief else Brief(),
        prompt=row.prompt,
        artwork_url=row.artwork_url,
        front_url=row.final_image_url,
        back_url=row.mockup_back_url,
        version=int(row.version),
    )


@dataclass(frozen=True)
class _Made:
    """A design's new state, rendered and stored, ready to be written."""

    product_id: str
    color: str
    layers: list[ImageLayer | TextLayer]
    brief: Brief
    prompt: str | None
    artwork_url: str | None
    front_url: str
    back_url: str


def _write(conn: Connection, session: Session, previous: Stored | None, made: _Made) -> str:
    values = {
        "product": made.product_id,
        "color": made.color,
        "layers": json.dumps([layer.model_dump(exclude={"url"}) for layer in made.layers]),
        "brief": made.brief.model_dump_json(),
        "prompt": made.prompt,
        "artwork": made.artwork_url,
        "front": made.front_url,
        "back": made.back_url,
    }
    if previous is None:
        design_id = new_design_id()
        conn.execute(
            text(
                "INSERT INTO designs (public_id, user_id, owner_session, product_id, color,"
                " layers, brief, prompt, artwork_url, final_image_url, mockup_back_url)"
                " VALUES (:pid, :user, :owner, :product, :color, CAST(:layers AS JSONB),"
                " CAST(:brief AS JSONB), :prompt, :artwork, :front, :back)"
            ),
            {
                **values,
                "pid": design_id,
                "user": owners.user_pk(conn, session),
                "owner": session.subject if session.anonymous else None,
            },
        )
        return design_id
    updated = conn.execute(
        text(
            "UPDATE designs SET product_id = :product, color = :color,"
            " layers = CAST(:layers AS JSONB), brief = CAST(:brief AS JSONB), prompt = :prompt,"
            " artwork_url = :artwork, final_image_url = :front, mockup_back_url = :back,"
            " version = version + 1, updated_at = now()"
            " WHERE id = :pk AND version = :version"
        ),
        {**values, "pk": previous.pk, "version": previous.version},
    )
    if updated.rowcount != 1:
        raise errors.Conflict(
            "the design changed meanwhile; look at it again and retry", code="design_changed"
        )
    return previous.public_id


def _out(conn: Connection, session: Session, design_id: str) -> DesignOut:
    stored = load(conn, session, design_id)
    product = _product(stored.product_id)
    color = product.color(stored.color)
    files = storage.storage()
    layers = [
        layer.model_copy(update={"url": files.url(layer.asset)})
        if isinstance(layer, ImageLayer)
        else layer
        for layer in stored.layers
    ]
    front, back = stored.front_url or "", stored.back_url or ""
    return DesignOut(
        design_id=stored.public_id,
        product_id=stored.product_id,
        color=stored.color,
        color_hex=color.hex if color else "#ffffff",
        layers=layers,
        brief=stored.brief,
        prompt=stored.prompt,
        artwork_url=stored.artwork_url,
        mockups=Mockups(front=front, back=back),
        mockup_url=front,
        version=stored.version,
    )


def read(session: Session | None, design_id: str) -> DesignOut:
    """The caller's design as the storefront shows it."""
    if session is None:
        raise _not_found()
    with db.engine().connect() as conn:
        return _out(conn, session, design_id)


def load_brief(session: Session | None, design_id: str) -> Brief:
    with db.engine().connect() as conn:
        return load(conn, session, design_id).brief


# --- making a design: artwork, layout, mockups ------------------------------------------------


def _product(product_id: str) -> catalog.Product:
    product = catalog.catalog().product(product_id)
    if product is None:
        raise errors.Unprocessable(
            f"there is no product {product_id!r}", code="unknown_product", field="product_id"
        )
    return product


def product_and_color(product_id: str, color_name: str) -> tuple[catalog.Product, catalog.Color]:
    product = _product(product_id)
    color = product.color(color_name)
    if color is None:
        raise errors.Unprocessable(
            f"{product.name} comes in {', '.join(c.name for c in product.colors)}",
            code="unknown_color",
            field="color",
        )
    return product, color


def areas_of(product: catalog.Product) -> dict[str, Area]:
    return {area.name: area for area in product.print_areas}


@functools.lru_cache(maxsize=8)
def _asset_image(key: str) -> Image.Image | None:
    """A stored artwork or upload (immutable once stored, so safe to keep).

    At most 8 are kept: a decoded 2048 px upload is 16 MB.
    """
    data = storage.storage().get(key)
    if data is None:
        return None
    image = Image.open(io.BytesIO(data), formats=["PNG"])
    image.load()
    return image.convert("RGBA")


def aspect_of(key: str) -> float | None:
    image = _asset_image(key)
    return image.width / image.height if image is not None else None


def _store_png(kind: str, image: Image.Image) -> str:
    key = storage.new_key(kind)
    storage.storage().put(key, imagegen.encode_png(image))
    return key


def artwork_request(image: ImageBrief, garment_hex: str) -> artwork.ArtworkRequest:
    colors = tuple(image.colors)
    if not colors and image.style == "minimal":
        colors = (contrast_ink(garment_hex),)
    reference = None
    if image.upload is not None:
        stored = storage.storage().get(image.upload)
        if stored is None:
            raise errors.Unprocessable(
                "that uploaded image is no longer stored", code="unknown_asset", field="upload"
            )
        reference = stored
    return artwork.ArtworkRequest(image.prompt, image.style, colors, reference)


def _artwork(brief: Brief, previous: Stored | None, garment_hex: str) -> tuple[str, float] | None:
    """The artwork's (asset key, aspect): the previous one when its recipe is unchanged."""
    if brief.image is None:
        return None
    if previous is not None and previous.brief.image is not None:
        same = previous.brief.image.artwork_key() == brief.image.artwork_key()
        old = next((layer for layer in previous.layers if layer.id == ART_LAYER), None)
        if same and isinstance(old, ImageLayer):
            aspect = aspect_of(old.asset)
            if aspect is not None:
                return old.asset, aspect
    request = artwork_request(brief.image, garment_hex)
    if request.reference is not None and brief.image.prompt == UPLOADED:
        image = imagegen.fit(imagegen.decode(request.reference))  # printed as it is
    else:
        image = imagegen.provider().generate(request)
    image = imagegen.trim(image)
    return _store_png("artwork", image), image.width / image.height


def _side_of(layers: Sequence[ImageLayer | TextLayer], side: str) -> list[dict[str, Any]]:
    return [layer.model_dump(exclude={"url"}) for layer in layers if layer.area == side]


def _render(
    product: catalog.Product,
    color: catalog.Color,
    layers: Sequence[ImageLayer | TextLayer],
    previous: Stored | None,
) -> tuple[str, str]:
    """The front and back mockups' URLs: a side whose product, color and layers are as they
    were keeps its mockup; the others are rendered and stored."""
    from common import mockups  # the compositor builds on this module's geometry

    areas = areas_of(product)
    assets: dict[str, Image.Image] = {}
    for layer in layers:
        if isinstance(layer, ImageLayer):
            image = _asset_image(layer.asset)
            if image is not None:
                assets[layer.asset] = image
    files = storage.storage()
    urls = []
    for side, old_url in zip(
        SIDES, (previous.front_url, previous.back_url) if previous else (None, None), strict=True
    ):
        unchanged = (
            previous is not None
            and old_url
            and (previous.product_id, previous.color) == (product.id, color.name)
            and _side_of(previous.layers, side) == _side_of(layers, side)
        )
        if unchanged and old_url:
            urls.append(old_url)
            continue
        mockup = mockups.render_side(product.id, color.hex, side, areas[side], layers, assets)
        urls.append(files.url(_store_png("mockups", mockup)))
    return urls[0], urls[1]


def _make(
    previous: Stored | None,
    product: catalog.Product,
    color: catalog.Color,
    brief: Brief,
    layers: list[ImageLayer | TextLayer] | None = None,
) -> _Made:
    """Generate what is missing, lay out, render and store the design's new state.

    This is the slow part (the image model, storage) and holds no database connection; a
    failure here leaves the previous design as it was.
    """
    brief = brief.model_copy(update={"product_id": product.id, "color": color.name})
    areas = areas_of(product)
    art = None
    if layers is None:
        art = _artwork(brief, previous, color.hex)
        fresh = layout(brief, areas, color.hex, art)
        layers = merge(
            fresh,
            previous.layers if previous else [],
            previous.brief if previous else None,
            brief,
            areas,
            aspect_of,
        )
    check_layers(layers, areas, aspect_of)
    front, back = _render(product, color, layers, previous)
    art_layer = next((layer for layer in layers if isinstance(layer, ImageLayer)), None)
    return _Made(
        product_id=product.id,
        color=color.name,
        layers=layers,
        brief=brief,
        prompt=brief.image.prompt if brief.image else None,
        artwork_url=storage.storage().url(art_layer.asset) if art_layer else None,
        front_url=front,
        back_url=back,
    )


def _previous(session: Session, design_id: str | None) -> Stored | None:
    if design_id is None:
        return None
    with db.engine().connect() as conn:
        return load(conn, session, design_id)


def _save(session: Session, previous: Stored | None, made: _Made) -> DesignOut:
    """Write the new state in a short transaction: it fails with a 409 when the design
    changed since `previous` was read (its version moved on)."""
    with db.transaction() as conn:
        design_id = _write(conn, session, previous, made)
        return _out(conn, session, design_id)


def _image_brief(prompt: str, upload: str | None, base: ImageBrief | None) -> ImageBrief:
    """The image part of a design from a plain prompt (or a bare upload), keeping the
    placement and size of `base`, the image it replaces."""
    return ImageBrief(
        prompt=prompt or UPLOADED,
        style=cast(Style, artwork.style_in(prompt) or (base.style if base else "bold")),
        colors=artwork.colors_in(prompt)[:4],
        area=base.area if base else "front",
        size=base.size if base else "large",
        upload=upload,
    )


def generate(session: Session, request: GenerateIn, upload: bytes | None = None) -> DesignOut:
    """Create a design, or update the caller's (`design_id`), from a prompt, brief or upload."""
    product, color = product_and_color(request.product_id, request.color)
    upload_key = None
    if upload is not None:
        image = imagegen.decode(upload, what="the uploaded image")
        upload_key = _store_png("uploads", imagegen.fit(image, 2048))
    prompt = normalize_text(request.prompt, max_chars=300)
    previous = _previous(session, request.design_id)
    brief = request.brief or (previous.brief if previous else Brief())
    from_brief = request.brief is not None and request.brief.image is not None
    if upload_key or (prompt and not from_brief):
        base = brief.image or (previous.brief.image if previous else None)
        brief = brief.model_copy(update={"image": _image_brief(prompt, upload_key, base)})
    if brief.empty:
        raise errors.Unprocessable(
            "say what to make: a prompt, an image, or a brief with text",
            code="nothing_to_generate",
            field="prompt",
        )
    return _save(session, previous, _make(previous, product, color, brief))


def apply_brief(session: Session, design_id: str, brief: Brief) -> DesignOut:
    """Change the caller's design to match `brief` (a chat edit)."""
    previous = _previous(session, design_id)
    assert previous is not None
    product, color = product_and_color(
        brief.product_id or previous.product_id, brief.color or previous.color
    )
    return _save(session, previous, _make(previous, product, color, brief))


def save_layers(session: Session, request: DesignIn) -> DesignOut:
    """Create a design from layers, or replace the layers of the caller's design."""
    product, color = product_and_color(request.product_id, request.color)
    previous = _previous(session, request.design_id)
    brief = previous.brief if previous else Brief()
    return _save(session, previous, _make(previous, product, color, brief, list(request.layers)))
