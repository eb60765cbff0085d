"""The `ops` function: ops tasks behind the ops token (/api/sheets/append, /api/ops/outbox/drain).

Every route needs `Authorization: Bearer <OPS_TOKEN>` (Cloud Scheduler or a person with the
token); there is no cookie or origin involved.
"""

import hmac

import flask
import functions_framework

from common.core import errors
from common.effects import outbox, sheet, tasks
from common.infra import config
from common.web.http import Call, Router

config.require("OPS_TOKEN", "SENDGRID_API_KEY", "SHEET_ID")
router = Router(check_origin=False)


def require_ops_token(call: Call) -> None:
    """A 401 unless the request carries the ops bearer token; a 403 when none is configured."""
    expected = config.settings().ops_token
    if not expected:
        raise errors.Forbidden("ops routes are off: OPS_TOKEN is not set", code="ops_disabled")
    scheme, _, token = call.request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise errors.Unauthorized(
            "send the ops token as a bearer token",
            code="ops_token_required",
            headers={"WWW-Authenticate": 'Bearer realm="auren-ops"'},
        )


@router.route(
    "POST",
    "/api/sheets/append",
    body=sheet.SheetAppendIn,
    response=sheet.SheetAppendOut,
)
def append_order_to_sheet(call: Call) -> sheet.SheetAppendOut:
    """Put a paid order's rows in the ops sheet, unless they are there already."""
    require_ops_token(call)
    return sheet.append_to_sheet(call.body.order_id)


@router.route("POST", "/api/ops/outbox/drain", body=outbox.DrainIn, response=outbox.DrainOut)
def drain_outbox(call: Call) -> outbox.DrainOut:
    """Perform the side effects that are due (sheet rows, emails), retrying with backoff."""
    require_ops_token(call)
    return outbox.drain(tasks.HANDLERS, call.body.limit)


@functions_framework.http
def ops(request: flask.Request) -> flask.Response:
    """Entry point of the `ops` Cloud Function."""
    return router(request)
