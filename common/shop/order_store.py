"""The order store: every read and write of `orders`, `order_items` and `order_sizes`.

The domain (orders, payments, fulfilment, accounts) and the side effects reach an order only
through here: one way to lock it, save its items, start its checkout, mark it paid, flag it,
take it back to draft, claim it and move its status (always checked against
`common.shop.lifecycle.TRANSITIONS`). It speaks in the domain's own types (`Order`, `Locked`),
never in the edge's response models.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.core import errors
from common.core.caller import Session
from common.infra.config import settings
from common.shop import owners
from common.shop.delivery import ShippingCharge
from common.shop.lifecycle import (
    ORDER_ID,
    OrderNotEditable,
    OrderNotFound,
    Status,
    check_transition,
)

if TYPE_CHECKING:
    from common.infra.db import Connection
    from common.shop import pricing


class OrderNotPaid(errors.Conflict):
    code = "order_not_paid"


# An order as the shop sees it.


@dataclass(frozen=True)
class Choice:
    """What a shopper chose for one item: the product, its design and colour, and sizes."""

    product_id: str
    design_id: str | None
    color: str
    sizes: dict[str, int]


@dataclass(frozen=True)
class SizeLine:
    size: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class Item:
    product_id: str
    design_id: str | None
    color: str
    quantity: int
    tier_min_quantity: int
    unit_price_cents: int
    line_total_cents: int
    list_total_cents: int
    sizes: tuple[SizeLine, ...]
    mockup_front: str | None
    mockup_back: str | None
    image_url: str | None  # the design's picture (mockup, else artwork), for the checkout page
    design_version: int | None  # frozen at checkout; a draft's is its design's latest
    design_product_id: str | None  # the product that design version was made for
    printed_sides: tuple[str, ...]  # the sides with a print file, once the order is paid

    @property
    def size_map(self) -> dict[str, int]:
        return {line.size: line.quantity for line in self.sizes}

    @property
    def choice(self) -> Choice:
        return Choice(self.product_id, self.design_id, self.color, self.size_map)


@dataclass(frozen=True)
class Tracking:
    carrier: str | None
    number: str
    url: str | None


NUMBER_PREFIX = "AUR-"


def order_number(number: int) -> str:
    """The order's number as people read it: `AUR-10482`."""
    return f"{NUMBER_PREFIX}{number}"


@dataclass(frozen=True)
class Event:
    """A status the order took, when, and what caused it."""

    at: datetime
    status: Status
    cause: str
    detail: str


@dataclass(frozen=True)
class Order:
    id: str
    status: Status
    items: tuple[Item, ...]
    subtotal_cents: int
    total_cents: int
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    refunded_cents: int
    tracking: Tracking | None
    events: tuple[Event, ...]
    number: str = ""  # AUR-10482, beside the id
    shipping: ShippingCharge | None = None  # once paid, when Checkout reported it
    roster: tuple[Piece, ...] = ()  # made from a group: who each piece is for, what it prints


@dataclass(frozen=True)
class Summary:
    id: str
    status: Status
    quantity: int
    item_count: int
    total_cents: int
    currency: str
    created_at: datetime
    paid_at: datetime | None
    number: str = ""


@dataclass(frozen=True)
class Locked:
    """An order row held `FOR UPDATE` until the transaction ends."""

    pk: int
    public_id: str
    status: Status
    version: int
    session_id: str | None
    checkout_url: str | None
    checkout_amount_cents: int | None
    checkout_currency: str | None
    payment_intent: str | None
    flagged_reason: str | None
    refunded_cents: int


@dataclass(frozen=True)
class NewLine:
    """An item to write: what was chosen, the design's row id, and its price."""

    choice: Choice
    design_pk: int | None
    price: pricing.LinePrice


# Reading.

# The design of an order line as it was priced: the version frozen at checkout, else (a draft)
# the design's latest version.
LINE_DESIGN = """LEFT JOIN designs d ON d.id = i.design_id
LEFT JOIN design_versions v
       ON v.design_id = i.design_id AND v.version = COALESCE(i.design_version, d.version)"""

