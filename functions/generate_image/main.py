"""The `generate_image` function: artwork from a prompt or an upload, and the design's mockups
(POST /api/generate-image), and saving a design's edited layers (POST /api/designs)."""

import flask
import functions_framework

from common.core import errors
from common.infra import config
from common.studio import designs
from common.studio.designs import DesignIn, DesignOut, GenerateIn
from common.studio.images import MAX_UPLOAD_BYTES
from common.web import sessions
from common.web.http import Call, Router, parse_json, read_body, validate
from common.web.ratelimits import RateLimit

config.require("GCS_BUCKET", "GOOGLE_CLOUD_PROJECT")
router = Router()

JSON_BODY_LIMIT = 64 * 1024
UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 256 * 1024  # the image plus the form's other fields
GENERATIONS_PER_MINUTE = 10
SAVES_PER_MINUTE = 60


def _multipart(request: flask.Request) -> tuple[GenerateIn, bytes | None]:
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
    response=DesignOut,
    max_body=UPLOAD_BODY_LIMIT,
    errors=(400, 413, 415, 422, 502, 504),
    rate_limit=RateLimit("generate_image", GENERATIONS_PER_MINUTE, 60),
)
def generate_artwork(call: Call) -> DesignOut:
    """Make artwork from a prompt (or an uploaded PNG/JPEG/WebP as `image`, multipart) and
    render the design's front and back mockups; updates the caller's design with `design_id`."""
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
    return designs.generate(sessions.ensure(call), body, upload)


@router.route(
    "POST",
    "/api/designs",
    body=DesignIn,
    response=DesignOut,
    errors=(502, 504),
    rate_limit=RateLimit("save_design", SAVES_PER_MINUTE, 60),
)
def save_design(call: Call) -> DesignOut:
    """Create a design from layers, or replace the layers of the caller's design; re-renders
    its mockups."""
    return designs.save_layers(sessions.ensure(call), call.body)


@router.route("GET", "/api/designs/<design_id>", response=DesignOut)
def get_design(call: Call) -> DesignOut:
    """One of the caller's designs (to reopen it in the studio, on any device)."""
    return designs.read(sessions.current(call.request), call.params["design_id"])


@router.route("POST", "/api/designs/<design_id>/share", response=designs.ShareOut)
def share_design(call: Call) -> designs.ShareOut:
    """A read-only link to the caller's design, to send for approval: `{token, url}` (the
    same link every time)."""
    return designs.share(sessions.current(call.request), call.params["design_id"])


@router.route("GET", "/api/designs/shared/<token>", response=designs.SharedDesignOut)
def shared_design(call: Call) -> designs.SharedDesignOut:
    """A shared design, for anyone with its link (no sign-in): product name, colour and
    mockups only."""
    return designs.shared(call.params["token"])


@functions_framework.http
def generate_image(request: flask.Request) -> flask.Response:
    """Entry point of the `generate_image` Cloud Function."""
    return router(request)
