"""Payments: a Stripe Checkout Session for a draft order, from prices computed here.

`STRIPE_SECRET_KEY` set: Stripe, through the `stripe` SDK (`STRIPE_API_BASE` points it at
another host, e.g. a test stub). Locally without a key: a stand-in that keeps the session in
the state backend and sends the shopper to `/_dev/checkout/<session_id>`, whose "pay" button
posts a Stripe-shaped, Stripe-signed event to the real webhook route (`devtools.dev_checkout`).

A checkout is idempotent: the Stripe idempotency key is derived from the order id and version,
and an order already waiting for payment answers with its stored session.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from common import catalog, db, errors, log, owners, pricing, state
from common import orders as order_domain
from common.config import ConfigError, settings
from common.lazy import Lazy
from common.orders import OrderOut, Status
from common.sessions import Session

SHIPPING_COUNTRIES = (
    "US", "CA", "GB", "IE", "AU", "NZ", "DE", "FR", "NL", "BE", "LU", "AT", "CH", "ES", "PT",
    "IT", "DK", "SE", "NO", "FI",
)  # fmt: skip
LOCAL_SESSIONS = "local_checkout_sessions"
LOCAL_IDEMPOTENCY_KEYS = "local_checkout_idempotency_keys"
LOCAL_SESSION_SECONDS = 24 * 3600
LOCAL_CHECKOUT_PATH = "/_dev/checkout/"


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=64)


class CheckoutOut(BaseModel):
    url: str = Field(description="where to send the shopper to pay")
    session_id: str


class OrderNotPayable(errors.Conflict):
    code = "order_not_payable"


class CheckoutConflict(errors.Conflict):
    code = "checkout_conflict"


class PaymentCompleted(errors.Conflict):
    code = "payment_completed"


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


class CheckoutProvider(Protocol):
    def create_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        """Create a Checkout Session; the same key and params give the same session."""
        ...

    def end_session(self, session_id: str) -> str:
        """Expire the session if it is still open; return its status then (Stripe's words:
        `expired`, or `complete` when it was paid meanwhile)."""
        ...


def _unavailable(what: str, exc: Any) -> errors.ServiceUnavailable:
    """Stripe could not be reached or failed: logged, and a 503 the shopper can retry."""
    log.error(what, error=f"{type(exc).__name__}: {exc.user_message}")
    return errors.ServiceUnavailable(
        "payments are unavailable right now, try again shortly",
        code="payments_unavailable",
        headers={"Retry-After": "5"},
    )


class StripeCheckout:
    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        import stripe

        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=2,  # safe: every create carries an idempotency key
        )

    def create_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        import stripe

        try:
            created = self._client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.IdempotencyError:
            raise CheckoutConflict(
                "this order's checkout changed meanwhile; reload the order and try again"
            ) from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise _unavailable("stripe checkout failed", exc) from None
        if not created.url:
            raise RuntimeError(f"Stripe returned Checkout Session {created.id} without a url")
        return CheckoutSession(id=created.id, url=created.url)

    def end_session(self, session_id: str) -> str:
        import stripe

        sessions = self._client.v1.checkout.sessions
        try:
            try:
                return str(sessions.expire(session_id).status)
            except stripe.InvalidRequestError:
                # Only an open session can be expired: say what it is now.
                return str(sessions.retrieve(session_id).status)
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise _unavailable("stripe expire failed", exc) from None


class LocalCheckout:
    """Stripe Checkout's stand-in: sessions kept in the state backend for the dev page."""

    def create_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        store = state.backend()
        key = hashlib.sha256(idempotency_key.encode()).hexdigest()
        fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
        known = store.get(LOCAL_IDEMPOTENCY_KEYS, key)
        if known is not None:
            if known["fingerprint"] != fingerprint:
                raise CheckoutConflict(
                    "this order's checkout changed meanwhile; reload the order and try again"
                )
            return CheckoutSession(known["session_id"], local_checkout_url(known["session_id"]))
        session_id = "cs_local_" + secrets.token_hex(16)
        store.put(
            LOCAL_SESSIONS,
            session_id,
            {
                "id": session_id,
                "params": params,
                "status": "open",
                "payment_intent": "pi_local_" + secrets.token_hex(12),
                "created": int(time.time()),
            },
            ttl_seconds=LOCAL_SESSION_SECONDS,
        )
        store.put(
            LOCAL_IDEMPOTENCY_KEYS,
            key,
            {"session_id": session_id, "fingerprint": fingerprint},
            ttl_seconds=LOCAL_SESSION_SECONDS,
        )
        return CheckoutSession(session_id, local_checkout_url(session_id))

    def end_session(self, session_id: str) -> str:
        session = local_session(session_id)
        if session is None:
            return "expired"
        if session["status"] == "open":
            set_local_session_status(session, "expired")
            return "expired"
        return str(session["status"])


