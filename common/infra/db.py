"""The database: a small pool of pg8000 connections, built lazily once per instance, and
migrations.

Where the database is, in order: `DATABASE_URL` when set; Cloud SQL through the connector when
`INSTANCE_CONNECTION_NAME` is set; else (local mode only) an embedded Postgres (`pgserver`)
under `.data/pg`.

The shop writes SQL as plain strings with `:name` parameters and runs it through
`transaction()` (writes) or `connect()` (reads). pg8000 is imported on the first statement,
not when a module that holds statements is imported: a function's cold start ends with its
first answer, and an ORM or query builder would be most of it.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import math
import os
import re
import stat
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from common.core.lazy import Lazy
from common.infra.config import ConfigError, Settings, settings

if TYPE_CHECKING:
    import pg8000.dbapi

# Deadlines (issue 14). A database that accepts connections and never answers must not hold
# requests: with these, every request answers within REQUEST_BUDGET, with a 503 and Retry-After
# (`common.web.http` maps the errors they raise), and the pool stays usable. The slowest ways
# to a connection on a hung database: a pooled connection, whose pre-ping waits SOCKET_TIMEOUT
# and which the pool then replaces by a new one, waiting SOCKET_TIMEOUT again (2 + 2 s); and a
# request that waits POOL_TIMEOUT for a free connection and then connects (2 + 2 s). Once the
# database answers again, the pre-ping and the discarding of broken connections (every socket
# failure is a network error, see `_guarded`) bring the pool back by itself.
# tests/test_db_faults.py measures all of it through a proxy that hangs and drops connections.
REQUEST_BUDGET = 5.0  # s
SOCKET_TIMEOUT = 2.0  # s: each socket operation of pg8000: TCP connect, start-up, every read
POOL_TIMEOUT = 2.0  # s: a wait for a free connection of the pool
# On the server, so a slow statement ends with an error of its own (57014) on a connection that
# stays usable, before the client's SOCKET_TIMEOUT gives up on the connection; the shop's
# statements take milliseconds. A lock wait ends before its statement does (55P03).
STATEMENT_TIMEOUT_MS = 1500
LOCK_TIMEOUT_MS = 1000
# A transaction stays open while an outbox task calls its vendor or renders print files (the
# task's row stays locked), so this is the longest function timeout (the ops drain's 300 s in
# devtools/deploy_config.py): it only ends the transaction of an instance that went away, and
# frees its locks.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 300_000
# Set on every connection by its start-up packet (local, embedded and Cloud SQL alike): no
# round trip of its own, and no connection is ever used without them.
SESSION_SETTINGS = {
    "statement_timeout": str(STATEMENT_TIMEOUT_MS),
    "lock_timeout": str(LOCK_TIMEOUT_MS),
    "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_TIMEOUT_MS),
}
# SQLSTATEs that mean "the database cannot serve this now, try again shortly" (a 503): the
# deadlines above, and a server that is shutting down, starting or full.
UNAVAILABLE_SQLSTATES = frozenset(
    {
        "57014",  # query_canceled: statement_timeout
        "55P03",  # lock_not_available: lock_timeout
        "25P03",  # idle_in_transaction_session_timeout
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now
        "53300",  # too_many_connections
    }
)
# A connection is closed and replaced once this old, so none outlives a server-side or
# network limit on connection age.
RECYCLE_SECONDS = 1800.0
# A connection idle longer than this is checked with an empty query (one round trip, no
# statement for the server to run) before it is handed out. One used less than a second ago
# is handed out as it is: the server closes nothing that young of itself (no
# idle_session_timeout is set, and Cloud SQL's and the network's idle limits are minutes), so
# only a restart or failover breaks one, and that fails the transactions running at that
# moment just the same. Should it happen, its first statement fails with a network error: a
# 503 with Retry-After, the connection and the pool's other idle ones are discarded, and the
# next request connects anew. Every request thus skips a round trip on a busy instance.
PING_AFTER_SECONDS = 1.0


def max_connections(cfg: Settings) -> int:
    """The most connections the instance's pool holds: DB_POOL_SIZE + DB_MAX_OVERFLOW."""
    return cfg.db_pool_size + cfg.db_max_overflow


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a server error, e.g. 23505 for a unique violation (pg8000 keeps the
    error's fields in `args[0]`)."""
    args = getattr(exc, "args", ())
    fields = args[0] if args else None
    return fields.get("C") if isinstance(fields, dict) else None


class PoolTimeout(Exception):
    """No connection of the pool came free within POOL_TIMEOUT (a 503)."""


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database is away or past a deadline: answer 503, retry soon.

    pg8000 raises `InterfaceError` for what happens to the connection (the network, a closed
    connection) and `DatabaseError` with the server's fields for what the server answers.
    """
    if isinstance(exc, PoolTimeout):
        return True
    dbapi = sys.modules.get("pg8000.dbapi")
    if dbapi is None:  # no part of pg8000 is loaded (any part loads dbapi): no error is its
        return False
    if isinstance(exc, dbapi.InterfaceError):
        return True
    return isinstance(exc, dbapi.DatabaseError) and sqlstate(exc) in UNAVAILABLE_SQLSTATES


def _network_error(exc: OSError) -> Exception:
    from pg8000.dbapi import InterfaceError

    return InterfaceError(f"network error: {type(exc).__name__}: {exc}")


@contextmanager
def _guarded() -> Iterator[None]:
    """Every socket failure raised as pg8000's `InterfaceError`.

    pg8000 lets the first read of each message raise the socket's own error (`TimeoutError`
    once SOCKET_TIMEOUT passes, `ConnectionResetError` on a reset) rather than its
    `InterfaceError("network error")`; unwrapped, the router would answer 500 instead of 503
    and the broken connection would go back to the pool.
    """
    try:
        yield
    except OSError as exc:
        raise _network_error(exc) from exc


CONVERTED_STATEMENTS = 512  # distinct SQL texts whose pg8000 form an instance keeps


@functools.lru_cache(maxsize=CONVERTED_STATEMENTS)
def _converted(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with `$n` in place of its `:name` parameters, and the names in `$n` order.

    pg8000 scans a statement character by character to convert it (a fifth of a warm order
    read's time); the result depends on the text alone, so it is kept per text (the shop's
    statements are a few dozen fixed texts; the cache is bounded anyway).
    """
    from pg8000.native import to_statement

    statement, make_vals = to_statement(sql)
    names: tuple[str, ...] = make_vals(_Names())
    return statement, names


