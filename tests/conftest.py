"""Shared fixtures: a fresh, migrated and seeded Postgres database per test worker.

The server is the one at `DATABASE_URL` when it is set, else the embedded `pgserver` one
under `.data/pg`. Each worker gets its own database, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import flask
import flask.testing
import functions_framework
import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from common import catalog, config, db

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


def function_app(name: str) -> flask.Flask:
    """The function's app exactly as Cloud Functions builds it, from its own main.py."""
    return functions_framework.create_app(name, str(REPO / "functions" / name / "main.py"))


@pytest.fixture(scope="session")
def orders_client(database_url: str) -> flask.testing.FlaskClient:
    return function_app("orders").test_client()
