"""The `stripe_webhook` function: the signed Stripe webhook (POST /api/webhooks/stripe).

Its routes are not built yet, so every request gets a JSON 404.
"""

import flask
import functions_framework

from common import config
from common.http import Router

config.require()
router = Router(check_origin=False)


@functions_framework.http
def stripe_webhook(request: flask.Request) -> flask.Response:
    """Entry point of the `stripe_webhook` Cloud Function."""
    return router(request)
