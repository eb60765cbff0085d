"""The `contact` function: the contact form (POST /api/contact).

Its routes are not built yet, so every request gets a JSON 404.
"""

import flask
import functions_framework

from common import config
from common.http import Router

config.require()
router = Router()


@functions_framework.http
def contact(request: flask.Request) -> flask.Response:
    """Entry point of the `contact` Cloud Function."""
    return router(request)
