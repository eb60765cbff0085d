"""Orders: bulk drafts owned by a session, server-side prices, and the status lifecycle.

Only `draft` orders are editable. Every status change goes through `TRANSITIONS`.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints
from sqlalchemy import text
from sqlalchemy.engine import Connection

from common import catalog, db, errors, owners, pricing, sizes
from common.sessions import Session

MAX_ITEMS = 20
MAX_PER_SIZE = 10_000
MAX_ORDER_PIECES = 25_000
ORDER_ID = re.compile(r"^ord_[A-Za-z0-9_-]{20,40}$")


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.PENDING_PAYMENT, Status.CANCELLED}),
    Status.PENDING_PAYMENT: frozenset({Status.PAID, Status.DRAFT}),
    Status.PAID: frozenset({Status.FULFILLED, Status.REFUNDED}),
    Status.FULFILLED: frozenset(),
    Status.REFUNDED: frozenset(),
    Status.CANCELLED: frozenset(),
}


class IllegalTransition(errors.Conflict):
    code = "illegal_status_transition"


class OrderNotEditable(errors.Conflict):
    code = "order_not_editable"


class OrderChanged(errors.Conflict):
    code = "order_changed"


def check_transition(current: Status | str, target: Status | str) -> None:
    """Raise `IllegalTransition` unless `current -> target` is in the table."""
    if Status(target) not in TRANSITIONS[Status(current)]:
        raise IllegalTransition(f"an order cannot go from {current} to {target}")


def transition(conn: Connection, order_pk: int, current: Status, target: Status) -> None:
    """Move a (locked) order from `current` to `target`, checked against the table."""
    check_transition(current, target)
    conn.execute(
        text(
            "UPDATE orders SET status = :target, updated_at = now(),"
            " paid_at = CASE WHEN :target = 'paid' THEN now() ELSE paid_at END"
            " WHERE id = :pk AND status = :current"
        ),
        {"pk": order_pk, "current": current.value, "target": target.value},
    )


def back_to_draft(conn: Connection, order_pk: int) -> None:
    """A (locked) order waiting for payment becomes an editable draft again.

    Its version moves on, so the next checkout uses a new idempotency key and a new session.
    """
    transition(conn, order_pk, Status.PENDING_PAYMENT, Status.DRAFT)
    conn.execute(
        text("UPDATE orders SET version = version + 1, checkout_url = NULL WHERE id = :pk"),
        {"pk": order_pk},
    )


# The edge's models (request and response JSON).

SizeCode = Annotated[str, StringConstraints(min_length=1, max_length=16)]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_PER_SIZE)]


class DraftItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: str = Field(min_length=1, max_length=64)
    design_id: str | None = Field(default=None, min_length=1, max_length=64)
    color: str = Field(min_length=1, max_length=40)
    sizes: dict[SizeCode, Quantity] = Field(min_length=1, max_length=8)


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str | None = Field(default=None, max_length=64)
    items: list[DraftItemIn] = Field(max_length=MAX_ITEMS)


class SizePriceOut(BaseModel):
    size: str
    quantity: int
    upcharge_cents: int
    unit_price_cents: int


class NextTierOut(BaseModel):
    min_quantity: int
    unit_price_cents: int
    pieces_to_go: int
    saving_per_piece_cents: int


class MockupsOut(BaseModel):
    front: str | None
    back: str | None


class OrderItemOut(BaseModel):
    product_id: str
    product_name: str
    design_id: str | None
    color: str
    sizes: dict[str, int]
    quantity: int
    tier_min_quantity: int
    unit_price_cents: int
    line_total_cents: int
    list_total_cents: int
    savings_cents: int
    size_prices: list[SizePriceOut]
    mockups: MockupsOut | None = Field(
        description="the design's rendered mockups, when the item has a design"
    )
    next_tier: NextTierOut | None = Field(
        description="the next quantity tier of this design, while the order is a draft"
    )


class OrderOut(BaseModel):
    id: str
    status: Status
    items: list[OrderItemOut]
    quantity: int
    subtotal_cents: int
    savings_cents: int
    total_cents: int
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None


class OrderSummaryOut(BaseModel):
    id: str
    status: Status
    quantity: int
    item_count: int
    total_cents: int
    currency: str
    created_at: datetime
    paid_at: datetime | None


class OrderListOut(BaseModel):
    orders: list[OrderSummaryOut]


def new_order_id() -> str:
    return "ord_" + secrets.token_urlsafe(18)


# Validating items against the catalog and pricing them.


def _price_list(product: catalog.Product) -> pricing.PriceList:
    return pricing.PriceList(
        base_price_cents=product.base_price_cents,
        upcharges=product.size_upcharges,
        tiers=tuple(pricing.Tier(t.min_quantity, t.unit_price_cents) for t in product.price_tiers),
    )


class _Line:
    """A validated item: its product, canonical color and sizes in the product's order."""

    def __init__(
        self, product: catalog.Product, color: str, sizes: dict[str, int], design: str | None
    ):
        self.product = product
        self.color = color
        self.sizes = sizes
        self.design = design

    @property
    def group(self) -> tuple[str, str] | int:
        return (self.product.id, self.design) if self.design else id(self)


