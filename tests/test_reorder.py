"""`POST /api/orders/<id>/reorder`: a new draft with the same items as one of the caller's
orders, each following its design's latest version, at today's prices."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from common.infra import db
from common.providers import mail, sheets
from common.shop import catalog
from tests.test_checkout import (
    Pending,
    Shopper,
    checkout,
    new_draft,
    new_shopper,
    pending_order,
)
from tests.test_webhook import event, send, session_object


@pytest.fixture(autouse=True)
def local_providers(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


def text_layer(words: str) -> dict[str, Any]:
    return {"id": "title", "type": "text", "area": "front", "x": 0.5, "y": 0.3, "text": words}


def save_design(shopper: Shopper, words: str, design_id: str | None = None) -> dict[str, Any]:
    browser = shopper.client("generate_image")
    browser.environ_base["REMOTE_ADDR"] = f"198.51.100.{uuid.uuid4().int % 250}"
    body: dict[str, Any] = {"product_id": "classic-tee", "color": "Black"}
    body["layers"] = [text_layer(words)]
    if design_id:
        body["design_id"] = design_id
    response = browser.post("/api/designs", json=body)
    assert response.status_code == 200, response.get_json()
    design: dict[str, Any] = response.get_json()
    return design


def reorder(shopper: Shopper, order_id: str, **headers: str) -> Any:
    return shopper.client("orders").post(f"/api/orders/{order_id}/reorder", headers=headers)


def pay(pending: Pending) -> None:
    answer = send(event("checkout.session.completed", session_object(pending)))
    assert answer.get_json()["outcome"] == "paid"


def test_a_paid_order_is_ordered_again_with_the_design_s_latest_version_at_today_s_prices(
    pool: db.Pool,
) -> None:
    shopper = new_shopper(pool)
    design = save_design(shopper, "Team Auren")
    items = [
        {
            "product_id": "classic-tee",
            "design_id": design["design_id"],
            "color": "Black",
            "sizes": {"M": 10, "2XL": 2},
        },
        {"product_id": "tote", "color": "Natural", "sizes": {"OS": 3}},
    ]
    order = new_draft(shopper, items)
    assert checkout(shopper, order["id"]).status_code == 200
    with pool.connect() as conn:
        session_id = conn.execute(
            "SELECT stripe_checkout_session_id FROM orders WHERE public_id = :p",
            {"p": order["id"]},
        ).scalar_one()
    pay(Pending(shopper, order["id"], session_id, order["total_cents"], "usd"))
    edited = save_design(shopper, "Team Auren 2027", design["design_id"])
    assert edited["version"] == design["version"] + 1
    with pool.transaction() as conn:  # the tee costs more today
        conn.execute(
            "UPDATE product_price_tiers SET unit_price_cents = unit_price_cents + 100"
            " WHERE product_id = 'classic-tee' AND min_quantity = 12"
        )
    catalog.forget()
    try:
        response = reorder(shopper, order["id"])
    finally:
        with pool.transaction() as conn:
            conn.execute(
                "UPDATE product_price_tiers SET unit_price_cents = unit_price_cents - 100"
                " WHERE product_id = 'classic-tee' AND min_quantity = 12"
            )
        catalog.forget()
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    again = response.get_json()
    assert again["id"] != order["id"] and again["number"] != order["number"]
    assert again["status"] == "draft"
    assert [(i["product_id"], i["design_id"], i["color"], i["sizes"]) for i in again["items"]] == [
        (i["product_id"], i["design_id"], i["color"], i["sizes"]) for i in order["items"]
    ]
    tee = again["items"][0]
    assert tee["design_version"] == edited["version"]
    assert tee["mockups"]["front"] == edited["mockups"]["front"]
    assert tee["tier_unit_price_cents"] == order["items"][0]["tier_unit_price_cents"] + 100
    # The paid order keeps what it was.
    paid = shopper.client("orders").get(f"/api/orders/{order['id']}").get_json()
    assert paid["status"] == "paid" and paid["items"][0]["design_version"] == design["version"]
    mine = shopper.client("orders").get("/api/orders").get_json()["orders"]
    assert mine[0]["id"] == again["id"]


def test_a_draft_is_copied_too_and_what_is_no_longer_sold_is_left_out(pool) -> None:
    shopper = new_shopper(pool)
    order = new_draft(
        shopper,
        [
            {"product_id": "classic-tee", "color": "Sand", "sizes": {"M": 4}},
            {"product_id": "tote", "color": "Natural", "sizes": {"OS": 5}},
        ],
    )
    with pool.transaction() as conn:
        conn.execute("UPDATE products SET active = false WHERE id = 'tote'")
    catalog.forget()
    try:
        response = reorder(shopper, order["id"])
        assert response.status_code == 201
        assert [i["product_id"] for i in response.get_json()["items"]] == ["classic-tee"]
        with pool.transaction() as conn:
            conn.execute("UPDATE products SET active = true WHERE id = 'tote'")
        catalog.forget()
        only_totes = new_draft(
            shopper, [{"product_id": "tote", "color": "Black", "sizes": {"OS": 1}}]
        )
        with pool.transaction() as conn:
            conn.execute("UPDATE products SET active = false WHERE id = 'tote'")
        catalog.forget()
        gone = reorder(shopper, only_totes["id"])
        assert gone.status_code == 409
        assert gone.get_json()["error"]["code"] == "nothing_to_reorder"
    finally:
        with pool.transaction() as conn:
            conn.execute("UPDATE products SET active = true WHERE id = 'tote'")
        catalog.forget()
    empty = new_draft(shopper, [])
    assert reorder(shopper, empty["id"]).status_code == 409


def test_only_the_owner_reorders_and_only_from_the_site(pool) -> None:
    pending = pending_order(pool)
    stranger = new_shopper(pool)
    for who, order_id in (
        (stranger, pending.order_id),
        (pending.shopper, "ord_" + "x" * 24),
        (pending.shopper, "not-an-order"),
    ):
        response = reorder(who, order_id)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] in ("order_not_found", "not_found")
    cross = reorder(pending.shopper, pending.order_id, Origin="https://evil.example")
    assert cross.status_code == 403
    wrong = pending.shopper.client("orders").get(f"/api/orders/{pending.order_id}/reorder")
    assert wrong.status_code == 405
