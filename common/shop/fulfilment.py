"""Fulfilment: Stripe's events turned into order states and side effects, exactly once.

`handle_event` verifies a webhook delivery's signature over the raw body, records the event id
in `stripe_events` and applies the event, all in ONE transaction: a duplicate delivery finds the
id recorded and does nothing; a delivery whose transaction fails leaves no record, so Stripe's
retry applies it. `fulfil` marks the order of a paid Checkout Session paid and enqueues its
sheet row, confirmation email, ops notification and print files in the same transaction; once it has
committed, the caller hands them to the queue (`outbox.publish`) and answers. Every order row
is locked (`FOR UPDATE`) while an event changes it, so any number of deliveries of any events,
in any order, concurrently, end in the same state.

A handled event's object is checked against the shape its handler reads (`SessionShape`,
`ChargeShape`: strict types, no NUL in text, cents that fit the orders table) before the
handler runs. One that does not fit is recorded and answered `malformed` with an ERROR log for
ops, never applied: it is a real, signed Stripe event, and Stripe's retry would carry the same
bytes, so an error status would only make Stripe retry it for days. What no handler relies on
(the event's `created`, an unknown type's object) is read only when it has the expected type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from common.core.model import Model
from common.effects import outbox
from common.infra import db, log
from common.providers import checkout
from common.shop import delivery, order_store, pricing
from common.shop.lifecycle import ORDER_ID, PAID_STATES, Status
from common.shop.order_store import Locked

if TYPE_CHECKING:
    from common.infra.db import Connection


@dataclass
class Outcome:
    """What an event did (`paid`, `already_paid`, `ignored`, `duplicate`...) and the outbox
    tasks it enqueued, to publish once its transaction has committed."""

    result: str
    tasks: list[int] = field(default_factory=list)


# The shape of the objects the handlers read: any other field may be anything.

Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]  # Postgres text holds no NUL
Cents = Annotated[int, Field(ge=0, le=2**31 - 1)]  # fits the orders table's INTEGER columns
LATEST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, within what Postgres stores


class _Shape(Model):
    """Strict: a field the handler reads has its type (null where Stripe may send null)."""

    model_config = ConfigDict(strict=True, extra="ignore")


class AddressShape(_Shape):
    line1: Text | None = None
    line2: Text | None = None
    postal_code: Text | None = None
    city: Text | None = None
    state: Text | None = None
    country: Text | None = None


class ShippingShape(_Shape):
    name: Text | None = None
    address: AddressShape | None = None


class CollectedShape(_Shape):
    shipping_details: ShippingShape | None = None


class CustomerShape(_Shape):
    email: Text | None = None


class ShippingCostShape(_Shape):
    amount_total: Cents
    shipping_rate: Text | dict[str, Any] | None = None  # shr_..., or the expanded object


class SessionShape(_Shape):
    """A `checkout.session` object, as `_fulfil_in` and `_back_to_draft` read it."""

    id: Text
    payment_status: Text | None = None
    amount_total: Cents | None = None
    currency: Text | None = None
    payment_intent: Text | None = None
    client_reference_id: Text | None = None
    metadata: dict[str, Any] | None = None
    customer_details: CustomerShape | None = None
    customer_email: Text | None = None
    collected_information: CollectedShape | None = None
    shipping_details: ShippingShape | None = None
    shipping_cost: ShippingCostShape | None = None


class ChargeShape(_Shape):
    """A `charge` object, as `_charge_refunded` reads it."""

    id: Text
    amount: Cents
    amount_refunded: Cents
    currency: Text
    refunded: bool | None = None
    payment_intent: Text | None = None
    metadata: dict[str, Any] | None = None


def problems(shape: type[BaseModel], obj: Mapping[str, Any]) -> list[str]:
    """Where `obj` does not have `shape` ("amount_total: Input should be a valid integer"),
    without the values themselves (they may be a shopper's details)."""
    try:
        shape.model_validate(obj)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
    return []


# Verifying and recording a delivery.


def _order_ref(obj: Mapping[str, Any]) -> str | None:
    """The order public id an event object names in its metadata (which only our server sets:
    a payment link's buyer can choose `client_reference_id`); read from an object of any shape.
    """
    metadata = obj.get("metadata")
    candidate = metadata.get("order_id") if isinstance(metadata, Mapping) else None
    return candidate if isinstance(candidate, str) and ORDER_ID.match(candidate) else None


def _record(conn: Connection, event: Mapping[str, Any]) -> bool:
    """Record the event id; False when it was recorded before (a duplicate delivery)."""
    created = event.get("created")
    recorded = conn.execute(
        "INSERT INTO stripe_events (event_id, type, order_public_id, stripe_created_at)"
        " VALUES (:id, :type, :order, to_timestamp(CAST(:created AS DOUBLE PRECISION)))"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        {
            "id": event["id"],
            "type": event["type"][:255],
            "order": _order_ref(event["data"]["object"]),
            "created": created if _is_timestamp(created) else None,
        },
    ).first()
    return recorded is not None


def _is_timestamp(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LATEST_TIMESTAMP


def handle_event(payload: bytes, signature: str | None) -> Outcome:
    """Verify, record and apply one webhook delivery, in one transaction."""
    event = checkout.verify(payload, signature)
    obj = event["data"]["object"]
    handler = EVENT_HANDLERS.get(event["type"])
    wrong = problems(handler.shape, obj) if handler else []
    with db.transaction() as conn:
        if not _record(conn, event):
            outcome = None
        elif handler is None:
            outcome = Outcome("ignored")
        elif wrong:
            outcome = Outcome("malformed")
        else:
            outcome = handler.apply(conn, obj, event["id"])
    fields = {"event_id": event["id"], "event_type": event["type"], "order_id": _order_ref(obj)}
    if outcome and wrong:
        # Acknowledged, so Stripe will not send it again: a person has to look at it.
        log.error("stripe event malformed", **fields, problems=wrong)
    log.info("stripe event", **fields, outcome=outcome.result if outcome else "duplicate")
    return outcome or Outcome("duplicate")


# The events.


def _lock_for_session(conn: Connection, session: Mapping[str, Any]) -> Locked | None:
    return order_store.lock(conn, _order_ref(session))


def _ops_notification(
    key: str, order_id: str, event: str, detail: str, **extra: Any
) -> outbox.NewTask:
    return outbox.NewTask(
        "ops_notification_email",
        f"ops_notification_email:{event}:{key}",
        {"order_id": order_id, "event": event, "detail": detail, **extra},
    )


def _flag(conn: Connection, order: Locked, key: str, reason: str, cause: str) -> Outcome:
    """Leave the order as it is, note why, and alert ops: a person has to look at it."""
    order_store.flag(conn, order, reason, cause)
    notification = _ops_notification(f"{order.public_id}:{key}", order.public_id, "flagged", reason)
    tasks = outbox.enqueue(conn, notification)
    log.warning("order flagged", order_id=order.public_id, reason=reason)
    return Outcome("flagged", tasks)


def _shipping(session: Mapping[str, Any]) -> dict[str, str] | None:
    """The shipping name and address Checkout collected, for the ops notification."""
    collected = session.get("collected_information") or {}
    details = collected.get("shipping_details") or session.get("shipping_details")
    if not isinstance(details, dict):
        return None
    address = details.get("address") or {}
    city_line = " ".join(
        str(part) for part in (address.get("postal_code"), address.get("city")) if part
    )
    parts = (
        address.get("line1"),
        address.get("line2"),
        city_line,
        address.get("state"),
        address.get("country"),
    )
    return {
        "name": str(details.get("name") or ""),
        "address": ", ".join(str(part) for part in parts if part),
    }


def _mismatch(order: Locked, session: Mapping[str, Any]) -> str | None:
    """Why a paid session must not mark this order paid, or None when it matches."""
    if session.get("id") != order.session_id:
        return (
            f"paid Checkout Session {session.get('id')} is not the order's current session "
            f"{order.session_id}"
        )
    amount, currency = session.get("amount_total"), str(session.get("currency", "")).lower()
    shipping = delivery.shipping_paid(session)  # the items were checked out without it
    if isinstance(amount, int) and shipping is not None:
        amount -= shipping
    if amount != order.checkout_amount_cents or currency != order.checkout_currency:
        return (
            f"paid {amount} {currency} but the order's checkout was "
            f"{order.checkout_amount_cents} {order.checkout_currency}"
        )
    return None


def fulfil_in(conn: Connection, session: Mapping[str, Any], cause: str) -> Outcome:
    """Mark the order of a paid Checkout Session paid, in the caller's transaction."""
    order = _lock_for_session(conn, session)
    if order is None:
        return Outcome("order_not_found")
    if session.get("payment_status") != "paid":
        return Outcome("awaiting_payment")
    session_id = str(session.get("id"))
    if order.status in PAID_STATES:
        if session_id != order.session_id:
            reason = f"order already paid, and {session_id} paid too"
            return _flag(conn, order, session_id, reason, cause)
        return Outcome("already_paid")
    problem = _mismatch(order, session)
    if problem is None and order.status != Status.PENDING_PAYMENT:
        problem = f"paid while the order was {order.status}"
    if problem is None and order.flagged_reason is not None:
        # A flagged order waits for a person, whatever arrives: it is never paid by itself.
        problem = f"{session_id} paid while the order is flagged ({order.flagged_reason})"
    if problem is not None:
        return _flag(conn, order, session_id, problem, cause)
    customer = session.get("customer_details") or {}
    payment_intent = session.get("payment_intent")
    order_store.mark_paid(
        conn,
        order,
        cause,
        payment_intent=payment_intent if isinstance(payment_intent, str) else None,
        email=customer.get("email") or session.get("customer_email"),
        shipping=delivery.charged(session, order.checkout_amount_cents or 0),
    )
    payload = {"order_id": order.public_id}
    tasks = [
        outbox.NewTask("sheet_row", f"sheet_row:{order.public_id}", payload),
        outbox.NewTask(
            "order_confirmation_email", f"order_confirmation_email:{order.public_id}", payload
        ),
        _ops_notification(
            order.public_id,
            order.public_id,
            "paid",
            "a new order was paid",
            shipping=_shipping(session),
        ),
        # Its task finds the lines with a design (none: it does nothing), after the answer.
        outbox.NewTask("print_files", f"print_files:{order.public_id}", payload),
    ]
    return Outcome("paid", outbox.enqueue(conn, *tasks))


def fulfil(session: Mapping[str, Any]) -> Outcome:
    """Mark the order of a paid Checkout Session (a Stripe `checkout.session` object) paid,
    with its side effects enqueued in the same transaction.

    Idempotent: its result is `paid` the first time, then `already_paid`; `awaiting_payment` while
    the session is unpaid, `flagged` when it does not match the order, `malformed` (nothing
    done) when it is not shaped like a Checkout Session.
    """
    if problems(SessionShape, session):
        return Outcome("malformed")
    with db.transaction() as conn:
        return fulfil_in(conn, session, f"stripe:{session.get('id')}")


def _back_to_draft(
    conn: Connection, session: Mapping[str, Any], result: str, cause: str
) -> Outcome:
    """The session ended unpaid: its order becomes an editable draft again."""
    order = _lock_for_session(conn, session)
    if (
        order is None
        or order.status != Status.PENDING_PAYMENT
        or order.session_id != session.get("id")
    ):
        return Outcome("ignored")
    order_store.back_to_draft(conn, order, cause, result.replace("_", " "))
    return Outcome(result)


def _session_completed(conn: Connection, session: Mapping[str, Any], event_id: str) -> Outcome:
    return fulfil_in(conn, session, f"stripe:{event_id}")


def _async_payment_failed(conn: Connection, session: Mapping[str, Any], event_id: str) -> Outcome:
    return _back_to_draft(conn, session, "payment_failed", f"stripe:{event_id}")


def _session_expired(conn: Connection, session: Mapping[str, Any], event_id: str) -> Outcome:
    return _back_to_draft(conn, session, "back_to_draft", f"stripe:{event_id}")


def _charge_refunded(conn: Connection, charge: Mapping[str, Any], event_id: str) -> Outcome:
    """A refund changes an order only when it is of the order's own charge (its payment
    intent); a refund of another charge that names the order only flags it."""
    cause = f"stripe:{event_id}"
    refunded, amount = charge["amount_refunded"], charge["amount"]  # Cents, as ChargeShape says
    currency = str(charge["currency"])
    detail = f"{pricing.money(refunded, currency)} of {pricing.money(amount, currency)}"
    key = f"{charge.get('id')}:{refunded}"
    payment_intent = charge.get("payment_intent")
    order = order_store.lock_by_payment(
        conn, payment_intent if isinstance(payment_intent, str) else None
    )
    if order is None:
        named = order_store.lock(conn, _order_ref(charge))
        if named is None:
            return Outcome("order_not_found")
        reason = (
            f"charge {charge.get('id')} (payment {payment_intent}) refunded {detail}; it names "
            f"this order but is not the order's charge ({named.payment_intent})"
        )
        return _flag(conn, named, key, reason, cause)
    if order.status == Status.REFUNDED:
        return Outcome("already_refunded")
    if charge.get("refunded") is True or refunded >= amount:
        order_store.record_refund(conn, order, refunded, cause)
        order_store.transition(conn, order, Status.REFUNDED, cause, f"refunded {detail}")
        notification = _ops_notification(key, order.public_id, "refunded", f"refunded {detail}")
        return Outcome("refunded", outbox.enqueue(conn, notification))
    if refunded <= order.refunded_cents:
        return Outcome("already_refunded")
    order_store.record_refund(conn, order, refunded, cause)
    notification = _ops_notification(
        key, order.public_id, "refund", f"refunded {detail}; the order is {order.status}"
    )
    return Outcome("partially_refunded", outbox.enqueue(conn, notification))


EventHandler = Callable[["Connection", Mapping[str, Any], str], Outcome]


@dataclass(frozen=True)
class Handler:
    """How an event type is applied: `apply` runs only on an object that has `shape`."""

    shape: type[_Shape]
    apply: EventHandler


EVENT_HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": Handler(SessionShape, _session_completed),
    "checkout.session.async_payment_succeeded": Handler(SessionShape, _session_completed),
    "checkout.session.async_payment_failed": Handler(SessionShape, _async_payment_failed),
    "checkout.session.expired": Handler(SessionShape, _session_expired),
    "charge.refunded": Handler(ChargeShape, _charge_refunded),
}
