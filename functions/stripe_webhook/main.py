"""The `stripe_webhook` function: the signed Stripe webhook (POST /api/webhooks/stripe).

Its answer tells Stripe whether to retry: 2xx once the event is recorded and applied (or was
already), in one transaction with the side effects it enqueues (sheet row, emails, print
files), which it then hands to the queue for the `ops` function to perform; 2xx `malformed`
for a signed event whose object has fields of unexpected types (recorded, logged at ERROR,
not applied: a retry would carry the same bytes); 400 for a
delivery that is not signed by Stripe within 300 s either way of now (`invalid_signature`) or
whose signed body is not an event (`malformed_event`); 5xx (the database is down) to retry.
Input alone never makes it answer 5xx.
"""

import flask
import functions_framework
from pydantic import Field

from common.core.model import Model
from common.infra import config
from common.web.http import Call, Router, read_body

config.require("STRIPE_WEBHOOK_SECRET", "GOOGLE_CLOUD_PROJECT")
router = Router(check_origin=False)
MAX_EVENT_BYTES = 512 * 1024


class WebhookOut(Model):
    received: bool
    duplicate: bool = Field(description="the event was already handled; nothing was done")
    outcome: str = Field(
        description="what the event did, e.g. paid, already_paid, ignored, malformed"
    )


# No `body=` model: nothing of an unsigned delivery is read, so any of them gets the same 400.
@router.route(
    "POST",
    "/api/webhooks/stripe",
    response=WebhookOut,
    max_body=MAX_EVENT_BYTES,
    errors=(400,),
)
def receive_stripe_event(call: Call) -> WebhookOut:
    """Apply a Stripe event (signed with `Stripe-Signature`), exactly once; its side effects
    happen after the answer."""
    from common.effects import outbox  # on the first delivery
    from common.shop import fulfilment

    payload = read_body(call.request, MAX_EVENT_BYTES)
    outcome = fulfilment.handle_event(payload, call.request.headers.get("Stripe-Signature"))
    outbox.publish(outcome.tasks)
    return WebhookOut(
        received=True, duplicate=outcome.result == "duplicate", outcome=outcome.result
    )


@functions_framework.http
def stripe_webhook(request: flask.Request) -> flask.Response:
    """Entry point of the `stripe_webhook` Cloud Function."""
    return router(request)
