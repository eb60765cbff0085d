"""Image jobs (`common.studio.jobs`) through the `generate_image` function: the 202 and the job
it starts, who may read it, and its lifecycle when the queue delivers it again, late, or after
the instance that ran it died. Real Postgres (designs and the state backend), the local queue.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import flask.testing
import pytest
from PIL import Image

from common.infra import config, db, state
from common.providers import imagegen, queue
from common.studio import jobs
from common.studio.limits import IMAGE_JOBS
from common.studio.prompts import ArtworkRequest
from tests.conftest import function_app
from tests.test_generate_image_api import client, generate, job, wait_for_jobs
from tests.test_queue import pubsub as pubsub
from tests.test_queue import pubsub_emulator, push_subscription, serve  # noqa: F401
from tests.test_state_firestore import emulator as emulator


@pytest.fixture
def shopper(database_url: str) -> flask.testing.FlaskClient:
    return client()


class Held:
    """An image provider that draws only once released: a job stays running meanwhile."""

    name = "held"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def generate(self, request: ArtworkRequest) -> Image.Image:
        self.started.set()
        assert self.release.wait(30)
        return Image.new("RGBA", (200, 200), (20, 200, 90, 255))


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Any:
    artist = Held()
    monkeypatch.setattr(imagegen.provider, "built", artist)
    yield artist
    artist.release.set()
    wait_for_jobs()


def read(client: flask.testing.FlaskClient, job_id: str) -> Any:
    return client.get(f"/api/generate-image/{job_id}")


def designs_named(pool: db.Pool, design_id: str) -> int:
    with pool.connect() as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM designs WHERE public_id = :d",
                {"d": design_id},
            ).scalar_one()
        )


def test_the_post_answers_202_at_once_and_the_job_reports_its_progress(shopper, held) -> None:
    started = time.perf_counter()
    response = generate(shopper, prompt="a bold fox")
    assert response.status_code == 202, response.get_json()
    assert time.perf_counter() - started < 10  # it did not wait for the picture
    body = response.get_json()
    assert body["status"] == "queued" and jobs.JOB_ID.match(body["job_id"])
    assert held.started.wait(10)
    running = read(shopper, body["job_id"]).get_json()
    assert running["status"] == "running" and running["design"] is None
    assert running["elapsed_seconds"] >= 0 and running["error"] is None
    held.release.set()
    wait_for_jobs()
    done = read(shopper, body["job_id"]).get_json()
    assert done["status"] == "done"
    time.sleep(0.2)  # once done, the time it took stays what it was
    assert read(shopper, body["job_id"]).get_json()["elapsed_seconds"] == done["elapsed_seconds"]
    assert done["design_id"].startswith("dsn_") and done["design"]["version"] == 1
    assert done["mockups"]["front"].startswith("/storage/") and done["warnings"] == []
    assert done["artwork_url"] == done["design"]["layers"][0]["url"]


def test_only_the_session_that_started_a_job_reads_it(shopper) -> None:
    started = generate(shopper, prompt="a minimal moon")
    finished = job(shopper, started)
    job_id = finished["job_id"]
    stranger = client()
    for who in (stranger, client()):
        answer = read(who, job_id)
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "job_not_found"
    stranger_cookie = generate(stranger, prompt="mine")  # a session of its own
    assert stranger_cookie.status_code == 202
    assert read(stranger, job_id).status_code == 404
    for guess in ("job_" + "A" * 24, "nope", "job_%00"):
        answer = read(shopper, guess)
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "job_not_found"
    wait_for_jobs()


def test_redelivering_a_done_job_does_nothing(shopper, pool: db.Pool) -> None:
    finished = job(shopper, generate(shopper, prompt="a bold anchor"))
    before = state.backend().get(jobs.COLLECTION, finished["job_id"])
    jobs.run({"job_id": finished["job_id"]})
    jobs.run({"job_id": finished["job_id"]})
    assert state.backend().get(jobs.COLLECTION, finished["job_id"]) == before
    again = shopper.get(f"/api/designs/{finished['design_id']}").get_json()
    assert again["version"] == 1
    assert designs_named(pool, finished["design_id"]) == 1


def _left_running(job_id: str, **changes: Any) -> dict[str, Any]:
    """The job as an instance that died while running it left it."""
    stored = state.backend().get(jobs.COLLECTION, job_id)
    assert stored is not None
    left = {**stored, "status": "running", "attempts": 1, "lease_until": time.time() - 1}
    left.pop("design", None)
    left.update(changes)
    state.backend().put(jobs.COLLECTION, job_id, left, ttl_seconds=600)
    return left


def test_a_job_whose_instance_died_is_taken_over_by_the_next_delivery(
    shopper, held, pool: db.Pool
) -> None:
    response = generate(shopper, prompt="a bold comet")
    job_id = response.get_json()["job_id"]
    assert held.started.wait(10)
    # While its lease runs, another delivery waits (503: the queue delivers it again later).
    with pytest.raises(jobs.JobBusy) as busy:
        jobs.run({"job_id": job_id})
    assert busy.value.status == 503
    held.release.set()
    wait_for_jobs()
    first = state.backend().get(jobs.COLLECTION, job_id)
    assert first is not None and first["status"] == "done"
    design_id = first["design"]["design_id"]

    # The instance died after saving the design but before recording the job done: the next
    # delivery finds the design it made and makes no second one.
    _left_running(job_id)
    jobs.run({"job_id": job_id})
    retried = read(shopper, job_id).get_json()
    assert retried["status"] == "done" and retried["design_id"] == design_id
    assert designs_named(pool, design_id) == 1
    assert retried["design"]["version"] == 1


def test_a_job_that_died_before_its_design_was_saved_is_made_on_redelivery(
    shopper, monkeypatch: pytest.MonkeyPatch, pool: db.Pool
) -> None:
    class Dying:
        name = "dying"

        def generate(self, request: ArtworkRequest) -> Image.Image:
            raise MemoryError("the instance ran out of memory")  # not an ApiError: a crash

    monkeypatch.setattr(imagegen.provider, "built", Dying())
    monkeypatch.setattr(queue.broker(), "attempts", 1)  # the local worker gives up at once
    response = generate(shopper, prompt="a bold kite")
    job_id = response.get_json()["job_id"]
    wait_for_jobs()
    crashed = state.backend().get(jobs.COLLECTION, job_id)
    assert crashed is not None and crashed["status"] == "queued" and crashed["attempts"] == 1
    assert read(shopper, job_id).get_json()["status"] == "queued"
    monkeypatch.undo()
    jobs.run({"job_id": job_id})  # Pub/Sub's redelivery
    done = read(shopper, job_id).get_json()
    assert done["status"] == "done" and designs_named(pool, done["design_id"]) == 1


def test_a_job_is_given_up_after_its_attempts(shopper) -> None:
    finished = job(shopper, generate(shopper, prompt="a bold owl"))
    _left_running(finished["job_id"], attempts=jobs.MAX_ATTEMPTS)
    jobs.run({"job_id": finished["job_id"]})
    failed = read(shopper, finished["job_id"]).get_json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "image_job_gave_up"


@pytest.mark.parametrize("message", [{}, {"job_id": 7}, {"job_id": "job_../../x"}, {"x": 1}])
def test_a_message_that_names_no_job_is_acknowledged_and_does_nothing(
    message: dict[str, Any], database_url: str
) -> None:
    jobs.run(message)  # returns: delivered again, it could never succeed
    jobs.run({"job_id": "job_" + "Z" * 24})  # expired or never made


def envelope(message: Any) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(message).encode()).decode()
    return {"message": {"data": data, "messageId": "1"}, "subscription": "projects/p/s"}


def test_the_push_route_runs_the_job_and_refuses_what_is_not_a_push(shopper) -> None:
    started = generate(shopper, prompt="a retro palm")
    job_id = started.get_json()["job_id"]
    wait_for_jobs()
    pusher = client()  # no session, no origin: Pub/Sub
    path = queue.push_path(IMAGE_JOBS)
    assert pusher.post(path, json=envelope({"job_id": job_id})).status_code == 204
    for bad in (b"", b"{}", b"[1]", json.dumps({"message": {"data": "!!"}}).encode()):
        answer = pusher.post(path, data=bad, content_type="application/json")
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_push"
    too_big = pusher.post(path, data=b"x" * (queue.MAX_PUSH_BYTES + 1))
    assert too_big.status_code == 413
    assert pusher.get(path).status_code == 405


def test_polling_is_rate_limited_per_client(shopper) -> None:
    job_id = job(shopper, generate(shopper, prompt="a bold leaf"))["job_id"]
    statuses = [read(shopper, job_id).status_code for _ in range(121)]
    assert statuses[:119] == [200] * 119  # the helper above read it once already
    assert statuses[119:] == [429, 429]


def test_a_job_is_kept_a_day_and_its_request_is_bounded(
    shopper, monkeypatch: pytest.MonkeyPatch, pool: db.Pool
) -> None:
    job_id = job(shopper, generate(shopper, prompt="a minimal fern"))["job_id"]
    with pool.connect() as conn:
        left = conn.execute(
            "SELECT extract(epoch FROM expires_at - now()) FROM state_documents"
            " WHERE collection = :c AND id = :i",
            {"c": jobs.COLLECTION, "i": job_id},
        ).scalar_one()
    assert jobs.JOB_TTL_SECONDS - 60 < left <= jobs.JOB_TTL_SECONDS
    monkeypatch.setattr(jobs, "MAX_JOB_BYTES", 600)
    big = generate(shopper, prompt="a bold " + "very " * 90 + "long tiger")
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "payload_too_large"


def test_a_full_queue_is_a_503_and_the_job_is_recorded_failed(
    shopper, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(topic: str, message: dict[str, Any]) -> None:
        raise queue.QueueUnavailable("too much work is waiting; try again shortly")

    monkeypatch.setattr(queue.broker(), "publish", refuse)
    backend, written = state.backend(), []
    put = backend.put

    def recording(collection: str, doc_id: str, data: dict[str, Any], **ttl: Any) -> None:
        written.append(data["status"])
        put(collection, doc_id, data, **ttl)

    monkeypatch.setattr(backend, "put", recording)
    response = generate(shopper, prompt="a bold wave")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "queue_unavailable"
    assert response.headers["Retry-After"]
    assert written == ["queued", "failed"]


def test_a_generation_s_errors_are_answered_before_any_job(shopper) -> None:
    for body, status in (
        ({"prompt": "x", "product_id": "spaceship"}, 422),
        ({"prompt": "", "product_id": "hoodie"}, 422),
        ({"prompt": "x", "design_id": "dsn_" + "Q" * 24}, 404),
    ):
        assert generate(shopper, **body).status_code == status
    broker = queue.broker()
    assert isinstance(broker, queue.LocalBroker) and broker.wait_idle(0)


def test_a_failed_job_says_why(shopper, monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing:
        name = "refusing"

        def generate(self, request: ArtworkRequest) -> Image.Image:
            raise imagegen.ImageGenerationFailed("the image service could not make this artwork")

    monkeypatch.setattr(imagegen.provider, "built", Refusing())
    failed = job(shopper, generate(shopper, prompt="a bold dragon"))
    assert failed["status"] == "failed" and failed["design_id"] is None
    assert failed["error"] == {
        "code": "image_generation_failed",
        "message": "the image service could not make this artwork",
    }


def test_a_job_published_to_pub_sub_is_pushed_to_generate_image_and_made(
    shopper, pubsub: queue.PubSubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production path: the real Pub/Sub SDK publishes the job to Google's emulator (one
    of this module's own), whose push subscription posts it to generate_image's push route,
    the function's app served on a loopback port."""
    monkeypatch.setattr(imagegen.provider, "built", imagegen.LocalArtist())
    monkeypatch.setattr(queue.broker, "built", pubsub)
    app = function_app("generate_image")
    pushed: list[int] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        def answered(status: str, headers: Any, *rest: Any) -> Any:
            pushed.append(int(status.split()[0]))
            return start_response(status, headers, *rest)

        return app(environ, answered)

    with serve(counting) as port:  # type: ignore[arg-type]
        endpoint = f"http://127.0.0.1:{port}{queue.push_path(IMAGE_JOBS)}"
        push_subscription(pubsub, IMAGE_JOBS, endpoint)
        started = generate(shopper, prompt="a vintage lighthouse")
        assert started.status_code == 202, started.get_json()
        job_id = started.get_json()["job_id"]
        deadline = time.monotonic() + 60
        while read(shopper, job_id).get_json()["status"] != "done":
            assert time.monotonic() < deadline, f"not done within 60 s (pushes: {pushed})"
            time.sleep(0.2)
    assert pushed == [204]
    design = read(shopper, job_id).get_json()["design"]
    assert design["brief"]["image"]["prompt"] == "a vintage lighthouse"


def test_a_job_keeps_its_shape_in_firestore(
    shopper, emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production's state backend: the job's documents (its request, then its design) are
    written to and read from Google's Firestore emulator as they are to Postgres."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "auren-emulated")
    config.settings.cache_clear()
    monkeypatch.setattr(imagegen.provider, "built", imagegen.LocalArtist())
    monkeypatch.setattr(state.backend, "built", state.FirestoreState())
    brief = {
        "product_id": "hoodie",
        "color": "Black",
        "image": {"prompt": "tiger", "style": "neon", "colors": ["#8e44ad"], "area": "back"},
        "texts": [{"text": "Night Shift", "area": "front", "font": "Aileron Bold"}],
    }
    started = generate(shopper, prompt="tiger", brief=brief)
    finished = job(shopper, started)
    assert finished["status"] == "done", finished
    assert {layer["id"] for layer in finished["design"]["layers"]} == {"art", "text-1"}
    stored = state.backend().get(jobs.COLLECTION, finished["job_id"])
    assert stored is not None and stored["generation"]["request"]["brief"]["texts"]
    monkeypatch.undo()
    config.settings.cache_clear()
