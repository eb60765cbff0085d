"""Payments: a Checkout Session for a draft order, from prices computed here.

The session is created through the checkout provider (`common.providers.checkout`: Stripe, or
offline its stand-in). A checkout is idempotent: the idempotency key is derived from the order
id and version, and an order already waiting for payment answers with its stored session.

Fulfilment runs from both sides, as Stripe recommends: the webhook (`common.shop.fulfilment`)
and the success page (`settle`), which Checkout sends back with `session_id`. Both lock the
order and fulfil through `fulfilment.fulfil_in`, so either order of the two pays once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from common.core import errors
from common.core.caller import Session
from common.infra import db, log
from common.infra.config import settings
from common.infra.db import text
from common.providers import checkout
from common.shop import catalog, fulfilment, order_store, orders
from common.shop.lifecycle import OrderChanged, OrderNotFound, Status
from common.shop.order_store import Item, Order

SHIPPING_COUNTRIES = (
    "US", "CA", "GB", "IE", "AU", "NZ", "DE", "FR", "NL", "BE", "LU", "AT", "CH", "ES", "PT",
    "IT", "DK", "SE", "NO", "FI",
)  # fmt: skip


class OrderNotPayable(errors.Conflict):
    code = "order_not_payable"


class PaymentCompleted(errors.Conflict):
    code = "payment_completed"


SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"  # Checkout's template variable
SUCCESS_PAGE_CAUSE = "shopper:success_page"


@dataclass(frozen=True)
class Started:
    """A Checkout Session the shopper pays on: where to send them, and its id."""

    url: str
    session_id: str


# Building the session from the order.


def repriced(session: Session, order: Order) -> Order:
    """The draft with prices from the database as they are now (saved again if they moved)."""
    shop = catalog.catalog()
    lines = []
    for item in order.items:
        product = shop.product(item.product_id)
        if product is None:
            raise OrderNotPayable(f"{item.product_id} is no longer sold; remove it to pay")
        lines.append((product, item.choice))
    fresh = orders.price(lines)
    stored = [[(s.size, s.unit_price_cents) for s in item.sizes] for item in order.items]
    current = [[(s.size, s.unit_price_cents) for s in line.sizes] for line in fresh.lines]
    if stored == current and fresh.total_cents == order.total_cents:
        return order
    log.info("draft repriced at checkout", order_id=order.id)
    choices = [item.choice for item in order.items]
    return orders.save_draft(session, order.id, choices, expected_version=order.version)


STRIPE_MAX_LINE_ITEMS = 100  # per Checkout Session


def _line(
    name: str, item: Item, description: str, quantity: int, unit: int, currency: str
) -> dict[str, Any]:
    product_data: dict[str, Any] = {
        "name": name,
        "description": description,
        "metadata": {"product_id": item.product_id},
    }
    if item.design_id:
        product_data["metadata"]["design_id"] = item.design_id
    if item.image_url and item.image_url.startswith("https://"):
        product_data["images"] = [item.image_url]  # Stripe shows only public images
    return {
        "quantity": quantity,
        "price_data": {"currency": currency, "unit_amount": unit, "product_data": product_data},
    }


def line_items(order: Order) -> list[dict[str, Any]]:
    """One Stripe line item per order item and unit price (sizes 2XL and up cost more); past
    Stripe's 100 line items, one per order item for its whole total."""
    shop = catalog.catalog()

    def name(item: Item) -> str:
        product = shop.product(item.product_id)
        return f"{product.name if product else item.product_id} · {item.color}"

    items = []
    for item in order.items:
        for unit_price, group in groupby(item.sizes, key=lambda s: s.unit_price_cents):
            sizes = list(group)
            description = "Sizes " + " ".join(f"{s.size}:{s.quantity}" for s in sizes)
            quantity = sum(s.quantity for s in sizes)
            items.append(_line(name(item), item, description, quantity, unit_price, order.currency))
    if len(items) > STRIPE_MAX_LINE_ITEMS:
        items = [
            _line(
                name(item),
                item,
                f"{item.quantity} pieces, sizes "
                + " ".join(f"{s.size}:{s.quantity}" for s in item.sizes),
                1,
                item.line_total_cents,
                order.currency,
            )
            for item in order.items
        ]
    charged = sum(i["quantity"] * i["price_data"]["unit_amount"] for i in items)
    if charged != order.total_cents:
        raise RuntimeError(f"line items add up to {charged}, the order to {order.total_cents}")
    return items


