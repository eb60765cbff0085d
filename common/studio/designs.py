"""Designs: a brief made real as layers, artwork and mockups, and their persistence in
`designs` (owned by a session, public id `dsn_...`).
"""

from __future__ import annotations

import functools
import io
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field, TypeAdapter

from common.core import errors
from common.core.caller import Session
from common.core.lazy import Lazy
from common.core.model import Model
from common.core.text import normalize_text
from common.infra import db
from common.infra.config import settings
from common.providers import storage
from common.shop import catalog, owners
from common.studio import print_files, prompts
from common.studio.briefs import Brief, ImageBrief, Style
from common.studio.design_models import (
    DesignIn,
    DesignOut,
    GenerateIn,
    Mockups,
    SharedDesignOut,
    ShareOut,
)
from common.studio.layers import (
    SIDES,
    Area,
    ImageLayer,
    Layer,
    TextLayer,
    UnknownAsset,
    check_layers,
)
from common.studio.layout import ART_LAYER, UPLOADED, contrast_ink, layout, merge

if TYPE_CHECKING:
    from PIL import Image

    from common.infra.db import Connection

DESIGN_ID = re.compile(r"^dsn_[A-Za-z0-9_-]{20,40}$")


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


_LAYERS = Lazy(lambda: TypeAdapter(list[Layer]))  # its schema: built on the first stored design


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
        "SELECT d.id, d.public_id, d.product_id, d.color, d.layers, d.brief, d.prompt,"
        " d.artwork_url, d.final_image_url, d.mockup_back_url, d.version"
        f" FROM designs d WHERE d.public_id = :pid AND {owner_sql}",
        {**params, "pid": design_id},
    ).first()
    if row is None:
        raise _not_found()
    return Stored(
        pk=int(row.id),
        public_id=row.public_id,
        product_id=row.product_id,
        color=row.color,
        layers=list(_LAYERS().validate_python(row.layers)),
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


def _record_version(conn: Connection, pk: int) -> None:
    """Keep the design's state as just written as its version: the row (design, version) of
    `design_versions`, append-only, which an order frozen at checkout reads. Copied from the
    live row in the writing transaction, so it holds exactly what `designs` holds."""
    conn.execute(
        "INSERT INTO design_versions (design_id, version, product_id, color, layers, brief,"
        " prompt, artwork_url, mockup_front_url, mockup_back_url)"
        " SELECT id, version, product_id, color, layers, brief, prompt, artwork_url,"
        " final_image_url, mockup_back_url FROM designs WHERE id = :pk",
        {"pk": pk},
    )


def _write(
    conn: Connection, session: Session, previous: Stored | None, made: _Made, new_id: str | None
) -> str:
    """Create the design (as `new_id`, when given) or move it to its next version (409 when
    `previous` is stale), and record that version, in the caller's transaction."""
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
        design_id = new_id or new_design_id()
        pk = conn.execute(
            "INSERT INTO designs (public_id, user_id, owner_session, product_id, color,"
            " layers, brief, prompt, artwork_url, final_image_url, mockup_back_url)"
            " VALUES (:pid, :user, :owner, :product, :color, CAST(:layers AS JSONB),"
            " CAST(:brief AS JSONB), :prompt, :artwork, :front, :back) RETURNING id",
            {
                **values,
                "pid": design_id,
                "user": owners.user_pk(conn, session),
                "owner": session.subject if session.anonymous else None,
            },
        ).scalar_one()
        _record_version(conn, pk)
        return design_id
    updated = conn.execute(
        "UPDATE designs SET product_id = :product, color = :color,"
        " layers = CAST(:layers AS JSONB), brief = CAST(:brief AS JSONB), prompt = :prompt,"
        " artwork_url = :artwork, final_image_url = :front, mockup_back_url = :back,"
        " version = version + 1, updated_at = now()"
        " WHERE id = :pk AND version = :version",
        {**values, "pk": previous.pk, "version": previous.version},
    )
    if updated.rowcount != 1:
        raise errors.Conflict(
            "the design changed meanwhile; look at it again and retry", code="design_changed"
        )
    _record_version(conn, previous.pk)
    return previous.public_id


def _out(conn: Connection, session: Session, design_id: str) -> DesignOut:
    stored = load(conn, session, design_id)
    product = catalog.product_named(stored.product_id, field="product_id")
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
        warnings=print_files.warnings(product, stored.layers, stored.brief, _asset_size),
    )


def _asset_size(key: str) -> tuple[int, int] | None:
    image = _asset_image(key)  # kept per instance: the design was just rendered with it
    return image.size if image is not None else None


