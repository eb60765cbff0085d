"""Fulfilment: Stripe's events turned into order states and side effects, exactly once.

`handle_event` verifies a webhook delivery's signature over the raw body, records the event id
in `stripe_events` and applies the event, all in ONE transaction: a duplicate delivery finds the
id recorded and does nothing; a delivery whose transaction fails leaves no record, so Stripe's
retry applies it. `fulfil` marks the order of a paid Checkout Session paid and enqueues its
sheet row, confirmation email and ops notification in the same transaction; the outbox then
performs them. Every order row is locked (`FOR UPDATE`) while an event changes it, so any number
of deliveries of any events, in any order, concurrently, end in the same state.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.engine import Connection

from common import db, errors, log, mail, outbox, sheets
from common.config import settings
from common.orders import ORDER_ID, Status, back_to_draft, transition

SIGNATURE_TOLERANCE_SECONDS = 300
PAID_STATES = (Status.PAID, Status.FULFILLED, Status.REFUNDED)


class InvalidSignature(errors.BadRequest):
    code = "invalid_signature"


class MalformedEvent(errors.BadRequest):
    code = "malformed_event"


class OrderNotPaid(errors.Conflict):
    code = "order_not_paid"


class WebhookOut(BaseModel):
    received: bool
    duplicate: bool = Field(description="the event was already handled; nothing was done")
    outcome: str = Field(description="what the event did, e.g. paid, already_paid, ignored")


@dataclass
class Outcome:
    result: str
    tasks: list[int] = field(default_factory=list)


# Verifying and recording a delivery.


def verify(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event in `payload`, or a 400 when its `Stripe-Signature` is missing, malformed,
    wrong or older than 300 s (checked with the stripe SDK's own verifier)."""
    import stripe

    try:
        stripe.WebhookSignature.verify_header(
            payload,
            signature,
            settings().stripe_webhook_secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise InvalidSignature(f"the Stripe signature is not valid: {exc}") from None
    event = json.loads(payload)
    if (
        not isinstance(event, dict)
        or not str(event.get("id", "")).startswith("evt_")
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        raise MalformedEvent("a Stripe event has an evt_ id, a type and data.object")
    return event


def _order_ref(obj: Mapping[str, Any]) -> str | None:
    """The order public id an event object names (metadata, else client_reference_id)."""
    metadata = obj.get("metadata") or {}
    for candidate in (metadata.get("order_id"), obj.get("client_reference_id")):
        if isinstance(candidate, str) and ORDER_ID.match(candidate):
            return candidate
    return None


def _record(conn: Connection, event: Mapping[str, Any]) -> bool:
    """Record the event id; False when it was recorded before (a duplicate delivery)."""
    created = event.get("created")
    recorded = conn.execute(
        text(
            "INSERT INTO stripe_events (event_id, type, order_public_id, stripe_created_at)"
            " VALUES (:id, :type, :order, to_timestamp(CAST(:created AS DOUBLE PRECISION)))"
            " ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
        ),
        {
            "id": event["id"],
            "type": event["type"][:255],
            "order": _order_ref(event["data"]["object"]),
            "created": created if isinstance(created, int) else None,
        },
    ).first()
    return recorded is not None


def handle_event(payload: bytes, signature: str | None) -> WebhookOut:
    """Verify, record and apply one webhook delivery, then perform what it enqueued."""
    event = verify(payload, signature)
    handler = EVENT_HANDLERS.get(event["type"])
    with db.transaction() as conn:
        if not _record(conn, event):
            outcome = None
        elif handler is None:
            outcome = Outcome("ignored")
        else:
            outcome = handler(conn, event["data"]["object"], event["id"])
    log.info(
        "stripe event",
        event_id=event["id"],
        event_type=event["type"],
        order_id=_order_ref(event["data"]["object"]),
        outcome=outcome.result if outcome else "duplicate",
    )
    if outcome is None:
        return WebhookOut(received=True, duplicate=True, outcome="duplicate")
    outbox.attempt(outcome.tasks)
    return WebhookOut(received=True, duplicate=False, outcome=outcome.result)


# The events.


@dataclass(frozen=True)
class _LockedOrder:
    pk: int
    public_id: str
    status: Status
    checkout_amount_cents: int | None
    checkout_currency: str | None
    session_id: str | None


LOCK_SQL = (
    "SELECT id, public_id, status, checkout_amount_cents, checkout_currency,"
    " stripe_checkout_session_id FROM orders WHERE {where} FOR UPDATE"
)


def _lock(conn: Connection, where: str, value: str | None) -> _LockedOrder | None:
    if not value:
        return None
    row = conn.execute(text(LOCK_SQL.format(where=where)), {"v": value}).first()
    if row is None:
        return None
    return _LockedOrder(
        pk=int(row.id),
        public_id=row.public_id,
        status=Status(row.status),
        checkout_amount_cents=row.checkout_amount_cents,
        checkout_currency=row.checkout_currency,
        session_id=row.stripe_checkout_session_id,
    )


def _lock_for_session(conn: Connection, session: Mapping[str, Any]) -> _LockedOrder | None:
    return _lock(conn, "public_id = :v", _order_ref(session))


def _notify_ops(
    conn: Connection, key: str, order_id: str, event: str, detail: str, **extra: Any
) -> int | None:
    return outbox.enqueue(
        conn,
        "ops_notification_email",
        f"ops_notification_email:{event}:{key}",
        {"order_id": order_id, "event": event, "detail": detail, **extra},
    )


def _flag(conn: Connection, order: _LockedOrder, session_id: str, reason: str) -> Outcome:
    """Leave the order as it is, note why, and alert ops: a person has to look at it."""
    conn.execute(
        text("UPDATE orders SET flagged_reason = :reason, updated_at = now() WHERE id = :pk"),
        {"pk": order.pk, "reason": reason[:500]},
    )
    task = _notify_ops(conn, f"{order.public_id}:{session_id}", order.public_id, "flagged", reason)
    log.warning("order flagged", order_id=order.public_id, reason=reason)
    return Outcome("flagged", [task] if task else [])


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


def _mismatch(order: _LockedOrder, session: Mapping[str, Any]) -> str | None:
    """Why a paid session must not mark this order paid, or None when it matches."""
    if session.get("id") != order.session_id:
        return (
            f"paid Checkout Session {session.get('id')} is not the order's current session "
            f"{order.session_id}"
        )
    amount, currency = session.get("amount_total"), str(session.get("currency", "")).lower()
    if amount != order.checkout_amount_cents or currency != order.checkout_currency:
        return (
            f"paid {amount} {currency} but the order's checkout was "
            f"{order.checkout_amount_cents} {order.checkout_currency}"
        )
    return None


def _fulfil_in(conn: Connection, session: Mapping[str, Any]) -> Outcome:
    order = _lock_for_session(conn, session)
    if order is None:
        return Outcome("order_not_found")
    if session.get("payment_status") != "paid":
        return Outcome("awaiting_payment")
    session_id = str(session.get("id"))
    if order.status in PAID_STATES:
        if session_id != order.session_id:
            return _flag(conn, order, session_id, f"order already paid, and {session_id} paid too")
        return Outcome("already_paid")
    problem = _mismatch(order, session)
    if problem is None and order.status != Status.PENDING_PAYMENT:
        problem = f"paid while the order was {order.status}"
    if problem is not None:
        return _flag(conn, order, session_id, problem)
    customer = session.get("customer_details") or {}
    conn.execute(
        text(
            "UPDATE orders SET stripe_payment_intent_id = :pi,"
            " email = COALESCE(email, :email) WHERE id = :pk"
        ),
        {
            "pk": order.pk,
            "pi": session.get("payment_intent"),
            "email": customer.get("email") or session.get("customer_email"),
        },
    )
    transition(conn, order.pk, Status.PENDING_PAYMENT, Status.PAID)
    payload = {"order_id": order.public_id}
    tasks = [
        outbox.enqueue(conn, "sheet_row", f"sheet_row:{order.public_id}", payload),
        outbox.enqueue(
            conn, "order_confirmation_email", f"order_confirmation_email:{order.public_id}", payload
        ),
        _notify_ops(
            conn,
            order.public_id,
            order.public_id,
            "paid",
            "a new order was paid",
            shipping=_shipping(session),
        ),
    ]
    return Outcome("paid", [task for task in tasks if task is not None])


def fulfil(session: Mapping[str, Any]) -> str:
    """Mark the order of a paid Checkout Session (a Stripe `checkout.session` object) paid,
    with its side effects enqueued in the same transaction, then perform them.

    Idempotent: returns `paid` the first time, then `already_paid`; `awaiting_payment` while
    the session is unpaid, `flagged` when it does not match the order.
    """
    with db.transaction() as conn:
        outcome = _fulfil_in(conn, session)
    outbox.attempt(outcome.tasks)
    return outcome.result


def _back_to_draft(conn: Connection, session: Mapping[str, Any], result: str) -> Outcome:
    """The session ended unpaid: its order becomes an editable draft again."""
    order = _lock_for_session(conn, session)
    if (
        order is None
        or order.status != Status.PENDING_PAYMENT
        or order.session_id != session.get("id")
    ):
        return Outcome("ignored")
    back_to_draft(conn, order.pk)
    return Outcome(result)


def _session_completed(conn: Connection, session: Mapping[str, Any], event_id: str) -> Outcome:
    return _fulfil_in(conn, session)


def _async_payment_failed(conn: Connection, session: Mapping[str, Any], event_id: str) -> Outcome:
    return _back_to_draft(conn, session, "payment_failed")


def _session_expired(conn: Connection, session: Mapping[str, Any], event_id: str) -> Outcome:
    return _back_to_draft(conn, session, "back_to_draft")


def _charge_refunded(conn: Connection, charge: Mapping[str, Any], event_id: str) -> Outcome:
    order = _lock(conn, "stripe_payment_intent_id = :v", charge.get("payment_intent"))
    if order is None:
        order = _lock(conn, "public_id = :v", _order_ref(charge))
    if order is None:
        return Outcome("order_not_found")
    refunded, amount = charge.get("amount_refunded", 0), charge.get("amount", 0)
    currency = str(charge.get("currency", ""))
    detail = f"{mail.money(int(refunded), currency)} of {mail.money(int(amount), currency)}"
    key = f"{charge.get('id')}:{refunded}"
    if charge.get("refunded") is True and order.status == Status.PAID:
        transition(conn, order.pk, Status.PAID, Status.REFUNDED)
        task = _notify_ops(conn, key, order.public_id, "refunded", f"refunded {detail}")
        return Outcome("refunded", [task] if task else [])
    if order.status == Status.REFUNDED:
        return Outcome("already_refunded")
    task = _notify_ops(
        conn, key, order.public_id, "refund", f"refunded {detail}; the order is {order.status}"
    )
    return Outcome("partially_refunded", [task] if task else [])


EventHandler = Callable[[Connection, Mapping[str, Any], str], Outcome]
EVENT_HANDLERS: dict[str, EventHandler] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "checkout.session.async_payment_failed": _async_payment_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
}


# What the side effects show: a paid order as the sheet and the emails see it.


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


@dataclass(frozen=True)
class PaidOrder:
    id: str
    status: str
    email: str | None
    paid_at: datetime
    total_cents: int
    currency: str
    lines: list[PaidLine]

    @property
    def url(self) -> str:
        return f"{settings().site_url}/confirmation?order={self.id}"


ORDER_SQL = """
SELECT o.id, o.public_id, o.status, o.total_cents, o.currency, o.paid_at,
       COALESCE(o.email, u.email) AS email
FROM orders o LEFT JOIN users u ON u.id = o.user_id
WHERE o.public_id = :pid
"""

LINES_SQL = """
SELECT p.name AS product_name, i.color, d.public_id AS design_id,
       COALESCE(d.final_image_url, d.artwork_url, p.image_url) AS image_url,
       i.quantity, i.unit_price_cents, i.line_total_cents,
       (SELECT json_agg(json_build_array(s.size, s.quantity) ORDER BY s.id)
        FROM order_sizes s WHERE s.order_item_id = i.id) AS sizes
FROM order_items i
JOIN products p ON p.id = i.product_id
LEFT JOIN designs d ON d.id = i.design_id
WHERE i.order_id = :pk
ORDER BY i.position
"""


def paid_order(conn: Connection, order_id: str) -> PaidOrder | None:
    """The order with its lines, or None when there is no such order; a 409 when unpaid."""
    row = conn.execute(text(ORDER_SQL), {"pid": order_id}).first()
    if row is None:
        return None
    if row.paid_at is None:
        raise OrderNotPaid(f"order {order_id} is {row.status}, not paid")
    lines = [
        PaidLine(
            product_name=line.product_name,
            color=line.color,
            design_id=line.design_id,
            image_url=mail.absolute_url(line.image_url),
            sizes={size: quantity for size, quantity in line.sizes or []},
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            line_total_cents=line.line_total_cents,
        )
        for line in conn.execute(text(LINES_SQL), {"pk": row.id})
    ]
    return PaidOrder(
        id=row.public_id,
        status=row.status,
        email=row.email,
        paid_at=row.paid_at,
        total_cents=row.total_cents,
        currency=row.currency,
        lines=lines,
    )


def sizes_label(sizes: Mapping[str, int]) -> str:
    """`S:4 M:10 L:5`."""
    return " ".join(f"{size}:{quantity}" for size, quantity in sizes.items())


def decimal_amount(cents: int, currency: str) -> str:
    """`265.50 USD`: exact, and read the same by people and by scripts."""
    return f"{cents // 100}.{cents % 100:02d} {currency.upper()}"


def sheet_rows(order: PaidOrder) -> list[list[str | int]]:
    """`OrderID | Date | UserEmail | ProductName | Quantity | Sizes | Total | Status`, one row
    per order line; Total is the line's total, so the column adds up to the orders' totals."""
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
        ]
        for line in order.lines
    ]


class SheetAppendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=64)


class SheetAppendOut(BaseModel):
    order_id: str
    appended: bool = Field(description="false when the sheet already had the order's rows")
    rows: int


def _append_locked(conn: Connection, order_id: str) -> SheetAppendOut | None:
    """Append the order's rows unless the sheet has them, holding the order's sheet lock."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"sheet:{order_id}"},
    )
    order = paid_order(conn, order_id)
    if order is None:
        return None
    rows = sheet_rows(order)
    appended = sheets.sheet().append_once(order.id, rows)
    return SheetAppendOut(order_id=order.id, appended=appended, rows=len(rows))


def append_to_sheet(order_id: str) -> SheetAppendOut:
    """Put a paid order's rows in the ops sheet if they are not there (`/api/sheets/append`)."""
    if not ORDER_ID.match(order_id):
        raise errors.NotFound("there is no such order", code="order_not_found")
    key = f"sheet_row:{order_id}"
    with db.transaction() as conn:
        # The outbox task first, as a drain locks it, then the sheet lock: one lock order.
        conn.execute(text("SELECT id FROM outbox WHERE dedupe_key = :k FOR UPDATE"), {"k": key})
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
            raise errors.NotFound("there is no such order", code="order_not_found")
        conn.execute(
            text(
                "UPDATE outbox SET done_at = now(), attempts = attempts + 1"
                " WHERE dedupe_key = :k AND done_at IS NULL"
            ),
            {"k": key},
        )
    return result


