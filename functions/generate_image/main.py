"""The `generate_image` function: artwork from a prompt or an upload, and the design's mockups
(POST /api/generate-image), and saving a design's edited layers (POST /api/designs)."""

import json

import flask
import functions_framework

from common import config, designs, errors, sessions, state
from common.designs import DesignIn, DesignOut, GenerateIn
from common.http import Call, Router, read_body, validate
from common.imagegen import MAX_UPLOAD_BYTES

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
        try:
            fields["brief"] = json.loads(request.form["brief"])
        except ValueError:
            raise errors.BadRequest(
                "the brief field is not valid JSON", code="invalid_json"
            ) from None
    body = validate(GenerateIn, fields)
    upload = request.files.get("image")
    return body, upload.read(MAX_UPLOAD_BYTES + 1) if upload is not None else None


@router.route(
    "POST",
    "/api/generate-image",
    response=DesignOut,
    max_body=UPLOAD_BODY_LIMIT,
    errors=(400, 413, 415, 422, 502, 504),
)
def generate_artwork(call: Call) -> DesignOut:
    """Make artwork from a prompt (or an uploaded PNG/JPEG/WebP as `image`, multipart) and
    render the design's front and back mockups; updates the caller's design with `design_id`."""
    state.rate_limit(
        "generate_image", call.request, limit=GENERATIONS_PER_MINUTE, window_seconds=60
    )
    request = call.request
    if request.mimetype == "application/json":
        try:
            data = json.loads(read_body(request, JSON_BODY_LIMIT) or b"null")
        except ValueError:
            raise errors.BadRequest("the body is not valid JSON", code="invalid_json") from None
        body, upload = validate(GenerateIn, data), None
    elif request.mimetype == "multipart/form-data":
        body, upload = _multipart(request)
    else:
        raise errors.UnsupportedMediaType(
            "send application/json, or multipart/form-data with the image as `image`"
        )
    return designs.generate(sessions.ensure(call), body, upload)


@router.route("POST", "/api/designs", body=DesignIn, response=DesignOut, errors=(502, 504))
def save_design(call: Call) -> DesignOut:
    """Create a design from layers, or replace the layers of the caller's design; re-renders
    its mockups."""
    state.rate_limit("save_design", call.request, limit=SAVES_PER_MINUTE, window_seconds=60)
    return designs.save_layers(sessions.ensure(call), call.body)


@functions_framework.http
def generate_image(request: flask.Request) -> flask.Response:
    """Entry point of the `generate_image` Cloud Function."""
    return router(request)
