"""The Vertex AI image provider: the real `google-genai` SDK against a local HTTP stub of the
Vertex `generateContent` endpoint (request shape, inline image data, errors and timeouts)."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from google.oauth2.credentials import Credentials
from PIL import Image, ImageDraw
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from common.core import errors
from common.infra import config
from common.infra.config import DEFAULT_IMAGE_MODEL
from common.providers import imagegen
from common.studio.prompts import ArtworkRequest

PROJECT, LOCATION, MODEL = "auren-test", "us-central1", DEFAULT_IMAGE_MODEL
PATH = (
    f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}"
    f"/publishers/google/models/{MODEL}:generateContent"
)


def png(size: tuple[int, int] = (512, 512), background: str = "white") -> bytes:
    image = Image.new("RGB", size, background)
    ImageDraw.Draw(image).ellipse((128, 128, 384, 384), fill=(220, 30, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def answer(data: bytes, mime_type: str = "image/png") -> dict:
    return {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Here is your artwork."},
                        {
                            "inlineData": {
                                "mimeType": mime_type,
                                "data": base64.b64encode(data).decode(),
                            }
                        },
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "modelVersion": MODEL,
    }


@pytest.fixture
def artist(httpserver: HTTPServer) -> imagegen.VertexArtist:
    return imagegen.VertexArtist(
        project=PROJECT,
        location=LOCATION,
        model=MODEL,
        base_url=httpserver.url_for("/"),
        timeout_seconds=2,
        attempts=1,
        credentials=Credentials(token="test-token"),
    )


def test_request_shape_and_inline_image_decoded(artist, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(PATH, method="POST").respond_with_json(answer(png()))
    image = artist.generate(ArtworkRequest("a tiger", "neon", ("#8e44ad",)))
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == "Bearer test-token"
    body = json.loads(request.data)
    assert body["generationConfig"]["responseModalities"] == ["IMAGE"]
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1", "imageSize": "2K"}
    assert body["generationConfig"]["candidateCount"] == 1
    assert body["systemInstruction"]["parts"][0]["text"] == imagegen.INSTRUCTIONS
    [content] = body["contents"]
    assert content["role"] == "user"
    [part] = content["parts"]
    assert part["text"].splitlines()[0] == "Subject: a tiger"
    assert "Ink colors: #8e44ad" in part["text"]
    assert "a tiger" not in body["systemInstruction"]["parts"][0]["text"]
    # The white backdrop the model drew on is made transparent; the artwork stays.
    assert image.mode == "RGBA" and image.size == (512, 512)
    assert image.getpixel((5, 5))[3] == 0
    assert image.getpixel((256, 256)) == (220, 30, 40, 255)


def test_an_uploaded_reference_is_sent_as_inline_png(artist, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(PATH, method="POST").respond_with_json(answer(png()))
    photo = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 200, 10)).save(photo, format="JPEG")
    artist.generate(ArtworkRequest("my dog as a neon sign", "neon", (), photo.getvalue()))
    body = json.loads(httpserver.log[0][0].data)
    parts = body["contents"][0]["parts"]
    assert parts[0]["text"].startswith("Subject: my dog as a neon sign")
    inline = parts[1]["inlineData"]
    # This SDK writes the blob's field in snake case; Vertex's proto3 JSON accepts both spellings.
    assert inline["mime_type"] == "image/png"
    data = inline["data"]  # URL-safe base64, unpadded, as the SDK encodes bytes
    sent = Image.open(io.BytesIO(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))))
    assert sent.format == "PNG" and sent.size == (300, 200)


@pytest.mark.parametrize("status", [400, 429, 500, 503])
def test_service_errors_are_a_clear_502(artist, httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_oneshot_request(PATH).respond_with_json(
        {"error": {"code": status, "message": "nope", "status": "UNAVAILABLE"}}, status=status
    )
    with pytest.raises(errors.UpstreamError) as raised:
        artist.generate(ArtworkRequest("a tiger"))
    assert raised.value.status == 502
    assert raised.value.code == "image_generation_failed"
    # Busy or failing (not a refused request): an image job is tried again later.
    busy = isinstance(raised.value, imagegen.ImageServiceBusy)
    assert busy == (status != 400)


def test_one_attempt_fits_the_image_job() -> None:
    artist = imagegen.VertexArtist(project=PROJECT, location=LOCATION, model=MODEL)
    assert artist.attempts == config.VERTEX_IMAGE.attempts == 1
    assert artist.timeout_seconds == config.VERTEX_IMAGE.timeout_seconds


@pytest.mark.parametrize("status", [429, 500, 503])
def test_with_more_attempts_the_sdk_retries_a_busy_service(
    httpserver: HTTPServer, status: int
) -> None:
    artist = imagegen.VertexArtist(
        project=PROJECT,
        location=LOCATION,
        model=MODEL,
        base_url=httpserver.url_for("/"),
        attempts=2,
        credentials=Credentials(token="test-token"),
    )
    error = {"error": {"code": status, "message": "busy", "status": "RESOURCE_EXHAUSTED"}}
    httpserver.expect_ordered_request(PATH).respond_with_json(error, status=status)
    httpserver.expect_ordered_request(PATH).respond_with_json(answer(png()))
    image = artist.generate(ArtworkRequest("a tiger"))
    assert image.mode == "RGBA" and len(httpserver.log) == 2


def test_a_slow_service_is_a_504(artist, httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(3)
        return Response(json.dumps(answer(png())), content_type="application/json")

    httpserver.expect_oneshot_request(PATH).respond_with_handler(slow)
    with pytest.raises(errors.UpstreamTimeout) as raised:
        artist.generate(ArtworkRequest("a tiger"))
    assert raised.value.status == 504


def test_an_answer_without_an_image_is_a_502(artist, httpserver: HTTPServer) -> None:
    blocked = {"candidates": [], "promptFeedback": {"blockReason": "SAFETY"}}
    httpserver.expect_oneshot_request(PATH).respond_with_json(blocked)
    with pytest.raises(errors.UpstreamError) as raised:
        artist.generate(ArtworkRequest("a tiger"))
    assert raised.value.code == "no_image_returned"


@pytest.mark.parametrize(
    "data",
    [b"<html><script>alert(1)</script></html>", png() + b"<script>alert(1)</script>", b"\x89PNG"],
)
def test_an_unusable_image_is_a_502(artist, httpserver: HTTPServer, data: bytes) -> None:
    httpserver.expect_oneshot_request(PATH).respond_with_json(answer(data))
    with pytest.raises(errors.UpstreamError) as raised:
        artist.generate(ArtworkRequest("a tiger"))
    assert raised.value.code == "bad_image_returned"


def test_an_unreachable_service_is_a_502() -> None:
    artist = imagegen.VertexArtist(
        project=PROJECT,
        location=LOCATION,
        model=MODEL,
        base_url="http://127.0.0.1:9/",
        timeout_seconds=2,
        credentials=Credentials(token="test-token"),
    )
    with pytest.raises(errors.UpstreamError):
        artist.generate(ArtworkRequest("a tiger"))
