"""The `auth` function: sign-in through WorkOS (GET /api/auth/...).

Its routes are not built yet, so every request gets a JSON 404.
"""

import flask
import functions_framework

from common import config
from common.http import Router

config.require()
router = Router()


@functions_framework.http
def auth(request: flask.Request) -> flask.Response:
    """Entry point of the `auth` Cloud Function."""
    return router(request)