def shipping_options(order: Order) -> list[dict[str, Any]]:
    """The order's shipping rates as Checkout's `shipping_options`, priced here: Checkout shows
    them (the first chosen), adds the chosen one's amount to the total and reports it in the
    session's `shipping_cost`. The estimate counts production and transit in business days."""
    options = []
    for option in orders.shipping_options(order):
        low, high = option.business_days
        options.append(
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": option.amount_cents, "currency": order.currency},
                    "display_name": option.rate.name,
                    "delivery_estimate": {
                        "minimum": {"unit": "business_day", "value": low},
                        "maximum": {"unit": "business_day", "value": high},
                    },
                    "metadata": {"rate": option.rate.id},
                }
            }
        )
    return options


def session_params(order: Order, email: str) -> dict[str, Any]:
    site = settings().site_url
    return {
        "mode": "payment",
        "line_items": line_items(order),
        "shipping_options": shipping_options(order),
        "client_reference_id": order.id,
        "metadata": {"order_id": order.id},
        "payment_intent_data": {"metadata": {"order_id": order.id}},
        "customer_email": email,
        "shipping_address_collection": {"allowed_countries": list(SHIPPING_COUNTRIES)},
        # Checkout puts the session's id in place of the placeholder (so does the stand-in).
        "success_url": f"{site}/confirmation?order={order.id}&session_id={SESSION_ID_PLACEHOLDER}",
        "cancel_url": f"{site}/summary?order={order.id}",
    }


def idempotency_key(order: Order) -> str:
    return f"auren-checkout-{order.id}-v{order.version}"


def _user_email(session: Session) -> str:
    with db.engine().connect() as conn:
        email = conn.execute(
            text("SELECT email FROM users WHERE public_id = :p"), {"p": session.subject}
        ).scalar()
    if email is None:
        raise errors.Unauthorized("your session is no longer valid, sign in again")
    return str(email)


def start_checkout(session: Session, order_id: str) -> Started:
    """A Checkout Session for the signed-in shopper's draft, which then waits for payment.

    Called again for an order that is already waiting, it answers with the same session.
    """
    order = orders.get_order(session, order_id)
    if order.status == Status.PENDING_PAYMENT:
        with db.engine().connect() as conn:
            waiting = order_store.checkout_of(conn, order.id)
        if waiting is not None:
            return Started(url=waiting[1], session_id=waiting[0])
    if order.status != Status.DRAFT:
        raise OrderNotPayable(f"this order is {order.status} and cannot be paid")
    if not order.items:
        raise OrderNotPayable("this order is empty", code="order_empty")
    for index, item in enumerate(order.items):
        if item.design_id and item.design_product_id != item.product_id:
            raise OrderNotPayable(
                f"the design of item {index + 1} was changed to another product;"
                " choose it again for this item",
                code="design_product_mismatch",
            )
    email = _user_email(session)
    order = repriced(session, order)
    created = checkout.provider().create_session(
        session_params(order, email), idempotency_key(order)
    )
    with db.transaction() as conn:
        locked = order_store.lock(conn, order.id, session)
        if locked is None:
            raise OrderNotFound()
        if locked.status == Status.PENDING_PAYMENT and locked.checkout_url and locked.session_id:
            # A concurrent call for the same order won: its session is the order's session.
            return Started(url=locked.checkout_url, session_id=locked.session_id)
        if locked.status != Status.DRAFT or locked.version != order.version:
            raise OrderChanged("the order changed meanwhile; look at it again")
        order_store.start_checkout(
            conn,
            locked,
            session_id=created.id,
            url=created.url,
            amount_cents=order.total_cents,
            currency=order.currency,
            email=email,
            design_versions=[item.design_version for item in order.items],
        )
    log.info("checkout started", order_id=order.id, session_id=created.id)
    return Started(url=created.url, session_id=created.id)


