"""The database engine (SQLAlchemy Core), built lazily once per instance, and migrations.

Where the database is, in order: `DATABASE_URL` when set; Cloud SQL through the connector when
`INSTANCE_CONNECTION_NAME` is set; else (local mode only) an embedded Postgres (`pgserver`)
under `.data/pg`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.core.lazy import Lazy
from common.infra.config import ConfigError, Settings, settings

if TYPE_CHECKING:
    from sqlalchemy import TextClause
    from sqlalchemy.engine import Connection, Engine

# Deadlines (issue 14). A database that accepts connections and never answers must not hold
# requests: with these, every request answers within REQUEST_BUDGET, with a 503 and Retry-After
# (`common.web.http` maps the errors they raise), and the pool stays usable. The slowest ways
# to a connection on a hung database: a pooled connection, whose pre-ping waits SOCKET_TIMEOUT
# and which the pool then replaces by a new one, waiting SOCKET_TIMEOUT again (2 + 2 s); and a
# request that waits POOL_TIMEOUT for a free connection and then connects (2 + 2 s). Once the
# database answers again, the pre-ping and the invalidation of broken connections (every
# socket failure is a disconnect, see `_pg8000_connection`) bring the pool back by itself.
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

# Every engine's pool; its size comes from the settings (`pool_options`).
POOL_OPTIONS: dict[str, Any] = {
    "pool_timeout": POOL_TIMEOUT,
    "pool_recycle": 1800,
    "pool_pre_ping": True,
}


def max_connections(cfg: Settings) -> int:
    """The most connections the instance's engine holds: DB_POOL_SIZE + DB_MAX_OVERFLOW."""
    return cfg.db_pool_size + cfg.db_max_overflow


def pool_options(cfg: Settings) -> dict[str, Any]:
    """The pool of the instance's engine: DB_POOL_SIZE connections kept open, DB_MAX_OVERFLOW
    more at a peak (devtools/deploy_config.py sets both per function; `make deploy` holds
    their total over every instance to the database's connection budget)."""
    return {"pool_size": cfg.db_pool_size, "max_overflow": cfg.db_max_overflow, **POOL_OPTIONS}


def text(sql: str) -> TextClause:
    """A SQL statement with `:name` parameters (`sqlalchemy.text`).

    The one way the shop writes SQL: SQLAlchemy is imported on the first statement, not when a
    module that holds statements is imported (it is most of a cold start otherwise).
    """
    import sqlalchemy

    return sqlalchemy.text(sql)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a server error (pg8000 keeps the error's fields in `args[0]`)."""
    orig = getattr(exc, "orig", exc)
    args = getattr(orig, "args", ())
    fields = args[0] if args else None
    return fields.get("C") if isinstance(fields, dict) else None


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database is away or past a deadline: answer 503, retry soon."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and sqlstate(exc) in UNAVAILABLE_SQLSTATES


def _network_error(exc: OSError) -> Exception:
    from pg8000.dbapi import InterfaceError

    # "network error" is what SQLAlchemy's pg8000 dialect reads as a broken connection.
    return InterfaceError(f"network error: {type(exc).__name__}: {exc}")


CONVERTED_STATEMENTS = 512  # distinct SQL texts whose pg8000 form an instance keeps


def _convert_once(dbapi: Any) -> None:
    """Have pg8000 convert each SQL text to its `$n` form once, not on every execute.

    pg8000's `convert_paramstyle` scans the statement character by character on each execute
    (a fifth of a warm order read's time); with SQLAlchemy's `format` paramstyle its output
    depends on the text alone and the arguments pass through unchanged, so it is kept per
    text (the shop's statements are a few dozen fixed texts; the cache is bounded anyway).
    """
    convert = dbapi.convert_paramstyle

    @functools.lru_cache(maxsize=CONVERTED_STATEMENTS)
    def converted(query: str) -> str:
        statement: str = convert("format", query, ())[0]
        return statement

    def convert_paramstyle(style: str, query: str, args: Any) -> tuple[str, Any]:
        if style != "format":
            return convert(style, query, args)  # type: ignore[no-any-return]
        return converted(query), args

    dbapi.convert_paramstyle = convert_paramstyle


@functools.cache
def _pg8000_connection() -> type:
    """pg8000's connection, with every socket failure raised as a DB-API error.

    pg8000 lets the first read of each message raise the socket's own error (`TimeoutError`
    once SOCKET_TIMEOUT passes, `ConnectionResetError` on a reset) rather than its
    `InterfaceError("network error")`. SQLAlchemy does not wrap those: the router answers 500
    instead of 503, the pre-ping lets them through, and the broken connection is not dropped.
    """
    import pg8000.dbapi

    _convert_once(pg8000.dbapi)

    class Connection(pg8000.dbapi.Connection):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            try:
                super().__init__(*args, **kwargs)
            except OSError as exc:
                raise _network_error(exc) from exc

        def handle_messages(self, context: Any) -> None:
            try:
                super().handle_messages(context)
            except OSError as exc:
                raise _network_error(exc) from exc

    return Connection


def _socket_timeout(dbapi_connection: Any, seconds: float | None) -> float | None:
    """Set the timeout of a pg8000 connection's socket; return the one it had."""
    sock = getattr(dbapi_connection, "_usock", None)
    if sock is None:
        return None
    previous: float | None = sock.gettimeout()
    with contextlib.suppress(OSError):  # closed meanwhile
        sock.settimeout(seconds)
    return previous


def _url_engine(url: str, cfg: Settings) -> Engine:
    import sqlalchemy
    from sqlalchemy import event

    eng = sqlalchemy.create_engine(
        sqlalchemy_url(url),
        connect_args={"timeout": SOCKET_TIMEOUT, "startup_params": dict(SESSION_SETTINGS)},
        **pool_options(cfg),
    )

    @event.listens_for(eng, "do_connect")
    def connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        return _pg8000_connection()(*cargs, **cparams)

    return eng


class _Attempt:
    """One connection attempt in a thread of its own, which its caller may give up waiting for.

    The Cloud SQL connector's `timeout` does not bound a pg8000 connection: the connector opens
    its TCP and TLS socket without a timeout and hands it to pg8000 (`sock=`), for which pg8000
    sets none. An attempt given up on runs on until the server answers or closes; a connection
    it makes then is closed. At most `running` attempts (the engine's `max_connections`) run at
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


def sqlalchemy_url(url: str) -> str:
    """`postgres://` and `postgresql://` URLs, as people write them, for the pg8000 driver."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+pg8000://", url)


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
    return f"postgresql+pg8000://postgres@/postgres?unix_sock={pgdata / '.s.PGSQL.5432'}"


