"""The `generate_image` function: artwork generation and uploads (POST /api/generate-image).

Its routes are not built yet, so every request gets a JSON 404.
"""

import flask
import functions_framework

from common import config
from common.http import Router

config.require()
router = Router()


@functions_framework.http
def generate_image(request: flask.Request) -> flask.Response:
    """Entry point of the `generate_image` Cloud Function."""
    return router(request)