class _Names(dict[str, str]):
    """Arguments whose every value is its own name: what `to_statement` makes of them is the
    order of the names."""

    def __missing__(self, key: str) -> str:
        return key


@functools.lru_cache(maxsize=CONVERTED_STATEMENTS)
def _row_type(names: tuple[str, ...]) -> type:
    """The row of a result with these columns: a tuple whose columns are also attributes."""
    return collections.namedtuple("Row", names, rename=True)  # type: ignore[misc]


class Result:
    """The rows of one statement, each a tuple with its columns as attributes, and its count
    of affected rows."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def all(self) -> list[Any]:
        return self.rows

    def first(self) -> Any:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        """The only row; an error when there is none or more."""
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, the statement returned {len(self.rows)}")
        return self.rows[0]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        """The first column of the only row; an error when there is none or more."""
        return self.one()[0]

    def scalars(self) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in self.rows]


PREPARED_STATEMENTS = 128  # per connection: the shop runs a few dozen distinct statements


class _Prepared(NamedTuple):
    """A statement parsed once on a connection under `name`, and the columns of its rows."""

    name: bytes
    columns: Any
    input_funcs: list[Any]


def _pipelined(conn: Connection, statement: str, vals: tuple[Any, ...]) -> Any:
    """Run one statement with the extended protocol in one round trip: Bind, Execute and
    Sync in one write, then every answer up to ReadyForQuery.

    The statement is a named prepared statement of the connection: the first time it runs
    there, Close, Parse and Describe go in the same write; from then on the server neither
    parses nor analyses it again, and after a few runs plans it once (Postgres' generic plan).
    An order read spends most of its time there: measured on this machine, 2.0 ms parsed each
    time, 0.7 ms prepared. pg8000's own `execute_unnamed` also waits for the server three times
    a statement (after Parse, after Describe, after Execute); nothing it learns on the way is
    needed to send the rest (parameters go as text, their types are the server's to infer, as
    they are there).
    """
    from pg8000 import core
    from pg8000.converters import make_params

    raw = conn.raw
    encoding = raw._client_encoding
    params = make_params(raw.py_types, vals)
    prepared = conn.prepared.get(statement)
    name = prepared.name if prepared is not None else conn.statement_name()
    bind = bytearray(b"\x00" + name + core.H_pack(0) + core.H_pack(len(params)))
    for param in params:
        if param is None:
            bind += core.i_pack(-1)
        else:
            data = param.encode(encoding)
            bind += core.i_pack(len(data)) + data
    bind += core.H_pack(0)  # every result column as text, as pg8000 reads them
    if prepared is None:
        # Closing a name the server does not know is no error: whatever an earlier failed
        # attempt left under this name is replaced.
        messages = (
            _message(core.CLOSE, core.STATEMENT + name)
            + _message(core.PARSE, name + statement.encode(encoding) + b"\x00" + core.H_pack(0))
            + _message(core.BIND, bind)
            + _message(core.DESCRIBE, core.PORTAL + b"\x00")
        )
        context = core.Context(statement)
    else:
        conn.prepared.move_to_end(statement)
        messages = _message(core.BIND, bind)
        context = core.Context(
            statement, columns=prepared.columns, input_funcs=prepared.input_funcs
        )
    if conn.begin_pending:
        # The transaction's BEGIN, in the same write: should it fail, the server skips the
        # statement too (an error skips everything up to Sync).
        messages = BEGIN_MESSAGES + messages
        conn.begin_pending = False
    if raw._sock is None:
        raise core.InterfaceError("connection is closed")
    raw._sock.write(messages + core.EXECUTE_MSG + core.SYNC_MSG)
    raw._sock.flush()
    try:
        raw.handle_messages(context)
    except core.DatabaseError:
        # Parsed or not, planned for another shape of a table or not: parsed anew next time.
        conn.forget(statement, name)
        raise
    if prepared is None:
        conn.remember(statement, _Prepared(name, context.columns, context.input_funcs))
    return context


def _message(code: bytes, data: bytes | bytearray) -> bytes:
    """One message of the protocol: its code, its length, its data."""
    return code + struct.pack("!i", len(data) + 4) + bytes(data)


# An unnamed BEGIN, parsed, bound (no values) and executed: sent ahead of a transaction's first
# statement.
BEGIN_MESSAGES = (
    _message(b"P", b"\x00BEGIN\x00" + bytes(2))
    + _message(b"B", bytes(8))
    + _message(b"E", bytes(5))
)


@functools.cache
def _timestamp_readers() -> dict[int, Callable[[str], Any]]:
    """Readers of timestamps as the server writes them (`2026-12-01 15:29:05.11102+00`), by
    type oid, with `datetime.fromisoformat`: pg8000's own readers (strptime) take 60 times as
    long, a tenth of a warm order read. What it cannot read (infinity, a year past 9999 or BC)
    goes to pg8000's reader of the type."""
    from pg8000 import converters

    def reader(fallback: Callable[[str], Any]) -> Callable[[str], Any]:
        def read(data: str) -> Any:
            try:
                return datetime.fromisoformat(data)
            except ValueError:
                return fallback(data)

        return read

    return {
        converters.TIMESTAMP: reader(converters.timestamp_in),
        converters.TIMESTAMPTZ: reader(converters.timestamptz_in),
    }


class Connection:
    """One connection of the pool (pg8000's), as the shop uses it: `execute` a statement."""

    def __init__(self, raw: pg8000.dbapi.Connection, generation: int) -> None:
        self.raw = raw
        for oid, read in _timestamp_readers().items():
            raw.register_in_adapter(oid, read)
        self.generation = generation  # the pool's, when it was opened
        self.opened = self.used = time.monotonic()
        self.broken = False  # it raised a network error: closed, never reused
        # Statement text -> its prepared statement here, least recently run first.
        self.prepared: collections.OrderedDict[str, _Prepared] = collections.OrderedDict()
        self._free_names: list[bytes] = []  # of statements forgotten, to be parsed anew
        # Inside `transaction()`, until its first statement: BEGIN goes with that statement.
        self.begin_pending = False

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Result:
        """Run `sql`, one statement whose `:name` parameters come from `params`."""
        statement, names = _converted(sql)
        args = params or {}
        vals = tuple(args[name] for name in names)
        context = self._run(lambda: _pipelined(self, statement, vals))
        if context.rows is None:
            return Result([], context.row_count)
        row: Any = _row_type(tuple(column["name"] for column in context.columns))
        return Result([row._make(values) for values in context.rows], context.row_count)

    def statement_name(self) -> bytes:
        """A name for a statement to prepare: one freed, else the next new one."""
        if self._free_names:
            return self._free_names.pop()
        return b"s%d\x00" % len(self.prepared)

    def remember(self, statement: str, prepared: _Prepared) -> None:
        """Keep `statement` prepared; past PREPARED_STATEMENTS, the least recently run one is
        forgotten, and the server drops it when the next new one is parsed under its name."""
        self.prepared[statement] = prepared
        if len(self.prepared) > PREPARED_STATEMENTS:
            _, oldest = self.prepared.popitem(last=False)
            self._free_names.append(oldest.name)

    def forget(self, statement: str, name: bytes) -> None:
        """Parse `statement` anew next time; its name is free for another."""
        self.prepared.pop(statement, None)
        self._free_names.append(name)

    def simple(self, sql: str) -> None:
        """Run `sql` as one simple query: any number of statements, no parameters."""
        if self.begin_pending:
            sql, self.begin_pending = f"BEGIN; {sql}", False
        self._run(lambda: self.raw.execute_simple(sql))

    def _run[T](self, call: Callable[[], T]) -> T:
        from pg8000.dbapi import DatabaseError

        try:
            with _guarded():
                return call()
        except DatabaseError:  # the server's answer, read to its end: the connection is fine
            raise
        except BaseException:  # the network, or an answer not read to its end
            self.broken = True
            raise

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: what runs inside is undone on error, and the transaction
        stays usable."""
        self.simple("SAVEPOINT nested")
        try:
            yield
        except BaseException:
            if not self.broken:
                self.simple("ROLLBACK TO SAVEPOINT nested")
            raise
        self.simple("RELEASE SAVEPOINT nested")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction on this connection: committed on success, rolled back on error.

        BEGIN goes to the server with the first statement, in its round trip; a transaction
        that runs none sends nothing."""
        self.begin_pending = True
        try:
            yield
        except BaseException:
            began, self.begin_pending = not self.begin_pending, False
            if began and not self.broken:
                self.simple("ROLLBACK")
            raise
        if self.begin_pending:
            self.begin_pending = False
            return
        self.simple("COMMIT")

    def alive(self) -> bool:
        """Whether the server answers an empty query (one round trip) without an error."""
        from pg8000.dbapi import Error

        try:
            self.simple("")
        except Error:
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing what is already broken
            self.raw.close()


def socket_timeout(raw: pg8000.dbapi.Connection, seconds: float | None) -> float | None:
    """Set the timeout of a pg8000 connection's socket; return the one it had."""
    sock = getattr(raw, "_usock", None)
    if sock is None:
        return None
    previous: float | None = sock.gettimeout()
    with contextlib.suppress(OSError):  # closed meanwhile
        sock.settimeout(seconds)
    return previous


class Pool:
    """At most `size + overflow` connections at once, `size` of them kept open between uses.

    A caller waits up to POOL_TIMEOUT for one to come free, then gets `PoolTimeout` (a 503).
    Idle connections are handed out newest first. A connection older than RECYCLE_SECONDS is
    replaced; one idle longer than PING_AFTER_SECONDS is pinged first. One that raised a
    network error, or failed its ping, is closed with every other idle one (the database
    restarted or went away: they are broken too), and so is every connection out at that
    moment when it comes back.
    """

    def __init__(
        self,
        connect: Callable[[], pg8000.dbapi.Connection],
        size: int,
        overflow: int,
        timeout: float = POOL_TIMEOUT,
    ) -> None:
        self._connect = connect
        self.size, self.overflow, self.timeout = size, overflow, timeout
        self._slots = threading.BoundedSemaphore(size + overflow)
        self._lock = threading.Lock()
        self._idle: list[Connection] = []
        self._generation = 0  # moves on when every connection opened before is to be closed
        self._open = 0  # connections open, idle or out

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection outside any transaction, each statement committed by itself: for
        reads, which under READ COMMITTED take a snapshot per statement inside a transaction
        too, so BEGIN and COMMIT would only add two round trips."""
        conn = self._checkout()
        try:
            yield conn
        finally:
            self._checkin(conn)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self.connect() as conn, conn.transaction():
            yield conn

    def _checkout(self) -> Connection:
        if not self._slots.acquire(timeout=self.timeout):
            raise PoolTimeout(f"no free database connection within {self.timeout} s")
        try:
            return self._usable()
        except BaseException:
            self._slots.release()
            raise

    def _usable(self) -> Connection:
        now = time.monotonic()
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None and now - conn.opened > RECYCLE_SECONDS:
            self._close(conn)
            conn = None
        if conn is not None and now - conn.used > PING_AFTER_SECONDS and not conn.alive():
            self._close(conn)
            self._invalidate()
            conn = None
        return conn if conn is not None else self._new()

    def _new(self) -> Connection:
        with _guarded():
            raw = self._connect()
        with self._lock:
            self._open += 1
            return Connection(raw, self._generation)

    def _checkin(self, conn: Connection) -> None:
        try:
            conn.used = time.monotonic()
            if conn.broken:
                self._close(conn)
                self._invalidate()
                return
            with self._lock:
                keep = conn.generation == self._generation and len(self._idle) < self.size
                if keep:
                    self._idle.append(conn)
            if not keep:
                self._close(conn)
        finally:
            self._slots.release()

    def _close(self, conn: Connection) -> None:
        with self._lock:
            self._open -= 1
        conn.close()

    def _invalidate(self) -> None:
        """Close every idle connection; those out now are closed when they come back."""
        with self._lock:
            self._generation += 1
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)

    def opened(self) -> int:
        """How many connections are open now (idle or out)."""
        with self._lock:
            return self._open

    def dispose(self) -> None:
        """Close every connection: the idle ones now, those out when they come back."""
        self._invalidate()


def url_pool(url: str, size: int = 1, overflow: int = 0) -> Pool:
    """A pool on the database at `url` (`DATABASE_URL`'s form)."""
    params = connect_params(url)

    def connect() -> pg8000.dbapi.Connection:
        import pg8000.dbapi

        return pg8000.dbapi.connect(
            **params, timeout=SOCKET_TIMEOUT, startup_params=dict(SESSION_SETTINGS)
        )

    return Pool(connect, size, overflow)


# pg8000's `ssl_context` for each `sslmode` (libpq's names): False never asks for TLS; None
# asks, and goes on without it when the server has none; True insists (without verifying the
# server's certificate, as libpq's `require`). Asking costs a round trip and, in pg8000, a
# default TLS context with the system's certificates loaded (about 50 ms of each new
# connection here), so a Unix socket or a loopback address, where nothing leaves the machine,
# defaults to `disable`, and any other host to libpq's default, `prefer`.
SSL_MODES: dict[str, bool | None] = {"disable": False, "prefer": None, "require": True}
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def connect_params(url: str) -> dict[str, Any]:
    """pg8000's connection arguments for a `postgres://` or `postgresql://` URL, as people
    write them (a `+driver` suffix is ignored; `?unix_sock=` names a Unix socket;
    `?sslmode=` is one of SSL_MODES)."""
    parts = urlsplit(url)
    if not re.fullmatch(r"postgres(ql)?(\+\w+)?", parts.scheme):
        raise ConfigError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = query.keys() - {"unix_sock", "sslmode"}
    if unknown:
        raise ConfigError(f"DATABASE_URL has options the shop does not know: {sorted(unknown)}")
    params: dict[str, Any] = {
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password) if parts.password is not None else None,
        "database": unquote(parts.path.lstrip("/")) or None,
    }
    if "unix_sock" in query:
        params["unix_sock"] = query["unix_sock"]
    else:
        params["host"] = parts.hostname or "localhost"
        params["port"] = parts.port or 5432
    local = "unix_sock" in params or params["host"] in LOOPBACK
    mode = query.get("sslmode", "disable" if local else "prefer")
    if mode not in SSL_MODES:
        raise ConfigError(f"DATABASE_URL's sslmode must be one of {sorted(SSL_MODES)}, not {mode}")
    params["ssl_context"] = SSL_MODES[mode]
    return params


class _Attempt:
    """One connection attempt in a thread of its own, which its caller may give up waiting for.

    The Cloud SQL connector's `timeout` does not bound a pg8000 connection: the connector opens
    its TCP and TLS socket without a timeout and hands it to pg8000 (`sock=`), for which pg8000
    sets none. An attempt given up on runs on until the server answers or closes; a connection
    it makes then is closed. At most `running` attempts (the pool's `max_connections`) run at
    once, so a database that never answers costs at most that many threads.
    """

    def __init__(self, connect: Callable[[], Any], running: threading.BoundedSemaphore) -> None:
        self._connect = connect
        self.running = running
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._given_up = False
        self._connection: Any = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        connection, error = None, None
        try:
            connection = self._connect()
        except BaseException as exc:  # handed to the caller
            error = exc
        finally:
            self.running.release()
        with self._lock:
            self._connection, self._error = connection, error
            given_up = self._given_up
            self._finished.set()
        if given_up and connection is not None:
            with contextlib.suppress(Exception):  # nobody is left to tell
                connection.close()

    def result(self, seconds: float) -> Any:
        from pg8000.dbapi import InterfaceError

        if not self.running.acquire(blocking=False):
            raise InterfaceError("network error: earlier connection attempts still wait")
        threading.Thread(target=self._run, name="db-connect", daemon=True).start()
        self._finished.wait(seconds)
        with self._lock:
            if not self._finished.is_set():
                self._given_up = True
                raise InterfaceError(f"network error: no connection within {seconds} s")
        if self._error is not None:
            raise self._error
        return self._connection


def _reachable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents) if p.exists())


