"""How many round trips to the database the warm order routes make (issue 16): every one is a
wait on the network, so a count that grows is a slower route. Counted at the one place every
round trip passes (`Connection._run`), on the real database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from common.infra import db
from tests.conftest import function_app

ITEMS = [
    {"product_id": "classic-tee", "color": "Black", "sizes": {"S": 4, "M": 10, "L": 6}},
    {"product_id": "hoodie", "color": "Navy", "sizes": {"M": 5, "XL": 3}},
]


@pytest.fixture
def round_trips(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL of each round trip, as it is sent; no pings (the connections are warm)."""
    monkeypatch.setattr(db, "PING_AFTER_SECONDS", 3600.0)
    sent: list[str] = []
    pipelined, simple = db._pipelined, db.Connection.simple

    def statement(raw: Any, sql: str, vals: tuple[Any, ...]) -> Any:
        sent.append(" ".join(sql.split())[:60])
        return pipelined(raw, sql, vals)

    def simple_query(conn: db.Connection, sql: str) -> None:
        sent.append(sql)
        simple(conn, sql)

    monkeypatch.setattr(db, "_pipelined", statement)
    monkeypatch.setattr(db.Connection, "simple", simple_query)
    yield sent


def test_an_order_read_is_one_statement_outside_a_transaction(round_trips: list[str]) -> None:
    client = function_app("orders").test_client()
    order = client.post("/api/orders/draft", json={"items": ITEMS}).get_json()
    client.get(f"/api/orders/{order['id']}")  # the session's revocation check, kept a while
    round_trips.clear()
    read = client.get(f"/api/orders/{order['id']}")
    assert read.status_code == 200
    assert read.get_json()["items"] == order["items"]
    assert len(round_trips) == 1, round_trips


def test_a_new_draft_is_four_round_trips(round_trips: list[str]) -> None:
    client = function_app("orders").test_client()
    created = client.post("/api/orders/draft", json={"items": ITEMS})
    assert created.status_code == 200, created.get_json()
    # The order with its first history entry (BEGIN goes with it), its items with their sizes
    # and totals, the order read back, COMMIT.
    assert len(round_trips) == 4, round_trips
    assert round_trips[-1] == "COMMIT"


def test_rewriting_a_draft_is_five_round_trips(round_trips: list[str]) -> None:
    client = function_app("orders").test_client()
    order = client.post("/api/orders/draft", json={"items": ITEMS}).get_json()
    client.get(f"/api/orders/{order['id']}")  # the session's revocation check, kept a while
    round_trips.clear()
    body = {"order_id": order["id"], "items": [ITEMS[1], ITEMS[0]]}
    rewritten = client.post("/api/orders/draft", json=body)
    assert rewritten.status_code == 200, rewritten.get_json()
    assert [i["product_id"] for i in rewritten.get_json()["items"]] == ["hoodie", "classic-tee"]
    # The lock (BEGIN goes with it), the old items removed, the new ones written, the read,
    # COMMIT.
    assert len(round_trips) == 5, round_trips
    assert "BEGIN" not in round_trips
