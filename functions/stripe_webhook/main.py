"""The `stripe_webhook` function: the signed Stripe webhook (POST /api/webhooks/stripe).

Its answer tells Stripe whether to retry: 2xx once the event is recorded and applied (or was
already), 400 for a delivery that is not signed by Stripe, 5xx (the database is down) to retry.
"""

import flask
import functions_framework

from common import config, fulfilment
from common.http import Call, Router, read_body

config.require("STRIPE_WEBHOOK_SECRET", "SENDGRID_API_KEY", "SHEET_ID")
router = Router(check_origin=False)
MAX_EVENT_BYTES = 512 * 1024


# No `body=` model: nothing of an unsigned delivery is read, so any of them gets the same 400.
@router.route(
    "POST",
    "/api/webhooks/stripe",
    response=fulfilment.WebhookOut,
    max_body=MAX_EVENT_BYTES,
    errors=(400,),
)
def receive_stripe_event(call: Call) -> fulfilment.WebhookOut:
    """Apply a Stripe event (signed with `Stripe-Signature`), exactly once."""
    payload = read_body(call.request, MAX_EVENT_BYTES)
    return fulfilment.handle_event(payload, call.request.headers.get("Stripe-Signature"))


@functions_framework.http
def stripe_webhook(request: flask.Request) -> flask.Response:
    """Entry point of the `stripe_webhook` Cloud Function."""
    return router(request)
