"""How `common.infra.db` talks to the server to save round trips and parsing (issue 16), on the
real test database: statements are prepared once per connection (what the server holds, and
that a statement keeps working after it failed, after the table under it changed shape, and
past the bound on how many a connection keeps); a transaction's BEGIN goes with its first
statement, and a transaction is still one."""

from __future__ import annotations

from collections.abc import Iterator

import pg8000.dbapi
import pytest

from common.infra import db

HELD = "SELECT statement FROM pg_prepared_statements WHERE name LIKE 's%' ORDER BY name"


@pytest.fixture
def pool(database_url: str) -> Iterator[db.Pool]:
    pool = db.url_pool(database_url, size=2)
    yield pool
    pool.dispose()


@pytest.fixture
def conn(pool: db.Pool) -> Iterator[db.Connection]:
    with pool.connect() as connection:
        yield connection


def held(conn: db.Connection) -> list[str]:
    """The statements the server holds prepared for this connection (this one included)."""
    return [row.statement for row in conn.execute(HELD)]


def test_a_statement_is_parsed_once_and_its_rows_read_each_time(conn: db.Connection) -> None:
    sql = "SELECT CAST(:n AS INT) + 1 AS next, 'x' || :s AS text"
    for n in range(7):  # past the runs after which Postgres plans it once for all
        row = conn.execute(sql, {"n": n, "s": str(n)}).one()
        assert (row.next, row.text) == (n + 1, f"x{n}")
    statements = held(conn)
    assert sum("+ 1 AS next" in s for s in statements) == 1, statements


def test_a_statement_that_failed_runs_again(conn: db.Connection) -> None:
    sql = "SELECT 10 / CAST(:d AS INT) AS q"
    assert conn.execute(sql, {"d": 2}).scalar() == 5
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        conn.execute(sql, {"d": 0})
    assert db.sqlstate(raised.value) == "22012"  # division by zero
    assert conn.execute(sql, {"d": 5}).scalar() == 2
    with pytest.raises(pg8000.dbapi.DatabaseError):
        conn.execute("SELEC 1")  # never parsed: its name is free again
    assert conn.execute("SELECT 3 AS three").scalar() == 3
    assert conn.execute(sql, {"d": 10}).scalar() == 1


def test_a_table_that_changed_shape_is_read_anew(conn: db.Connection) -> None:
    conn.simple("CREATE TEMPORARY TABLE shape (a INT)")
    conn.simple("INSERT INTO shape VALUES (1)")
    sql = "SELECT * FROM shape"
    assert conn.execute(sql).one() == (1,)
    conn.simple("ALTER TABLE shape ADD COLUMN b TEXT DEFAULT 'b'")
    # The server refuses the old plan once (its rows changed type); the next run parses anew.
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        conn.execute(sql)
    assert db.sqlstate(raised.value) == "0A000"
    row = conn.execute(sql).one()
    assert (row.a, row.b) == (1, "b")


def test_a_connection_keeps_at_most_the_bound_and_reuses_names(
    conn: db.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PREPARED_STATEMENTS", 3)
    for round_ in range(2):
        for n in range(6):
            assert conn.execute(f"SELECT {n} AS n, CAST(:r AS INT) AS r", {"r": round_}).one() == (
                n,
                round_,
            )
    # Twelve statements were run, but the server holds only the three run last and the query
    # that lists them, parsed under the name the oldest of those four gave up.
    statements = held(conn)
    assert sorted(statements) == sorted(
        [HELD, *(f"SELECT {n} AS n, CAST($1 AS INT) AS r" for n in (3, 4, 5))]
    )


@pytest.fixture
def table(pool: db.Pool) -> Iterator[str]:
    with pool.connect() as conn:
        conn.simple("CREATE TABLE IF NOT EXISTS protocol_rows (n INT)")
        conn.simple("TRUNCATE protocol_rows")
    yield "protocol_rows"
    with pool.connect() as conn:
        conn.simple("DROP TABLE protocol_rows")


def count(pool: db.Pool) -> int:
    with pool.connect() as other:
        n: int = other.execute("SELECT count(*) FROM protocol_rows").scalar()
        return n


def test_a_transaction_is_one_though_begin_goes_with_its_first_statement(
    pool: db.Pool, table: str
) -> None:
    with pool.transaction() as conn:
        conn.execute("INSERT INTO protocol_rows VALUES (1)")
        assert conn.execute("SELECT txid_current_if_assigned() IS NOT NULL").scalar()
        assert count(pool) == 0  # not committed yet: another connection does not see it
        conn.execute("INSERT INTO protocol_rows VALUES (2)")
    assert count(pool) == 2
    with pytest.raises(RuntimeError), pool.transaction() as conn:
        conn.execute("INSERT INTO protocol_rows VALUES (3)")
        raise RuntimeError("undone")
    assert count(pool) == 2


def test_a_transaction_whose_first_statement_fails_leaves_nothing_and_the_connection_usable(
    pool: db.Pool, table: str
) -> None:
    with pytest.raises(pg8000.dbapi.DatabaseError), pool.transaction() as conn:
        conn.execute("INSERT INTO protocol_rows VALUES (CAST(:n AS INT))", {"n": "x"})
    with pool.transaction() as conn:
        conn.execute("INSERT INTO protocol_rows VALUES (4)")
        with pytest.raises(pg8000.dbapi.DatabaseError), conn.savepoint():
            conn.execute("INSERT INTO protocol_rows VALUES (1 / 0)")
    assert count(pool) == 1


def test_a_transaction_that_starts_with_a_savepoint_or_runs_nothing(
    pool: db.Pool, table: str
) -> None:
    with pool.transaction() as conn:
        with conn.savepoint():  # BEGIN goes with the SAVEPOINT
            conn.execute("INSERT INTO protocol_rows VALUES (5)")
        assert count(pool) == 0
    assert count(pool) == 1
    with pool.transaction() as conn:
        pass  # nothing to begin or commit
    assert conn.execute("SELECT txid_current_if_assigned()").scalar() is None
    with pool.transaction() as conn:
        conn.execute("INSERT INTO protocol_rows VALUES (6)")
    assert count(pool) == 2


@pytest.mark.parametrize(
    "value",
    [
        "TIMESTAMPTZ '2026-12-01 15:29:05.11102+00'",
        "TIMESTAMPTZ '2026-12-01 15:29:05+05:30'",
        "TIMESTAMPTZ '2026-06-30 23:59:59.999999-08'",
        "TIMESTAMP '2026-12-01 15:29:05.5'",
        "TIMESTAMP '2026-12-01 15:29:05'",
        "TIMESTAMPTZ 'infinity'",
        "TIMESTAMP '-infinity'",
        "TIMESTAMPTZ '0044-03-15 10:00:00+00 BC'",
    ],
)
def test_timestamps_read_as_pg8000_reads_them(conn: db.Connection, value: str) -> None:
    from pg8000 import converters

    text = conn.execute(f"SELECT CAST({value} AS TEXT)").scalar()
    reader = (
        converters.timestamptz_in if value.startswith("TIMESTAMPTZ") else converters.timestamp_in
    )
    assert conn.execute(f"SELECT {value}").scalar() == reader(text)
