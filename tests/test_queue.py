"""The queue port (`common.providers.queue`): the local worker, the push route's
authentication (real google-auth against a local stand-in of Google's certificate endpoint),
and Pub/Sub itself: the real SDK publishing to Google's Pub/Sub emulator, which pushes to a
route of ours served on a loopback port.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import flask
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer
from werkzeug.serving import make_server

from common.core import errors
from common.infra import config
from common.providers import queue
from tests import emulators

PROJECT = "auren-emulated"
PUSHER = "pubsub-push@auren-emulated.iam.gserviceaccount.com"
AUDIENCE = "https://auren.test/_queue"


def topic_name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


# --- the local worker ------------------------------------------------------------------------


def test_the_local_worker_delivers_each_message_to_the_topic_handler() -> None:
    broker = queue.LocalBroker()
    topic, seen = topic_name(), list[dict[str, Any]]()
    queue.subscribe(topic, seen.append)
    for n in range(5):
        broker.publish(topic, {"n": n, "text": "ünïcode"})
    assert broker.wait_idle(10)
    assert sorted(m["n"] for m in seen) == [0, 1, 2, 3, 4]
    assert seen[0]["text"] == "ünïcode"


def test_a_failing_handler_is_retried_with_backoff_then_given_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    broker = queue.LocalBroker(attempts=3, backoff_seconds=0.1)
    topic, tries = topic_name(), []

    def flaky(message: dict[str, Any]) -> None:
        tries.append(time.monotonic())
        if message["fail"] > len(tries) - 1:
            raise RuntimeError("not yet")

    queue.subscribe(topic, flaky)
    broker.publish(topic, {"fail": 1})  # fails once, then works
    assert broker.wait_idle(10)
    assert len(tries) == 2 and tries[1] - tries[0] >= 0.1
    tries.clear()
    broker.publish(topic, {"fail": 99})  # never works: three attempts, then logged as lost
    assert broker.wait_idle(10)
    assert len(tries) == 3
    assert tries[2] - tries[1] >= 0.2  # the backoff doubled
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    lost = [e for e in logged if e["message"] == "queue message lost after its last attempt"]
    assert lost and lost[0]["topic"] == topic and lost[0]["severity"] == "ERROR"


def test_a_message_waits_for_its_handler_and_the_queue_is_bounded() -> None:
    broker = queue.LocalBroker(capacity=3)
    topic, seen = topic_name(), list[dict[str, Any]]()
    for n in range(3):
        broker.publish(topic, {"n": n})
    with pytest.raises(queue.QueueUnavailable) as full:
        broker.publish(topic, {"n": 3})
    assert full.value.status == 503 and full.value.headers["Retry-After"]
    assert not broker.wait_idle(0.3)  # nobody consumes the topic yet
    queue.subscribe(topic, seen.append)
    assert broker.wait_idle(10)
    assert sorted(m["n"] for m in seen) == [0, 1, 2]


def test_messages_are_json_objects_of_bounded_size() -> None:
    broker = queue.LocalBroker()
    with pytest.raises(ValueError, match="at most"):
        broker.publish(topic_name(), {"x": "a" * queue.MAX_MESSAGE_BYTES})
    with pytest.raises(TypeError):
        broker.publish(topic_name(), ["not", "an", "object"])  # type: ignore[arg-type]


PRODUCTION = {
    "AUREN_ENV": "production",
    "SITE_URL": "https://auren.test",
    "SESSION_SECRET": "s" * 32,
    "DATABASE_URL": "postgresql://x@127.0.0.1/x",
}


def test_production_uses_pubsub_and_refuses_the_local_worker() -> None:
    assert config.load({"AUREN_ENV": "local"}).queue_backend == "local"
    assert config.load(PRODUCTION).queue_backend == "pubsub"
    with pytest.raises(config.ConfigError, match="QUEUE_BACKEND=pubsub"):
        config.load({**PRODUCTION, "QUEUE_BACKEND": "local"})


# --- push authentication ---------------------------------------------------------------------


def envelope(message: dict[str, Any]) -> bytes:
    data = base64.b64encode(json.dumps(message).encode()).decode()
    return json.dumps(
        {
            "message": {"data": data, "messageId": "123", "attributes": {}},
            "subscription": f"projects/{PROJECT}/subscriptions/s",
        }
    ).encode()


@pytest.fixture(scope="module")
def signer() -> tuple[rsa.RSAPrivateKey, str]:
    """A key and its self-signed certificate in the JSON Google serves at its certs URL."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-google")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, json.dumps({"kid-1": cert.public_bytes(serialization.Encoding.PEM).decode()})


def token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": PUSHER,
        "email_verified": True,
        "iat": now,
        "exp": now + 300,
        "sub": "1234",
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "kid-1"})