def _cloud_sql_engine(cfg: Settings, instance: str) -> Engine:
    import sqlalchemy
    from google.cloud.sql.connector import Connector

    connector = Connector(refresh_strategy="lazy")
    attempts = threading.BoundedSemaphore(max_connections(cfg))

    def attempt() -> Any:
        try:
            return connector.connect(
                instance,
                "pg8000",
                user=cfg.db_user,
                password=cfg.db_pass,
                db=cfg.db_name,
                enable_iam_auth=cfg.db_iam_auth,
                timeout=math.ceil(SOCKET_TIMEOUT),  # the connector's own steps; an int
                startup_params=dict(SESSION_SETTINGS),  # passed on to pg8000.dbapi.connect
            )
        except OSError as exc:  # its socket's, and pg8000's first reads on it
            raise _network_error(exc) from exc

    def connect() -> Any:
        import pg8000.dbapi

        connection = _Attempt(attempt, attempts).result(SOCKET_TIMEOUT)
        # The connector made a plain pg8000 connection on a socket without a timeout: give it
        # the read deadline and the DB-API errors of the URL engines' connections.
        if type(connection) is pg8000.dbapi.Connection:
            connection.__class__ = _pg8000_connection()
        _socket_timeout(connection, SOCKET_TIMEOUT)
        return connection

    return sqlalchemy.create_engine("postgresql+pg8000://", creator=connect, **pool_options(cfg))


def build_engine(cfg: Settings) -> Engine:
    if cfg.database_url:
        return _url_engine(cfg.database_url, cfg)
    if cfg.instance_connection_name:
        return _cloud_sql_engine(cfg, cfg.instance_connection_name)
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs DATABASE_URL or INSTANCE_CONNECTION_NAME")
    return _url_engine(embedded_url(cfg), cfg)


engine: Lazy[Engine] = Lazy(lambda: build_engine(settings()))  # the instance's engine


def reset_engine() -> None:
    """Drop the instance's engine and its connections (tools and tests that switch databases)."""
    built = engine.built
    engine.reset()
    if built is not None:
        built.dispose()


@contextmanager
def transaction() -> Iterator[Connection]:
    """A connection inside one transaction: committed on success, rolled back on error."""
    with engine().begin() as conn:
        yield conn


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) of every migration, in order."""
    folder = resources.files("common.infra") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text()) for name in names]


MIGRATION_LOCK_KEY = 0x41_75_72_65_6E  # "Auren": one migrator at a time per database


@contextmanager
def _no_read_deadline(conn: Connection) -> Iterator[None]:
    """No socket timeout on `conn` while inside (its transaction's commit included)."""
    raw = conn.connection.dbapi_connection
    previous = _socket_timeout(raw, None)
    try:
        yield
    finally:
        _socket_timeout(raw, previous)


def migrate(eng: Engine | None = None) -> list[str]:
    """Apply, in one transaction, every migration not applied yet; return the versions applied.

    Each file goes to Postgres whole, as one simple-query batch (pg8000 sends SQL without
    parameters as a simple Query, which may hold many statements), so the server's own parser
    splits it: `$$` bodies, quoted strings and comments mean what they mean to Postgres, and
    `%` or `:name` reach it untouched.

    The request deadlines do not apply: a migration may rewrite a table or build an index for
    minutes, and wait for another migrator's lock.
    """
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    eng = eng or engine()
    applied: list[str] = []
    with eng.connect() as conn, _no_read_deadline(conn), conn.begin():
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version TEXT PRIMARY KEY,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        )
        done = set(conn.execute(text("SELECT version FROM schema_migrations")).scalars())
        for version, sql in migration_files():
            if version in done:
                continue
            try:
                conn.exec_driver_sql(sql, execution_options={"no_parameters": True})
            except DBAPIError as e:
                e.add_note(f"in migration {version}")
                raise
            conn.execute(
                text("INSERT INTO schema_migrations (version) VALUES (:v)"), {"v": version}
            )
            applied.append(version)
    return applied
