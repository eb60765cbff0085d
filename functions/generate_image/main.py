"""The `generate_image` function: artwork from a prompt or an upload, and the design's mockups,
made as an image job (POST /api/generate-image, GET /api/generate-image/<job_id>, and the
queue's push of the job), and saving a design's edited layers (POST /api/designs)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from common.core import errors
from common.infra import config
from common.providers import queue
from common.studio.limits import IMAGE_JOBS, MAX_UPLOAD_BYTES
from common.web import sessions
from common.web.http import Call, Router, parse_json, read_body, validate
from common.web.ratelimits import RateLimit

config.require(
    "GCS_BUCKET", "GOOGLE_CLOUD_PROJECT", "PUBSUB_PUSH_SERVICE_ACCOUNT", "PUBSUB_PUSH_AUDIENCE"
)
router = Router()
# The studio (Pillow, the catalog, the layout, the image model) and the routes' models load on
# their first use: the function starts without pydantic (issue 16).
if TYPE_CHECKING:
    from common.studio.design_models import (
        DesignOut,
        GenerateIn,
        JobOut,
        JobStarted,
        SharedDesignOut,
        ShareOut,
    )


def _models() -> ModuleType:
    from common.studio import design_models

    return design_models


def run_job(message: dict[str, Any]) -> None:
    from common.studio import jobs

    jobs.run(message)


queue.subscribe(IMAGE_JOBS, run_job)

JSON_BODY_LIMIT = 64 * 1024
UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 256 * 1024  # the image plus the form's other fields
GENERATIONS_PER_MINUTE = 10
JOB_READS_PER_MINUTE = 120  # a studio polls about every 2 s; a few tabs at once
SAVES_PER_MINUTE = 60


def _multipart(request: flask.Request) -> tuple[GenerateIn, bytes | None]:
    from common.studio.design_models import GenerateIn

    fields: dict[str, object] = {
        name: request.form[name]
        for name in ("prompt", "product_id", "color", "design_id")
        if request.form.get(name)
    }
    if request.form.get("brief"):
        fields["brief"] = parse_json(request.form["brief"], "brief field")
    body = validate(GenerateIn, fields)
    upload = request.files.get("image")
    if upload is None:
        return body, None
    try:
        return body, upload.read(MAX_UPLOAD_BYTES + 1)  # one byte more: a bigger one is a 413
    finally:
        upload.close()  # its spooled copy (a temporary file, in memory on Cloud Functions)


@router.route(
    "POST",
    "/api/generate-image",
    response=lambda: _models().JobStarted,
    status=202,
    max_body=UPLOAD_BODY_LIMIT,
    errors=(400, 404, 413, 415, 422, 503),
    rate_limit=RateLimit("generate_image", GENERATIONS_PER_MINUTE, 60),
)
def generate_artwork(call: Call) -> JobStarted:
    """Start making artwork from a prompt (or an uploaded PNG/JPEG/WebP as `image`, multipart)
    and the design's front and back mockups; updates the caller's design with `design_id`.
    Answers 202 with the job to poll at GET /api/generate-image/<job_id>."""
    from common.studio.design_models import GenerateIn

    request = call.request
    if request.mimetype == "application/json":
        data = parse_json(read_body(request, JSON_BODY_LIMIT))
        body, upload = validate(GenerateIn, data), None
    elif request.mimetype == "multipart/form-data":
        body, upload = _multipart(request)
    else:
        raise errors.UnsupportedMediaType(
            "send application/json, or multipart/form-data with the image as `image`"
        )
    from common.studio import designs, jobs

    session = sessions.ensure(call)
    return jobs.start(session, designs.accept_generation(session, body, upload))


@router.route(
    "GET",
    "/api/generate-image/<job_id>",
    response=lambda: _models().JobOut,
    rate_limit=RateLimit("image_job", JOB_READS_PER_MINUTE, 60),
)
def image_job(call: Call) -> JobOut:
    """One of the caller's image jobs: `queued`, `running`, `done` (with the design) or
    `failed` (with the error)."""
    from common.studio import jobs

    return jobs.read(sessions.current(call.request), call.params["job_id"])


@router.route("POST", queue.push_path(IMAGE_JOBS), status=204, max_body=queue.MAX_PUSH_BYTES)
def run_image_job(call: Call) -> flask.Response:
    """Pub/Sub's push of an image job (its own OIDC token; not behind Hosting): runs the job.
    2xx acknowledges it; any other answer has Pub/Sub deliver it again."""
    request = call.request
    queue.receive_push(
        IMAGE_JOBS, request.headers.get("Authorization"), read_body(request, queue.MAX_PUSH_BYTES)
    )
    return flask.Response(status=204)


@router.route(
    "POST",
    "/api/designs",
    body=lambda: _models().DesignIn,
    response=lambda: _models().DesignOut,
    errors=(502, 504),
    rate_limit=RateLimit("save_design", SAVES_PER_MINUTE, 60),
)
def save_design(call: Call) -> DesignOut:
    """Create a design from layers, or replace the layers of the caller's design; re-renders
    its mockups."""
    from common.studio import designs

    return designs.save_layers(sessions.ensure(call), call.body)


@router.route("GET", "/api/designs/<design_id>", response=lambda: _models().DesignOut)
def get_design(call: Call) -> DesignOut:
    """One of the caller's designs (to reopen it in the studio, on any device)."""
    from common.studio import designs

    return designs.read(sessions.current(call.request), call.params["design_id"])


@router.route("POST", "/api/designs/<design_id>/share", response=lambda: _models().ShareOut)
def share_design(call: Call) -> ShareOut:
    """A read-only link to the caller's design, to send for approval: `{token, url}` (the
    same link every time)."""
    from common.studio import designs

    return designs.share(sessions.current(call.request), call.params["design_id"])


@router.route("GET", "/api/designs/shared/<token>", response=lambda: _models().SharedDesignOut)
def shared_design(call: Call) -> SharedDesignOut:
    """A shared design, for anyone with its link (no sign-in): product name, colour and
    mockups only."""
    from common.studio import designs

    return designs.shared(call.params["token"])


@functions_framework.http
def generate_image(request: flask.Request) -> flask.Response:
    """Entry point of the `generate_image` Cloud Function."""
    return router(request)
