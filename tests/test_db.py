"""Migrations and constraints, against a real Postgres."""

import uuid

import pg8000.dbapi
import pytest

from common.infra import config, db


def test_migrations_reapply_as_a_no_op(pool: db.Pool) -> None:
    assert db.migrate(pool) == []
    with pool.connect() as conn:
        versions = conn.execute("SELECT version FROM schema_migrations").scalars()
    assert versions == [version for version, _ in db.migration_files()]


def test_migrations_apply_on_an_empty_database(empty_database: db.Pool) -> None:
    assert db.migrate(empty_database) == [version for version, _ in db.migration_files()]
    assert db.migrate(empty_database) == []
    with empty_database.connect() as conn:
        tables = set(
            conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars()
        )
    assert {
        "users",
        "products",
        "designs",
        "orders",
        "order_items",
        "order_sizes",
        "stripe_events",
        "outbox",
        "contact_messages",
        "state_documents",
        "rate_limits",
    } <= tables


# `;` at line ends, a `--` line and a string holding `;`, `--`, `%` and `:name`, all inside
# dollar-quoted bodies: none of it may be taken for the end of a statement or a comment.
DOLLAR_QUOTED = """\
-- A log, and a function that writes to it.
CREATE TABLE greetings (
    id SERIAL PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE FUNCTION greet(who TEXT) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    greeting TEXT;
BEGIN
-- a comment of the body, not of the migration
    greeting := 'hello; -- ' || who || ' (100% :sure;)';
    INSERT INTO greetings (body) VALUES (greeting);
    RETURN greeting;
END;
$$;

DO $seed$
BEGIN
    PERFORM greet('seed');
    IF (SELECT count(*) FROM greetings) <> 1 THEN
        RAISE EXCEPTION 'not seeded; --';
    END IF;
END;
$seed$;
"""


def test_migrations_run_dollar_quoted_bodies_whole(
    empty_database: db.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "migration_files", lambda: [("0001_greet", DOLLAR_QUOTED)])
    assert db.migrate(empty_database) == ["0001_greet"]
    assert db.migrate(empty_database) == []
    with empty_database.transaction() as conn:
        assert conn.execute("SELECT greet('ann')").scalar() == "hello; -- ann (100% :sure;)"
        bodies = conn.execute("SELECT body FROM greetings ORDER BY id").scalars()
        source = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'greet'")
        body_source = source.scalar_one()
        versions = conn.execute("SELECT version FROM schema_migrations").scalars()
    assert bodies == ["hello; -- seed (100% :sure;)", "hello; -- ann (100% :sure;)"]
    assert "\n-- a comment of the body, not of the migration\n" in body_source
    assert versions == ["0001_greet"]


def test_a_failing_migration_applies_nothing(
    empty_database: db.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "CREATE TABLE half (x INT);\nSELECT 1 / 0;\n"
    migrations = [("0001_greet", DOLLAR_QUOTED), ("0002_broken", broken)]
    monkeypatch.setattr(db, "migration_files", lambda: migrations)
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        db.migrate(empty_database)
    assert "migration 0002_broken" in "\n".join(getattr(raised.value, "__notes__", []))
    with empty_database.connect() as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).scalars()
        assert list(tables) == []


def test_postgres_urls_as_people_write_them_give_pg8000_arguments() -> None:
    tcp = {"user": "u", "password": "p w", "database": "d", "host": "h", "port": 6543}
    prefer = {**tcp, "ssl_context": None}  # another host: TLS when the server has it
    assert db.connect_params("postgres://u:p%20w@h:6543/d") == prefer
    assert db.connect_params("postgresql+pg8000://u:p%20w@h:6543/d") == prefer
    assert db.connect_params("postgres://u:p%20w@h:6543/d?sslmode=require") == {
        **tcp,
        "ssl_context": True,
    }
    assert db.connect_params("postgresql://u@/d?unix_sock=/run/pg/.s.PGSQL.5432") == {
        "user": "u",
        "password": None,
        "database": "d",
        "unix_sock": "/run/pg/.s.PGSQL.5432",
        "ssl_context": False,  # nothing leaves the machine: TLS is never asked for
    }
    assert db.connect_params("postgresql://u@127.0.0.1/d")["ssl_context"] is False
    assert db.connect_params("postgresql://u@localhost/d?sslmode=prefer")["ssl_context"] is None
    with pytest.raises(config.ConfigError, match="postgresql://"):
        db.connect_params("mysql://u@h/d")
    with pytest.raises(config.ConfigError, match="sslmode"):
        db.connect_params("postgresql://u@h/d?sslmode=verify-full")
    with pytest.raises(config.ConfigError, match="options"):
        db.connect_params("postgresql://u@h/d?connect_timeout=3")