def _validate_items(items: Sequence[DraftItemIn]) -> list[_Line]:
    shop = catalog.catalog()
    lines: list[_Line] = []
    for index, item in enumerate(items):
        where = f"items.{index}"
        product = shop.product(item.product_id)
        if product is None:
            raise errors.Unprocessable(
                f"there is no product {item.product_id!r}",
                code="unknown_product",
                field=f"{where}.product_id",
            )
        color = product.color(item.color)
        if color is None:
            raise errors.Unprocessable(
                f"{product.name} comes in {', '.join(c.name for c in product.colors)}",
                code="unknown_color",
                field=f"{where}.color",
            )
        wanted = {size.upper(): q for size, q in item.sizes.items()}
        if len(wanted) != len(item.sizes):
            raise errors.Unprocessable(
                "a size is listed twice", code="duplicate_size", field=f"{where}.sizes"
            )
        for size in wanted:
            if size not in product.sizes:
                raise errors.Unprocessable(
                    f"{product.name} comes in {', '.join(product.sizes)}, not {size}",
                    code="unknown_size",
                    field=f"{where}.sizes.{size}",
                )
        ordered = {size: wanted[size] for size in product.sizes if size in wanted}
        lines.append(_Line(product, color.name, ordered, item.design_id))
    currencies = {line.product.currency for line in lines}
    if len(currencies) > 1:
        raise errors.Unprocessable(
            "an order is paid in one currency; these products are priced in "
            + ", ".join(sorted(currencies)),
            code="mixed_currencies",
            field="items",
        )
    total = sum(sum(line.sizes.values()) for line in lines)
    if total > MAX_ORDER_PIECES:
        raise errors.Unprocessable(
            f"an order holds at most {MAX_ORDER_PIECES} pieces; for more, contact us",
            code="order_too_large",
            field="items",
        )
    return lines


def _design_pks(conn: Connection, session: Session, lines: Sequence[_Line]) -> list[int | None]:
    """The designs' row ids, checking each is the caller's and made for the item's product."""
    pks: list[int | None] = []
    owner_sql, params = owners.owner_clause(session, "d")
    for index, line in enumerate(lines):
        if line.design is None:
            pks.append(None)
            continue
        row = conn.execute(
            text(
                "SELECT d.id, d.product_id FROM designs d"
                f" WHERE d.public_id = :design AND {owner_sql}"
            ),
            {**params, "design": line.design},
        ).first()
        if row is None:
            raise errors.Unprocessable(
                "there is no such design", code="unknown_design", field=f"items.{index}.design_id"
            )
        if row.product_id != line.product.id:
            raise errors.Unprocessable(
                "that design was made for another product",
                code="design_product_mismatch",
                field=f"items.{index}.design_id",
            )
        pks.append(int(row.id))
    return pks


def _write_items(
    conn: Connection, order_pk: int, lines: list[_Line], design_pks: list[int | None]
) -> None:
    priced = pricing.price_order([(_price_list(ln.product), ln.sizes, ln.group) for ln in lines])
    conn.execute(text("DELETE FROM order_items WHERE order_id = :o"), {"o": order_pk})
    for position, (line, price, design_pk) in enumerate(
        zip(lines, priced.lines, design_pks, strict=True)
    ):
        item_pk = conn.execute(
            text(
                "INSERT INTO order_items (order_id, position, product_id, design_id, color,"
                " quantity, tier_min_quantity, unit_price_cents, line_total_cents,"
                " list_total_cents)"
                " VALUES (:o, :pos, :product, :design, :color, :q, :tier, :unit, :line, :list)"
                " RETURNING id"
            ),
            {
                "o": order_pk,
                "pos": position,
                "product": line.product.id,
                "design": design_pk,
                "color": line.color,
                "q": price.quantity,
                "tier": price.tier.min_quantity,
                "unit": price.unit_price_cents,
                "line": price.line_total_cents,
                "list": price.list_total_cents,
            },
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO order_sizes (order_item_id, size, quantity, unit_price_cents)"
                " VALUES (:item, :size, :q, :unit)"
            ),
            [
                {"item": item_pk, "size": s.size, "q": s.quantity, "unit": s.unit_price_cents}
                for s in price.sizes
            ],
        )
    conn.execute(
        text(
            "UPDATE orders SET subtotal_cents = :sub, total_cents = :total,"
            " version = version + 1, updated_at = now() WHERE id = :o"
        ),
        {"o": order_pk, "sub": priced.subtotal_cents, "total": priced.total_cents},
    )