def embedded_pgdata(cfg: Settings) -> Path:
    """Where the embedded Postgres keeps its data: `.data/pg`.

    Run as root, pgserver starts Postgres as an unprivileged user of its own, which must be
    able to reach the folder; when `.data` sits below a private folder (a root home, pytest's
    temp root) the data goes to a folder of its own in the system temp dir instead.
    """
    pgdata = cfg.data_dir / "pg"
    if os.geteuid() == 0 and not _reachable_by_others(pgdata.parent):
        digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
        pgdata = Path(tempfile.gettempdir()) / f"auren-pg-{digest}"
    return pgdata


def embedded_url(cfg: Settings) -> str:
    """Start (or reuse) the embedded Postgres and return its URL."""
    import pgserver

    pgdata = embedded_pgdata(cfg)
    pgdata.mkdir(parents=True, exist_ok=True)
    pgserver.get_server(pgdata, cleanup_mode=None)
    return f"postgresql://postgres@/postgres?unix_sock={pgdata / '.s.PGSQL.5432'}"


def _cloud_sql_pool(cfg: Settings, instance: str) -> Pool:
    from google.cloud.sql.connector import Connector

    connector = Connector(refresh_strategy="lazy")
    attempts = threading.BoundedSemaphore(max_connections(cfg))

    def attempt() -> Any:
        with _guarded():  # its socket's, and pg8000's first reads on it
            return connector.connect(
                instance,
                "pg8000",
                user=cfg.db_user,
                password=cfg.db_pass,
                db=cfg.db_name,
                enable_iam_auth=cfg.db_iam_auth,
                timeout=math.ceil(SOCKET_TIMEOUT),  # the connector's own steps; an int
                startup_params=dict(SESSION_SETTINGS),  # passed on to pg8000.dbapi.connect
                ssl_context=False,  # the connector's socket is TLS already, end to end
            )

    def connect() -> pg8000.dbapi.Connection:
        connection = _Attempt(attempt, attempts).result(SOCKET_TIMEOUT)
        # The connector made a pg8000 connection on a socket without a timeout: give it the
        # read deadline of the URL pools' connections.
        socket_timeout(connection, SOCKET_TIMEOUT)
        return connection  # type: ignore[no-any-return]

    return Pool(connect, cfg.db_pool_size, cfg.db_max_overflow)