def read(session: Session | None, design_id: str) -> DesignOut:
    """The caller's design as the storefront shows it."""
    if session is None:
        raise _not_found()
    with db.connect() as conn:
        return _out(conn, session, design_id)


def load_brief(session: Session | None, design_id: str) -> Brief:
    with db.connect() as conn:
        return load(conn, session, design_id).brief


# --- making a design: artwork, layout, mockups ------------------------------------------------


def product_and_color(product_id: str, color_name: str) -> tuple[catalog.Product, catalog.Color]:
    product = catalog.product_named(product_id, field="product_id")
    return product, catalog.color_of(product, color_name, field="color")


def areas_of(product: catalog.Product) -> dict[str, Area]:
    return {area.name: area for area in product.print_areas}


@functools.lru_cache(maxsize=8)
def _asset_image(key: str) -> Image.Image | None:
    """A stored artwork or upload (immutable once stored, so safe to keep).

    At most 8 are kept: a decoded 2048 px upload is 16 MB.
    """
    from PIL import Image  # Pillow: on the first image

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
    from common.studio import images

    key = storage.new_key(kind)
    storage.storage().put(key, images.encode_png(image))
    return key


def artwork_request(image: ImageBrief, garment_hex: str) -> prompts.ArtworkRequest:
    colors = tuple(image.colors)
    if not colors and image.style == "minimal":
        colors = (contrast_ink(garment_hex),)
    reference = None
    if image.upload is not None:
        stored = storage.storage().get(image.upload)
        if stored is None:
            raise UnknownAsset("that uploaded image is no longer stored", field="upload")
        reference = stored
    return prompts.ArtworkRequest(image.prompt, image.style, colors, reference)


def _kept_artwork(brief: Brief, previous: Stored | None) -> tuple[str, float] | None:
    """The previous artwork's (asset key, aspect) when `brief` draws the same picture."""
    if brief.image is None or previous is None or previous.brief.image is None:
        return None
    if previous.brief.image.artwork_key() != brief.image.artwork_key():
        return None
    old = next((layer for layer in previous.layers if layer.id == ART_LAYER), None)
    if not isinstance(old, ImageLayer):
        return None
    aspect = aspect_of(old.asset)
    return (old.asset, aspect) if aspect is not None else None


def draws_artwork(session: Session, design_id: str, brief: Brief) -> bool:
    """Whether changing the caller's design to `brief` makes a new picture (the slow part)."""
    previous = _previous(session, design_id)
    return brief.image is not None and _kept_artwork(brief, previous) is None


def _artwork(brief: Brief, previous: Stored | None, garment_hex: str) -> tuple[str, float] | None:
    """The artwork's (asset key, aspect): the previous one when its recipe is unchanged."""
    if brief.image is None:
        return None
    kept = _kept_artwork(brief, previous)
    if kept is not None:
        return kept
    from common.providers import imagegen
    from common.studio import images

    request = artwork_request(brief.image, garment_hex)
    if request.reference is not None and brief.image.prompt == UPLOADED:
        # printed as it is: decoded, trimmed and encoded within one decode reservation
        with images.decoded(request.reference, stored=True) as upload:
            image = images.trim(upload)
            png, aspect = images.encode_png(image), image.width / image.height
            del image
    else:
        image = images.trim(imagegen.provider().generate(request))
        png, aspect = images.encode_png(image), image.width / image.height
    key = storage.new_key("artwork")
    storage.storage().put(key, png)
    return key, aspect


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
    from common.studio import mockups  # the compositor and garment templates: on first render

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
    with db.connect() as conn:
        return load(conn, session, design_id)


def _save(
    session: Session, previous: Stored | None, made: _Made, new_id: str | None = None
) -> DesignOut:
    """Write the new state in a short transaction: it fails with a 409 when the design
    changed since `previous` was read (its version moved on)."""
    with db.transaction() as conn:
        design_id = _write(conn, session, previous, made, new_id)
        return _out(conn, session, design_id)


def _image_brief(prompt: str, upload: str | None, base: ImageBrief | None) -> ImageBrief:
    """The image part of a design from a plain prompt (or a bare upload), keeping the
    placement and size of `base`, the image it replaces."""
    return ImageBrief(
        prompt=prompt or UPLOADED,
        style=cast(Style, prompts.style_in(prompt) or (base.style if base else "bold")),
        colors=prompts.colors_in(prompt)[:4],
        area=base.area if base else "front",
        size=base.size if base else "large",
        upload=upload,
    )