def _lock_draft(conn: Connection, session: Session, order_id: str) -> tuple[int, int]:
    """Lock the caller's order for update; return (row id, version). 404 / 409 otherwise."""
    if not ORDER_ID.match(order_id):
        raise errors.NotFound("there is no such order", code="order_not_found")
    owner_sql, params = owners.owner_clause(session, "o")
    row = conn.execute(
        text(
            "SELECT o.id, o.status, o.version FROM orders o"
            f" WHERE o.public_id = :pid AND {owner_sql} FOR UPDATE"
        ),
        {**params, "pid": order_id},
    ).first()
    if row is None:
        raise errors.NotFound("there is no such order", code="order_not_found")
    if row.status != Status.DRAFT:
        raise OrderNotEditable(f"this order is {row.status} and can no longer be changed")
    return int(row.id), int(row.version)


def save_draft(
    session: Session,
    order_id: str | None,
    items: Sequence[DraftItemIn],
    expected_version: int | None = None,
) -> OrderOut:
    """Create a draft, or replace the items of the caller's draft, in one transaction."""
    lines = _validate_items(items)
    with db.transaction() as conn:
        if order_id is None:
            order_id = new_order_id()
            order_pk = conn.execute(
                text(
                    "INSERT INTO orders (public_id, user_id, owner_session, currency)"
                    " VALUES (:pid, :user, :owner, :currency) RETURNING id"
                ),
                {
                    "pid": order_id,
                    "user": owners.user_pk(conn, session),
                    "owner": session.subject if session.anonymous else None,
                    "currency": lines[0].product.currency if lines else "usd",
                },
            ).scalar_one()
        else:
            order_pk, version = _lock_draft(conn, session, order_id)
            if expected_version is not None and version != expected_version:
                raise OrderChanged("the order changed meanwhile; look at it again and retry")
        _write_items(conn, order_pk, lines, _design_pks(conn, session, lines))
        order = _read(conn, session, order_id)
    assert order is not None
    return order


ORDER_SQL = """
SELECT o.public_id, o.status, o.subtotal_cents, o.total_cents, o.currency, o.version,
       o.created_at, o.updated_at, o.paid_at,
       COALESCE((
           SELECT json_agg(json_build_object(
               'product_id', i.product_id, 'design_id', d.public_id, 'color', i.color,
               'quantity', i.quantity, 'tier_min_quantity', i.tier_min_quantity,
               'unit_price_cents', i.unit_price_cents, 'line_total_cents', i.line_total_cents,
               'list_total_cents', i.list_total_cents,
               'mockup_front', d.final_image_url, 'mockup_back', d.mockup_back_url,
               'sizes', (SELECT json_agg(json_build_object(
                             'size', s.size, 'quantity', s.quantity,
                             'unit_price_cents', s.unit_price_cents) ORDER BY s.id)
                         FROM order_sizes s WHERE s.order_item_id = i.id)
           ) ORDER BY i.position)
           FROM order_items i LEFT JOIN designs d ON d.id = i.design_id
           WHERE i.order_id = o.id), '[]') AS items
FROM orders o
WHERE o.public_id = :pid AND {owner}
"""


def _item_out(
    item: dict[str, Any], order_status: str, next_tier: NextTierOut | None
) -> OrderItemOut:
    product = catalog.catalog().product(item["product_id"])
    sizes = item["sizes"]
    return OrderItemOut(
        product_id=item["product_id"],
        product_name=product.name if product else item["product_id"],
        design_id=item["design_id"],
        color=item["color"],
        sizes={s["size"]: s["quantity"] for s in sizes},
        quantity=item["quantity"],
        tier_min_quantity=item["tier_min_quantity"],
        unit_price_cents=item["unit_price_cents"],
        line_total_cents=item["line_total_cents"],
        list_total_cents=item["list_total_cents"],
        savings_cents=item["list_total_cents"] - item["line_total_cents"],
        size_prices=[
            SizePriceOut(
                size=s["size"],
                quantity=s["quantity"],
                upcharge_cents=s["unit_price_cents"] - item["unit_price_cents"],
                unit_price_cents=s["unit_price_cents"],
            )
            for s in sizes
        ],
        mockups=MockupsOut(front=item["mockup_front"], back=item["mockup_back"])
        if item["design_id"]
        else None,
        next_tier=next_tier if order_status == Status.DRAFT else None,
    )


