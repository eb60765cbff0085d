"""`POST /api/generate-image` and `POST /api/designs` through the `generate_image` function,
with the local artwork generator and local storage, against real Postgres.

A generation is an image job: the POST checks the request and answers 202 with the job's id;
the local queue's worker makes the design; `made` waits for it and reads the finished job.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import flask.testing
import pytest
from PIL import Image

from common.core import errors
from common.infra import config
from common.providers import imagegen, queue
from common.studio import images
from common.studio.prompts import ArtworkRequest
from tests.conftest import function_app
from tests.test_generate_image_uploads import bomb_png, encoded, photo


def client() -> flask.testing.FlaskClient:
    """A fresh browser from its own address (rate limits are per client)."""
    browser = function_app("generate_image").test_client()
    browser.environ_base["REMOTE_ADDR"] = (
        f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    )
    return browser


@pytest.fixture
def shopper(database_url: str) -> flask.testing.FlaskClient:
    return client()


@pytest.fixture
def other_shopper(database_url: str) -> flask.testing.FlaskClient:
    return client()


def storage_root() -> Path:
    return config.settings().data_dir / "storage"


def stored_path(url: str) -> Path:
    assert url.startswith("/storage/")
    return storage_root() / url.removeprefix("/storage/")


def png_at(url: str) -> Image.Image:
    return Image.open(stored_path(url))


def generate(client, **body):
    body.setdefault("product_id", "hoodie")
    body.setdefault("color", "Black")
    return client.post("/api/generate-image", json=body)


def wait_for_jobs(timeout: float = 60) -> None:
    """Let the local queue's worker finish every job published so far."""
    function_app("generate_image")  # its main.py subscribes the image jobs' handler
    broker = queue.broker()
    assert isinstance(broker, queue.LocalBroker)
    assert broker.wait_idle(timeout), f"the image jobs did not finish within {timeout} s"


def job(client, started) -> dict:
    """The job a POST started (202), once the local worker has run it."""
    assert started.status_code == 202, started.get_json()
    wait_for_jobs()
    answer = client.get(f"/api/generate-image/{started.get_json()['job_id']}")
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "private, no-store"
    return answer.get_json()


def made(client, started) -> dict:
    """The design the job a POST started made."""
    finished = job(client, started)
    assert finished["status"] == "done", finished
    return finished["design"]


def test_a_prompt_becomes_artwork_and_front_and_back_mockups(shopper) -> None:
    response = generate(shopper, prompt="a neon purple tiger")
    assert response.status_code == 202, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    finished = job(shopper, response)
    assert finished["status"] == "done" and finished["error"] is None
    design = finished["design"]
    assert finished["design_id"] == design["design_id"]
    assert finished["artwork_url"] == design["artwork_url"]
    assert finished["mockups"] == design["mockups"] and finished["warnings"] == design["warnings"]
    assert design["design_id"].startswith("dsn_")
    assert design["product_id"] == "hoodie" and design["color"] == "Black"
    assert design["mockup_url"] == design["mockups"]["front"]
    art = png_at(design["artwork_url"])
    assert art.mode == "RGBA" and max(art.size) <= images.ARTWORK_SIZE
    corner = art.getpixel((0, 0))
    assert isinstance(corner, tuple) and corner[3] <= 8  # transparent, trimmed to the drawing
    for side in ("front", "back"):
        mockup = png_at(design["mockups"][side])
        assert mockup.size == (1024, 1024)
    image = design["brief"]["image"]
    assert image["prompt"] == "a neon purple tiger"
    assert image["style"] == "neon"
    assert image["colors"] == ["#8e44ad"]
    [layer] = design["layers"]
    assert layer["type"] == "image" and layer["area"] == "front"
    assert layer["url"] == design["artwork_url"]