# The outbox tasks of a paid order.


def perform_sheet_row(conn: Connection, task: outbox.Task) -> None:
    if _append_locked(conn, task.payload["order_id"]) is None:
        raise LookupError(f"order {task.payload['order_id']} does not exist")


def _load(conn: Connection, order_id: str) -> PaidOrder:
    order = paid_order(conn, order_id)
    if order is None:
        raise LookupError(f"order {order_id} does not exist")
    return order


def _items_html(order: PaidOrder) -> str:
    rows = []
    for line in order.lines:
        image = (
            f'<img src="{html.escape(line.image_url)}" width="72" height="72" alt="" '
            'style="display:block;border-radius:6px;background:#eee;object-fit:cover">'
            if line.image_url
            else ""
        )
        rows.append(
            "<tr>"
            f'<td style="padding:10px 10px 10px 0;vertical-align:top;width:72px">{image}</td>'
            '<td style="padding:10px 0;vertical-align:top">'
            f"<strong>{html.escape(line.product_name)}</strong> · {html.escape(line.color)}<br>"
            f'<span style="color:#77716a">Sizes {html.escape(sizes_label(line.sizes))}'
            f" · {line.quantity} pieces</span></td>"
            '<td style="padding:10px 0;vertical-align:top;text-align:right;white-space:nowrap">'
            f"{html.escape(mail.money(line.line_total_cents, order.currency))}</td>"
            "</tr>"
        )
    total = html.escape(mail.money(order.total_cents, order.currency))
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="border-top:1px solid #e5e0d8;border-bottom:1px solid #e5e0d8">'
        + "".join(rows)
        + "</table>"
        '<p style="text-align:right;font-size:17px;margin:12px 0">'
        f"<strong>Total {total}</strong></p>"
    )