class Generation(Model):
    """A generation request, checked and with its upload stored: what a job runs later."""

    request: GenerateIn
    upload: str | None = Field(default=None, description="the stored upload's key")
    design_id: str = Field(description="the design it changes, or the id of the one it makes")
    creates: bool


def _generation_brief(
    request: GenerateIn, upload_key: str | None, previous: Stored | None
) -> Brief:
    """The brief a generation makes real: the request's, or the design's with the prompt's (or
    the upload's) image in it."""
    prompt = normalize_text(request.prompt, max_chars=300)
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
    return brief


def accept_generation(
    session: Session, request: GenerateIn, upload: bytes | None = None
) -> Generation:
    """Check a request to create a design, or update the caller's (`design_id`), from a prompt,
    brief or upload (400/404/413/415/422 now, not later), and store its upload."""
    product_and_color(request.product_id, request.color)
    previous = _previous(session, request.design_id)
    upload_key = None
    if upload is not None:
        from common.studio import images

        # decoded at most ARTWORK_SIZE a side and re-encoded within one decode reservation,
        # and let go before the artwork and mockups are made
        with images.decoded(upload, what="the uploaded image") as image:
            png = images.encode_png(image)
        upload_key = storage.new_key("uploads")
        storage.storage().put(upload_key, png)
    _generation_brief(request, upload_key, previous)
    return Generation(
        request=request,
        upload=upload_key,
        design_id=request.design_id or new_design_id(),
        creates=request.design_id is None,
    )


def generate(session: Session, generation: Generation) -> DesignOut:
    """Make the artwork and mockups of an accepted generation and save the design. Run again
    for the same generation, it makes no second design: a design it created is returned."""
    product, color = product_and_color(generation.request.product_id, generation.request.color)
    if generation.creates:
        with db.connect() as conn:
            try:
                return _out(conn, session, generation.design_id)
            except errors.NotFound:
                previous = None
    else:
        previous = _previous(session, generation.design_id)
    brief = _generation_brief(generation.request, generation.upload, previous)
    made = _make(previous, product, color, brief)
    return _save(session, previous, made, generation.design_id if generation.creates else None)


def preview(brief: Brief, side: str) -> str:
    """The URL of a mockup of `brief` on its product and color, `side` only, rendered and
    stored as a design's would be, without a design (the studio's suggestions)."""
    from common.studio import mockups  # the compositor and garment templates: on first render

    assert brief.product_id is not None and brief.color is not None
    product, color = product_and_color(brief.product_id, brief.color)
    art = _artwork(brief, None, color.hex)
    areas = areas_of(product)
    layers = layout(brief, areas, color.hex, art)
    assets = {key: image for key in ([art[0]] if art else []) if (image := _asset_image(key))}
    mockup = mockups.render_side(product.id, color.hex, side, areas[side], layers, assets)
    return storage.storage().url(_store_png("mockups", mockup))


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


# --- sharing for approval -------------------------------------------------------------------

SHARE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
SHARE_PAGE = "/shared"  # the storefront's read-only page: /shared#<token>


def share(session: Session | None, design_id: str) -> ShareOut:
    """A read-only link to the caller's design, for someone to approve it without signing
    in: one per design, so sharing again gives the same link. 404 for anyone else's design."""
    if session is None:
        raise _not_found()
    with db.transaction() as conn:
        stored = load(conn, session, design_id)
        conn.execute(
            "INSERT INTO design_shares (token, design_id) VALUES (:token, :design)"
            " ON CONFLICT (design_id) DO NOTHING",
            {"token": secrets.token_urlsafe(24), "design": stored.pk},
        )
        token = conn.execute(
            "SELECT token FROM design_shares WHERE design_id = :design",
            {"design": stored.pk},
        ).scalar_one()
    return ShareOut(token=token, url=f"{settings().site_url}{SHARE_PAGE}#{token}")


def shared(token: str) -> SharedDesignOut:
    """The design a share link names, as it is now: its product, colour and mockups."""
    if not SHARE_TOKEN.match(token):
        raise errors.NotFound("there is no such shared design", code="share_not_found")
    with db.connect() as conn:
        row = conn.execute(
            "SELECT d.product_id, d.color, d.final_image_url, d.mockup_back_url"
            " FROM design_shares s JOIN designs d ON d.id = s.design_id"
            " WHERE s.token = :token",
            {"token": token},
        ).first()
    if row is None:
        raise errors.NotFound("there is no such shared design", code="share_not_found")
    product = catalog.catalog().product(row.product_id)
    return SharedDesignOut(
        product_name=product.name if product else row.product_id,
        color=row.color,
        mockups=Mockups(front=row.final_image_url or "", back=row.mockup_back_url or ""),
    )