ORDER = "INSERT INTO orders (public_id, owner_session{cols}) VALUES ('{pid}', 'anon-1'{vals})"
BAD_ROWS = {
    "unknown order status": ORDER.format(cols=", status", pid="o" * 20, vals=", 'shipped'"),
    "negative total": ORDER.format(cols=", total_cents", pid="p" * 20, vals=", -1"),
    "order without owner": "INSERT INTO orders (public_id) VALUES ('qqqqqqqqqqqqqqqqqqqq')",
    "guessable order id": ORDER.format(cols="", pid="1", vals=""),
    "paid without paid_at": ORDER.format(cols=", status", pid="r" * 20, vals=", 'paid'"),
    "zero quantity item": (
        "INSERT INTO order_items (order_id, position, product_id, color, quantity,"
        " tier_min_quantity, unit_price_cents, line_total_cents, list_total_cents)"
        " SELECT id, 0, 'classic-tee', 'Black', 0, 1, 100, 0, 0 FROM orders LIMIT 1"
    ),
    "line dearer than its list price": (
        "INSERT INTO order_items (order_id, position, product_id, color, quantity,"
        " tier_min_quantity, unit_price_cents, line_total_cents, list_total_cents)"
        " SELECT id, 0, 'classic-tee', 'Black', 1, 1, 100, 200, 100 FROM orders LIMIT 1"
    ),
    "color the product does not have": (
        "INSERT INTO designs (public_id, owner_session, product_id, color)"
        " VALUES ('dddddddddddddddddddd', 'anon-1', 'classic-tee', 'Chartreuse')"
    ),
    "unknown product": (
        "INSERT INTO designs (public_id, owner_session, product_id, color)"
        " VALUES ('eeeeeeeeeeeeeeeeeeee', 'anon-1', 'ballgown', 'Black')"
    ),
    "uppercase hex color": (
        "INSERT INTO product_colors (product_id, name, hex) VALUES ('tote', 'Lime', '#AAFF00')"
    ),
    "negative base price": (
        "INSERT INTO products (id, name, category, base_price_cents, image_url)"
        " VALUES ('x-tee', 'X', 'tee', -5, '/x.png')"
    ),
    "print area outside the template": (
        "INSERT INTO product_print_areas (product_id, name, x, y, width, height,"
        " template_size, template_url) VALUES ('tote', 'front', 900, 0, 200, 100, 1024, '/t.png')"
        " ON CONFLICT (product_id, name) DO UPDATE SET x = EXCLUDED.x, width = EXCLUDED.width"
    ),
    "duplicate stripe event": (
        "INSERT INTO stripe_events (event_id, type) VALUES ('evt_1', 'x'), ('evt_1', 'x')"
    ),
    "unknown outbox kind": "INSERT INTO outbox (kind, dedupe_key) VALUES ('fax', 'k1')",
    "empty contact message": (
        "INSERT INTO contact_messages (public_id, name, email, message)"
        " VALUES ('cccccccccccccccccccc', 'Ann', 'ann@example.com', '')"
    ),
}


@pytest.fixture(scope="module")
def an_order(pool: db.Pool) -> None:
    with pool.transaction() as conn:
        conn.execute(ORDER.format(cols="", pid=uuid.uuid4().hex, vals=""))


@pytest.mark.parametrize("sql", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_constraints_reject_bad_rows(pool: db.Pool, an_order: None, sql: str) -> None:
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised, pool.transaction() as conn:
        conn.execute(sql)
    sqlstate = db.sqlstate(raised.value)
    assert sqlstate is not None and sqlstate.startswith("23"), raised.value  # integrity


def test_embedded_postgres_is_used_when_no_database_url_is_set(tmp_path) -> None:
    import pgserver

    cfg = config.load({"AUREN_DATA_DIR": str(tmp_path)})
    assert cfg.database_url is None
    pgdata = db.embedded_pgdata(cfg)
    # Started here first so that this handle, which stops and deletes it, is the one reused.
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    local = db.build_pool(cfg)
    try:
        with local.connect() as conn:
            assert conn.execute("SELECT 1").scalar() == 1
        assert (pgdata / "PG_VERSION").is_file()
    finally:
        local.dispose()
        server.cleanup()
    assert not pgdata.exists()