# The sides a line's frozen design prints on (a paid line's print files), front first.
PRINTED = """COALESCE((SELECT json_agg(side ORDER BY side DESC) FROM (SELECT DISTINCT
    layer->>'area' AS side FROM jsonb_array_elements(v.layers) layer) sides
    WHERE i.design_version IS NOT NULL), '[]'::json)"""

# The roster of order `o` (none for an order not of a group) as JSON, in its order; each
# piece with the product of the order's (first) line.
ROSTER = """COALESCE((
    SELECT json_agg(json_build_object(
        'position', p.position, 'member_name', p.member_name, 'size', p.size,
        'quantity', p.quantity, 'print_name', p.print_name, 'print_number', p.print_number,
        'font', p.font, 'text_color', p.text_color, 'text_size', p.text_size,
        'object_key', p.object_key,
        'product_id', (SELECT i.product_id FROM order_items i WHERE i.order_id = o.id
                       ORDER BY i.position LIMIT 1)) ORDER BY p.position)
    FROM order_pieces p WHERE p.order_id = o.id), '[]')"""

ORDER_SQL = f"""
SELECT o.public_id AS id, o.status, o.subtotal_cents, o.total_cents, o.currency,
       o.version, o.created_at, o.updated_at, o.paid_at, o.refunded_cents,
       o.carrier, o.tracking_number, o.tracking_url, o.order_number,
       o.shipping_cents, o.shipping_rate, o.shipping_rate_name,
       COALESCE((
           SELECT json_agg(json_build_object(
               'product_id', i.product_id, 'design_id', d.public_id, 'color', i.color,
               'quantity', i.quantity, 'tier_min_quantity', i.tier_min_quantity,
               'unit_price_cents', i.unit_price_cents, 'line_total_cents', i.line_total_cents,
               'list_total_cents', i.list_total_cents,
               'design_version', v.version, 'design_product_id', v.product_id,
               'printed_sides', CASE WHEN o.paid_at IS NULL THEN '[]'::json ELSE {PRINTED} END,
               'mockup_front', v.mockup_front_url, 'mockup_back', v.mockup_back_url,
               'image_url', COALESCE(v.mockup_front_url, v.artwork_url),
               'sizes', (SELECT json_agg(json_build_object(
                             'size', s.size, 'quantity', s.quantity,
                             'unit_price_cents', s.unit_price_cents) ORDER BY s.id)
                         FROM order_sizes s WHERE s.order_item_id = i.id)
           ) ORDER BY i.position)
           FROM order_items i {LINE_DESIGN}
           WHERE i.order_id = o.id), '[]') AS items,
       COALESCE((
           SELECT json_agg(json_build_object(
               'at', e.at, 'status', e.status, 'cause', e.cause, 'detail', e.detail) ORDER BY e.id)
           FROM order_events e WHERE e.order_id = o.id AND e.kind = 'status'), '[]') AS events,
       {ROSTER} AS roster
FROM orders o
WHERE o.public_id = :pid AND {{owner}}
"""


def _item(item: dict[str, Any]) -> Item:
    sizes = tuple(SizeLine(**size) for size in item["sizes"] or [])
    return Item(**{**item, "sizes": sizes, "printed_sides": tuple(item["printed_sides"])})


def read(conn: Connection, session: Session | None, order_id: str) -> Order | None:
    """The caller's order, or None for anyone else's, a guess, or no session."""
    if session is None or not ORDER_ID.match(order_id):
        return None
    owner_sql, params = owners.owner_clause(session, "o")
    return _read(conn, order_id, owner_sql, params)


def read_for_ops(conn: Connection, order_id: str) -> Order | None:
    """Any order, for ops (behind the ops token)."""
    return _read(conn, order_id, "true", {}) if ORDER_ID.match(order_id) else None


