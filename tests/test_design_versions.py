"""Design versions (issue 12, "the order is a contract"): every write of a design records its
state as an append-only row of `design_versions`. The contract the order store relies on when
it freezes an order line at checkout: the row (design, designs.version) exists and holds what
the live row holds, and a version, once written, never changes, whatever is edited later."""

from __future__ import annotations

from typing import Any

import flask.testing
import pg8000.dbapi
import pytest

from common.core import errors
from common.infra import db
from common.studio import designs
from common.web import sessions
from tests.conftest import function_app
from tests.test_chat_api import chat, finished_job
from tests.test_generate_image_api import client, generate, stored_path
from tests.test_generate_image_api import made as job_design

SNAPSHOT = (
    "product_id",
    "color",
    "layers",
    "brief",
    "prompt",
    "artwork_url",
    "mockup_front_url",
    "mockup_back_url",
)
LIVE = (
    "d.product_id, d.color, d.layers, d.brief, d.prompt, d.artwork_url,"
    " d.final_image_url AS mockup_front_url, d.mockup_back_url"
)
VERSION = ", ".join(f"v.{column}" for column in SNAPSHOT)


def live(pool: db.Pool, design_id: str) -> tuple[int, dict[str, Any]]:
    """The design's live version number and state, from `designs`."""
    with pool.connect() as conn:
        row = conn.execute(
            f"SELECT d.version, {LIVE} FROM designs d WHERE d.public_id = :d",
            {"d": design_id},
        ).one()
    state = row._asdict()
    return state.pop("version"), state


def versions(pool: db.Pool, design_id: str) -> dict[int, dict[str, Any]]:
    """Every recorded version of the design: number -> state (and created_at)."""
    with pool.connect() as conn:
        rows = conn.execute(
            f"SELECT v.version, {VERSION}, v.created_at FROM design_versions v"
            " JOIN designs d ON d.id = v.design_id WHERE d.public_id = :d ORDER BY v.version",
            {"d": design_id},
        )
        return {
            row.version: {k: v for k, v in row._asdict().items() if k != "version"} for row in rows
        }


def frozen(pool: db.Pool, design_id: str) -> dict[str, Any]:
    """What an order line frozen now reads: the version row joined on the design's version."""
    with pool.connect() as conn:
        row = conn.execute(
            f"SELECT {VERSION} FROM designs d JOIN design_versions v"
            " ON v.design_id = d.id AND v.version = d.version WHERE d.public_id = :d",
            {"d": design_id},
        ).one()
    return row._asdict()


def state_of(row: dict[str, Any]) -> dict[str, Any]:
    return {column: row[column] for column in SNAPSHOT}


