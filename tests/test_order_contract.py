"""After payment the order is a contract: ops move it through production and shipping (the
shopper gets one shipped email and sees the timeline), refunds change it only when they are of
its own charge, and a flag stays until ops clear it. Real Postgres, the real functions."""

from __future__ import annotations

import threading
from typing import Any

import pg8000.dbapi
import pytest

from common.infra import config, db
from common.providers import checkout as checkout_provider
from common.providers import mail, sheets
from tests.conftest import function_app
from tests.test_checkout import (
    TEE_ITEM,
    Pending,
    checkout,
    new_draft,
    new_shopper,
    order_row,
    pending_order,
)
from tests.test_webhook import effects_performed, event, mail_file, send, session_object


@pytest.fixture(autouse=True)
def local_providers(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


def ops(path: str, body: dict[str, Any]) -> Any:
    """Post to an ops route, and wait for the side effects it handed to the queue."""
    token = config.settings().ops_token
    response = (
        function_app("ops")
        .test_client()
        .post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    )
    effects_performed()
    return response


def move(order_id: str, status: str, **tracking: str) -> Any:
    return ops(f"/api/ops/orders/{order_id}/status", {"status": status, **tracking})


def paid_order(pool: db.Pool) -> tuple[Any, str]:
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending))
    assert send(completed).get_json()["outcome"] == "paid"
    return pending, completed["id"]


def shopper_view(pending: Any) -> dict[str, Any]:
    response = pending.shopper.client("orders").get(f"/api/orders/{pending.order_id}")
    assert response.status_code == 200
    order: dict[str, Any] = response.get_json()
    return order


def refund(pending: Any, *, amount_refunded: int, payment_intent: str, **extra: Any) -> Any:
    charge = {
        "id": "ch_" + payment_intent[-8:],
        "object": "charge",
        "amount": pending.amount_cents,
        "amount_refunded": amount_refunded,
        "currency": "usd",
        "payment_intent": payment_intent,
        "refunded": amount_refunded >= pending.amount_cents,
        "metadata": {"order_id": pending.order_id},
        **extra,
    }
    return send(event("charge.refunded", charge)).get_json()


def own_payment(pending: Any) -> str:
    return str(session_object(pending)["payment_intent"])


def test_ops_move_a_paid_order_to_the_customer_and_the_timeline_says_who(pool) -> None:
    pending, paid_event = paid_order(pool)
    assert move(pending.order_id, "shipped", tracking_number="1Z999AA10123456784").status_code == (
        409
    )
    assert move(pending.order_id, "in_production").status_code == 200
    no_tracking = move(pending.order_id, "shipped")
    assert no_tracking.status_code == 422
    assert no_tracking.get_json()["error"]["code"] == "tracking_number_required"
    shipped = move(
        pending.order_id,
        "shipped",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
    )
    assert shipped.status_code == 200, shipped.get_json()
    assert move(pending.order_id, "delivered").status_code == 200
    assert move(pending.order_id, "in_production").status_code == 409

    order = shopper_view(pending)
    assert order["status"] == "delivered"
    assert order["tracking"] == {
        "carrier": "UPS",
        "number": "1Z999AA10123456784",
        "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
    }
    timeline = [(e["status"], e["cause"]) for e in order["events"]]
    assert timeline == [
        ("draft", "shopper"),
        ("pending_payment", "shopper"),
        ("paid", f"stripe:{paid_event}"),
        ("in_production", "ops"),
        ("shipped", "ops"),
        ("delivered", "ops"),
    ]
    times = [e["at"] for e in order["events"]]
    assert times == sorted(times)