def _read(conn: Connection, order_id: str, owner_sql: str, params: dict[str, Any]) -> Order | None:
    """The order, its history and its roster: one statement."""
    row = conn.execute(ORDER_SQL.format(owner=owner_sql), {**params, "pid": order_id}).first()
    if row is None:
        return None
    fields = row._asdict()
    carrier, number, url = (fields.pop(k) for k in ("carrier", "tracking_number", "tracking_url"))
    shipping_cents, rate_id, rate_name = (
        fields.pop(k) for k in ("shipping_cents", "shipping_rate", "shipping_rate_name")
    )
    sequence = fields.pop("order_number")
    events, roster = fields.pop("events"), fields.pop("roster")
    fields.update(status=Status(row.status), items=tuple(_item(i) for i in fields["items"]))
    return Order(
        **fields,
        tracking=Tracking(carrier, number, url) if number else None,
        events=tuple(
            Event(datetime.fromisoformat(e["at"]), Status(e["status"]), e["cause"], e["detail"])
            for e in events
        ),
        number=order_number(sequence),
        shipping=None
        if shipping_cents is None
        else ShippingCharge(rate_id, rate_name, shipping_cents),
        roster=tuple(_piece(piece) for piece in roster),
    )


LIST_SQL = """
SELECT o.public_id AS id, o.status, o.total_cents, o.currency, o.created_at, o.paid_at,
       o.order_number, COALESCE(SUM(i.quantity), 0) AS quantity, COUNT(i.id) AS item_count
FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
WHERE {owner}
GROUP BY o.id
ORDER BY o.created_at DESC, o.id DESC
LIMIT :limit
"""


def summaries(conn: Connection, session: Session, limit: int) -> list[Summary]:
    """The caller's orders, newest first."""
    owner_sql, params = owners.owner_clause(session, "o")
    rows = conn.execute(LIST_SQL.format(owner=owner_sql), {**params, "limit": limit})
    return [
        Summary(
            id=row.id,
            status=Status(row.status),
            quantity=int(row.quantity),
            item_count=row.item_count,
            total_cents=row.total_cents,
            currency=row.currency,
            created_at=row.created_at,
            paid_at=row.paid_at,
            number=order_number(row.order_number),
        )
        for row in rows
    ]


def checkout_of(conn: Connection, order_id: str) -> tuple[str, str] | None:
    """The (session id, url) of the Checkout Session an order waits on, if it waits."""
    row = conn.execute(
        "SELECT stripe_checkout_session_id, checkout_url FROM orders"
        " WHERE public_id = :p AND status = 'pending_payment'",
        {"p": order_id},
    ).first()
    if row is None or not row.stripe_checkout_session_id or not row.checkout_url:
        return None
    return row.stripe_checkout_session_id, row.checkout_url


# Locking: the one way to hold an order while it changes.

LOCK_SQL = (
    "SELECT o.id, o.public_id, o.status, o.version, o.stripe_checkout_session_id,"
    " o.checkout_url, o.checkout_amount_cents, o.checkout_currency,"
    " o.stripe_payment_intent_id, o.flagged_reason, o.refunded_cents"
    " FROM orders o WHERE {where} FOR UPDATE"
)


def _lock(conn: Connection, where: str, params: dict[str, Any]) -> Locked | None:
    row = conn.execute(LOCK_SQL.format(where=where), params).first()
    if row is None:
        return None
    return Locked(
        pk=int(row.id),
        public_id=row.public_id,
        status=Status(row.status),
        version=int(row.version),
        session_id=row.stripe_checkout_session_id,
        checkout_url=row.checkout_url,
        checkout_amount_cents=row.checkout_amount_cents,
        checkout_currency=row.checkout_currency,
        payment_intent=row.stripe_payment_intent_id,
        flagged_reason=row.flagged_reason,
        refunded_cents=int(row.refunded_cents),
    )


def lock(conn: Connection, order_id: str | None, owner: Session | None = None) -> Locked | None:
    """Lock the order `order_id` (only if it is `owner`'s, when given); None when there is
    no such order."""
    if not order_id or not ORDER_ID.match(order_id):
        return None
    if owner is None:
        return _lock(conn, "o.public_id = :pid", {"pid": order_id})
    owner_sql, params = owners.owner_clause(owner, "o")
    return _lock(conn, f"o.public_id = :pid AND {owner_sql}", {**params, "pid": order_id})


def lock_by_payment(conn: Connection, payment_intent: str | None) -> Locked | None:
    """Lock the order that Stripe's PaymentIntent `payment_intent` paid."""
    if not payment_intent:
        return None
    return _lock(conn, "o.stripe_payment_intent_id = :pi", {"pi": payment_intent})


