"""Orders: bulk drafts owned by a session, priced on the server from today's catalog.

Only `draft` orders are editable (`common.shop.lifecycle`); every read and write goes through
the order store (`common.shop.order_store`).
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from common.core import errors
from common.core.caller import Session
from common.infra import db
from common.shop import catalog, delivery, order_store, pricing
from common.shop.lifecycle import MAX_ORDER_PIECES, OrderChanged, OrderNotFound, Status
from common.shop.order_store import Choice, NewLine, Order, Summary

if TYPE_CHECKING:
    from common.infra.db import Connection


def new_order_id() -> str:
    return "ord_" + secrets.token_urlsafe(18)


def price_list(product: catalog.Product) -> pricing.PriceList:
    return pricing.PriceList(
        base_price_cents=product.base_price_cents,
        upcharges=product.size_upcharges,
        tiers=tuple(pricing.Tier(t.min_quantity, t.unit_price_cents) for t in product.price_tiers),
    )


def _tier_group(choice: Choice, index: int) -> Hashable:
    """Items of one design on one product share a quantity tier; others stand alone."""
    return (choice.product_id, choice.design_id) if choice.design_id else index


def price(lines: Sequence[tuple[catalog.Product, Choice]]) -> pricing.OrderPrice:
    """The items priced from the catalog as they are now."""
    return pricing.price_order(
        [
            (price_list(product), choice.sizes, _tier_group(choice, index))
            for index, (product, choice) in enumerate(lines)
        ]
    )


def _validated(choices: Sequence[Choice]) -> list[tuple[catalog.Product, Choice]]:
    """Each choice against the catalog: canonical colour, sizes in the product's order."""
    lines = []
    for index, choice in enumerate(choices):
        where = f"items.{index}"
        product = catalog.product_named(choice.product_id, field=f"{where}.product_id")
        color = catalog.color_of(product, choice.color, field=f"{where}.color")
        wanted = {size.upper(): q for size, q in choice.sizes.items()}
        if len(wanted) != len(choice.sizes):
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
        lines.append((product, Choice(product.id, choice.design_id, color.name, ordered)))
    currencies = {product.currency for product, _ in lines}
    if len(currencies) > 1:
        raise errors.Unprocessable(
            "an order is paid in one currency; these products are priced in "
            + ", ".join(sorted(currencies)),
            code="mixed_currencies",
            field="items",
        )
    total = sum(sum(choice.sizes.values()) for _, choice in lines)
    if total > MAX_ORDER_PIECES:
        raise errors.Unprocessable(
            f"an order holds at most {MAX_ORDER_PIECES} pieces; for more, contact us",
            code="order_too_large",
            field="items",
        )
    return lines


def _design_pks(
    conn: Connection, session: Session, lines: Sequence[tuple[catalog.Product, Choice]]
) -> list[int | None]:
    """Each item's design row id, checking it is the caller's and made for the item's
    product."""
    wanted = [choice.design_id for _, choice in lines if choice.design_id is not None]
    found = order_store.designs_of(conn, session, wanted)
    pks: list[int | None] = []
    for index, (_, choice) in enumerate(lines):
        if choice.design_id is None:
            pks.append(None)
            continue
        where = f"items.{index}.design_id"
        if choice.design_id not in found:
            raise errors.Unprocessable(
                "there is no such design", code="unknown_design", field=where
            )
        pk, product_id = found[choice.design_id]
        if product_id != choice.product_id:
            raise errors.Unprocessable(
                "that design was made for another product",
                code="design_product_mismatch",
                field=where,
            )
        pks.append(pk)
    return pks


def save_draft(
    session: Session,
    order_id: str | None,
    choices: Sequence[Choice],
    expected_version: int | None = None,
) -> Order:
    """Create a draft, or replace the items of the caller's draft, in one transaction."""
    lines = _validated(choices)
    priced = price(lines)
    currency = lines[0][0].currency if lines else None  # the items' (one, checked above)
    with db.transaction() as conn:
        if order_id is None:
            order_id = new_order_id()
            order_pk = order_store.create_draft(conn, session, order_id, currency or "usd")
        else:
            draft = order_store.lock_draft(conn, session, order_id)
            if expected_version is not None and draft.version != expected_version:
                raise OrderChanged("the order changed meanwhile; look at it again and retry")
            order_pk = draft.pk
            order_store.clear_items(conn, order_pk)
        _write_lines(conn, session, order_pk, lines, priced)
        order = order_store.read(conn, session, order_id)
    assert order is not None
    return order


