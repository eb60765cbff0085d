"""After payment: ops move an order into production, ship it with a tracking number, and
mark it delivered; they also clear a flag once they have looked at the order (settling a
payment that came while it was flagged).

Shipping enqueues the shopper's "your order has shipped" email in the same transaction, once
(its dedupe key is the order's); asking again for the status an order already has changes
nothing, so a repeated ops call sends no second email.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.core import errors
from common.effects import outbox
from common.infra import db, log
from common.providers import checkout
from common.shop import fulfilment, order_store
from common.shop.lifecycle import OPS_MOVES, OrderNotFound, Status
from common.shop.order_store import Order


class TrackingRequired(errors.Unprocessable):
    code = "tracking_number_required"


class NotFlagged(errors.Conflict):
    code = "order_not_flagged"


@dataclass(frozen=True)
class Moved:
    order: Order
    tasks: list[int]  # the outbox tasks to perform once committed (the shipped email)


def move(
    order_id: str,
    target: Status,
    *,
    carrier: str | None = None,
    tracking_number: str | None = None,
    tracking_url: str | None = None,
) -> Moved:
    """Move the order to `target` (one of `OPS_MOVES`), checked against the lifecycle."""
    if target not in OPS_MOVES:
        raise errors.Unprocessable(
            f"ops move orders to {', '.join(OPS_MOVES)}", code="invalid_status", field="status"
        )
    if target == Status.SHIPPED and not tracking_number:
        raise TrackingRequired("a shipped order needs its tracking number", field="tracking_number")
    tasks: list[int] = []
    with db.transaction() as conn:
        order = order_store.lock(conn, order_id)
        if order is None:
            raise OrderNotFound()
        if order.status != target:
            if target == Status.SHIPPED:
                assert tracking_number is not None
                order_store.ship(
                    conn,
                    order,
                    "ops",
                    carrier=carrier,
                    tracking_number=tracking_number,
                    tracking_url=tracking_url,
                )
                tracking = {"carrier": carrier, "number": tracking_number, "url": tracking_url}
                payload = {"order_id": order.public_id, "tracking": tracking}
                tasks = outbox.enqueue(
                    conn,
                    outbox.NewTask("shipped_email", f"shipped_email:{order.public_id}", payload),
                )
            else:
                order_store.transition(conn, order, target, "ops")
            log.info("order moved by ops", order_id=order.public_id, status=target.value)
        read = order_store.read_for_ops(conn, order.public_id)
    assert read is not None
    return Moved(read, tasks)


def clear_flag(order_id: str, reason: str) -> Moved:
    """Ops looked at a flagged order: the flag goes, and why is kept in its history.

    An order waiting for payment whose Checkout Session was paid meanwhile (a payment that
    came while it was flagged) is then settled from that session, as its webhook would have:
    checked against the order again, and paid only when it matches."""
    tasks: list[int] = []
    with db.transaction() as conn:
        order = order_store.lock(conn, order_id)
        if order is None:
            raise OrderNotFound()
        if order.flagged_reason is None:
            raise NotFlagged("this order is not flagged")
        order_store.clear_flag(conn, order, reason)
        if order.status == Status.PENDING_PAYMENT and order.session_id:
            session = checkout.provider().paid_session(order.session_id)
            if session is not None:
                tasks = fulfilment.fulfil_in(conn, session, "ops").tasks
        read = order_store.read_for_ops(conn, order.public_id)
    assert read is not None
    return Moved(read, tasks)