def lock_draft(conn: Connection, session: Session, order_id: str) -> Locked:
    """Lock the caller's draft; 404 when it is not theirs, 409 when it is no longer a draft."""
    order = lock(conn, order_id, session)
    if order is None:
        raise OrderNotFound()
    if order.status != Status.DRAFT:
        raise OrderNotEditable(f"this order is {order.status} and can no longer be changed")
    return order


# Writing a draft.


def create_draft(conn: Connection, session: Session, order_id: str, currency: str) -> int:
    """A new, empty draft owned by the caller, with its history's first entry; its row id.
    A 401 when the signed-in caller's user is gone."""
    pk = conn.execute(
        "WITH created AS (INSERT INTO orders (public_id, user_id, owner_session, currency)"
        " SELECT :pid, u.id, :anonymous_owner, :currency"
        " FROM (SELECT 1) AS one LEFT JOIN users u ON u.public_id = :user"
        " WHERE :user IS NULL OR u.id IS NOT NULL RETURNING id) "
        + EVENT_INSERT
        + " SELECT id, :kind, :status, :cause, :detail FROM created RETURNING order_id",
        {
            "pid": order_id,
            "user": None if session.anonymous else session.subject,
            "anonymous_owner": session.subject if session.anonymous else None,
            "currency": currency,
            **_event("status", Status.DRAFT, "shopper", "draft created"),
        },
    ).scalar()
    if pk is None:
        raise errors.Unauthorized("your session is no longer valid, sign in again")
    return int(pk)