def _write_lines(
    conn: Connection,
    session: Session,
    order_pk: int,
    lines: Sequence[tuple[catalog.Product, Choice]],
    priced: pricing.OrderPrice,
) -> None:
    """Write the items of a draft that has none."""
    new_lines = [
        NewLine(choice, design_pk, line_price)
        for (_, choice), design_pk, line_price in zip(
            lines, _design_pks(conn, session, lines), priced.lines, strict=True
        )
    ]
    currency = lines[0][0].currency if lines else None
    order_store.write_items(conn, order_pk, new_lines, priced, currency)


def new_draft(conn: Connection, session: Session, choices: Sequence[Choice]) -> tuple[str, int]:
    """A new draft of the caller's `choices`, in the caller's transaction: (id, row id)."""
    lines = _validated(choices)
    if not lines:
        raise errors.Unprocessable("a draft needs an item", code="empty_order", field="items")
    order_id = new_order_id()
    order_pk = order_store.create_draft(conn, session, order_id, lines[0][0].currency)
    _write_lines(conn, session, order_pk, lines, price(lines))
    return order_id, order_pk


def get_order(session: Session | None, order_id: str) -> Order:
    """The caller's order; 404 for anyone else's, for a guess, or without a session."""
    with db.connect() as conn:
        order = order_store.read(conn, session, order_id)
    if order is None:
        raise OrderNotFound()
    return order


class NothingToReorder(errors.Conflict):
    code = "nothing_to_reorder"


def reorder(session: Session | None, order_id: str) -> Order:
    """A new draft of the caller's order `order_id`, whatever its status: the same items, each
    following its design's latest version, priced as the catalog is today. What is no longer
    sold (a product, a colour, a size) is left out; a 409 when nothing is left, a 404 for
    anyone else's order."""
    source = get_order(session, order_id)
    assert session is not None  # get_order found the caller's order
    shop = catalog.catalog()
    choices = []
    for item in source.items:
        product = shop.product(item.product_id)
        if product is None or product.color(item.color) is None:
            continue
        sizes = {size: q for size, q in item.size_map.items() if size in product.sizes}
        if sizes:
            choices.append(Choice(item.product_id, item.design_id, item.color, sizes))
    if not choices:
        raise NothingToReorder("nothing of this order is sold any more")
    return save_draft(session, None, choices)


def list_orders(session: Session, limit: int = 50) -> list[Summary]:
    """The caller's orders, newest first."""
    with db.connect() as conn:
        return order_store.summaries(conn, session, limit)


def next_tiers(order: Order) -> list[pricing.NextTier | None]:
    """Each item's next quantity tier while the order is a draft (a design shares its tier)."""
    if order.status != Status.DRAFT:
        return [None] * len(order.items)
    shop = catalog.catalog()
    lines = []
    for item in order.items:
        product = shop.product(item.product_id)
        if product is None:
            return [None] * len(order.items)
        lines.append((product, item.choice))
    return [line.next_tier for line in price(lines).lines]


def production_days(order: Order) -> int:
    """Business days to make the order: its items are made side by side, so its slowest's."""
    shop = catalog.catalog()
    days = []
    for item in order.items:
        product = shop.product(item.product_id)
        days.append(product.production_days if product else delivery.DEFAULT_PRODUCTION_DAYS)
    return max(days, default=delivery.DEFAULT_PRODUCTION_DAYS)


def shipping_options(order: Order, now: datetime | None = None) -> list[delivery.Option]:
    """The rates the order may choose while it is not paid: each priced for its subtotal and
    arriving from today (`now`); none for an empty order or once it is paid."""
    if order.status not in (Status.DRAFT, Status.PENDING_PAYMENT) or not order.items:
        return []
    return delivery.options(order.subtotal_cents, production_days(order), now=now)


def arrival(order: Order) -> delivery.Arrival | None:
    """When a paid order arrives at the rate its shopper chose, counted from the day it was
    paid; None before, or when Checkout reported no rate of ours."""
    if order.paid_at is None or order.shipping is None:
        return None
    rate = delivery.rate_named(order.shipping.rate_id)
    if rate is None:
        return None
    return delivery.arrival(production_days(order), rate, delivery.today(order.paid_at))
