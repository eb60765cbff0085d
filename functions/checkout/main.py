"""The `checkout` function: Stripe Checkout sessions (POST /api/checkout/session).

Its routes are not built yet, so every request gets a JSON 404.
"""

import flask
import functions_framework

from common import config
from common.http import Router

config.require()
router = Router()


@functions_framework.http
def checkout(request: flask.Request) -> flask.Response:
    """Entry point of the `checkout` Cloud Function."""
    return router(request)