def test_a_shipped_email_goes_out_once_however_often_ops_ask(pool) -> None:
    pending, _ = paid_order(pool)
    assert move(pending.order_id, "in_production").status_code == 200
    answers: list[int] = []

    def ship() -> None:
        answers.append(
            move(pending.order_id, "shipped", tracking_number="9400111202555842761023").status_code
        )

    threads = [threading.Thread(target=ship) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 4
    email = mail_file(f"shipped_email:{pending.order_id}")
    assert email.is_file()
    assert "9400111202555842761023" in email.read_text()
    with pool.connect() as conn:
        shipped_events = conn.execute(
            "SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id"
            " WHERE o.public_id = :p AND e.status = 'shipped'",
            {"p": pending.order_id},
        ).scalar_one()
        emails = conn.execute(
            "SELECT count(*) FROM outbox"
            " WHERE kind = 'shipped_email' AND payload->>'order_id' = :p",
            {"p": pending.order_id},
        ).scalar_one()
    assert (shipped_events, emails) == (1, 1)


def test_ops_routes_need_the_token_and_a_known_order(pool) -> None:
    pending, _ = paid_order(pool)
    client = function_app("ops").test_client()
    path = f"/api/ops/orders/{pending.order_id}/status"
    assert client.post(path, json={"status": "in_production"}).status_code == 401
    assert move("ord_" + "x" * 24, "in_production").status_code == 404
    assert move(pending.order_id, "refunded").status_code == 422
    assert order_row(pool, pending.order_id).status == "paid"


def test_a_full_refund_of_the_orders_own_charge_refunds_it(pool) -> None:
    pending, _ = paid_order(pool)
    answer = refund(
        pending, amount_refunded=pending.amount_cents, payment_intent=own_payment(pending)
    )
    assert answer["outcome"] == "refunded"
    order = shopper_view(pending)
    assert order["status"] == "refunded"
    assert order["refunded_cents"] == pending.amount_cents
    assert order["events"][-1]["status"] == "refunded"


def test_a_partial_refund_records_the_amount_and_keeps_the_status(pool) -> None:
    pending, _ = paid_order(pool)
    assert move(pending.order_id, "in_production").status_code == 200
    answer = refund(pending, amount_refunded=500, payment_intent=own_payment(pending))
    assert answer["outcome"] == "partially_refunded"
    order = shopper_view(pending)
    assert (order["status"], order["refunded_cents"]) == ("in_production", 500)
    again = refund(pending, amount_refunded=1500, payment_intent=own_payment(pending))
    assert again["outcome"] == "partially_refunded"
    assert shopper_view(pending)["refunded_cents"] == 1500


def test_a_refund_of_another_charge_naming_the_order_only_flags_it(pool) -> None:
    pending, _ = paid_order(pool)
    answer = refund(pending, amount_refunded=pending.amount_cents, payment_intent="pi_someoneelse")
    assert answer["outcome"] == "flagged"
    row = order_row(pool, pending.order_id)
    assert row.status == "paid"
    assert "not the order's charge" in row.flagged_reason
    assert shopper_view(pending)["refunded_cents"] == 0


def test_a_flag_survives_reopen_a_new_checkout_and_a_later_payment(pool) -> None:
    pending = pending_order(pool)
    wrong = session_object(pending, amount_total=1)
    assert send(event("checkout.session.completed", wrong)).get_json()["outcome"] == "flagged"
    reason = order_row(pool, pending.order_id).flagged_reason
    assert reason
    client = pending.shopper.client("checkout")
    assert (
        client.post("/api/checkout/reopen", json={"order_id": pending.order_id}).status_code == 200
    )
    assert order_row(pool, pending.order_id).flagged_reason == reason
    again = checkout(pending.shopper, pending.order_id)
    assert again.status_code == 200
    row = order_row(pool, pending.order_id)
    assert (row.status, row.flagged_reason) == ("pending_payment", reason)
    session = {**session_object(pending), "id": again.get_json()["session_id"]}
    assert send(event("checkout.session.completed", session)).get_json()["outcome"] == "flagged"
    row = order_row(pool, pending.order_id)
    assert row.status == "pending_payment" and row.flagged_reason == reason

    paid_session = checkout_provider.local_session(session["id"])
    assert paid_session is not None
    checkout_provider.set_local_session_status(paid_session, "complete")  # as Stripe has it
    cleared = ops(
        f"/api/ops/orders/{pending.order_id}/clear-flag", {"reason": "called the shopper"}
    )
    assert cleared.status_code == 200
    row = order_row(pool, pending.order_id)
    assert row.flagged_reason is None
    # The payment that came while it was flagged is settled now: it matches, so it is paid.
    assert row.status == "paid"
    assert cleared.get_json()["events"][-1]["cause"] == "ops"
    with pool.connect() as conn:
        kinds = conn.execute(
            "SELECT e.kind, e.cause, e.detail FROM order_events e JOIN orders o"
            " ON o.id = e.order_id WHERE o.public_id = :p AND e.kind <> 'status' ORDER BY e.id",
            {"p": pending.order_id},
        ).all()
    assert [k.kind for k in kinds] == ["flagged", "flagged", "flag_cleared"]
    assert kinds[-1].cause == "ops" and kinds[-1].detail == "called the shopper"
    second = ops(f"/api/ops/orders/{pending.order_id}/clear-flag", {"reason": "again"})
    assert second.status_code == 409


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE order_events SET cause = 'someone' WHERE order_id = :pk",
        "DELETE FROM order_events WHERE order_id = :pk",
        "TRUNCATE order_events",
    ],
)
def test_the_history_is_append_only(pool, statement: str) -> None:
    pending, _ = paid_order(pool)
    with pool.connect() as conn:
        pk = conn.execute(
            "SELECT id FROM orders WHERE public_id = :p", {"p": pending.order_id}
        ).scalar_one()
    with pytest.raises(pg8000.dbapi.DatabaseError, match="append-only"), pool.transaction() as conn:
        conn.execute(statement, {"pk": pk})


