"""The Firestore state backend against a real Firestore emulator started by these tests.

The emulator is Google's own (`cloud-firestore-emulator`, part of the Cloud SDK on this
project's machines). Operations used: document get and set, and transactions that read then
set or delete one document (rate-limit counters, one-time takes) — all implemented by it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import flask
import pytest

from common.core import errors
from common.infra import config, state
from common.web import ratelimits
from common.web.ratelimits import RateLimit
from tests import emulators

PROJECT = "auren-emulated"


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    yield from emulators.emulator(
        "Firestore",
        "platform/cloud-firestore-emulator/cloud_firestore_emulator",
        lambda port: ["start", "--host=127.0.0.1", f"--port={port}"],
    )


@pytest.fixture
def firestore(emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[state.FirestoreState]:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    config.settings.cache_clear()
    try:
        yield state.FirestoreState()
    finally:
        monkeypatch.undo()
        config.settings.cache_clear()


def test_documents_round_trip_and_expire(firestore: state.FirestoreState) -> None:
    doc = uuid.uuid4().hex
    assert firestore.get("conversations", doc) is None
    firestore.put("conversations", doc, {"messages": [{"role": "user", "content": "hi"}]})
    assert firestore.get("conversations", doc) == {"messages": [{"role": "user", "content": "hi"}]}
    firestore.put("conversations", doc, {"brief": {"product_id": "cap"}}, ttl_seconds=3600)
    assert firestore.get("conversations", doc) == {"brief": {"product_id": "cap"}}
    firestore.put("conversations", doc, {"brief": {}}, ttl_seconds=-1)
    assert firestore.get("conversations", doc) is None


def test_take_returns_a_document_once(firestore: state.FirestoreState) -> None:
    doc = uuid.uuid4().hex
    firestore.put("oauth_states", doc, {"return_to": "/design"}, ttl_seconds=600)
    assert firestore.take("oauth_states", doc) == {"return_to": "/design"}
    assert firestore.take("oauth_states", doc) is None
    assert firestore.get("oauth_states", doc) is None


def test_hits_are_counted_in_a_window(firestore: state.FirestoreState) -> None:
    key = f"test:{uuid.uuid4().hex}"
    results = [firestore.hit(key, 3, 60) for _ in range(5)]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert 1 <= results[-1].retry_after <= 60


def test_get_many_returns_the_live_documents_by_id(firestore: state.FirestoreState) -> None:
    live, expired, missing = (uuid.uuid4().hex for _ in range(3))
    firestore.put("session_revocations", live, {"n": 1}, ttl_seconds=60)
    firestore.put("session_revocations", expired, {"n": 2}, ttl_seconds=-1)
    firestore.put("conversations", missing, {"n": 3})
    found = firestore.get_many("session_revocations", [live, expired, missing, live])
    assert found == {live: {"n": 1}}
    assert firestore.get_many("session_revocations", []) == {}


def test_peek_reads_a_counter_without_counting(firestore: state.FirestoreState) -> None:
    key = f"test:{uuid.uuid4().hex}"
    assert firestore.peek(key, 2, 60).allowed
    assert [firestore.hit(key, 2, 60).allowed for _ in range(2)] == [True, True]
    blocked = firestore.peek(key, 2, 60)
    assert not blocked.allowed and 1 <= blocked.retry_after <= 60
    assert firestore.peek(key, 3, 60).allowed
    assert firestore.hit(key, 3, 60).allowed
    assert firestore.peek(key, 2, 0).allowed


def test_sessions_are_revoked_on_firestore(
    firestore: state.FirestoreState, monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.core.caller import for_user, new_anonymous
    from common.web import sessions

    monkeypatch.setattr(state.backend, "built", firestore)
    user = f"usr_{uuid.uuid4().hex}"
    laptop, phone = (for_user(user, "f@example.com", None, "google") for _ in range(2))
    anonymous = new_anonymous()
    assert not any(sessions.revoked(s) for s in (laptop, phone, anonymous))
    sessions.revoke(anonymous)
    sessions.revoke(laptop)
    assert sessions.revoked(anonymous) and sessions.revoked(laptop)
    assert not sessions.revoked(phone)
    sessions.revoke_everywhere(phone)
    assert sessions.revoked(phone)
    assert not sessions.revoked(for_user(user, "f@example.com", None, "google"))


def test_the_rate_limiter_and_the_chat_run_on_firestore(
    firestore: state.FirestoreState, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from common.core.caller import new_anonymous
    from common.studio import chat

    monkeypatch.setattr(state.backend, "built", firestore)
    app = flask.Flask("test")
    with app.test_request_context(headers={"X-Forwarded-For": f"192.0.2.{uuid.uuid4().int % 250}"}):
        for _ in range(2):
            ratelimits.check(RateLimit("chat", 2, 60), flask.request)
        with pytest.raises(errors.RateLimited):
            ratelimits.check(RateLimit("chat", 2, 60), flask.request)
    session = new_anonymous()
    first = chat.converse(session, chat.ChatIn(message="a navy tee with a bold star"))
    second = chat.converse(
        session, chat.ChatIn(message="bigger", conversation_id=first.conversation_id)
    )
    stored = firestore.get("conversations", first.conversation_id)
    assert stored is not None and stored["owner"] == session.subject
    assert len(stored["messages"]) == 4
    assert second.brief.image is not None and second.brief.image.size == "full"
    stranger = chat.converse(
        new_anonymous(), chat.ChatIn(message="hi", conversation_id=first.conversation_id)
    )
    assert stranger.conversation_id != first.conversation_id
    untouched = firestore.get("conversations", first.conversation_id)
    assert untouched is not None and len(untouched["messages"]) == 4


def test_a_burst_on_one_key_never_errors_and_never_over_admits(
    firestore: state.FirestoreState,
) -> None:
    """Concurrent hits on one key: none raises, and no more than the limit are let through
    (a hit whose transaction stays contended is refused, like any hit over the limit)."""
    key = f"test:{uuid.uuid4().hex}"
    allowed: list[bool] = []
    lock = threading.Lock()

    def hit() -> None:
        result = firestore.hit(key, 2, 60).allowed
        with lock:
            allowed.append(result)

    threads = [threading.Thread(target=hit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 10
    assert allowed.count(True) <= 2
