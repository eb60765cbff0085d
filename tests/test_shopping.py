"""Issue 13 on orders, through the real functions and Postgres: numbers that add up from the
JSON alone, readable order numbers, shipping options with their arrival dates, and the rate
chosen on Checkout kept on the paid order (and in its confirmation email)."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from typing import Any

import pytest

from common.effects.order_mail import TIMES
from common.infra import config, db
from common.providers import mail, sheets
from common.shop import delivery
from tests.test_checkout import Pending, new_draft, new_shopper, order_row, pending_order
from tests.test_webhook import event, mail_file, send, session_object

FRIDAY = datetime(2026, 12, 11, 15, 0, tzinfo=UTC)
UPCHARGED = [
    {"product_id": "classic-tee", "color": "White", "sizes": {"M": 10, "L": 6, "2XL": 3, "3XL": 2}},
    {"product_id": "hoodie", "color": "Navy", "sizes": {"S": 2, "2XL": 1, "3XL": 1}},
]


@pytest.fixture(autouse=True)
def local_providers(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


@pytest.fixture
def friday(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "clock", lambda: FRIDAY)


def assert_it_adds_up(order: dict[str, Any]) -> None:
    """Every equation the storefront shows, recomputed from the order's JSON alone."""
    for item in order["items"]:
        sizes = item["size_prices"]
        assert item["pieces"] == item["quantity"] == sum(s["quantity"] for s in sizes)
        assert item["pieces"] == sum(item["sizes"].values())
        assert item["tier_unit_price_cents"] == item["unit_price_cents"]
        for size in sizes:
            assert (
                size["unit_price_cents"] == item["tier_unit_price_cents"] + size["upcharge_cents"]
            )
            assert size["total_cents"] == size["quantity"] * size["unit_price_cents"]
        assert item["upcharges_cents"] == sum(s["quantity"] * s["upcharge_cents"] for s in sizes)
        assert (
            item["pieces"] * item["tier_unit_price_cents"] + item["upcharges_cents"]
            == item["line_total_cents"]
            == sum(s["total_cents"] for s in sizes)
        )
        assert (
            item["pieces"] * item["list_unit_price_cents"] + item["upcharges_cents"]
            == item["list_total_cents"]
        )
        assert item["list_total_cents"] - item["line_total_cents"] == item["savings_cents"]
    assert order["subtotal_cents"] == sum(i["line_total_cents"] for i in order["items"])
    assert order["savings_cents"] == sum(i["savings_cents"] for i in order["items"])
    assert order["quantity"] == sum(i["pieces"] for i in order["items"])
    assert order["total_cents"] == order["subtotal_cents"] + (order["shipping_cents"] or 0)
    for option in order["shipping_options"]:
        assert option["total_cents"] == order["subtotal_cents"] + option["amount_cents"]


def test_a_draft_with_2xl_and_3xl_upcharges_adds_up_from_its_json(pool, friday) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper, UPCHARGED)
    assert_it_adds_up(order)
    tee, hoodie = order["items"]
    # 21 tees reach the 12-piece tier ($15.50); 2XL +$2, 3XL +$4.
    assert (tee["pieces"], tee["tier_unit_price_cents"]) == (21, 1550)
    assert tee["upcharges_cents"] == 3 * 200 + 2 * 400
    assert tee["line_total_cents"] == 21 * 1550 + 1400
    assert tee["list_unit_price_cents"] == 1800  # the base price, below the first tier
    # 4 hoodies stay at the base price ($48); 2XL +$3, 3XL +$6.
    assert (hoodie["pieces"], hoodie["tier_unit_price_cents"], hoodie["upcharges_cents"]) == (
        4,
        4800,
        900,
    )
    assert hoodie["savings_cents"] == 0
    assert order["shipping_cents"] is None and order["shipping"] is None
    assert order["production_days"] == 7  # the hoodie's
    # Friday 11 + 7 business days of production (Tue 22), then transit.
    assert order["shipping_options"] == [
        {
            "id": "standard",
            "name": "Standard shipping",
            "amount_cents": 0,  # the subtotal is over the free-shipping threshold
            "total_cents": order["subtotal_cents"],
            "arrives": {"earliest": "2026-12-25", "latest": "2026-12-29"},
        },
        {
            "id": "rush",
            "name": "Rush shipping",
            "amount_cents": 2495,
            "total_cents": order["subtotal_cents"] + 2495,
            "arrives": {"earliest": "2026-12-23", "latest": "2026-12-24"},
        },
    ]
    again = shopper.client("orders").get(f"/api/orders/{order['id']}").get_json()
    assert again == order


def test_an_empty_draft_has_no_shipping_options(pool) -> None:
    order = new_draft(new_shopper(pool), [])
    assert order["shipping_options"] == []
    assert_it_adds_up(order)


def test_every_order_has_a_readable_number_beside_its_id(pool) -> None:
    shopper = new_shopper(pool)
    first, second = new_draft(shopper), new_draft(shopper)
    numbers = []
    for order in (first, second):
        assert re.fullmatch(r"AUR-\d{5,}", order["number"]), order["number"]
        numbers.append(int(order["number"].removeprefix("AUR-")))
    assert numbers[1] > numbers[0] >= 10001
    listed = shopper.client("orders").get("/api/orders").get_json()["orders"]
    assert [(o["id"], o["number"]) for o in listed[:2]] == [
        (second["id"], second["number"]),
        (first["id"], first["number"]),
    ]


