"""The ops sheet: one row per line of each paid order, appended exactly once.

The `sheet_row` task of a paid order appends its rows; `POST /api/sheets/append` (ops) puts
them there by hand when they are missing. Both hold the order's sheet lock, and the sheet
provider looks for the order's rows first, so the rows are never there twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING

from common.core import errors
from common.effects import outbox, print_links
from common.infra import db, log
from common.providers import sheets
from common.shop.lifecycle import ORDER_ID, OrderNotFound
from common.shop.order_store import PaidOrder, Piece, paid_order

MAX_ROSTER_CHARS = 40_000  # a Google Sheets cell holds 50,000

if TYPE_CHECKING:
    from common.infra.db import Connection


def sizes_label(sizes: Mapping[str, int]) -> str:
    """`S:4 M:10 L:5`."""
    return " ".join(f"{size}:{quantity}" for size, quantity in sizes.items())


def decimal_amount(cents: int, currency: str) -> str:
    """`265.50 USD`: exact, and read the same by people and by scripts."""
    return f"{cents // 100}.{cents % 100:02d} {currency.upper()}"


def roster_label(roster: Sequence[Piece]) -> str:
    """`Ana López M [ANA #7]; Cleo 2xS`: who each piece of a group's order is for, its size
    and what its back prints; the end is cut (saying how many are left out) to fit a cell."""
    label = ""
    for index, piece in enumerate(roster):
        printed = " ".join(
            part
            for part in (piece.print_name, f"#{piece.print_number}" if piece.print_number else None)
            if part
        )
        entry = (
            piece.member_name
            + " "
            + (f"{piece.quantity}x{piece.size}" if piece.quantity > 1 else piece.size)
        )
        entry += f" [{printed}]" if printed else ""
        if len(label) + len(entry) + 40 > MAX_ROSTER_CHARS:
            return label + f"; and {len(roster) - index} more (see the order)"
        label = f"{label}; {entry}" if label else entry
    return label


def sheet_rows(order: PaidOrder) -> list[list[str | int]]:
    """`OrderID | Date | UserEmail | ProductName | Quantity | Sizes | Total | Status`, one row
    per order line; Total is the line's total, so the column adds up to the orders' totals.
    Then `PrintFront | PrintBack`: signed links to the line's print files (empty: no print),
    and `Roster`: for an order made from a group, who each piece is for (`roster_label`)."""
    date = order.paid_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        [
            order.id,
            date,
            order.email or "",
            f"{line.product_name} ({line.color})",
            line.quantity,
            sizes_label(line.sizes),
            decimal_amount(line.line_total_cents, order.currency),
            order.status,
            *(print_links.of_line(line).get(side, "") for side in ("front", "back")),
            roster_label(order.roster),
        ]
        for line in order.lines
    ]


@dataclass(frozen=True)
class Appended:
    """What an append did: `appended` is false when the sheet already had the order's rows."""

    order_id: str
    appended: bool
    rows: int


def _append_locked(conn: Connection, order_id: str) -> Appended | None:
    """Append the order's rows unless the sheet has them, holding the order's sheet lock."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))",
        {"key": f"sheet:{order_id}"},
    )
    order = paid_order(conn, order_id)
    if order is None:
        return None
    rows = sheet_rows(order)
    appended = sheets.sheet().append_once(order.id, rows)
    return Appended(order.id, appended, len(rows))


def append_to_sheet(order_id: str) -> Appended:
    """Put a paid order's rows in the ops sheet if they are not there (`/api/sheets/append`)."""
    if not ORDER_ID.match(order_id):
        raise OrderNotFound()
    key = f"sheet_row:{order_id}"
    with db.transaction() as conn:
        # The outbox task first, as a drain locks it, then the sheet lock: one lock order.
        conn.execute("SELECT id FROM outbox WHERE dedupe_key = :k FOR UPDATE", {"k": key})
        try:
            result = _append_locked(conn, order_id)
        except sheets.SheetError as exc:
            log.error("sheet append failed", order_id=order_id, error=outbox.describe_error(exc))
            raise errors.ServiceUnavailable(
                "the ops sheet is unavailable, try again shortly",
                code="sheet_unavailable",
                headers={"Retry-After": "30"},
            ) from None
        if result is None:
            raise OrderNotFound()
        conn.execute(
            "UPDATE outbox SET done_at = now(), attempts = attempts + 1"
            " WHERE dedupe_key = :k AND done_at IS NULL",
            {"k": key},
        )
    return result


def perform_sheet_row(conn: Connection, task: outbox.Task) -> None:
    if _append_locked(conn, task.payload["order_id"]) is None:
        raise LookupError(f"order {task.payload['order_id']} does not exist")


HANDLERS: dict[str, outbox.Handler] = {"sheet_row": perform_sheet_row}