def designs_of(
    conn: Connection, session: Session, design_ids: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """The caller's designs among `design_ids`: public id -> (row id, the product it was made
    for). One statement, however many."""
    if not design_ids:
        return {}
    owner_sql, params = owners.owner_clause(session, "d")
    rows = conn.execute(
        "SELECT d.public_id, d.id, d.product_id FROM designs d"
        f" WHERE d.public_id = ANY(CAST(:designs AS TEXT[])) AND {owner_sql}",
        {**params, "designs": list(design_ids)},
    )
    return {row.public_id: (int(row.id), row.product_id) for row in rows}


def clear_items(conn: Connection, order_pk: int) -> None:
    """Remove the draft's items (before `write_items` writes its new ones)."""
    conn.execute("DELETE FROM order_items WHERE order_id = :o", {"o": order_pk})


# The items of a draft, their sizes and its totals, from JSON rows: one statement.
WRITE_ITEMS_SQL = """
WITH lines AS (
    SELECT * FROM jsonb_to_recordset(CAST(:lines AS JSONB)) AS l(
        position INTEGER, product_id TEXT, design_id BIGINT, color TEXT, quantity INTEGER,
        tier_min_quantity INTEGER, unit_price_cents INTEGER, line_total_cents INTEGER,
        list_total_cents INTEGER, sizes JSONB)
), items AS (
    INSERT INTO order_items (order_id, position, product_id, design_id, color, quantity,
                             tier_min_quantity, unit_price_cents, line_total_cents,
                             list_total_cents)
    SELECT :o, position, product_id, design_id, color, quantity, tier_min_quantity,
           unit_price_cents, line_total_cents, list_total_cents
    FROM lines ORDER BY position
    RETURNING id, position
), sizes AS (
    INSERT INTO order_sizes (order_item_id, size, quantity, unit_price_cents)
    SELECT items.id, s.size, s.quantity, s.unit_price_cents
    FROM lines JOIN items ON items.position = lines.position,
         ROWS FROM (jsonb_to_recordset(lines.sizes)
                    AS (size TEXT, quantity INTEGER, unit_price_cents INTEGER))
             WITH ORDINALITY AS s(size, quantity, unit_price_cents, n)
    ORDER BY lines.position, s.n
)
UPDATE orders SET subtotal_cents = :sub, total_cents = :total,
       currency = COALESCE(:currency, currency), version = version + 1, updated_at = now()
WHERE id = :o
"""


def write_items(
    conn: Connection,
    order_pk: int,
    lines: Sequence[NewLine],
    priced: pricing.OrderPrice,
    currency: str | None,
) -> None:
    """Write the items of a draft that has none (new, or after `clear_items`): `lines`, priced
    as `priced` in `currency` (the items' currency; None for no items keeps the draft's); its
    version moves on."""
    rows = [
        {
            "position": position,
            "product_id": line.choice.product_id,
            "design_id": line.design_pk,
            "color": line.choice.color,
            "quantity": line.price.quantity,
            "tier_min_quantity": line.price.tier.min_quantity,
            "unit_price_cents": line.price.unit_price_cents,
            "line_total_cents": line.price.line_total_cents,
            "list_total_cents": line.price.list_total_cents,
            "sizes": [
                {"size": s.size, "quantity": s.quantity, "unit_price_cents": s.unit_price_cents}
                for s in line.price.sizes
            ],
        }
        for position, line in enumerate(lines)
    ]
    conn.execute(
        WRITE_ITEMS_SQL,
        {
            "o": order_pk,
            "lines": json.dumps(rows),
            "sub": priced.subtotal_cents,
            "total": priced.total_cents,
            "currency": currency,
        },
    )


# Status moves (the order is locked by the caller), each recorded in `order_events` with what
# caused it: `shopper`, `ops`, or the Stripe event (`stripe:evt_...`).


EVENT_INSERT = "INSERT INTO order_events (order_id, kind, status, cause, detail)"


def _event(kind: str, status: Status, cause: str, detail: str) -> dict[str, str]:
    return {"kind": kind, "status": status.value, "cause": cause[:300], "detail": detail[:1000]}


def record(
    conn: Connection, order_pk: int, kind: str, status: Status, cause: str, detail: str = ""
) -> None:
    """Append what happened to the order's history (the table refuses updates)."""
    conn.execute(
        EVENT_INSERT + " VALUES (:pk, :kind, :status, :cause, :detail)",
        {"pk": order_pk, **_event(kind, status, cause, detail)},
    )


def transition(
    conn: Connection,
    order: Locked,
    target: Status,
    cause: str,
    detail: str = "",
    *,
    changes: str = "",
    values: Mapping[str, Any] | None = None,
) -> None:
    """Move a locked order to `target`, checked against the table, and record why, in one
    statement with its history row; `changes` are the other `column = ...` assignments of the
    same move (their parameters in `values`)."""
    check_transition(order.status, target)
    conn.execute(
        "WITH moved AS (UPDATE orders SET status = :target, updated_at = now(),"
        " paid_at = CASE WHEN :target = 'paid' THEN now() ELSE paid_at END"
        + (f", {changes}" if changes else "")
        + " WHERE id = :pk AND status = :current RETURNING id) "
        + EVENT_INSERT
        + " SELECT id, :kind, :status, :cause, :detail FROM moved",
        {
            **(values or {}),
            "pk": order.pk,
            "current": order.status.value,
            "target": target.value,
            **_event("status", target, cause, detail),
        },
    )


def start_checkout(
    conn: Connection,
    order: Locked,
    *,
    session_id: str,
    url: str,
    amount_cents: int,
    currency: str,
    email: str,
    design_versions: Sequence[int | None],
) -> None:
    """The draft waits for payment of Checkout Session `session_id`, for this amount; each
    line keeps from now on the design version it was priced on (`design_versions`, by
    position).

    A flag stays: only ops clear it (`clear_flag`)."""
    frozen = [
        {"position": position, "version": version}
        for position, version in enumerate(design_versions)
        if version is not None
    ]
    if frozen:
        conn.execute(
            "UPDATE order_items i SET design_version = f.version"
            " FROM jsonb_to_recordset(CAST(:frozen AS JSONB)) AS f(position INTEGER,"
            " version INTEGER), design_versions v"
            " WHERE i.order_id = :pk AND i.position = f.position"
            " AND v.design_id = i.design_id AND v.version = f.version"
            " AND v.product_id = i.product_id",
            {"pk": order.pk, "frozen": json.dumps(frozen)},
        )
    transition(
        conn,
        order,
        Status.PENDING_PAYMENT,
        "shopper",
        f"checkout {session_id}",
        changes="stripe_checkout_session_id = :sid, checkout_url = :url,"
        " checkout_amount_cents = :amount, checkout_currency = :currency, email = :email",
        values={
            "sid": session_id,
            "url": url,
            "amount": amount_cents,
            "currency": currency,
            "email": email,
        },
    )


def back_to_draft(conn: Connection, order: Locked, cause: str, detail: str = "") -> None:
    """An order waiting for payment becomes an editable draft again.

    Its version moves on, so the next checkout uses a new idempotency key and a new session.
    """
    transition(
        conn,
        order,
        Status.DRAFT,
        cause,
        detail,
        changes="version = version + 1, checkout_url = NULL",
    )
    conn.execute(
        "UPDATE order_items SET design_version = NULL WHERE order_id = :pk",
        {"pk": order.pk},
    )


def mark_paid(
    conn: Connection,
    order: Locked,
    cause: str,
    *,
    payment_intent: str | None,
    email: str | None,
    shipping: ShippingCharge | None = None,
) -> None:
    """The order's Checkout Session was paid with PaymentIntent `payment_intent`, with the
    shipping the shopper chose there: the order's total is then its items plus shipping."""
    transition(
        conn,
        order,
        Status.PAID,
        cause,
        changes="stripe_payment_intent_id = :pi, email = COALESCE(email, :email),"
        " shipping_cents = :ship, shipping_rate = :rate, shipping_rate_name = :rate_name,"
        " stripe_shipping_rate_id = :stripe_rate,"
        " total_cents = subtotal_cents + COALESCE(:ship, 0)",
        values={
            "pi": payment_intent,
            "email": email,
            "ship": shipping.amount_cents if shipping else None,
            "rate": shipping.rate_id if shipping else None,
            "rate_name": shipping.name if shipping else None,
            "stripe_rate": shipping.stripe_rate_id if shipping else None,
        },
    )


def ship(
    conn: Connection,
    order: Locked,
    cause: str,
    *,
    carrier: str | None,
    tracking_number: str,
    tracking_url: str | None,
) -> None:
    """The order left with this tracking number."""
    transition(
        conn,
        order,
        Status.SHIPPED,
        cause,
        f"tracking {tracking_number}",
        changes="carrier = :carrier, tracking_number = :number, tracking_url = :url",
        values={"carrier": carrier, "number": tracking_number, "url": tracking_url},
    )


def record_refund(conn: Connection, order: Locked, refunded_cents: int, cause: str) -> None:
    """The order's own charge has `refunded_cents` refunded in all (Stripe's running total)."""
    conn.execute(
        "UPDATE orders SET refunded_cents = :cents, updated_at = now() WHERE id = :pk",
        {"pk": order.pk, "cents": refunded_cents},
    )
    record(conn, order.pk, "refund", order.status, cause, f"{refunded_cents} refunded in all")


def flag(conn: Connection, order: Locked, reason: str, cause: str) -> None:
    """Note why a person has to look at the order; its status stays as it is, and the flag
    stays until ops clear it. A flagged order keeps its first reason; the history has all."""
    conn.execute(
        "UPDATE orders SET flagged_reason = COALESCE(flagged_reason, :reason),"
        " updated_at = now() WHERE id = :pk",
        {"pk": order.pk, "reason": reason[:500]},
    )
    record(conn, order.pk, "flagged", order.status, cause, reason)


def clear_flag(conn: Connection, order: Locked, reason: str) -> None:
    """Ops looked at the flagged order and say why it is fine now."""
    conn.execute(
        "UPDATE orders SET flagged_reason = NULL, updated_at = now() WHERE id = :pk",
        {"pk": order.pk},
    )
    record(conn, order.pk, "flag_cleared", order.status, "ops", reason)


def claim(conn: Connection, user_pk: int, anonymous_subject: str) -> None:
    """The orders of an anonymous session become the user's, once they sign in."""
    conn.execute(
        "UPDATE orders SET user_id = :user, updated_at = now()"
        " WHERE owner_session = :anon AND user_id IS NULL",
        {"user": user_pk, "anon": anonymous_subject},
    )


# A paid order as the sheet and the emails see it.


@dataclass(frozen=True)
class PaidLine:
    product_name: str
    color: str
    design_id: str | None
    image_url: str | None
    sizes: dict[str, int]
    quantity: int
    unit_price_cents: int
    line_total_cents: int
    design_version: int | None = None  # the frozen version its print files are made of
    printed_sides: tuple[str, ...] = ()
    back_image_url: str | None = None  # the back mockup, when the back is printed


@dataclass(frozen=True)
class PaidOrder:
    id: str
    status: str
    email: str | None
    paid_at: datetime
    total_cents: int  # what was paid: items plus shipping
    currency: str
    lines: list[PaidLine]
    number: str = ""
    shipping_cents: int | None = None  # None: Checkout reported no shipping
    shipping_name: str | None = None
    roster: tuple[Piece, ...] = ()  # an order made from a group: who each piece is for

    @property
    def items_cents(self) -> int:
        return self.total_cents - (self.shipping_cents or 0)

    @property
    def url(self) -> str:
        return f"{settings().site_url}/confirmation?order={self.id}"


PAID_ORDER_SQL = """
SELECT o.id, o.public_id, o.status, o.total_cents, o.currency, o.paid_at, o.order_number,
       o.shipping_cents, o.shipping_rate_name, COALESCE(o.email, u.email) AS email
FROM orders o LEFT JOIN users u ON u.id = o.user_id
WHERE o.public_id = :pid
"""

PAID_LINES_SQL = f"""
SELECT i.id AS item_pk, p.name AS product_name, i.color, d.public_id AS design_id,
       COALESCE(v.mockup_front_url, v.artwork_url, p.image_url) AS image_url,
       v.mockup_back_url AS back_image_url,
       i.quantity, i.unit_price_cents, i.line_total_cents,
       (SELECT json_agg(json_build_array(s.size, s.quantity) ORDER BY s.id)
        FROM order_sizes s WHERE s.order_item_id = i.id) AS sizes,
       i.design_version, {PRINTED} AS printed_sides
FROM order_items i
JOIN products p ON p.id = i.product_id
{LINE_DESIGN}
WHERE i.order_id = :pk
ORDER BY i.position
"""


def paid_order(conn: Connection, order_id: str) -> PaidOrder | None:
    """The order with its lines, or None when there is no such order; a 409 when unpaid."""
    row = conn.execute(PAID_ORDER_SQL, {"pid": order_id}).first()
    if row is None:
        return None
    if row.paid_at is None:
        raise OrderNotPaid(f"order {order_id} is {row.status}, not paid")
    lines = [
        PaidLine(
            product_name=line.product_name,
            color=line.color,
            design_id=line.design_id,
            image_url=line.image_url,
            sizes={size: quantity for size, quantity in line.sizes or []},
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            line_total_cents=line.line_total_cents,
            design_version=line.design_version,
            printed_sides=tuple(line.printed_sides),
            back_image_url=line.back_image_url if "back" in line.printed_sides else None,
        )
        for line in conn.execute(PAID_LINES_SQL, {"pk": row.id})
    ]
    return PaidOrder(
        id=row.public_id,
        status=row.status,
        email=row.email,
        paid_at=row.paid_at,
        total_cents=row.total_cents,
        currency=row.currency,
        lines=lines,
        number=order_number(row.order_number),
        shipping_cents=row.shipping_cents,
        shipping_name=row.shipping_rate_name,
        roster=tuple(pieces(conn, order_id)),
    )


# The production files of a paid order.


@dataclass(frozen=True)
class PrintLine:
    """A paid line with a design: what its print files are made of (the frozen version)."""

    item_pk: int
    product_id: str
    design_id: str
    design_version: int
    layers: list[dict[str, Any]]
    done: frozenset[str]  # the sides whose print file is recorded


PRINT_LINES_SQL = """
SELECT i.id, i.product_id, d.public_id, v.version, v.layers,
       ARRAY(SELECT f.side FROM order_print_files f WHERE f.order_item_id = i.id) AS done
FROM orders o JOIN order_items i ON i.order_id = o.id
JOIN designs d ON d.id = i.design_id
JOIN design_versions v ON v.design_id = i.design_id AND v.version = i.design_version
WHERE o.paid_at IS NOT NULL AND {where}
ORDER BY o.id, i.position
"""


def _print_lines(conn: Connection, where: str, params: dict[str, Any]) -> list[PrintLine]:
    rows = conn.execute(PRINT_LINES_SQL.format(where=where), params)
    return [
        PrintLine(
            row.id, row.product_id, row.public_id, row.version, row.layers, frozenset(row.done)
        )
        for row in rows
    ]


def print_lines(conn: Connection, order_id: str) -> list[PrintLine]:
    """The designed lines of the paid order `order_id`, with their frozen design versions."""
    return _print_lines(conn, "o.public_id = :pid", {"pid": order_id})


def paid_print(conn: Connection, design_id: str, version: int) -> PrintLine | None:
    """A paid line made of version `version` of design `design_id`, if there is one."""
    found = _print_lines(
        conn,
        "d.public_id = :design AND v.version = :version",
        {"design": design_id, "version": version},
    )
    return found[0] if found else None


def record_print_file(
    conn: Connection, item_pk: int, side: str, key: str, width_px: int, height_px: int
) -> None:
    conn.execute(
        "INSERT INTO order_print_files (order_item_id, side, object_key, width_px, height_px)"
        " VALUES (:item, :side, :key, :w, :h) ON CONFLICT DO NOTHING",
        {"item": item_pk, "side": side, "key": key, "w": width_px, "h": height_px},
    )


# The roster of an order made from a closed group: who each entry is for, and what it prints on
# the back (a personalized entry has a print file of its own).


@dataclass(frozen=True)
class Piece:
    """A roster entry of the order: its member, size and pieces, and the name and number on
    its back in the group's style (none: only the order's own design)."""

    position: int
    member_name: str
    size: str
    quantity: int
    print_name: str | None
    print_number: str | None
    font: str
    text_color: str
    text_size: str
    product_id: str = ""  # the product of the order's line, when read back
    object_key: str | None = None  # its print file, once made

    @property
    def personalized(self) -> bool:
        return self.print_name is not None or self.print_number is not None


def write_pieces(conn: Connection, order_pk: int, pieces: Sequence[Piece]) -> None:
    """Keep the roster of the draft `order_pk` (written once, when it is made), in one
    statement: a roster of hundreds is one round trip, not hundreds."""
    if not pieces:
        return
    rows = [
        {
            "position": piece.position,
            "member_name": piece.member_name,
            "size": piece.size,
            "quantity": piece.quantity,
            "print_name": piece.print_name,
            "print_number": piece.print_number,
            "font": piece.font,
            "text_color": piece.text_color,
            "text_size": piece.text_size,
        }
        for piece in pieces
    ]
    conn.execute(
        "INSERT INTO order_pieces (order_id, position, member_name, size, quantity,"
        " print_name, print_number, font, text_color, text_size)"
        " SELECT :o, r.position, r.member_name, r.size, r.quantity, r.print_name,"
        " r.print_number, r.font, r.text_color, r.text_size"
        " FROM jsonb_to_recordset(CAST(:rows AS JSONB)) AS r(position INTEGER,"
        " member_name TEXT, size TEXT, quantity INTEGER, print_name TEXT, print_number TEXT,"
        " font TEXT, text_color TEXT, text_size TEXT)",
        {"o": order_pk, "rows": json.dumps(rows)},
    )


def _piece(fields: dict[str, Any]) -> Piece:
    return Piece(**{**fields, "product_id": fields["product_id"] or ""})


def pieces(conn: Connection, order_id: str) -> list[Piece]:
    """The roster of the order `order_id`, in its order (none for an order not of a group)."""
    return _pieces(conn, order_id, "true")


def paid_pieces(conn: Connection, order_id: str) -> list[Piece]:
    """The roster of the order `order_id` once it is paid (what its print files are made of)."""
    return _pieces(conn, order_id, "o.paid_at IS NOT NULL")


def _pieces(conn: Connection, order_id: str, where: str) -> list[Piece]:
    roster = conn.execute(
        f"SELECT {ROSTER} FROM orders o WHERE o.public_id = :pid AND {where}", {"pid": order_id}
    ).scalar()
    return [_piece(piece) for piece in roster or []]


def record_piece_file(
    conn: Connection, order_id: str, position: int, key: str, width_px: int, height_px: int
) -> None:
    conn.execute(
        "UPDATE order_pieces p SET object_key = :key, width_px = :w, height_px = :h"
        " FROM orders o WHERE o.id = p.order_id AND o.public_id = :pid"
        " AND p.position = :pos AND o.paid_at IS NOT NULL"
        " AND (p.print_name IS NOT NULL OR p.print_number IS NOT NULL)",
        {"pid": order_id, "pos": position, "key": key, "w": width_px, "h": height_px},
    )
