"""The production files of a paid order: each printed side of each designed line, at 300 DPI of
the print area's physical size, rendered from the design version frozen at checkout and kept
privately (`common.studio.print_files`, `common.providers.storage`).

An order made from a group also gets one print file per personalized piece: the back print of
its name and number (`common.studio.personalization`), named by its place in the roster.

A file's name follows from the line's design version (`common.studio.print_names`), so the
sheet row and the ops email link to it before it exists. The `print_files` task renders them
(the drain performs it, not the webhook: Stripe gets its answer before any slow work); a link
opened before the task ran renders that version on the spot. Either way a file is made once:
a side whose file is stored is never rendered again, and one order's (or one version's)
files are made by one worker at a time (an advisory lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import TypeAdapter

from common.core.lazy import Lazy
from common.effects import outbox
from common.infra import db, log
from common.providers import storage
from common.shop import catalog, order_store
from common.shop.order_store import PrintLine
from common.studio import personalization, print_files, print_names
from common.studio.layers import Layer

if TYPE_CHECKING:
    from common.infra.db import Connection

LAYERS = Lazy(lambda: TypeAdapter(list[Layer]))  # its schema: built on the first print file


def _make(conn: Connection, line: PrintLine) -> dict[str, str]:
    """Render and record the line's missing print files; side -> key of those made."""
    layers = LAYERS().validate_python(line.layers)
    product = catalog.catalog().product(line.product_id)
    if product is None:
        raise LookupError(f"product {line.product_id} of a paid line is no longer sold")
    files = storage.storage()
    made: dict[str, str] = {}
    for side in print_files.printed_sides(layers):
        key = print_names.print_key(line.design_id, line.design_version, side)
        box = print_files.print_box(print_files.area_of(product, side))
        if not files.exists(key):
            assets = print_files.load_assets(layers)
            files.put(key, print_files.print_png(product, side, layers, assets))
            made[side] = key
        if side not in line.done:
            order_store.record_print_file(conn, line.item_pk, side, key, box.width, box.height)
    return made


def _lock(conn: Connection, name: str) -> None:
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))", {"key": f"print:{name}"}
    )


def make_pieces(conn: Connection, order_id: str) -> list[str]:
    """The missing print files of the paid order's personalized pieces (its lock held): the
    keys of those made."""
    files = storage.storage()
    made = []
    for piece in order_store.paid_pieces(conn, order_id):
        if not piece.personalized or piece.object_key is not None:
            continue
        product = catalog.catalog().product(piece.product_id)
        if product is None:
            raise LookupError(f"product {piece.product_id} of a paid order is no longer sold")
        key = print_names.piece_key(order_id, piece.position)
        box = print_files.print_box(print_files.area_of(product, personalization.SIDE))
        if not files.exists(key):
            files.put(key, personalization.piece_print(product, piece))
            made.append(key)
        order_store.record_piece_file(conn, order_id, piece.position, key, box.width, box.height)
    return made


def make_for_order(conn: Connection, order_id: str) -> dict[int, dict[str, str]]:
    """Every missing print file of the paid order: line item id -> side -> key made (and its
    personalized pieces' files)."""
    _lock(conn, order_id)
    lines = order_store.print_lines(conn, order_id)
    for version in sorted({f"{line.design_id}-v{line.design_version}" for line in lines}):
        _lock(conn, version)  # in one order, so two orders of the same versions never deadlock
    made = {}
    for line in lines:
        if keys := _make(conn, line):
            made[line.item_pk] = keys
            log.info("print files made", order_id=order_id, sides=sorted(keys))
    if pieces := make_pieces(conn, order_id):
        log.info("piece print files made", order_id=order_id, pieces=len(pieces))
    return made


def perform_print_files(conn: Connection, task: outbox.Task) -> None:
    make_for_order(conn, task.payload["order_id"])


HANDLERS: dict[str, outbox.Handler] = {"print_files": perform_print_files}


def read(file_name: str) -> bytes | None:
    """The print file called `file_name`, made now if its paid line's task has not run yet;
    None when no paid line prints it."""
    piece = print_names.parse_piece(file_name)
    if piece is not None:
        return _read_piece(*piece)
    parsed = print_names.parse(file_name)
    if parsed is None:
        return None
    design_id, version, side = parsed
    key = print_names.print_key(design_id, version, side)
    stored = storage.storage().get(key)
    if stored is not None:
        return stored
    with db.transaction() as conn:
        _lock(conn, f"{design_id}-v{version}")
        line = order_store.paid_print(conn, design_id, version)
        if line is None:
            return None
        _make(conn, line)
    return storage.storage().get(key)


def _read_piece(order_id: str, position: int) -> bytes | None:
    """A personalized piece's print file, made now if its order's task has not run yet."""
    key = print_names.piece_key(order_id, position)
    stored = storage.storage().get(key)
    if stored is not None:
        return stored
    with db.transaction() as conn:
        _lock(conn, order_id)
        make_pieces(conn, order_id)
    return storage.storage().get(key)
