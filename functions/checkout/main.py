"""The `checkout` function: Stripe Checkout sessions (POST /api/checkout/session)."""

import flask
import functions_framework

from common import config, payments, sessions
from common import orders as order_domain
from common.http import Call, Router

config.require("STRIPE_SECRET_KEY")
router = Router()


@router.route(
    "POST", "/api/checkout/session", body=payments.CheckoutIn, response=payments.CheckoutOut
)
def create_checkout_session(call: Call) -> payments.CheckoutOut:
    """Start paying the signed-in shopper's draft: `{url, session_id}` of a Checkout Session."""
    return payments.start_checkout(sessions.require_user(call), call.body.order_id)


@router.route(
    "POST", "/api/checkout/reopen", body=payments.CheckoutIn, response=order_domain.OrderOut
)
def reopen_order(call: Call) -> order_domain.OrderOut:
    """Take an order that waits for payment back to an editable draft (its session ends)."""
    return payments.reopen(sessions.require_user(call), call.body.order_id)


@functions_framework.http
def checkout(request: flask.Request) -> flask.Response:
    """Entry point of the `checkout` Cloud Function."""
    return router(request)
