"""The `checkout` function: Stripe Checkout sessions (POST /api/checkout/session)."""

import flask
import functions_framework
from pydantic import BaseModel, Field

from common.api.orders import OrderIdIn, OrderOut, order_out
from common.infra import config
from common.shop import payments
from common.web import sessions
from common.web.http import Call, Router

config.require("STRIPE_SECRET_KEY")
router = Router()


class CheckoutOut(BaseModel):
    url: str = Field(description="where to send the shopper to pay")
    session_id: str


@router.route("POST", "/api/checkout/session", body=OrderIdIn, response=CheckoutOut)
def create_checkout_session(call: Call) -> CheckoutOut:
    """Start paying the signed-in shopper's draft: `{url, session_id}` of a Checkout Session."""
    started = payments.start_checkout(sessions.require_user(call), call.body.order_id)
    return CheckoutOut(url=started.url, session_id=started.session_id)


@router.route("POST", "/api/checkout/reopen", body=OrderIdIn, response=OrderOut)
def reopen_order(call: Call) -> OrderOut:
    """Take an order that waits for payment back to an editable draft (its session ends)."""
    return order_out(payments.reopen(sessions.require_user(call), call.body.order_id))


@functions_framework.http
def checkout(request: flask.Request) -> flask.Response:
    """Entry point of the `checkout` Cloud Function."""
    return router(request)
