"""The `checkout` function: Stripe Checkout sessions (POST /api/checkout/session), and
fulfilment from the success page (POST /api/checkout/fulfil), alongside the webhook's."""

import flask
import functions_framework
from pydantic import ConfigDict, Field

from common.api.orders import OrderIdIn, OrderOut, order_out
from common.core.model import Model
from common.infra import config
from common.web import sessions
from common.web.http import Call, Router

config.require("STRIPE_SECRET_KEY", "GOOGLE_CLOUD_PROJECT")
router = Router()


class CheckoutOut(Model):
    url: str = Field(description="where to send the shopper to pay")
    session_id: str


@router.route("POST", "/api/checkout/session", body=OrderIdIn, response=CheckoutOut)
def create_checkout_session(call: Call) -> CheckoutOut:
    """Start paying the signed-in shopper's draft: `{url, session_id}` of a Checkout Session."""
    from common.shop import payments  # payments and Stripe: on the first checkout

    started = payments.start_checkout(sessions.require_user(call), call.body.order_id)
    return CheckoutOut(url=started.url, session_id=started.session_id)


@router.route("POST", "/api/checkout/reopen", body=OrderIdIn, response=OrderOut)
def reopen_order(call: Call) -> OrderOut:
    """Take an order that waits for payment back to an editable draft (its session ends)."""
    from common.shop import payments

    return order_out(payments.reopen(sessions.require_user(call), call.body.order_id))


class SuccessIn(Model):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=64)
    session_id: str = Field(
        min_length=1, max_length=255, description="the `session_id` on Checkout's success URL"
    )


@router.route("POST", "/api/checkout/fulfil", body=SuccessIn, response=OrderOut)
def fulfil_from_success_page(call: Call) -> OrderOut:
    """Back from Checkout: mark the order paid when its session is paid, without waiting for
    the webhook (either way it is paid once); any other session leaves it as it is."""
    from common.effects import outbox
    from common.shop import payments

    settled = payments.settle(sessions.require_user(call), call.body.order_id, call.body.session_id)
    outbox.publish(settled.tasks)
    return order_out(settled.order)


@functions_framework.http
def checkout(request: flask.Request) -> flask.Response:
    """Entry point of the `checkout` Cloud Function."""
    return router(request)