def test_a_drafts_currency_follows_its_items(pool, monkeypatch) -> None:
    shopper = new_shopper(pool)
    with pool.transaction() as conn:
        conn.execute("UPDATE products SET currency = 'eur' WHERE id = 'tote'")
    from common.shop import catalog

    catalog.forget()
    try:
        order = new_draft(shopper, [TEE_ITEM])
        assert order["currency"] == "usd"
        tote = {"product_id": "tote", "color": "Natural", "sizes": {"OS": 12}}
        response = shopper.client("orders").post(
            "/api/orders/draft", json={"order_id": order["id"], "items": [tote]}
        )
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["currency"] == "eur"
    finally:
        with pool.transaction() as conn:
            conn.execute("UPDATE products SET currency = 'usd' WHERE id = 'tote'")
        catalog.forget()


TITLE = {
    "id": "title",
    "type": "text",
    "area": "front",
    "x": 0.5,
    "y": 0.4,
    "text": "RIVERSIDE FC",
    "font": "Aileron Black",
    "size": 0.12,
    "color": "#ffffff",
}


def save_design(shopper: Any, **body: Any) -> dict[str, Any]:
    response = shopper.client("generate_image").post("/api/designs", json=body)
    assert response.status_code == 200, response.get_json()
    design: dict[str, Any] = response.get_json()
    return design


def test_a_paid_order_keeps_the_design_it_was_paid_for(pool) -> None:
    shopper = new_shopper(pool)
    design = save_design(shopper, product_id="classic-tee", color="Black", layers=[TITLE])
    item = {**TEE_ITEM, "design_id": design["design_id"]}
    order = new_draft(shopper, [item])
    assert order["items"][0]["design_version"] == design["version"]
    started = checkout(shopper, order["id"])
    assert started.status_code == 200
    pending = type("P", (), {})()
    pending.shopper, pending.order_id = shopper, order["id"]
    pending.session_id, pending.amount_cents = (
        started.get_json()["session_id"],
        order["total_cents"],
    )
    pending.currency = "usd"
    assert send(event("checkout.session.completed", session_object(pending))).status_code == 200
    paid = shopper_view(pending)
    assert paid["status"] == "paid"

    moved = {**TITLE, "text": "RIVERSIDE UTD", "x": 0.48, "size": 0.1}
    edited = save_design(
        shopper, design_id=design["design_id"], product_id="hoodie", color="Navy", layers=[moved]
    )
    assert edited["version"] > design["version"]
    assert edited["mockups"] != design["mockups"]

    after = shopper_view(pending)
    for field in ("items", "total_cents", "subtotal_cents", "currency"):
        assert after[field] == paid[field], field
    [line] = after["items"]
    assert line["design_version"] == design["version"]
    assert line["mockups"] == design["mockups"]
    assert (line["product_id"], line["color"]) == ("classic-tee", "Black")

    again = new_draft(shopper, [{**item, "product_id": "hoodie", "color": "Navy"}])
    assert again["items"][0]["design_version"] == edited["version"]
    assert again["items"][0]["mockups"] == edited["mockups"]


def test_reopening_an_order_takes_the_latest_design_at_the_next_checkout(pool) -> None:
    shopper = new_shopper(pool)
    design = save_design(shopper, product_id="classic-tee", color="Black", layers=[TITLE])
    order = new_draft(shopper, [{**TEE_ITEM, "design_id": design["design_id"]}])
    assert checkout(shopper, order["id"]).status_code == 200
    edited = save_design(
        shopper,
        design_id=design["design_id"],
        product_id="classic-tee",
        color="Black",
        layers=[{**TITLE, "text": "NEW NAME"}],
    )
    frozen = shopper.client("orders").get(f"/api/orders/{order['id']}").get_json()
    assert frozen["items"][0]["design_version"] == design["version"]
    reopened = shopper.client("checkout").post(
        "/api/checkout/reopen", json={"order_id": order["id"]}
    )
    assert reopened.status_code == 200
    assert reopened.get_json()["items"][0]["design_version"] == edited["version"]
    assert checkout(shopper, order["id"]).status_code == 200
    again = shopper.client("orders").get(f"/api/orders/{order['id']}").get_json()
    assert again["items"][0]["design_version"] == edited["version"]