def reopen(session: Session, order_id: str) -> Order:
    """Take the shopper's order that waits for payment back to an editable draft.

    Its Checkout Session is ended first, so it can never be paid afterwards; when it was paid
    meanwhile, the order stays as it is and the webhook completes it.
    """
    order = orders.get_order(session, order_id)
    if order.status == Status.DRAFT:
        return order
    if order.status != Status.PENDING_PAYMENT:
        raise OrderNotPayable(f"this order is {order.status} and can no longer be changed")
    with db.engine().connect() as conn:
        waiting = order_store.checkout_of(conn, order.id)
    if waiting is not None and checkout.provider().end_session(waiting[0]) == "complete":
        raise PaymentCompleted("this order was just paid; its confirmation is on its way")
    with db.transaction() as conn:
        locked = order_store.lock(conn, order.id, session)
        if (
            locked is not None
            and locked.status == Status.PENDING_PAYMENT
            and (waiting is None or locked.session_id == waiting[0])
        ):
            order_store.back_to_draft(conn, locked, "shopper", "reopened to change it")
    return orders.get_order(session, order_id)


@dataclass(frozen=True)
class Settled:
    """The order after the success page's check (`result`: `paid`, `already_paid`,
    `unchanged`...) and the outbox tasks its fulfilment enqueued, to publish once committed."""

    order: Order
    result: str
    tasks: list[int] = field(default_factory=list)


def settle(session: Session, order_id: str, session_id: str) -> Settled:
    """Fulfil the signed-in shopper's order from the success page, without waiting for the
    webhook: `session_id` is what Checkout put on the success URL, and only the session as
    the checkout provider tells it (never what the browser says) can pay the order.

    The order is paid only when that session is the order's current one and paid; whatever
    else comes (another order's session, an unpaid one, a guess) leaves it unchanged. The
    order lock and `fulfil_in`'s `already_paid` make the webhook and this, in any order or at
    once, end in one paid order with its tasks enqueued once. The answer is the order as it
    is once settled, read again: the webhook may have paid it since it was first read.
    """
    order = orders.get_order(session, order_id)
    if order.status != Status.PENDING_PAYMENT:
        return Settled(order, "unchanged")
    outcome = _settle_pending(session, order, session_id)
    log.info("success page", order_id=order.id, session_id=session_id, outcome=outcome.result)
    return Settled(orders.get_order(session, order_id), outcome.result, outcome.tasks)


def _settle_pending(session: Session, order: Order, session_id: str) -> fulfilment.Outcome:
    """What the success page's session does to the pending `order` (see `settle`)."""
    with db.engine().connect() as conn:
        waiting = order_store.checkout_of(conn, order.id)
    if waiting is None or waiting[0] != session_id:
        return fulfilment.Outcome("unchanged")
    paid = checkout.provider().paid_session(session_id)
    if paid is None:
        return fulfilment.Outcome("awaiting_payment")
    wrong = fulfilment.problems(fulfilment.SessionShape, paid)
    metadata = paid.get("metadata")
    named = metadata.get("order_id") if isinstance(metadata, dict) else None
    if wrong or paid.get("id") != session_id or named != order.id:
        log.error(
            "paid checkout session does not fit its order",
            order_id=order.id,
            session_id=session_id,
            problems=wrong or ["the session is not this order's"],
        )
        return fulfilment.Outcome("unchanged")
    with db.transaction() as conn:
        locked = order_store.lock(conn, order.id, session)
        if locked is None:
            raise OrderNotFound()
        if locked.session_id != session_id or locked.flagged_reason is not None:
            # Its checkout changed meanwhile, or a person has to look at it: the webhook's.
            return fulfilment.Outcome("unchanged")
        return fulfilment.fulfil_in(conn, paid, SUCCESS_PAGE_CAUSE)
