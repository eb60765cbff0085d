"""The `checkout` function: Stripe Checkout sessions (POST /api/checkout/session), and
fulfilment from the success page (POST /api/checkout/fulfil), alongside the webhook's."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import flask
import functions_framework

from common.infra import config
from common.web import sessions
from common.web.http import Call, Router

# The models load on the first request that needs them: the function starts without pydantic
# (issue 16).
if TYPE_CHECKING:
    from common.api.checkout import CheckoutOut
    from common.api.orders import OrderOut

config.require("STRIPE_SECRET_KEY", "GOOGLE_CLOUD_PROJECT")
router = Router()


def _checkout_api() -> ModuleType:
    from common.api import checkout

    return checkout


def _orders_api() -> ModuleType:
    from common.api import orders

    return orders


@router.route(
    "POST",
    "/api/checkout/session",
    body=lambda: _orders_api().OrderIdIn,
    response=lambda: _checkout_api().CheckoutOut,
)
def create_checkout_session(call: Call) -> CheckoutOut:
    """Start paying the signed-in shopper's draft: `{url, session_id}` of a Checkout Session."""
    from common.api.checkout import CheckoutOut
    from common.shop import payments  # payments and Stripe: on the first checkout

    started = payments.start_checkout(sessions.require_user(call), call.body.order_id)
    return CheckoutOut(url=started.url, session_id=started.session_id)


@router.route(
    "POST",
    "/api/checkout/reopen",
    body=lambda: _orders_api().OrderIdIn,
    response=lambda: _orders_api().OrderOut,
)
def reopen_order(call: Call) -> OrderOut:
    """Take an order that waits for payment back to an editable draft (its session ends)."""
    from common.api.orders import order_out
    from common.shop import payments

    return order_out(payments.reopen(sessions.require_user(call), call.body.order_id))


@router.route(
    "POST",
    "/api/checkout/fulfil",
    body=lambda: _checkout_api().SuccessIn,
    response=lambda: _orders_api().OrderOut,
)
def fulfil_from_success_page(call: Call) -> OrderOut:
    """Back from Checkout: mark the order paid when its session is paid, without waiting for
    the webhook (either way it is paid once); any other session leaves it as it is."""
    from common.api.orders import order_out
    from common.effects import outbox
    from common.shop import payments

    settled = payments.settle(sessions.require_user(call), call.body.order_id, call.body.session_id)
    outbox.publish(settled.tasks)
    return order_out(settled.order)


@functions_framework.http
def checkout(request: flask.Request) -> flask.Response:
    """Entry point of the `checkout` Cloud Function."""
    return router(request)
