"""Shared fixtures: a fresh, migrated and seeded Postgres database per test worker.

The server is the one at `DATABASE_URL` when it is set, else the embedded `pgserver` one
under `.data/pg`. Each worker gets its own database, dropped at the end.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import flask
import flask.testing
import functions_framework
import pytest
import sqlalchemy
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from common.core import caller
from common.infra import config, db
from common.shop import catalog
from common.web import sessions

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = (
    "chat",
    "generate_image",
    "orders",
    "checkout",
    "stripe_webhook",
    "auth",
    "contact",
    "ops",
)


def _server_url() -> sqlalchemy.URL:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return make_url(db.sqlalchemy_url(configured))
    return make_url(db.embedded_url(config.load({"AUREN_DATA_DIR": str(REPO / ".data")})))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new database on the test server, migrated and seeded; DATABASE_URL points at it."""
    server = _server_url()
    name = f"auren_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("AUREN_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    config.settings.cache_clear()
    db.reset_engine()
    catalog.forget()
    from devtools.seed import seed

    db.migrate()
    seed()
    yield url
    db.reset_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
    if previous is None:
        del os.environ["DATABASE_URL"]
    else:
        os.environ["DATABASE_URL"] = previous
    config.settings.cache_clear()


@pytest.fixture(scope="session")
def engine(database_url: str) -> sqlalchemy.Engine:
    return db.engine()


_apps: dict[str, flask.Flask] = {}
_apps_lock = threading.Lock()


def function_app(name: str) -> flask.Flask:
    """The function's app exactly as Cloud Functions builds it, from its own main.py: once
    per test process, like one warm instance (building apps from several threads at once
    trips CPython 3.11's compiler)."""
    with _apps_lock:
        if name not in _apps:
            source = str(REPO / "functions" / name / "main.py")
            _apps[name] = functions_framework.create_app(name, source)
        return _apps[name]


def new_user(engine: sqlalchemy.Engine) -> tuple[str, str]:
    """A users row, as the auth function makes one at sign-in; returns (public id, email)."""
    public_id = "usr_" + secrets.token_urlsafe(16)
    email = f"{public_id.lower()}@example.com"
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO users (public_id, email, provider) VALUES (:p, :e, 'google')"
            ),
            {"p": public_id, "e": email},
        )
    return public_id, email


def user_cookie(public_id: str, email: str) -> str:
    """The `__session` cookie value of that user, signed in."""
    return sessions.encode(caller.for_user(public_id, email, "Test Shopper", "google"))


@pytest.fixture(scope="module")
def local_site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The whole shop served by the local server on a free loopback port; yields the port."""
    from devtools import hosting
    from devtools.server import LocalServer

    cfg = dataclasses.replace(config.settings(), data_dir=tmp_path_factory.mktemp("data"))
    site = LocalServer(cfg, hosting.load())
    site.load_consumers()
    server = make_server("127.0.0.1", 0, site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.port
    server.shutdown()
    thread.join()


@pytest.fixture
def empty_database(database_url: str) -> Iterator[sqlalchemy.Engine]:
    """An engine on a new, empty database of the test server, dropped afterwards."""
    server = sqlalchemy.make_url(database_url)
    name = f"auren_empty_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    fresh = sqlalchemy.create_engine(server.set(database=name))
    try:
        yield fresh
    finally:
        fresh.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def orders_client(database_url: str) -> flask.testing.FlaskClient:
    return function_app("orders").test_client()
