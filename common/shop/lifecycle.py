"""The order lifecycle: its statuses and the one table of moves between them.

Only `draft` orders are editable. Every status change is checked against `TRANSITIONS` by the
order store (`common.shop.order_store.transition`); an illegal move raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from common.core import errors

ORDER_ID = re.compile(r"^ord_[A-Za-z0-9_-]{20,40}$")
# What one order may hold.
MAX_ITEMS = 20
MAX_PER_SIZE = 10_000
MAX_ORDER_PIECES = 25_000
# What one group order may hold (`common.shop.groups`).
MAX_MEMBERS = 500  # entries in one group
MAX_QUANTITY = 10  # pieces in one entry


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.PENDING_PAYMENT, Status.CANCELLED}),
    Status.PENDING_PAYMENT: frozenset({Status.PAID, Status.DRAFT}),
    Status.PAID: frozenset({Status.IN_PRODUCTION, Status.REFUNDED}),
    Status.IN_PRODUCTION: frozenset({Status.SHIPPED, Status.REFUNDED}),
    Status.SHIPPED: frozenset({Status.DELIVERED, Status.REFUNDED}),
    Status.DELIVERED: frozenset({Status.REFUNDED}),
    Status.REFUNDED: frozenset(),
    Status.CANCELLED: frozenset(),
}
# Paid for: what a charge was taken for, whatever happened since.
PAID_STATES = (
    Status.PAID,
    Status.IN_PRODUCTION,
    Status.SHIPPED,
    Status.DELIVERED,
    Status.REFUNDED,
)
# The moves ops make by hand (`POST /api/ops/orders/<id>/status`); Stripe makes the others.
OPS_MOVES = (Status.IN_PRODUCTION, Status.SHIPPED, Status.DELIVERED)


class OrderNotFound(errors.NotFound):
    code = "order_not_found"

    def __init__(self, message: str = "there is no such order") -> None:
        super().__init__(message)


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