def paid_with(
    pool: db.Pool, shipping_cents: int | None, items: list[dict[str, Any]] | None = None
) -> tuple[Pending, Any]:
    """An order paid on a session that charged `shipping_cents` for shipping (None: none)."""
    pending = pending_order(pool, items)
    extra: dict[str, Any] = {}
    if shipping_cents is not None:
        extra = {
            "amount_total": pending.amount_cents + shipping_cents,
            "shipping_cost": {
                "amount_subtotal": shipping_cents,
                "amount_tax": 0,
                "amount_total": shipping_cents,
                "shipping_rate": "shr_test_123",
            },
        }
    answer = send(event("checkout.session.completed", session_object(pending, **extra)))
    return pending, answer.get_json()


def shipping_row(pool: db.Pool, order_id: str) -> Any:
    with pool.connect() as conn:
        return conn.execute(
            "SELECT shipping_cents, shipping_rate, shipping_rate_name,"
            " stripe_shipping_rate_id, subtotal_cents, total_cents FROM orders"
            " WHERE public_id = :p",
            {"p": order_id},
        ).one()


def plain_text(key: str) -> tuple[str, str]:
    message = email.message_from_bytes(mail_file(key).read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert body is not None
    return str(message["Subject"]), str(body.get_content())


def test_the_rate_chosen_on_checkout_is_kept_and_the_total_paid_includes_it(pool) -> None:
    rush = config.settings().shipping_rush_cents
    pending, answer = paid_with(pool, rush, UPCHARGED)
    assert answer["outcome"] == "paid"
    row = shipping_row(pool, pending.order_id)
    assert (row.shipping_cents, row.shipping_rate, row.shipping_rate_name) == (
        rush,
        "rush",
        "Rush shipping",
    )
    assert row.stripe_shipping_rate_id == "shr_test_123"
    assert row.total_cents == row.subtotal_cents + rush == pending.amount_cents + rush
    order = pending.shopper.client("orders").get(f"/api/orders/{pending.order_id}").get_json()
    assert order["status"] == "paid"
    assert order["shipping_cents"] == rush
    assert order["shipping_options"] == []
    paid_on = delivery.today(datetime.fromisoformat(order["paid_at"]))
    expected = delivery.arrival(7, delivery.rates()[1], paid_on)
    assert order["shipping"] == {
        "id": "rush",
        "name": "Rush shipping",
        "amount_cents": rush,
        "arrives": {"earliest": str(expected.earliest), "latest": str(expected.latest)},
    }
    assert_it_adds_up(order)
    assert "stripe" not in str(order["shipping"]).lower()
    listed = pending.shopper.client("orders").get("/api/orders").get_json()["orders"][0]
    assert (listed["id"], listed["total_cents"]) == (pending.order_id, order["total_cents"])
    # The confirmation email: the number, each line's equation, items + shipping = total.
    subject, body = plain_text(f"order_confirmation_email:{pending.order_id}")
    assert subject == f"Your Auren order {order['number']} is confirmed"
    tee = f"sizes M:10 L:6 2XL:3 3XL:2: 21 pieces {TIMES} $15.50 + $14.00 size upcharges = $339.50"
    hoodie = f"sizes S:2 2XL:1 3XL:1: 4 pieces {TIMES} $48.00 + $9.00 size upcharges = $201.00"
    assert tee in body and hoodie in body
    money = f"${order['subtotal_cents'] // 100:,}.{order['subtotal_cents'] % 100:02d}"
    total = f"${order['total_cents'] // 100:,}.{order['total_cents'] % 100:02d}"
    assert f"Items: {money}\nRush shipping: $24.95\nTotal: {total}\n" in body
    assert f"Order {order['number']} ({pending.order_id})" in body


def test_free_standard_shipping_is_kept_as_such(pool) -> None:
    pending, answer = paid_with(pool, 0)  # 19 tees: over the threshold
    assert answer["outcome"] == "paid"
    row = shipping_row(pool, pending.order_id)
    assert (row.shipping_cents, row.shipping_rate, row.total_cents) == (
        0,
        "standard",
        pending.amount_cents,
    )


def test_a_session_that_reports_no_shipping_pays_the_items(pool) -> None:
    """The local stand-in (and a session from before shipping options) report none."""
    pending, answer = paid_with(pool, None)
    assert answer["outcome"] == "paid"
    row = shipping_row(pool, pending.order_id)
    assert (row.shipping_cents, row.shipping_rate, row.total_cents) == (
        None,
        None,
        pending.amount_cents,
    )
    order = pending.shopper.client("orders").get(f"/api/orders/{pending.order_id}").get_json()
    assert (order["shipping"], order["shipping_cents"]) == (None, None)
    _, body = plain_text(f"order_confirmation_email:{pending.order_id}")
    assert "Items:" not in body and "Total: $294.50" in body


def test_a_total_that_shipping_does_not_explain_is_flagged_not_paid(pool) -> None:
    pending = pending_order(pool)
    # Charged 500 more than the items, but no shipping reported: it does not add up.
    session = session_object(pending, amount_total=pending.amount_cents + 500)
    assert send(event("checkout.session.completed", session)).get_json()["outcome"] == "flagged"
    assert order_row(pool, pending.order_id).status == "pending_payment"
    # Shipping reported, but the items part is short.
    other = pending_order(pool)
    short = session_object(
        other,
        amount_total=other.amount_cents + 100,
        shipping_cost={"amount_total": 200, "shipping_rate": "shr_x"},
    )
    assert send(event("checkout.session.completed", short)).get_json()["outcome"] == "flagged"
    assert shipping_row(pool, other.order_id).shipping_cents is None


def test_a_malformed_shipping_cost_is_recorded_and_never_applied(pool) -> None:
    pending = pending_order(pool)
    session = session_object(pending, shipping_cost={"amount_total": "free"})
    answer = send(event("checkout.session.completed", session))
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "malformed"
    assert order_row(pool, pending.order_id).status == "pending_payment"
