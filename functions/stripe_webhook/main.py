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

from __future__ import annotations

from typing import TYPE_CHECKING

import flask
import functions_framework

from common.infra import config
from common.web.http import Call, Router, read_body

config.require("STRIPE_WEBHOOK_SECRET", "GOOGLE_CLOUD_PROJECT")
router = Router(check_origin=False)
MAX_EVENT_BYTES = 512 * 1024

# The answer's model loads with the first delivery: the function starts without pydantic.
if TYPE_CHECKING:
    from common.api.webhooks import WebhookOut


def _webhook_out() -> type[WebhookOut]:
    from common.api.webhooks import WebhookOut

    return WebhookOut


# No `body=` model: nothing of an unsigned delivery is read, so any of them gets the same 400.
@router.route(
    "POST",
    "/api/webhooks/stripe",
    response=_webhook_out,
    max_body=MAX_EVENT_BYTES,
    errors=(400,),
)
def receive_stripe_event(call: Call) -> WebhookOut:
    """Apply a Stripe event (signed with `Stripe-Signature`), exactly once; its side effects
    happen after the answer."""
    from common.api.webhooks import WebhookOut  # on the first delivery
    from common.effects import outbox
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