def build_pool(cfg: Settings) -> Pool:
    if cfg.database_url:
        return url_pool(cfg.database_url, cfg.db_pool_size, cfg.db_max_overflow)
    if cfg.instance_connection_name:
        return _cloud_sql_pool(cfg, cfg.instance_connection_name)
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs DATABASE_URL or INSTANCE_CONNECTION_NAME")
    return url_pool(embedded_url(cfg), cfg.db_pool_size, cfg.db_max_overflow)


pool: Lazy[Pool] = Lazy(lambda: build_pool(settings()))  # the instance's pool


def reset_pool() -> None:
    """Drop the instance's pool and its connections (tools and tests that switch databases)."""
    built = pool.built
    pool.reset()
    if built is not None:
        built.dispose()


def transaction() -> contextlib.AbstractContextManager[Connection]:
    """A connection of the instance's pool inside one transaction (`Pool.transaction`)."""
    return pool().transaction()


def connect() -> contextlib.AbstractContextManager[Connection]:
    """A connection of the instance's pool for reads, outside a transaction (`Pool.connect`)."""
    return pool().connect()


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) of every migration, in order."""
    folder = resources.files("common.infra") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text()) for name in names]


MIGRATION_LOCK_KEY = 0x41_75_72_65_6E  # "Auren": one migrator at a time per database


@contextmanager
def _no_read_deadline(conn: Connection) -> Iterator[None]:
    """No socket timeout on `conn` while inside (its transaction's commit included)."""
    previous = socket_timeout(conn.raw, None)
    try:
        yield
    finally:
        socket_timeout(conn.raw, previous)


def migrate(target: Pool | None = None) -> list[str]:
    """Apply, in one transaction, every migration not applied yet; return the versions applied.

    Each file goes to Postgres whole, as one simple-query batch (which may hold many
    statements), so the server's own parser splits it: `$$` bodies, quoted strings and
    comments mean what they mean to Postgres, and `%` or `:name` reach it untouched.

    The request deadlines do not apply: a migration may rewrite a table or build an index for
    minutes, and wait for another migrator's lock.
    """
    from pg8000.dbapi import DatabaseError

    target = target or pool()
    applied: list[str] = []
    with target.connect() as conn, _no_read_deadline(conn), conn.transaction():
        conn.simple("SET LOCAL statement_timeout = 0")
        conn.simple("SET LOCAL lock_timeout = 0")
        conn.execute("SELECT pg_advisory_xact_lock(:key)", {"key": MIGRATION_LOCK_KEY})
        conn.simple(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version TEXT PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = set(conn.execute("SELECT version FROM schema_migrations").scalars())
        for version, sql in migration_files():
            if version in done:
                continue
            try:
                conn.simple(sql)
            except DatabaseError as e:
                e.add_note(f"in migration {version}")
                raise
            conn.execute("INSERT INTO schema_migrations (version) VALUES (:v)", {"v": version})
            applied.append(version)
    return applied