def stored_files() -> set[Path]:
    root = storage_root()
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def upload(client, data: bytes, filename: str = "photo.png", **fields: str):
    form = {"product_id": "classic-tee", "color": "White", **fields}
    form["image"] = (io.BytesIO(data), filename, "image/png")  # type: ignore[assignment]
    return client.post("/api/generate-image", data=form, content_type="multipart/form-data")


def test_an_upload_is_re_encoded_and_printed(shopper) -> None:
    design = made(shopper, upload(shopper, encoded(photo((640, 480)), "JPEG"), "holiday.jpg"))
    art = png_at(design["artwork_url"])
    assert art.format == "PNG" and art.size == (640, 480)
    assert design["brief"]["image"]["upload"].startswith("uploads/")
    assert stored_path("/storage/" + design["brief"]["image"]["upload"]).is_file()
    [layer] = design["layers"]
    assert layer["url"] == design["artwork_url"]


@pytest.mark.parametrize(
    ("data", "filename", "status", "code"),
    [
        (b"<!doctype html><script>alert(1)</script>", "cute.png", 415, "unsupported_image_type"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png", 415, None),
        (
            encoded(photo(), "PNG") + b"<script>alert(1)</script>",
            "a.png",
            422,
            "image_trailing_data",
        ),
        (bomb_png(30_000, 30_000), "bomb.png", 422, "image_dimensions"),
        (bomb_png(1, 100_000), "tall.png", 422, "image_dimensions"),
    ],
    ids=["html-as-png", "svg-as-png", "png-with-script", "decompression-bomb", "1x100000"],
)
def test_upload_attacks_are_refused_and_nothing_is_stored(
    shopper, data: bytes, filename: str, status: int, code: str | None
) -> None:
    before = stored_files()
    response = upload(shopper, data, filename)
    assert response.status_code == status
    if code:
        assert response.get_json()["error"]["code"] == code
    assert stored_files() == before


def test_a_50_mb_body_is_413_before_it_is_read(shopper) -> None:
    before = stored_files()
    response = upload(shopper, b"\x89PNG\r\n\x1a\n" + b"\0" * (50 * 1024 * 1024))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert stored_files() == before


def test_deeply_nested_json_is_a_400_in_the_body_and_in_the_brief_field(shopper) -> None:
    nested = "[" * 20_000 + "]" * 20_000
    as_body = shopper.post("/api/generate-image", data=nested, content_type="application/json")
    form = {"prompt": "tiger", "product_id": "hoodie", "color": "Black", "brief": nested}
    as_field = shopper.post("/api/generate-image", data=form, content_type="multipart/form-data")
    for response in (as_body, as_field):
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "invalid_json"


def test_a_json_body_over_its_limit_is_a_413(shopper) -> None:
    body = {"prompt": "tiger " * 20_000, "product_id": "hoodie", "color": "Black"}
    response = shopper.post("/api/generate-image", json=body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_other_content_types_are_415(shopper) -> None:
    response = shopper.post("/api/generate-image", data="prompt=tiger", content_type="text/plain")
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "tiger", "product_id": "spaceship", "color": "Black"}, "product_id"),
        ({"prompt": "tiger", "product_id": "hoodie", "color": "Purple"}, "color"),
        ({"prompt": "", "product_id": "hoodie", "color": "Black"}, "prompt"),
        ({"prompt": "\u200b\u200b", "product_id": "hoodie", "color": "Black"}, "prompt"),
        ({"product_id": "hoodie", "color": "Black", "size": "XL"}, "size"),
    ],
)
def test_bad_requests_are_422_naming_the_field(shopper, body: dict, field: str) -> None:
    response = shopper.post("/api/generate-image", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_a_design_is_updated_in_place_and_only_by_its_owner(shopper, other_shopper) -> None:
    first = made(shopper, generate(shopper, prompt="a bold skull"))
    second = made(shopper, generate(shopper, prompt="a bold rose", design_id=first["design_id"]))
    assert second["design_id"] == first["design_id"]
    assert second["version"] == first["version"] + 1
    assert second["artwork_url"] != first["artwork_url"]
    assert second["mockups"]["front"] != first["mockups"]["front"]
    stolen = generate(other_shopper, prompt="mine now", design_id=first["design_id"])
    assert stolen.status_code == 404
    assert stolen.get_json()["error"]["code"] == "design_not_found"
    guessed = generate(shopper, prompt="x", design_id="dsn_" + "A" * 24)
    assert guessed.status_code == 404


def test_a_brief_from_the_chat_lays_out_image_and_text(shopper) -> None:
    brief = {
        "product_id": "hoodie",
        "color": "Black",
        "image": {"prompt": "tiger", "style": "neon", "area": "back", "size": "large"},
        "texts": [{"text": "Night Shift", "area": "front", "font": "Aileron Bold"}],
    }
    response = shopper.post(
        "/api/generate-image",
        json={"prompt": "tiger", "product_id": "hoodie", "color": "Black", "brief": brief},
    )
    design = made(shopper, response)
    layers = {layer["id"]: layer for layer in design["layers"]}
    assert layers["art"]["area"] == "back"
    assert layers["text-1"]["area"] == "front" and layers["text-1"]["text"] == "Night Shift"
    assert layers["text-1"]["color"] == "#ffffff"  # contrast on a black hoodie
    assert design["brief"]["image"]["style"] == "neon"


@pytest.mark.parametrize(
    "failure",
    [
        errors.UpstreamError("nope", code="image_generation_failed"),
        errors.UpstreamTimeout("slow", code="image_generation_timeout"),
    ],
)
def test_generation_failures_leave_the_previous_design_intact(
    shopper, monkeypatch: pytest.MonkeyPatch, failure: errors.ApiError
) -> None:
    design = made(shopper, generate(shopper, prompt="a retro sun"))

    class Broken:
        name = "broken"

        def generate(self, request: object) -> Image.Image:
            raise failure

    monkeypatch.setattr(imagegen.provider, "built", Broken())
    failed = job(shopper, generate(shopper, prompt="a retro moon", design_id=design["design_id"]))
    assert failed["status"] == "failed" and failed["design"] is None
    assert failed["error"] == {"code": failure.code, "message": failure.message}
    monkeypatch.undo()
    again = made(shopper, generate(shopper, prompt="a retro sun", design_id=design["design_id"]))
    assert again["version"] == design["version"] + 1  # the failed attempt changed nothing
    assert again["artwork_url"] == design["artwork_url"]  # same recipe: artwork reused


def test_generation_is_rate_limited_per_client(shopper) -> None:
    statuses = [
        shopper.post("/api/generate-image", json={"product_id": "x"}).status_code for _ in range(12)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10:] == [429, 429]


def test_a_bare_upload_is_printed_as_is_and_a_prompt_makes_art_from_it(
    shopper, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[ArtworkRequest] = []

    class Recording:
        name = "recording"

        def generate(self, request: ArtworkRequest) -> Image.Image:
            seen.append(request)
            return Image.new("RGBA", (300, 300), (200, 0, 200, 255))

    monkeypatch.setattr(imagegen.provider, "built", Recording())
    bare = made(shopper, upload(shopper, encoded(photo((400, 300)), "PNG")))
    assert seen == []
    assert png_at(bare["artwork_url"]).size == (400, 300)
    assert bare["brief"]["image"]["prompt"] == "your uploaded image"
    styled = made(
        shopper,
        upload(
            shopper,
            encoded(photo((400, 300)), "PNG"),
            prompt="my photo as a neon sign",
            design_id=bare["design_id"],
        ),
    )
    [request] = seen
    assert request.prompt == "my photo as a neon sign" and request.style == "neon"
    assert request.reference is not None
    assert Image.open(io.BytesIO(request.reference)).size == (400, 300)
    assert png_at(styled["artwork_url"]).size == (300, 300)
