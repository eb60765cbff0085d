"""The Postgres state backend's reads that change nothing: several documents in one query
(`get_many`, the per-request session check) and a rate-limit counter read without a hit
(`peek`, for limits counted on failures only). `test_state_firestore.py` runs the same on
Firestore."""

from __future__ import annotations

import uuid

import pytest

from common.infra import state


@pytest.fixture
def store(database_url: str) -> state.PostgresState:
    return state.PostgresState()


def test_get_many_returns_the_live_documents_by_id(store: state.PostgresState) -> None:
    live, expired, missing = (uuid.uuid4().hex for _ in range(3))
    store.put("session_revocations", live, {"n": 1}, ttl_seconds=60)
    store.put("session_revocations", expired, {"n": 2}, ttl_seconds=-1)
    store.put("conversations", missing, {"n": 3})  # same id, another collection
    found = store.get_many("session_revocations", [live, expired, missing, live])
    assert found == {live: {"n": 1}}
    assert store.get_many("session_revocations", []) == {}


def test_peek_reads_a_counter_without_counting(store: state.PostgresState) -> None:
    key = f"test:{uuid.uuid4().hex}"
    assert store.peek(key, 2, 60).allowed
    assert [store.hit(key, 2, 60).allowed for _ in range(2)] == [True, True]
    blocked = store.peek(key, 2, 60)
    assert not blocked.allowed and 1 <= blocked.retry_after <= 60
    assert store.peek(key, 3, 60).allowed  # one more would be the third: allowed
    assert store.hit(key, 3, 60).allowed  # peeking counted nothing
    assert store.peek(key, 2, 0).allowed  # the window has passed
