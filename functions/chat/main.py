"""The `chat` function: the design chat (POST /api/chat).

Its routes are not built yet, so every request gets a JSON 404.
"""

import flask
import functions_framework

from common import config
from common.http import Router

config.require()
router = Router()


@functions_framework.http
def chat(request: flask.Request) -> flask.Response:
    """Entry point of the `chat` Cloud Function."""
    return router(request)