def _items_text(order: PaidOrder) -> str:
    lines = [
        f"- {line.product_name} ({line.color}), sizes {sizes_label(line.sizes)}: "
        f"{line.quantity} pieces, {mail.money(line.line_total_cents, order.currency)}"
        for line in order.lines
    ]
    return "\n".join([*lines, f"Total: {mail.money(order.total_cents, order.currency)}"])


def confirmation_message(order: PaidOrder) -> mail.Message:
    if not order.email:
        raise LookupError(f"order {order.id} has no email address")
    subject = f"Your Auren order is confirmed ({order.id})"
    body = (
        '<h1 style="font-size:20px;margin:0 0 12px">Thank you, your order is paid.</h1>'
        "<p>We have started preparing it. Here is what you ordered:</p>"
        + _items_html(order)
        + mail.button(order.url, "View your order")
        + f'<p style="color:#77716a;font-size:13px">Order {html.escape(order.id)}</p>'
    )
    text_body = (
        "Thank you, your order is paid. We have started preparing it.\n\n"
        f"{_items_text(order)}\n\nView your order: {order.url}\nOrder {order.id}\n"
    )
    template_data = {
        "order_id": order.id,
        "order_url": order.url,
        "total": mail.money(order.total_cents, order.currency),
        "items": [
            {
                "name": line.product_name,
                "color": line.color,
                "sizes": sizes_label(line.sizes),
                "quantity": line.quantity,
                "line_total": mail.money(line.line_total_cents, order.currency),
                "image_url": line.image_url,
            }
            for line in order.lines
        ],
    }
    return mail.Message(
        to=order.email,
        subject=subject,
        text=text_body,
        html=mail.layout(subject, body),
        template_id=settings().sendgrid_confirmation_template_id,
        template_data=template_data,
    )


