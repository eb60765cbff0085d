"""The database engine (SQLAlchemy Core), built lazily once per instance, and migrations.

Where the database is, in order: `DATABASE_URL` when set; Cloud SQL through the connector when
`INSTANCE_CONNECTION_NAME` is set; else (local mode only) an embedded Postgres (`pgserver`)
under `.data/pg`.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.core.lazy import Lazy
from common.infra.config import ConfigError, Settings, settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

POOL_OPTIONS: dict[str, Any] = {
    "pool_size": 2,
    "max_overflow": 3,
    "pool_timeout": 10,
    "pool_recycle": 1800,
    "pool_pre_ping": True,
}


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

    def connect() -> Any:
        return connector.connect(
            instance,
            "pg8000",
            user=cfg.db_user,
            password=cfg.db_pass,
            db=cfg.db_name,
            enable_iam_auth=cfg.db_iam_auth,
        )

    return sqlalchemy.create_engine("postgresql+pg8000://", creator=connect, **POOL_OPTIONS)


def build_engine(cfg: Settings) -> Engine:
    import sqlalchemy

    if cfg.database_url:
        return sqlalchemy.create_engine(sqlalchemy_url(cfg.database_url), **POOL_OPTIONS)
    if cfg.instance_connection_name:
        return _cloud_sql_engine(cfg, cfg.instance_connection_name)
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs DATABASE_URL or INSTANCE_CONNECTION_NAME")
    return sqlalchemy.create_engine(embedded_url(cfg), **POOL_OPTIONS)


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


def migrate(eng: Engine | None = None) -> list[str]:
    """Apply, in one transaction, every migration not applied yet; return the versions applied.

    Each file goes to Postgres whole, as one simple-query batch (pg8000 sends SQL without
    parameters as a simple Query, which may hold many statements), so the server's own parser
    splits it: `$$` bodies, quoted strings and comments mean what they mean to Postgres, and
    `%` or `:name` reach it untouched.
    """
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    eng = eng or engine()
    applied: list[str] = []
    with eng.begin() as conn:
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
