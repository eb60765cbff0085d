"""The pool of `common.infra.db` on the real test database: its bound, its wait, and what it
does with connections that broke, aged or sat idle."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pg8000.dbapi
import pytest

from common.infra import db
from tests.conftest import function_app


@pytest.fixture
def small(database_url: str) -> Iterator[db.Pool]:
    """One connection kept, one more at a peak, a short wait for a free one."""
    pool = db.url_pool(database_url, size=1, overflow=1)
    pool.timeout = 0.3
    yield pool
    pool.dispose()


def backend(conn: db.Connection) -> int:
    pid: int = conn.execute("SELECT pg_backend_pid()").scalar()
    return pid


def terminate(pool: db.Pool, pid: int) -> None:
    """End the server side of a connection, as a restart or failover does."""
    with pool.connect() as conn:
        ended = "SELECT pg_terminate_backend(CAST(:pid AS INT), 5000)"  # waits until it is gone
        assert conn.execute(ended, {"pid": pid}).scalar()


def test_at_most_size_plus_overflow_connections_and_then_a_timeout(small: db.Pool) -> None:
    with small.connect() as first, small.connect() as second:
        assert backend(first) != backend(second)
        assert small.opened() == 2
        started = time.monotonic()
        with pytest.raises(db.PoolTimeout) as raised, small.connect():
            pass
        assert 0.3 <= time.monotonic() - started < 1.0
        assert db.unavailable(raised.value)
    # Back: the one to keep stays open, the overflow one is closed.
    assert small.opened() == 1


def test_a_waiting_caller_gets_the_connection_given_back(small: db.Pool) -> None:
    small.timeout = 5.0
    got: list[int] = []

    def wait_for_one() -> None:
        with small.connect() as conn:
            got.append(backend(conn))

    with small.connect() as first, small.connect() as second:
        pids = {backend(first), backend(second)}
        waiter = threading.Thread(target=wait_for_one)
        waiter.start()
        time.sleep(0.2)
        assert not got  # still waiting: both are out
    waiter.join(5)
    assert len(got) == 1 and got[0] in pids  # one given back, not a new one
    assert small.opened() == 1


def test_an_exhausted_pool_answers_503_with_retry_after(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exhausted = db.url_pool(database_url, size=1, overflow=0)
    exhausted.timeout = 0.2
    client = function_app("orders").test_client()
    try:
        with exhausted.connect(), monkeypatch.context() as patched:
            patched.setattr(db.pool, "built", exhausted)
            response = client.get("/api/orders/ord_" + "x" * 24)
    finally:
        exhausted.dispose()
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5"


def test_a_connection_that_broke_is_discarded_and_the_next_one_is_new(
    small: db.Pool, pool: db.Pool
) -> None:
    with small.connect() as conn:
        pid = backend(conn)
    with pytest.raises(pg8000.dbapi.InterfaceError) as raised, small.connect() as conn:
        terminate(pool, pid)
        conn.execute("SELECT 1")
    assert db.unavailable(raised.value)
    assert conn.broken and small.opened() == 0
    with small.connect() as fresh:
        assert backend(fresh) != pid


def test_a_server_error_keeps_the_connection(small: db.Pool) -> None:
    with small.connect() as conn:
        pid = backend(conn)
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised, small.transaction() as conn:
        conn.execute("SELECT 1 / 0")
    assert db.sqlstate(raised.value) == "22012" and not db.unavailable(raised.value)
    with small.connect() as again:
        assert backend(again) == pid  # rolled back and reused


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced_unseen(
    small: db.Pool, pool: db.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with small.connect() as conn:
        pid = backend(conn)
    terminate(pool, pid)
    monkeypatch.setattr(db, "PING_AFTER_SECONDS", 0.0)
    with small.connect() as conn:  # the ping finds it dead: a new one, no error
        assert backend(conn) != pid


def test_a_connection_used_a_moment_ago_is_not_pinged(small: db.Pool) -> None:
    with small.connect() as conn:
        pid = backend(conn)
        pings = conn.raw.execute_simple  # what a ping calls
    calls: list[str] = []

    def counting(sql: str) -> object:
        calls.append(sql)
        return pings(sql)

    with small.connect() as conn:
        conn.raw.execute_simple = counting  # type: ignore[method-assign]
        assert backend(conn) == pid
    assert calls == []


def test_an_old_connection_is_recycled(small: db.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    with small.connect() as conn:
        pid = backend(conn)
    monkeypatch.setattr(db, "RECYCLE_SECONDS", 0.0)
    with small.connect() as conn:
        assert backend(conn) != pid
    assert small.opened() == 1


def test_dispose_closes_the_idle_connections_and_those_out_when_they_return(
    small: db.Pool,
) -> None:
    with small.connect() as out:
        with small.connect():
            pass
        assert small.opened() == 2
        small.dispose()
        assert small.opened() == 1  # the idle one
        assert out.execute("SELECT 1").scalar() == 1  # the one out works on
    assert small.opened() == 0
    with small.connect() as conn:  # and the pool serves again
        assert conn.execute("SELECT 1").scalar() == 1