def _next_tiers(items: list[dict[str, Any]]) -> list[NextTierOut | None]:
    """The next tier hint of each item, priced as the draft is (designs share tiers)."""
    shop = catalog.catalog()
    priced_items = []
    for index, item in enumerate(items):
        product = shop.product(item["product_id"])
        if product is None:
            return [None] * len(items)
        group = (product.id, item["design_id"]) if item["design_id"] else index
        sizes = {s["size"]: s["quantity"] for s in item["sizes"]}
        priced_items.append((_price_list(product), sizes, group))
    return [
        None if line.next_tier is None else NextTierOut(**dataclasses.asdict(line.next_tier))
        for line in pricing.price_order(priced_items).lines
    ]


def _read(conn: Connection, session: Session, order_id: str) -> OrderOut | None:
    owner_sql, params = owners.owner_clause(session, "o")
    row = (
        conn.execute(text(ORDER_SQL.format(owner=owner_sql)), {**params, "pid": order_id})
        .mappings()
        .first()
    )
    if row is None:
        return None
    items = list(row["items"])
    hints = _next_tiers(items) if row["status"] == Status.DRAFT else [None] * len(items)
    out_items = [
        _item_out(item, row["status"], hint) for item, hint in zip(items, hints, strict=True)
    ]
    return OrderOut(
        id=row["public_id"],
        status=row["status"],
        items=out_items,
        quantity=sum(i.quantity for i in out_items),
        subtotal_cents=row["subtotal_cents"],
        savings_cents=sum(i.savings_cents for i in out_items),
        total_cents=row["total_cents"],
        currency=row["currency"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        paid_at=row["paid_at"],
    )


def get_order(session: Session | None, order_id: str) -> OrderOut:
    """The caller's order; 404 for anyone else's, for a guess, or without a session."""
    if session is None or not ORDER_ID.match(order_id):
        raise errors.NotFound("there is no such order", code="order_not_found")
    with db.engine().connect() as conn:
        order = _read(conn, session, order_id)
    if order is None:
        raise errors.NotFound("there is no such order", code="order_not_found")
    return order


LIST_SQL = """
SELECT o.public_id AS id, o.status, o.total_cents, o.currency, o.created_at, o.paid_at,
       COALESCE(SUM(i.quantity), 0) AS quantity, COUNT(i.id) AS item_count
FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
WHERE {owner}
GROUP BY o.id
ORDER BY o.created_at DESC, o.id DESC
LIMIT :limit
"""


def list_orders(session: Session, limit: int = 50) -> OrderListOut:
    """The caller's orders, newest first."""
    owner_sql, params = owners.owner_clause(session, "o")
    with db.engine().connect() as conn:
        rows = conn.execute(
            text(LIST_SQL.format(owner=owner_sql)), {**params, "limit": limit}
        ).mappings()
        return OrderListOut(orders=[OrderSummaryOut.model_validate(dict(r)) for r in rows])


def items_as_input(order: OrderOut) -> list[DraftItemIn]:
    """The order's items as draft input, to change one and save them all again."""
    return [
        DraftItemIn(
            product_id=item.product_id, design_id=item.design_id, color=item.color, sizes=item.sizes
        )
        for item in order.items
    ]


class AssistantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(max_length=64)
    item: StrictInt = Field(ge=0, lt=MAX_ITEMS, description="index of the item in the order")
    message: str = Field(min_length=1, max_length=1000)


class AssistantOut(BaseModel):
    reply: str
    understood: bool
    order: OrderOut


def ask_assistant(session: Session | None, request: AssistantIn) -> AssistantOut:
    """Apply the shopper's words about sizes to one item, or ask back and change nothing."""
    order = get_order(session, request.order_id)
    assert session is not None
    if order.status != Status.DRAFT:
        raise OrderNotEditable(f"this order is {order.status} and can no longer be changed")
    if request.item >= len(order.items):
        raise errors.Unprocessable(
            f"this order has {len(order.items)} item(s)", code="unknown_item", field="item"
        )
    item = order.items[request.item]
    product = catalog.catalog().product(item.product_id)
    if product is None:
        raise OrderNotEditable("this product is no longer sold")
    update = sizes.assistant(request.message, available=product.sizes, current=item.sizes)
    if update.sizes is None:
        return AssistantOut(reply=update.reply, understood=False, order=order)
    if not update.sizes:
        return AssistantOut(
            reply="That would leave no pieces on this item. Which sizes should stay?",
            understood=False,
            order=order,
        )
    items = items_as_input(order)
    items[request.item] = items[request.item].model_copy(update={"sizes": update.sizes})
    saved = save_draft(session, order.id, items, expected_version=order.version)
    return AssistantOut(reply=update.reply, understood=True, order=saved)