@pytest.fixture
def authenticated(
    httpserver: HTTPServer, signer: tuple[rsa.RSAPrivateKey, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[rsa.RSAPrivateKey]:
    key, certs = signer
    httpserver.expect_request("/oauth2/v1/certs").respond_with_data(
        certs, content_type="application/json"
    )
    monkeypatch.setenv("PUBSUB_PUSH_SERVICE_ACCOUNT", PUSHER)
    monkeypatch.setenv("PUBSUB_PUSH_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("PUBSUB_PUSH_CERTS_URL", httpserver.url_for("/oauth2/v1/certs"))
    config.settings.cache_clear()
    yield key
    monkeypatch.undo()
    config.settings.cache_clear()


def test_a_push_signed_by_our_subscription_reaches_the_handler(authenticated) -> None:
    topic, seen = topic_name(), list[dict[str, Any]]()
    queue.subscribe(topic, seen.append)
    queue.receive_push(topic, f"Bearer {token(authenticated)}", envelope({"job": "a"}))
    assert seen == [{"job": "a"}]


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Basic dXNlcjpwYXNz", 401),
        ("Bearer not-a-jwt", 401),
        ("wrong audience", 401),
        ("expired", 401),
        ("signed by someone else", 401),
        ("another account", 403),
        ("unverified email", 403),
        ("another issuer", 403),
    ],
)
def test_a_push_not_from_our_subscription_is_refused(
    authenticated, authorization: str | None, status: int
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {
        "wrong audience": f"Bearer {token(authenticated, aud='https://elsewhere')}",
        "expired": f"Bearer {token(authenticated, iat=1, exp=2)}",
        "signed by someone else": f"Bearer {token(stranger)}",
        "another account": f"Bearer {token(authenticated, email='me@evil.example')}",
        "unverified email": f"Bearer {token(authenticated, email_verified=False)}",
        "another issuer": f"Bearer {token(authenticated, iss='https://evil.example')}",
    }
    topic, seen = topic_name(), list[dict[str, Any]]()
    queue.subscribe(topic, seen.append)
    with pytest.raises(errors.ApiError) as refused:
        queue.receive_push(topic, headers.get(authorization or "", authorization), envelope({}))
    assert refused.value.status == status
    assert seen == []


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b'{"message": {}}', b'{"message": {"data": "%%%"}}', envelope([1, 2])],  # type: ignore[arg-type]
)
def test_a_push_that_is_not_an_envelope_is_a_400(body: bytes) -> None:
    with pytest.raises(errors.BadRequest):
        queue.receive_push(topic_name(), None, body)


def test_production_accepts_no_unauthenticated_push(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config.load(PRODUCTION)
    monkeypatch.setattr(queue, "settings", lambda: cfg)
    topic, seen = topic_name(), list[dict[str, Any]]()
    queue.subscribe(topic, seen.append)
    with pytest.raises(config.ConfigError, match="PUBSUB_PUSH_SERVICE_ACCOUNT"):
        queue.receive_push(topic, None, envelope({}))
    assert seen == []


# --- Pub/Sub: the real SDK against Google's emulator -------------------------------------------


@pytest.fixture(scope="module")
def pubsub_emulator() -> Iterator[str]:
    """Google's Pub/Sub emulator on a free loopback port (the Cloud SDK's, needs Java)."""
    yield from emulators.emulator(
        "Pub/Sub",
        "platform/pubsub-emulator/bin/cloud-pubsub-emulator",
        lambda port: ["--host=127.0.0.1", f"--port={port}"],
    )


@pytest.fixture
def pubsub(pubsub_emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[queue.PubSubBroker]:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("QUEUE_BACKEND", "pubsub")
    config.settings.cache_clear()
    broker = queue.build_broker()
    assert isinstance(broker, queue.PubSubBroker)
    try:
        yield broker
    finally:
        monkeypatch.undo()
        config.settings.cache_clear()


@contextlib.contextmanager
def serve(app: flask.Flask) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join()


def push_subscription(broker: queue.PubSubBroker, topic: str, endpoint: str) -> None:
    """The topic and its push subscription, as `deploy --platform` creates them."""
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

    topic_path = broker.topic_path(topic)
    PublisherClient().create_topic(name=topic_path)
    subscriber = SubscriberClient()
    subscriber.create_subscription(
        name=subscriber.subscription_path(PROJECT, f"{broker.prefix}{topic}-push"),
        topic=topic_path,
        push_config={"push_endpoint": endpoint},
        ack_deadline_seconds=10,
    )


def test_a_published_message_is_pushed_to_our_route_and_redelivered_until_it_works(
    pubsub: queue.PubSubBroker,
) -> None:
    topic, seen, answered = topic_name(), list[dict[str, Any]](), threading.Event()

    def handler(message: dict[str, Any]) -> None:
        seen.append(message)
        if len(seen) == 1:
            raise RuntimeError("the first delivery fails: Pub/Sub must deliver it again")
        answered.set()

    queue.subscribe(topic, handler)
    app = flask.Flask("push")

    @app.post(queue.push_path(topic))
    def push() -> tuple[str, int]:
        try:
            queue.receive_push(
                topic, flask.request.headers.get("Authorization"), flask.request.data
            )
        except RuntimeError:
            return "", 500
        return "", 204

    with serve(app) as port:
        push_subscription(pubsub, topic, f"http://127.0.0.1:{port}{queue.push_path(topic)}")
        pubsub.publish(topic, {"job_id": "job_1", "text": "ünïcode"})
        assert answered.wait(60), f"no successful push within 60 s (seen {len(seen)})"
    assert seen[0] == seen[1] == {"job_id": "job_1", "text": "ünïcode"}


def test_publishing_to_a_missing_topic_is_a_503(pubsub: queue.PubSubBroker) -> None:
    with pytest.raises(queue.QueueUnavailable) as unavailable:
        pubsub.publish(topic_name(), {"x": 1})
    assert unavailable.value.status == 503
