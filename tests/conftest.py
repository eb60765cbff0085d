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
from urllib.parse import urlsplit

import flask
import flask.testing
import functions_framework
import pytest
from werkzeug.serving import make_server

from common.core import caller
from common.infra import config, db
from common.providers import queue
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


def _server_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured
    return db.embedded_url(config.load({"AUREN_DATA_DIR": str(REPO / ".data")}))


def server_admin(url: str) -> db.Pool:
    """A pool on the server of `url` for CREATE and DROP DATABASE: without the request
    deadlines (copying the template database takes seconds on a busy machine)."""
    import pg8000.dbapi

    params = db.connect_params(url)
    return db.Pool(lambda: pg8000.dbapi.connect(**params), size=1, overflow=0)


def on_database(url: str, name: str) -> str:
    """`url` with the database `name` (same server, user and options)."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new database on the test server, migrated and seeded; DATABASE_URL points at it."""
    server = _server_url()
    name = f"auren_test_{uuid.uuid4().hex[:12]}"
    admin = server_admin(server)
    with admin.connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = on_database(server, name)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("AUREN_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    config.settings.cache_clear()
    db.reset_pool()
    catalog.forget()
    from devtools.seed import seed

    db.migrate()
    seed()
    yield url
    db.reset_pool()
    with admin.connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
    if previous is None:
        del os.environ["DATABASE_URL"]
    else:
        os.environ["DATABASE_URL"] = previous
    config.settings.cache_clear()


@pytest.fixture(scope="session")
def pool(database_url: str) -> db.Pool:
    return db.pool()


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


def new_user(pool: db.Pool) -> tuple[str, str]:
    """A users row, as the auth function makes one at sign-in; returns (public id, email)."""
    public_id = "usr_" + secrets.token_urlsafe(16)
    email = f"{public_id.lower()}@example.com"
    with pool.transaction() as conn:
        conn.execute(
            "INSERT INTO users (public_id, email, provider) VALUES (:p, :e, 'google')",
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
def empty_database(database_url: str) -> Iterator[db.Pool]:
    """A pool on a new, empty database of the test server, dropped afterwards."""
    name = f"auren_empty_{uuid.uuid4().hex[:8]}"
    admin = server_admin(database_url)
    with admin.connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    fresh = db.url_pool(on_database(database_url, name))
    try:
        yield fresh
    finally:
        fresh.dispose()
        with admin.connect() as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def worker_tries_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local queue's worker tries each message once: an outbox task's first attempt is the
    worker's, what follows a failure is the drain's."""
    monkeypatch.setattr(queue.broker, "built", queue.LocalBroker(attempts=1))


@pytest.fixture(scope="session")
def orders_client(database_url: str) -> flask.testing.FlaskClient:
    return function_app("orders").test_client()
