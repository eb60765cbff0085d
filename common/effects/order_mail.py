"""The emails of an order: the shopper's confirmation and the ops notifications.

Each is an outbox task enqueued with the event that causes it (`common.shop.fulfilment`) and
rendered from the order as it is when the email is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from common.effects import outbox, print_links
from common.effects.messages import absolute_url, render
from common.effects.sheet import sizes_label
from common.infra.config import settings
from common.providers import mail
from common.shop.order_store import OrderNotPaid, PaidLine, PaidOrder, paid_order
from common.shop.pricing import money

if TYPE_CHECKING:
    from common.infra.db import Connection


def _load(conn: Connection, order_id: str) -> PaidOrder:
    order = paid_order(conn, order_id)
    if order is None:
        raise LookupError(f"order {order_id} does not exist")
    return order


TIMES = "\N{MULTIPLICATION SIGN}"


def _equation(line: PaidLine, currency: str) -> str:
    """`23 pieces x $30.00 + $9.00 size upcharges = $699.00` (with a multiplication sign): how
    the line's total is made."""
    upcharges = line.line_total_cents - line.quantity * line.unit_price_cents
    parts = f"{line.quantity} pieces {TIMES} {money(line.unit_price_cents, currency)}"
    if upcharges:
        parts += f" + {money(upcharges, currency)} size upcharges"
    return f"{parts} = {money(line.line_total_cents, currency)}"


def _items(order: PaidOrder) -> list[dict[str, Any]]:
    """The order's lines as the emails show them (and SendGrid's dynamic template gets them)."""
    return [
        {
            "name": line.product_name,
            "color": line.color,
            "sizes": sizes_label(line.sizes),
            "quantity": line.quantity,
            "unit_price": money(line.unit_price_cents, order.currency),
            "upcharges": money(
                line.line_total_cents - line.quantity * line.unit_price_cents, order.currency
            ),
            "equation": _equation(line, order.currency),
            "line_total": money(line.line_total_cents, order.currency),
            "image_url": absolute_url(line.image_url),
            "back_image_url": absolute_url(line.back_image_url),
        }
        for line in order.lines
    ]


def _totals(order: PaidOrder | None) -> dict[str, Any]:
    """The order's sum: items, shipping (when Checkout charged it) and the total paid."""
    if order is None:
        return {"total": "", "items_total": "", "shipping": None}
    shipping = None
    if order.shipping_cents is not None:
        shipping = {
            "name": order.shipping_name or "Shipping",
            "amount": money(order.shipping_cents, order.currency),
        }
    return {
        "total": money(order.total_cents, order.currency),
        "items_total": money(order.items_cents, order.currency),
        "shipping": shipping,
    }


def confirmation_message(order: PaidOrder) -> mail.Message:
    if not order.email:
        raise LookupError(f"order {order.id} has no email address")
    number = order.number or order.id
    subject = f"Your Auren order {number} is confirmed"
    template_data = {
        "order_id": order.id,
        "order_number": number,
        "order_url": order.url,
        **_totals(order),
        "items": _items(order),
    }
    text_body, html_body = render("confirmation", subject=subject, **template_data)
    return mail.Message(
        to=order.email,
        subject=subject,
        text=text_body,
        html=html_body,
        template_id=settings().sendgrid_confirmation_template_id,
        template_data=template_data,
    )


def perform_confirmation_email(conn: Connection, task: outbox.Task) -> None:
    order = _load(conn, task.payload["order_id"])
    mail.mailer().send(confirmation_message(order), task.dedupe_key)


def shipped_message(order: PaidOrder, tracking: Mapping[str, Any]) -> mail.Message:
    if not order.email:
        raise LookupError(f"order {order.id} has no email address")
    number = order.number or order.id
    subject = f"Your Auren order {number} has shipped"
    text_body, html_body = render(
        "shipped",
        subject=subject,
        order_id=order.id,
        order_number=number,
        order_url=order.url,
        **_totals(order),
        items=_items(order),
        carrier=tracking.get("carrier"),
        tracking_number=tracking["number"],
        tracking_url=tracking.get("url"),
    )
    return mail.Message(to=order.email, subject=subject, text=text_body, html=html_body)


def perform_shipped_email(conn: Connection, task: outbox.Task) -> None:
    order = _load(conn, task.payload["order_id"])
    mail.mailer().send(shipped_message(order, task.payload["tracking"]), task.dedupe_key)


OPS_SUBJECTS = {
    "paid": "New paid order {id} ({total})",
    "flagged": "ACTION NEEDED: order {id} was flagged",
    "refunded": "Order {id} was refunded",
    "refund": "ACTION NEEDED: refund on order {id}",
}


def ops_message(payload: Mapping[str, Any], order: PaidOrder | None) -> mail.Message:
    order_id = str(payload["order_id"])
    event = str(payload.get("event", "paid"))
    total = money(order.total_cents, order.currency) if order else ""
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
    prints = [
        (f"{line.product_name} · {line.color}, {side}", url)
        for line in (order.lines if order else [])
        for side, url in print_links.of_line(line).items()
    ]
    text_body, html_body = render(
        "ops_notification",
        subject=subject,
        facts=facts,
        items=_items(order) if order else [],
        **_totals(order),
        prints=prints,
    )
    return mail.Message(to=cfg.ops_email, subject=subject, text=text_body, html=html_body)


def perform_ops_notification(conn: Connection, task: outbox.Task) -> None:
    try:
        order = paid_order(conn, task.payload["order_id"])
    except OrderNotPaid:
        order = None  # a flagged order is not paid: the alert goes out without its lines
    mail.mailer().send(ops_message(task.payload, order), task.dedupe_key)


HANDLERS: dict[str, outbox.Handler] = {
    "order_confirmation_email": perform_confirmation_email,
    "ops_notification_email": perform_ops_notification,
    "shipped_email": perform_shipped_email,
}
