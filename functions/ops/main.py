"""The `ops` function: ops tasks behind the ops token (the sheet, the outbox drain, moving and
unflagging orders), and the consumer of the outbox's queue topic: Pub/Sub pushes the ids of
freshly committed outbox tasks to `queue.push_path(outbox.TOPIC)` (with its own OIDC token),
locally the in-process worker hands them to the same handler (`tasks.perform`).

Every route needs `Authorization: Bearer <OPS_TOKEN>` (Cloud Scheduler or a person with the
token); there is no cookie or origin involved. A client that sent a wrong token
`OPS_FAILURES.limit` times in `OPS_FAILURES.window_seconds` gets a 429 (with `Retry-After`)
for any token until the window ends; only failures count, so the right token never uses up
the limit.
"""

from __future__ import annotations

import dataclasses
import hmac
from types import ModuleType
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from common.core import errors
from common.effects import outbox
from common.infra import config
from common.providers import queue
from common.web import ratelimits
from common.web.http import Call, Router, read_body
from common.web.ratelimits import RateLimit

config.require(
    "OPS_TOKEN", "SENDGRID_API_KEY", "SHEET_ID", "STRIPE_SECRET_KEY", "GOOGLE_CLOUD_PROJECT"
)
router = Router(check_origin=False)

# The ops and order models load on the first ops request: the function starts without pydantic
# (issue 16).
if TYPE_CHECKING:
    from common.api.ops import DrainOut, SheetAppendOut
    from common.api.orders import OrderOut


def _ops_api() -> ModuleType:
    from common.api import ops

    return ops


def _orders_api() -> ModuleType:
    from common.api import orders

    return orders


OPS_FAILURES = RateLimit("ops_token_failures", 10, 600)  # failed attempts, per client


def perform_outbox_tasks_message(message: dict[str, Any]) -> None:
    """The handler of the outbox topic: `tasks.perform`, whose effects load on first use."""
    from common.effects import tasks

    tasks.perform(message)


queue.subscribe(outbox.TOPIC, perform_outbox_tasks_message)


def has_ops_token(call: Call) -> bool:
    """Whether the request carries the ops bearer token (compared in constant time).

    A request that sends an `Authorization` header is an attempt: a client over its failed
    attempts gets a 429 before its token is compared, and a wrong token counts one failure.
    """
    expected = config.settings().ops_token
    sent = call.request.headers.get("Authorization")
    if not expected or sent is None:
        return False
    ratelimits.refuse_when_spent(OPS_FAILURES, call.request)
    scheme, _, token = sent.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        return True
    ratelimits.check(OPS_FAILURES, call.request)
    return False


def require_ops_token(call: Call) -> None:
    """A 401 unless the request carries the ops bearer token; a 403 when none is configured."""
    expected = config.settings().ops_token
    if not expected:
        raise errors.Forbidden("ops routes are off: OPS_TOKEN is not set", code="ops_disabled")
    if not has_ops_token(call):
        raise errors.Unauthorized(
            "send the ops token as a bearer token",
            code="ops_token_required",
            headers={"WWW-Authenticate": 'Bearer realm="auren-ops"'},
        )


@router.route(
    "POST",
    "/api/sheets/append",
    body=lambda: _ops_api().SheetAppendIn,
    response=lambda: _ops_api().SheetAppendOut,
)
def append_order_to_sheet(call: Call) -> SheetAppendOut:
    """Put a paid order's rows in the ops sheet, unless they are there already."""
    require_ops_token(call)
    from common.api.ops import SheetAppendOut
    from common.effects import sheet  # the sheet and the paid order's store: on first use

    appended = sheet.append_to_sheet(call.body.order_id)
    return SheetAppendOut(
        order_id=appended.order_id, appended=appended.appended, rows=appended.rows
    )


@router.route(
    "POST",
    "/api/ops/outbox/drain",
    body=lambda: _ops_api().DrainIn,
    response=lambda: _ops_api().DrainOut,
)
def drain_outbox(call: Call) -> DrainOut:
    """Perform the side effects that are due (sheet rows, emails), retrying with backoff."""
    require_ops_token(call)
    from common.api.ops import DrainOut
    from common.effects import tasks  # every handler, print files included: on first drain

    return DrainOut(**dataclasses.asdict(outbox.drain(tasks.HANDLERS, call.body.limit)))


@router.route(
    "POST",
    queue.push_path(outbox.TOPIC),
    status=204,
    max_body=queue.MAX_PUSH_BYTES,
    errors=(400, 401, 403, 503),
)
def perform_outbox_tasks(call: Call) -> flask.Response:
    """Pub/Sub's push of committed outbox tasks (not behind Hosting; its OIDC token, not the
    ops token): performs those not done yet. 2xx acknowledges it; a 503 when one failed has
    Pub/Sub deliver it again, and the drain retries it too."""
    request = call.request
    queue.receive_push(
        outbox.TOPIC,
        request.headers.get("Authorization"),
        read_body(request, queue.MAX_PUSH_BYTES),
    )
    return flask.Response(status=204)


@router.route(
    "POST",
    "/api/ops/orders/<order_id>/status",
    body=lambda: _ops_api().StatusIn,
    response=lambda: _orders_api().OrderOut,
    errors=(404, 409),
)
def move_order(call: Call) -> OrderOut:
    """Move a paid order into production, ship it (with its tracking number), or mark it
    delivered; shipping emails the shopper once."""
    require_ops_token(call)
    from common.api.orders import order_out
    from common.shop import shipping
    from common.shop.lifecycle import Status

    body = call.body
    moved = shipping.move(
        call.params["order_id"],
        Status(body.status),
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        tracking_url=body.tracking_url,
    )
    outbox.publish(moved.tasks)
    return order_out(moved.order)


@router.route(
    "POST",
    "/api/ops/orders/<order_id>/clear-flag",
    body=lambda: _ops_api().ClearFlagIn,
    response=lambda: _orders_api().OrderOut,
    errors=(404, 409),
)
def clear_order_flag(call: Call) -> OrderOut:
    """Clear a flag after looking at the order (the reason is kept in its history); a payment
    that came while it was flagged is then settled."""
    require_ops_token(call)
    from common.api.orders import order_out
    from common.shop import shipping

    cleared = shipping.clear_flag(call.params["order_id"], call.body.reason)
    outbox.publish(cleared.tasks)
    return order_out(cleared.order)


@router.route("GET", "/api/ops/print-files/<name>", errors=(403, 404))
def print_file(call: Call) -> flask.Response:
    """A paid order's 300 DPI print file (PNG): with the ops token, or a signed link."""
    from common.effects import print_links, production

    name = call.params["name"]
    query = call.request.args
    if not (
        has_ops_token(call)
        or print_links.signed(name, query.get("expires"), query.get("signature"))
    ):
        raise errors.Forbidden("this link is not valid (or expired)", code="invalid_link")
    data = production.read(name)
    if data is None:
        raise errors.NotFound("there is no such print file")
    response = flask.Response(data, mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@functions_framework.http
def ops(request: flask.Request) -> flask.Response:
    """Entry point of the `ops` Cloud Function."""
    return router(request)