def perform_confirmation_email(conn: Connection, task: outbox.Task) -> None:
    order = _load(conn, task.payload["order_id"])
    mail.mailer().send(confirmation_message(order), task.dedupe_key)


OPS_SUBJECTS = {
    "paid": "New paid order {id} ({total})",
    "flagged": "ACTION NEEDED: order {id} was flagged",
    "refunded": "Order {id} was refunded",
    "refund": "ACTION NEEDED: refund on order {id}",
}


def ops_message(payload: Mapping[str, Any], order: PaidOrder | None) -> mail.Message:
    order_id = str(payload["order_id"])
    event = str(payload.get("event", "paid"))
    total = mail.money(order.total_cents, order.currency) if order else ""
    subject = OPS_SUBJECTS.get(event, "Order {id}: {event}").format(
        id=order_id, total=total, event=event
    )
    facts = [("Order", order_id), ("What happened", str(payload.get("detail", "")))]
    if order:
        facts += [("Customer", order.email or "unknown"), ("Total", total)]
    shipping = payload.get("shipping") or {}
    if shipping:
        facts.append(("Ship to", f"{shipping.get('name', '')}, {shipping.get('address', '')}"))
    cfg = settings()
    if cfg.sheet_id:
        facts.append(("Sheet", f"https://docs.google.com/spreadsheets/d/{cfg.sheet_id}"))
    facts_html = "".join(
        f'<tr><td style="padding:4px 12px 4px 0;color:#77716a">{html.escape(k)}</td>'
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in facts
    )
    body = f'<table role="presentation" cellpadding="0" cellspacing="0">{facts_html}</table>'
    text_body = "\n".join(f"{k}: {v}" for k, v in facts)
    if order:
        body += _items_html(order)
        text_body += "\n\n" + _items_text(order)
    return mail.Message(
        to=cfg.ops_email, subject=subject, text=text_body + "\n", html=mail.layout(subject, body)
    )


def perform_ops_notification(conn: Connection, task: outbox.Task) -> None:
    try:
        order = paid_order(conn, task.payload["order_id"])
    except OrderNotPaid:
        order = None  # a flagged order is not paid: the alert goes out without its lines
    mail.mailer().send(ops_message(task.payload, order), task.dedupe_key)