def bare(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Layers as stored: without the `url` the response adds to image layers."""
    return [{k: v for k, v in layer.items() if k != "url"} for layer in layers]


def check_contract(
    pool: db.Pool, design: dict[str, Any], before: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """After a write answered with `design`: versions 1..N exist, N is the live one and holds
    what `designs` and the response hold, and every version recorded `before` is untouched."""
    design_id = design["design_id"]
    number, state = live(pool, design_id)
    recorded = versions(pool, design_id)
    assert number == design["version"]
    assert list(recorded) == list(range(1, number + 1))
    assert state_of(recorded[number]) == state == frozen(pool, design_id)
    assert state["product_id"] == design["product_id"] and state["color"] == design["color"]
    assert state["layers"] == bare(design["layers"])
    assert state["brief"] == design["brief"] and state["prompt"] == design["prompt"]
    assert state["artwork_url"] == design["artwork_url"]
    assert state["mockup_front_url"] == design["mockups"]["front"]
    assert state["mockup_back_url"] == design["mockups"]["back"]
    for old, kept in before.items():
        assert recorded[old] == kept, f"version {old} changed"
        for url in (kept["mockup_front_url"], kept["mockup_back_url"], kept["artwork_url"]):
            if url:
                assert stored_path(url).is_file(), f"{url} of version {old} is gone"
    return recorded


@pytest.fixture
def studio(database_url: str) -> flask.testing.FlaskClient:
    return client()


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_every_edit_is_a_new_version_and_old_versions_never_change(
    studio: flask.testing.FlaskClient, pool: db.Pool
) -> None:
    made = job_design(
        studio, generate(studio, prompt="a bold tiger", product_id="classic-tee", color="White")
    )
    assert made["version"] == 1
    history = check_contract(pool, made, {})
    design_id = made["design_id"]

    # POST /api/designs moves the design to another product and colour, with moved layers.
    art = {**made["layers"][0], "x": 0.45, "y": 0.5, "scale": 0.5, "rotation": 8}
    moved = ok(
        studio.post(
            "/api/designs",
            json={"design_id": design_id, "product_id": "hoodie", "color": "Navy", "layers": [art]},
        )
    )
    assert moved["version"] == 2
    history = check_contract(pool, moved, history)
    assert (history[1]["product_id"], history[1]["color"]) == ("classic-tee", "White")
    assert (history[2]["product_id"], history[2]["color"]) == ("hoodie", "Navy")
    assert history[1]["layers"][0]["rotation"] == 0 and history[2]["layers"][0]["rotation"] == 8
    assert history[2]["mockup_front_url"] != history[1]["mockup_front_url"]

    # POST /api/generate-image: new artwork, and the colour changed again.
    redrawn = job_design(
        studio,
        generate(
            studio, prompt="a bold rose", product_id="hoodie", color="Black", design_id=design_id
        ),
    )
    assert redrawn["version"] == 3
    history = check_contract(pool, redrawn, history)
    assert history[3]["color"] == "Black" and history[3]["prompt"] == "a bold rose"
    assert history[3]["artwork_url"] != history[2]["artwork_url"] == history[1]["artwork_url"]

    # A chat edit of the design.
    talker = function_app("chat").test_client()
    talker.environ_base["REMOTE_ADDR"] = studio.environ_base["REMOTE_ADDR"]
    cookie = studio.get_cookie(sessions.COOKIE_NAME)
    assert cookie is not None
    talker.set_cookie(sessions.COOKIE_NAME, cookie.value)
    turn = chat(talker, "make the rose bigger and purple", design_id=design_id)
    edited = finished_job(studio, turn["job_id"])["design"]
    assert edited["version"] == 4
    history = check_contract(pool, edited, history)
    assert history[4]["brief"]["image"]["colors"] == ["#8e44ad"]
    assert history[3]["brief"]["image"]["colors"] != ["#8e44ad"]

    assert frozen(pool, design_id) == state_of(history[4])


def test_a_new_design_from_layers_is_version_one(
    studio: flask.testing.FlaskClient, pool: db.Pool
) -> None:
    title = {"id": "title", "type": "text", "area": "back", "x": 0.5, "y": 0.4, "text": "Crew"}
    saved = ok(
        studio.post(
            "/api/designs", json={"product_id": "crewneck", "color": "Sand", "layers": [title]}
        )
    )
    assert saved["version"] == 1
    [version] = check_contract(pool, saved, {}).values()
    assert version["artwork_url"] is None and version["prompt"] is None
    recolored = ok(
        studio.post(
            "/api/designs",
            json={
                "design_id": saved["design_id"],
                "product_id": "crewneck",
                "color": "Dusty Rose",
                "layers": saved["layers"],
            },
        )
    )
    history = check_contract(pool, recolored, {1: version})
    assert history[2]["color"] == "Dusty Rose" and history[2]["layers"] == version["layers"]
    assert history[2]["mockup_back_url"] != version["mockup_back_url"]


def test_failed_writes_record_no_version(studio: flask.testing.FlaskClient, pool: db.Pool) -> None:
    made = job_design(
        studio, generate(studio, prompt="a minimal wave", product_id="tote", color="Natural")
    )
    design_id = made["design_id"]
    history = check_contract(pool, made, {})
    outside = {**made["layers"][0], "x": 0.95, "scale": 1.0}
    refused = studio.post(
        "/api/designs",
        json={"design_id": design_id, "product_id": "tote", "color": "Black", "layers": [outside]},
    )
    assert refused.status_code == 422
    unknown = studio.post(
        "/api/designs",
        json={"design_id": design_id, "product_id": "tote", "color": "Chartreuse", "layers": []},
    )
    assert unknown.status_code == 422
    assert versions(pool, design_id) == history

    # A write from a stale read (someone saved meanwhile) is a 409 and records nothing.
    cookie = studio.get_cookie(sessions.COOKIE_NAME)
    assert cookie is not None
    session = sessions.decode(cookie.value)
    assert session is not None
    with db.connect() as conn:
        stale = designs.load(conn, session, design_id)
    newer = job_design(
        studio,
        generate(
            studio, prompt="a minimal sun", product_id="tote", color="Natural", design_id=design_id
        ),
    )
    history = check_contract(pool, newer, history)
    again = designs._Made(
        product_id="tote",
        color="Black",
        layers=stale.layers,
        brief=stale.brief,
        prompt=stale.prompt,
        artwork_url=stale.artwork_url,
        front_url=stale.front_url or "",
        back_url=stale.back_url or "",
    )
    with pytest.raises(errors.Conflict) as raised:
        designs._save(session, stale, again)
    assert raised.value.code == "design_changed"
    assert versions(pool, design_id) == history


# --- the database keeps the contract whoever writes ----------------------------------------


@pytest.fixture
def a_design(studio: flask.testing.FlaskClient, pool: db.Pool) -> tuple[str, int]:
    """(public id, pk) of a new design with two versions."""
    made = job_design(
        studio, generate(studio, prompt="a bold star", product_id="classic-tee", color="Black")
    )
    job_design(
        studio,
        generate(
            studio,
            prompt="a bold moon",
            product_id="classic-tee",
            color="Black",
            design_id=made["design_id"],
        ),
    )
    with pool.connect() as conn:
        pk = conn.execute(
            "SELECT id FROM designs WHERE public_id = :d", {"d": made["design_id"]}
        ).scalar_one()
    return made["design_id"], pk


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE design_versions SET color = 'White' WHERE design_id = :pk AND version = 1",
        "UPDATE design_versions SET layers = '[]' WHERE design_id = :pk",
        "DELETE FROM design_versions WHERE design_id = :pk AND version = 1",
        "UPDATE designs SET mockup_back_url = '/storage/other.png' WHERE id = :pk",
        "UPDATE designs SET color = 'White' WHERE id = :pk",
        "UPDATE designs SET version = 1 WHERE id = :pk",
        "UPDATE designs SET version = version + 1 WHERE id = :pk",
        "UPDATE designs SET version = version + 1, prompt = 'x' WHERE id = :pk;"
        " INSERT INTO design_versions (design_id, version, product_id, color, layers, brief)"
        " SELECT id, version, product_id, color, '[]', brief FROM designs WHERE id = :pk",
    ],
    ids=[
        "update a version",
        "update every version",
        "delete a version",
        "change the live row without a new version",
        "recolor without a new version",
        "go back a version",
        "a new version without its row",
        "a new version whose row differs",
    ],
)
def test_versions_cannot_change_or_go_missing(
    pool: db.Pool, a_design: tuple[str, int], sql: str
) -> None:
    design_id, pk = a_design
    before = versions(pool, design_id)
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised, pool.transaction() as conn:
        for statement in sql.split(";"):
            conn.execute(statement, {"pk": pk})
    assert "23000" in str(raised.value)
    assert versions(pool, design_id) == before
    assert live(pool, design_id)[1] == state_of(before[2])


def test_owner_changes_need_no_version_and_a_deleted_design_takes_its_versions(
    pool: db.Pool, a_design: tuple[str, int]
) -> None:
    design_id, pk = a_design
    before = versions(pool, design_id)
    with pool.transaction() as conn:  # as a sign-in claims an anonymous shopper's designs
        conn.execute(
            "UPDATE designs SET owner_session = 'anon_x', updated_at = now() WHERE id = :pk",
            {"pk": pk},
        )
    assert versions(pool, design_id) == before
    with pool.transaction() as conn:
        conn.execute("DELETE FROM designs WHERE id = :pk", {"pk": pk})
        left = conn.execute(
            "SELECT count(*) FROM design_versions WHERE design_id = :pk", {"pk": pk}
        ).scalar_one()
    assert left == 0


# --- the migration --------------------------------------------------------------------------


def run(conn: db.Connection, sql: str) -> None:
    conn.simple(sql)


def test_the_migration_records_every_existing_design_as_its_current_version(
    empty_database: db.Pool,
) -> None:
    files = db.migration_files()
    with empty_database.transaction() as conn:
        for version, sql in files:
            if version < "0005_design_versions":
                run(conn, sql)
        run(
            conn,
            "INSERT INTO products (id, name, category, base_price_cents, image_url)"
            " VALUES ('tee', 'Tee', 'tee', 1000, '/tee.png');"
            " INSERT INTO product_colors (product_id, name, hex)"
            " VALUES ('tee', 'Black', '#151515');"
            " INSERT INTO designs (public_id, owner_session, product_id, color, layers, brief,"
            " prompt, artwork_url, final_image_url, mockup_back_url, version) VALUES"
            " ('dsn_aaaaaaaaaaaaaaaaaaaaaaaa', 'anon_a', 'tee', 'Black',"
            ' \'[{"id": "t", "type": "text"}]\', \'{"color": "Black"}\', \'a cat\','
            " '/storage/artwork/a.png', '/storage/mockups/f.png', '/storage/mockups/b.png', 7),"
            " ('dsn_bbbbbbbbbbbbbbbbbbbbbbbb', 'anon_b', 'tee', 'Black', DEFAULT, DEFAULT,"
            " NULL, NULL, NULL, NULL, DEFAULT)",
        )
        [migration] = [sql for version, sql in files if version == "0005_design_versions"]
        run(conn, migration)
        rows = conn.execute(
            f"SELECT d.public_id, v.version, {VERSION}, {LIVE} FROM designs d"
            " JOIN design_versions v ON v.design_id = d.id ORDER BY d.public_id"
        ).all()
    assert [(row[0], row[1]) for row in rows] == [
        ("dsn_aaaaaaaaaaaaaaaaaaaaaaaa", 7),
        ("dsn_bbbbbbbbbbbbbbbbbbbbbbbb", 1),
    ]
    for row in rows:
        assert tuple(row[2:10]) == tuple(row[10:18])
    assert rows[0][4] == [{"id": "t", "type": "text"}] and rows[0][9] == "/storage/mockups/b.png"