def test_a_paid_order_gets_its_print_files_once_and_only_ops_open_them(pool) -> None:
    import io
    from urllib.parse import urlsplit

    from PIL import Image

    from common.effects import production
    from common.infra import db
    from tests.test_webhook import sheet_rows

    shopper = new_shopper(pool)
    design = save_design(shopper, product_id="classic-tee", color="Black", layers=[TITLE])
    order = new_draft(shopper, [{**TEE_ITEM, "design_id": design["design_id"]}])
    started = checkout(shopper, order["id"]).get_json()
    pending = Pending(shopper, order["id"], started["session_id"], order["total_cents"], "usd")
    assert send(event("checkout.session.completed", session_object(pending))).status_code == 200

    [row] = sheet_rows(order["id"])
    assert len(row) == 11
    front, back, roster = row[8], row[9], row[10]
    assert roster == ""  # not an order of a group
    assert front.startswith(config.settings().site_url + "/api/ops/print-files/")
    assert back == ""  # nothing is printed on the back
    [line] = shopper_view(pending)["items"]
    assert set(line["print_files"]) == {"front"}

    client = function_app("ops").test_client()
    link = urlsplit(front)
    opened = client.get(f"{link.path}?{link.query}")
    assert opened.status_code == 200 and opened.mimetype == "image/png"
    image = Image.open(io.BytesIO(opened.data))
    [area] = catalog_area("classic-tee", "front")
    assert image.size == (round(area["width_in"] * 300), round(area["height_in"] * 300))
    assert image.mode == "RGBA" and image.getchannel("A").getpixel((0, 0)) == 0
    assert client.get(link.path).status_code == 403
    forged = link.query.replace("signature=", "signature=0")
    assert client.get(f"{link.path}?{forged}").status_code == 403
    expires = link.query.split("&")[0]
    for hostile in (
        "expires=%C2%B2&signature=" + "0" * 64,
        "expires=" + "9" * 5000 + "&signature=" + "0" * 64,
        f"{expires}&signature=%C3%A9",
    ):
        assert client.get(f"{link.path}?{hostile}").status_code == 403
    token = {"Authorization": f"Bearer {config.settings().ops_token}"}
    assert client.get(line["print_files"]["front"], headers=token).status_code == 200
    assert shopper.client("ops").get(line["print_files"]["front"]).status_code == 403

    ops_mail = mail_file(f"ops_notification_email:paid:{order['id']}").read_text()
    assert "Print files" in ops_mail and "/api/ops/print-files/" in ops_mail
    with db.transaction() as conn:
        # The queue's consumer made them with the order's other effects, not the drain.
        done = conn.execute(
            "SELECT done_at FROM outbox WHERE dedupe_key = :k",
            {"k": f"print_files:{order['id']}"},
        ).scalar_one()
        assert done is not None
        assert production.make_for_order(conn, order["id"]) == {}  # a rerun writes nothing
        files = conn.execute(
            "SELECT count(*) FROM order_print_files f JOIN order_items i"
            " ON i.id = f.order_item_id JOIN orders o ON o.id = i.order_id"
            " WHERE o.public_id = :p",
            {"p": order["id"]},
        ).scalar_one()
    assert files == 1


def catalog_area(product_id: str, side: str) -> list[dict[str, Any]]:
    products = function_app("orders").test_client().get("/api/catalog").get_json()["products"]
    product = next(p for p in products if p["id"] == product_id)
    return [a for a in product["print_areas"] if a["name"] == side]


def drain_all() -> dict[str, int]:
    answer: dict[str, int] = ops("/api/ops/outbox/drain", {}).get_json()
    return answer


def test_a_design_moved_to_another_product_is_not_paid_on_the_old_one(pool) -> None:
    shopper = new_shopper(pool)
    design = save_design(shopper, product_id="classic-tee", color="Black", layers=[TITLE])
    order = new_draft(shopper, [{**TEE_ITEM, "design_id": design["design_id"]}])
    save_design(
        shopper, design_id=design["design_id"], product_id="hoodie", color="Navy", layers=[TITLE]
    )
    refused = checkout(shopper, order["id"])
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "design_product_mismatch"
    assert order_row(pool, order["id"]).status == "draft"


def test_the_confirmation_email_shows_front_and_back(pool) -> None:
    shopper = new_shopper(pool)
    back = {**TITLE, "id": "name", "area": "back", "text": "NUMBER 9"}
    design = save_design(shopper, product_id="classic-tee", color="Black", layers=[TITLE, back])
    order = new_draft(shopper, [{**TEE_ITEM, "design_id": design["design_id"]}])
    started = checkout(shopper, order["id"]).get_json()
    pending = Pending(shopper, order["id"], started["session_id"], order["total_cents"], "usd")
    assert send(event("checkout.session.completed", session_object(pending))).status_code == 200
    import email as email_parser
    from email import policy

    message = email_parser.message_from_bytes(
        mail_file(f"order_confirmation_email:{order['id']}").read_bytes(), policy=policy.default
    )
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    html = body.get_content()
    assert design["mockups"]["front"] in html and design["mockups"]["back"] in html
    assert 'alt="Back"' in html
