"""The `ops` function: ops tasks behind the ops token (/api/sheets/append, /api/ops/outbox/drain).

Its routes are not built yet, so every request gets a JSON 404.
"""

import flask
import functions_framework

from common import config
from common.http import Router

config.require()
router = Router(check_origin=False)


@functions_framework.http
def ops(request: flask.Request) -> flask.Response:
    """Entry point of the `ops` Cloud Function."""
    return router(request)