def local_checkout_url(session_id: str) -> str:
    return LOCAL_CHECKOUT_PATH + session_id


def local_session(session_id: str) -> dict[str, Any] | None:
    """A session of the local stand-in (for its dev page), or None."""
    if not session_id.startswith("cs_local_"):
        return None
    return state.backend().get(LOCAL_SESSIONS, session_id)


def set_local_session_status(session: dict[str, Any], status: str) -> None:
    state.backend().put(
        LOCAL_SESSIONS, session["id"], {**session, "status": status}, LOCAL_SESSION_SECONDS
    )


def build_provider() -> CheckoutProvider:
    cfg = settings()
    if cfg.stripe_secret_key:
        return StripeCheckout(cfg.stripe_secret_key, cfg.stripe_api_base)
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs STRIPE_SECRET_KEY to take payments")
    return LocalCheckout()


provider = Lazy(build_provider)  # the instance's checkout provider


# Building the session from the order.


def _fresh_prices(order: OrderOut) -> pricing.OrderPrice:
    """The order priced again from today's catalog, grouped as `orders` groups a draft."""
    shop = catalog.catalog()
    priced = []
    for index, item in enumerate(order.items):
        product = shop.product(item.product_id)
        if product is None:
            raise OrderNotPayable(f"{item.product_name} is no longer sold; remove it to pay")
        prices = pricing.PriceList(
            base_price_cents=product.base_price_cents,
            upcharges=product.size_upcharges,
            tiers=tuple(
                pricing.Tier(t.min_quantity, t.unit_price_cents) for t in product.price_tiers
            ),
        )
        group = (product.id, item.design_id) if item.design_id else index
        priced.append((prices, item.sizes, group))
    return pricing.price_order(priced)


def repriced(session: Session, order: OrderOut) -> OrderOut:
    """The draft with prices from the database as they are now (saved again if they moved)."""
    fresh = _fresh_prices(order)
    stored = [[(s.size, s.unit_price_cents) for s in item.size_prices] for item in order.items]
    current = [[(s.size, s.unit_price_cents) for s in line.sizes] for line in fresh.lines]
    if stored == current and fresh.total_cents == order.total_cents:
        return order
    log.info("draft repriced at checkout", order_id=order.id)
    return order_domain.save_draft(
        session, order.id, order_domain.items_as_input(order), expected_version=order.version
    )


def _design_images(order: OrderOut) -> dict[str, str]:
    design_ids = [item.design_id for item in order.items if item.design_id]
    if not design_ids:
        return {}
    with db.engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT public_id, COALESCE(final_image_url, artwork_url) AS url FROM designs"
                " WHERE public_id = ANY(CAST(:ids AS TEXT[]))"
            ),
            {"ids": design_ids},
        )
        return {row.public_id: row.url for row in rows if row.url}


def line_items(order: OrderOut) -> list[dict[str, Any]]:
    """One Stripe line item per order item and unit price (sizes 2XL and up cost more)."""
    images = _design_images(order)
    items: list[dict[str, Any]] = []
    for item in order.items:
        image = images.get(item.design_id or "")
        for unit_price, group in groupby(item.size_prices, key=lambda s: s.unit_price_cents):
            sizes = list(group)
            product_data: dict[str, Any] = {
                "name": f"{item.product_name} · {item.color}",
                "description": "Sizes " + " ".join(f"{s.size}:{s.quantity}" for s in sizes),
                "metadata": {"product_id": item.product_id},
            }
            if item.design_id:
                product_data["metadata"]["design_id"] = item.design_id
            if image and image.startswith("https://"):  # Stripe shows only public images
                product_data["images"] = [image]
            items.append(
                {
                    "quantity": sum(s.quantity for s in sizes),
                    "price_data": {
                        "currency": order.currency,
                        "unit_amount": unit_price,
                        "product_data": product_data,
                    },
                }
            )
    charged = sum(i["quantity"] * i["price_data"]["unit_amount"] for i in items)
    if charged != order.total_cents:
        raise RuntimeError(f"line items add up to {charged}, the order to {order.total_cents}")
    return items


def session_params(order: OrderOut, email: str) -> dict[str, Any]:
    site = settings().site_url
    return {
        "mode": "payment",
        "line_items": line_items(order),
        "client_reference_id": order.id,
        "metadata": {"order_id": order.id},
        "payment_intent_data": {"metadata": {"order_id": order.id}},
        "customer_email": email,
        "shipping_address_collection": {"allowed_countries": list(SHIPPING_COUNTRIES)},
        "success_url": f"{site}/confirmation?order={order.id}",
        "cancel_url": f"{site}/summary?order={order.id}",
    }


