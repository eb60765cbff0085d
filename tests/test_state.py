"""The Postgres state backend: documents, one-time takes and the rate limiter."""

import threading
import uuid

import flask
import pytest

from common.core import errors
from common.infra import state
from common.web import ratelimits
from common.web.ratelimits import RateLimit


@pytest.fixture
def store(database_url: str) -> state.PostgresState:
    return state.PostgresState()


def test_documents_round_trip_and_expire(store) -> None:
    doc = uuid.uuid4().hex
    store.put("conversations", doc, {"turns": [1, 2]})
    assert store.get("conversations", doc) == {"turns": [1, 2]}
    store.put("conversations", doc, {"turns": [3]}, ttl_seconds=-1)
    assert store.get("conversations", doc) is None


def test_take_returns_a_document_once(store) -> None:
    doc = uuid.uuid4().hex
    store.put("oauth_states", doc, {"return_to": "/summary"}, ttl_seconds=600)
    assert store.take("oauth_states", doc) == {"return_to": "/summary"}
    assert store.take("oauth_states", doc) is None


def test_concurrent_hits_are_counted_exactly(store) -> None:
    key = f"test:{uuid.uuid4().hex}"
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.hit(key, 10, 60).allowed))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 6 + [True] * 10


def test_rate_limit_raises_429_with_retry_after(database_url: str) -> None:
    app = flask.Flask("test")
    address = f"203.0.113.{uuid.uuid4().int % 250}"
    with app.test_request_context(headers={"X-Forwarded-For": f"10.0.0.1, {address}"}):
        for _ in range(3):
            ratelimits.check(RateLimit("login", 3, 60), flask.request)
        with pytest.raises(errors.RateLimited) as raised:
            ratelimits.check(RateLimit("login", 3, 60), flask.request)
    assert raised.value.status == 429
    assert 1 <= int(raised.value.headers["Retry-After"]) <= 60


def test_a_spoofed_forwarded_for_does_not_escape_the_limit(database_url: str) -> None:
    """Only the entry our own proxy appended counts: what the client wrote before it does not."""
    app = flask.Flask("test")
    real = f"198.51.100.{uuid.uuid4().int % 250}"
    refused = 0
    for n in range(5):
        spoofed = {"X-Forwarded-For": f"1.2.3.{n}, {real}"}
        with app.test_request_context(headers=spoofed):
            try:
                ratelimits.check(RateLimit("spoof", 2, 60), flask.request)
            except errors.RateLimited:
                refused += 1
    assert refused == 3


def test_a_direct_call_uses_the_address_its_front_end_appended() -> None:
    app = flask.Flask("test")
    with app.test_request_context(
        headers={"X-Forwarded-For": "192.0.2.7"}, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    ):
        assert ratelimits.client_address(flask.request) == "192.0.2.7"
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.1.1"}):
        assert ratelimits.client_address(flask.request) == "10.1.1.1"