def idempotency_key(order: OrderOut) -> str:
    return f"auren-checkout-{order.id}-v{order.version}"


def _stored_session(order_id: str) -> CheckoutOut | None:
    with db.engine().connect() as conn:
        row = conn.execute(
            text(
                "SELECT stripe_checkout_session_id, checkout_url FROM orders"
                " WHERE public_id = :p AND status = 'pending_payment'"
            ),
            {"p": order_id},
        ).first()
    if row is None or not row.stripe_checkout_session_id or not row.checkout_url:
        return None
    return CheckoutOut(url=row.checkout_url, session_id=row.stripe_checkout_session_id)


def _user_email(session: Session) -> str:
    with db.engine().connect() as conn:
        email = conn.execute(
            text("SELECT email FROM users WHERE public_id = :p"), {"p": session.subject}
        ).scalar()
    if email is None:
        raise errors.Unauthorized("your session is no longer valid, sign in again")
    return str(email)


def start_checkout(session: Session, order_id: str) -> CheckoutOut:
    """A Checkout Session for the signed-in shopper's draft, which then waits for payment.

    Called again for an order that is already waiting, it answers with the same session.
    """
    order = order_domain.get_order(session, order_id)
    if order.status == Status.PENDING_PAYMENT and (stored := _stored_session(order.id)):
        return stored
    if order.status != Status.DRAFT:
        raise OrderNotPayable(f"this order is {order.status} and cannot be paid")
    if not order.items:
        raise OrderNotPayable("this order is empty", code="order_empty")
    email = _user_email(session)
    order = repriced(session, order)
    created = provider().create_session(session_params(order, email), idempotency_key(order))
    owner_sql, owner = owners.owner_clause(session, "o")
    with db.transaction() as conn:
        row = conn.execute(
            text(
                "SELECT o.id, o.status, o.version, o.stripe_checkout_session_id,"
                f" o.checkout_url FROM orders o WHERE o.public_id = :p AND {owner_sql}"
                " FOR UPDATE"
            ),
            {**owner, "p": order.id},
        ).one()
        if row.status == Status.PENDING_PAYMENT and row.checkout_url:
            # A concurrent call for the same order won: its session is the order's session.
            return CheckoutOut(url=row.checkout_url, session_id=row.stripe_checkout_session_id)
        if row.status != Status.DRAFT or row.version != order.version:
            raise order_domain.OrderChanged("the order changed meanwhile; look at it again")
        conn.execute(
            text(
                "UPDATE orders SET stripe_checkout_session_id = :sid, checkout_url = :url,"
                " checkout_amount_cents = :amount, checkout_currency = :currency,"
                " email = :email, flagged_reason = NULL WHERE id = :pk"
            ),
            {
                "pk": row.id,
                "sid": created.id,
                "url": created.url,
                "amount": order.total_cents,
                "currency": order.currency,
                "email": email,
            },
        )
        order_domain.transition(conn, row.id, Status.DRAFT, Status.PENDING_PAYMENT)
    log.info("checkout started", order_id=order.id, session_id=created.id)
    return CheckoutOut(url=created.url, session_id=created.id)


def reopen(session: Session, order_id: str) -> OrderOut:
    """Take the shopper's order that waits for payment back to an editable draft.

    Its Checkout Session is ended first, so it can never be paid afterwards; when it was paid
    meanwhile, the order stays as it is and the webhook completes it.
    """
    order = order_domain.get_order(session, order_id)
    if order.status == Status.DRAFT:
        return order
    if order.status != Status.PENDING_PAYMENT:
        raise OrderNotPayable(f"this order is {order.status} and can no longer be changed")
    owner_sql, owner = owners.owner_clause(session, "o")
    with db.engine().connect() as conn:
        session_id = conn.execute(
            text(
                "SELECT o.stripe_checkout_session_id FROM orders o"
                f" WHERE o.public_id = :p AND {owner_sql}"
            ),
            {**owner, "p": order.id},
        ).scalar_one()
    if provider().end_session(session_id) == "complete":
        raise PaymentCompleted("this order was just paid; its confirmation is on its way")
    with db.transaction() as conn:
        row = conn.execute(
            text(
                "SELECT o.id, o.status, o.stripe_checkout_session_id FROM orders o"
                f" WHERE o.public_id = :p AND {owner_sql} FOR UPDATE"
            ),
            {**owner, "p": order.id},
        ).one()
        if row.status == Status.PENDING_PAYMENT and row.stripe_checkout_session_id == session_id:
            order_domain.back_to_draft(conn, int(row.id))
    return order_domain.get_order(session, order_id)
