"""Checkout sessions through the `checkout` function, against real Postgres: the local stand-in,
and the real `stripe` SDK against a local stub of Stripe's API.

The helpers here (a signed-in shopper, a draft, an order waiting for payment) are shared by the
webhook, outbox and contact tests.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import flask.testing
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from common.infra import config, db
from common.providers import checkout as checkout_provider
from common.web import sessions
from tests.conftest import REPO, function_app, new_user, user_cookie

TEE_ITEM = {"product_id": "classic-tee", "color": "Black", "sizes": {"S": 4, "M": 10, "L": 5}}
HOODIE_ITEM = {"product_id": "hoodie", "color": "Navy", "sizes": {"M": 20, "2XL": 3, "3XL": 1}}


@dataclass(frozen=True)
class Shopper:
    public_id: str
    email: str
    cookie: str

    def client(self, function: str) -> flask.testing.FlaskClient:
        client = function_app(function).test_client()
        client.set_cookie(sessions.COOKIE_NAME, self.cookie)
        return client


def new_shopper(pool: db.Pool) -> Shopper:
    """A signed-in shopper (the auth function makes the users row and cookie in production)."""
    public_id, email = new_user(pool)
    return Shopper(public_id, email, user_cookie(public_id, email))


def new_draft(shopper: Shopper, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    response = shopper.client("orders").post(
        "/api/orders/draft", json={"items": items if items is not None else [TEE_ITEM]}
    )
    assert response.status_code == 200, response.get_json()
    order: dict[str, Any] = response.get_json()
    return order


def checkout(shopper: Shopper, order_id: str) -> Any:
    return shopper.client("checkout").post("/api/checkout/session", json={"order_id": order_id})


@dataclass(frozen=True)
class Pending:
    shopper: Shopper
    order_id: str
    session_id: str
    amount_cents: int
    currency: str


def pending_order(pool: db.Pool, items: list[dict[str, Any]] | None = None) -> Pending:
    """A signed-in shopper's order, checked out with the local provider: pending_payment."""
    shopper = new_shopper(pool)
    order = new_draft(shopper, items)
    response = checkout(shopper, order["id"])
    assert response.status_code == 200, response.get_json()
    return Pending(
        shopper, order["id"], response.get_json()["session_id"], order["total_cents"], "usd"
    )


def order_row(pool: db.Pool, order_id: str) -> Any:
    with pool.connect() as conn:
        return conn.execute(
            "SELECT status, version, stripe_checkout_session_id, checkout_url,"
            " checkout_amount_cents, checkout_currency, email, flagged_reason,"
            " stripe_payment_intent_id, paid_at FROM orders WHERE public_id = :p",
            {"p": order_id},
        ).one()


@pytest.fixture(autouse=True)
def local_checkout(database_url: str) -> None:
    checkout_provider.provider.reset()


def test_checkout_moves_the_draft_to_pending_payment_with_the_local_stand_in(pool) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    response = checkout(shopper, order["id"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    assert body["session_id"].startswith("cs_local_")
    assert body["url"] == f"/_dev/checkout/{body['session_id']}"
    row = order_row(pool, order["id"])
    assert row.status == "pending_payment"
    assert row.stripe_checkout_session_id == body["session_id"]
    assert row.checkout_url == body["url"]
    assert (row.checkout_amount_cents, row.checkout_currency) == (order["total_cents"], "usd")
    assert row.email == shopper.email
    stored = checkout_provider.local_session(body["session_id"])
    assert stored is not None and stored["status"] == "open"
    assert stored["params"]["client_reference_id"] == order["id"]


def test_calling_checkout_again_returns_the_same_session(pool) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    first = checkout(shopper, order["id"]).get_json()
    again = checkout(shopper, order["id"])
    assert again.status_code == 200
    assert again.get_json() == first


def test_concurrent_checkouts_of_one_order_share_one_session(pool) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    answers: list[Any] = []

    def pay() -> None:
        response = checkout(shopper, order["id"])
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=pay) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in answers} == {200}
    assert len({body["session_id"] for _, body in answers}) == 1
    assert order_row(pool, order["id"]).stripe_checkout_session_id == answers[0][1]["session_id"]


def test_checkout_needs_a_signed_in_owner(pool) -> None:
    anonymous = function_app("orders").test_client()
    draft = anonymous.post("/api/orders/draft", json={"items": [TEE_ITEM]}).get_json()
    cookie = anonymous.get_cookie(sessions.COOKIE_NAME)
    assert cookie is not None
    client = function_app("checkout").test_client()
    client.set_cookie(sessions.COOKIE_NAME, cookie.value)
    response = client.post("/api/checkout/session", json={"order_id": draft["id"]})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "sign_in_required"
    owner, stranger = new_shopper(pool), new_shopper(pool)
    order = new_draft(owner)
    assert checkout(stranger, order["id"]).status_code == 404
    assert checkout(owner, "ord_" + "x" * 24).status_code == 404
    assert order_row(pool, order["id"]).status == "draft"


def test_an_empty_or_paid_order_cannot_be_checked_out(pool) -> None:
    shopper = new_shopper(pool)
    empty = new_draft(shopper, [])
    response = checkout(shopper, empty["id"])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "order_empty"
    order = new_draft(shopper)
    with pool.transaction() as conn:
        conn.execute(
            "UPDATE orders SET status = 'cancelled' WHERE public_id = :p", {"p": order["id"]}
        )
    response = checkout(shopper, order["id"])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "order_not_payable"


def test_cross_site_checkout_is_refused(pool) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    response = shopper.client("checkout").post(
        "/api/checkout/session",
        json={"order_id": order["id"]},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert order_row(pool, order["id"]).status == "draft"


def test_prices_are_recomputed_from_the_catalog_at_checkout(pool) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    with pool.transaction() as conn:  # the draft was saved at a stale price
        conn.execute(
            "UPDATE order_sizes SET unit_price_cents = 1 WHERE order_item_id IN (SELECT i.id"
            " FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.public_id = :p)",
            {"p": order["id"]},
        )
        conn.execute("UPDATE orders SET total_cents = 19 WHERE public_id = :p", {"p": order["id"]})
    body = checkout(shopper, order["id"]).get_json()
    row = order_row(pool, order["id"])
    assert row.checkout_amount_cents == order["total_cents"]
    assert row.version == order["version"] + 1
    stored = checkout_provider.local_session(body["session_id"])
    assert stored is not None
    params = stored["params"]
    charged = sum(i["quantity"] * i["price_data"]["unit_amount"] for i in params["line_items"])
    assert charged == order["total_cents"]


def test_checkout_offers_the_shipping_rates_priced_on_the_server(pool) -> None:
    """Standard (a flat fee, free from the threshold on) and rush, in the order's currency,
    each with its delivery estimate: production plus transit, in business days."""
    cfg = config.settings()
    assert cfg.shipping_free_over_cents is not None
    shopper = new_shopper(pool)
    small = {"product_id": "tote", "color": "Natural", "sizes": {"OS": 2}}  # 2 x $16: not free
    for items, standard_cents in (
        ([small], cfg.shipping_standard_cents),
        ([TEE_ITEM], 0),  # 19 x $15.50 = $294.50
    ):
        order = new_draft(shopper, items)
        assert (order["subtotal_cents"] >= cfg.shipping_free_over_cents) == (standard_cents == 0)
        body = checkout(shopper, order["id"]).get_json()
        stored = checkout_provider.local_session(body["session_id"])
        assert stored is not None
        days = order["production_days"]
        assert days == (4 if items == [small] else 5)
        assert stored["params"]["shipping_options"] == [
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": standard_cents, "currency": "usd"},
                    "display_name": "Standard shipping",
                    "delivery_estimate": {
                        "minimum": {"unit": "business_day", "value": days + 3},
                        "maximum": {"unit": "business_day", "value": days + 5},
                    },
                    "metadata": {"rate": "standard"},
                }
            },
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": cfg.shipping_rush_cents, "currency": "usd"},
                    "display_name": "Rush shipping",
                    "delivery_estimate": {
                        "minimum": {"unit": "business_day", "value": days + 1},
                        "maximum": {"unit": "business_day", "value": days + 2},
                    },
                    "metadata": {"rate": "rush"},
                }
            },
        ]
        # What the draft showed is what Checkout offers.
        assert [(o["id"], o["amount_cents"]) for o in order["shipping_options"]] == [
            ("standard", standard_cents),
            ("rush", cfg.shipping_rush_cents),
        ]


# The real stripe SDK against a stub of the Stripe API.


@pytest.fixture
def stripe_stub(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> list[Request]:
    """Stripe's `POST /v1/checkout/sessions`, recording each request it gets."""
    seen: list[Request] = []

    def create_session(request: Request) -> Response:
        seen.append(request)
        session_id = f"cs_test_{secrets.token_hex(12)}"
        return Response(
            json.dumps(
                {
                    "id": session_id,
                    "object": "checkout.session",
                    "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                }
            ),
            content_type="application/json",
        )

    httpserver.expect_request("/v1/checkout/sessions", method="POST").respond_with_handler(
        create_session
    )
    monkeypatch.setattr(
        checkout_provider.provider,
        "built",
        checkout_provider.StripeCheckout("sk_test_stub", httpserver.url_for("")),
    )
    return seen


def form(request: Request) -> dict[str, str]:
    fields = parse_qs(request.get_data(as_text=True), keep_blank_values=True, strict_parsing=True)
    return {key: values[0] for key, values in fields.items()}


def test_the_stripe_sdk_sends_prices_from_the_database_and_an_idempotency_key(
    pool, stripe_stub: list[Request]
) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper, [TEE_ITEM, HOODIE_ITEM])
    response = checkout(shopper, order["id"])
    assert response.status_code == 200
    session_id = response.get_json()["session_id"]
    assert session_id.startswith("cs_test_")
    assert response.get_json()["url"] == f"https://checkout.stripe.com/c/pay/{session_id}"
    [request] = stripe_stub
    assert request.headers["Authorization"] == "Bearer sk_test_stub"
    assert request.headers["Idempotency-Key"] == f"auren-checkout-{order['id']}-v{order['version']}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    sent = form(request)
    site = config.settings().site_url
    assert sent["mode"] == "payment"
    assert sent["client_reference_id"] == order["id"]
    assert sent["metadata[order_id]"] == order["id"]
    assert sent["payment_intent_data[metadata][order_id]"] == order["id"]
    assert sent["customer_email"] == shopper.email
    # Checkout fills in the session's id (the success page fulfils with it, issue 15).
    assert sent["success_url"] == (
        f"{site}/confirmation?order={order['id']}&session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert sent["cancel_url"] == f"{site}/summary?order={order['id']}"
    assert sent["shipping_address_collection[allowed_countries][0]"] == "US"
    # One line item per item and unit price: tee S/M/L, hoodie M, hoodie 2XL, hoodie 3XL.
    tee, hoodie = order["items"]
    expected = [
        (tee["unit_price_cents"], 19, "Sizes S:4 M:10 L:5"),
        *[
            (size["unit_price_cents"], size["quantity"], f"Sizes {size['size']}:{size['quantity']}")
            for size in hoodie["size_prices"]
        ],
    ]
    got = []
    for index in range(len(expected)):
        line = f"line_items[{index}]"
        assert sent[f"{line}[price_data][currency]"] == "usd"
        got.append(
            (
                int(sent[f"{line}[price_data][unit_amount]"]),
                int(sent[f"{line}[quantity]"]),
                sent[f"{line}[price_data][product_data][description]"],
            )
        )
    assert got == expected
    assert f"line_items[{len(expected)}][quantity]" not in sent
    assert sum(unit * quantity for unit, quantity, _ in got) == order["total_cents"]
    assert sent["line_items[0][price_data][product_data][name]"] == "Classic Tee · Black"
    # The shipping rates, priced here: the order is over the threshold, so standard is free.
    days = order["production_days"]
    assert days == 7  # the hoodie's
    for index, (rate, name, amount, low, high) in enumerate(
        [
            ("standard", "Standard shipping", 0, days + 3, days + 5),
            ("rush", "Rush shipping", config.settings().shipping_rush_cents, days + 1, days + 2),
        ]
    ):
        rate_data = f"shipping_options[{index}][shipping_rate_data]"
        assert sent[f"{rate_data}[type]"] == "fixed_amount"
        assert sent[f"{rate_data}[fixed_amount][amount]"] == str(amount)
        assert sent[f"{rate_data}[fixed_amount][currency]"] == "usd"
        assert sent[f"{rate_data}[display_name]"] == name
        assert sent[f"{rate_data}[delivery_estimate][minimum][unit]"] == "business_day"
        assert sent[f"{rate_data}[delivery_estimate][minimum][value]"] == str(low)
        assert sent[f"{rate_data}[delivery_estimate][maximum][unit]"] == "business_day"
        assert sent[f"{rate_data}[delivery_estimate][maximum][value]"] == str(high)
        assert sent[f"{rate_data}[metadata][rate]"] == rate
    assert "shipping_options[2][shipping_rate_data][type]" not in sent
    row = order_row(pool, order["id"])
    assert (row.status, row.stripe_checkout_session_id) == ("pending_payment", session_id)
    assert row.checkout_amount_cents == order["total_cents"]


def test_a_second_checkout_of_the_unchanged_order_does_not_call_stripe_again(
    pool, stripe_stub: list[Request]
) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    first = checkout(shopper, order["id"]).get_json()
    second = checkout(shopper, order["id"]).get_json()
    assert first == second
    assert len(stripe_stub) == 1


def test_stripe_being_down_is_a_503_and_changes_nothing(
    pool, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/v1/checkout/sessions", method="POST").respond_with_json(
        {"error": {"type": "api_error", "message": "boom"}}, status=500
    )
    stripe = checkout_provider.StripeCheckout("sk_test_stub", httpserver.url_for(""))
    monkeypatch.setattr(stripe._client._requestor._options, "max_network_retries", 0)
    monkeypatch.setattr(checkout_provider.provider, "built", stripe)
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    response = checkout(shopper, order["id"])
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "payments_unavailable"
    assert response.headers["Retry-After"]
    assert order_row(pool, order["id"]).status == "draft"


def test_production_refuses_the_local_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    production = config.load(
        {
            "AUREN_ENV": "production",
            "SITE_URL": "https://auren.example",
            "SESSION_SECRET": "s" * 32,
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
            "DATABASE_URL": "postgresql://x@127.0.0.1/x",
        }
    )
    monkeypatch.setattr(checkout_provider, "settings", lambda: production)
    with pytest.raises(config.ConfigError, match="STRIPE_SECRET_KEY"):
        checkout_provider.build_provider()


PRODUCTION_BASE = {
    "PATH": "/usr/bin:/bin",
    "AUREN_ENV": "production",
    "SITE_URL": "https://auren.example",
    "SESSION_SECRET": "s" * 32,
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "DATABASE_URL": "postgresql://x@127.0.0.1/x",
    "STRIPE_SECRET_KEY": "sk_live_x",
    "SENDGRID_API_KEY": "SG.x",
    "SHEET_ID": "sheet",
    "OPS_TOKEN": "t" * 32,
    "GOOGLE_CLOUD_PROJECT": "auren-prod",
}


@pytest.mark.parametrize(
    ("function", "missing"),
    [
        ("checkout", "STRIPE_SECRET_KEY"),
        ("checkout", "GOOGLE_CLOUD_PROJECT"),  # the queue its side effects go to
        ("stripe_webhook", "STRIPE_WEBHOOK_SECRET"),
        ("stripe_webhook", "GOOGLE_CLOUD_PROJECT"),
        ("contact", "GOOGLE_CLOUD_PROJECT"),
        ("ops", "OPS_TOKEN"),
        ("ops", "SENDGRID_API_KEY"),
        ("ops", "SHEET_ID"),
    ],
)
def test_money_path_functions_do_not_start_in_production_without_their_secrets(
    function: str, missing: str, tmp_path
) -> None:
    """No local payment page, mailer or sheet in production: start-up fails, naming the variable."""
    source = REPO / "functions" / function / "main.py"
    script = (
        f"import functions_framework; functions_framework.create_app({function!r}, {str(source)!r})"
    )
    env = {k: v for k, v in PRODUCTION_BASE.items() if k != missing}
    env["AUREN_DATA_DIR"] = str(tmp_path)
    failed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert failed.returncode != 0
    assert missing in failed.stderr
    started = subprocess.run(
        [sys.executable, "-c", script],
        env={**PRODUCTION_BASE, "AUREN_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 0, started.stderr


def reopen(shopper: Shopper, order_id: str) -> Any:
    return shopper.client("checkout").post("/api/checkout/reopen", json={"order_id": order_id})


def test_reopening_ends_the_session_and_gives_back_an_editable_draft(pool) -> None:
    pending = pending_order(pool)
    before = order_row(pool, pending.order_id)
    response = reopen(pending.shopper, pending.order_id)
    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"
    after = order_row(pool, pending.order_id)
    assert (after.status, after.version) == ("draft", before.version + 1)
    local = checkout_provider.local_session(pending.session_id)
    assert local is not None and local["status"] == "expired"
    assert reopen(pending.shopper, pending.order_id).get_json()["status"] == "draft"
    edited = pending.shopper.client("orders").post(
        "/api/orders/draft", json={"order_id": pending.order_id, "items": [HOODIE_ITEM]}
    )
    assert edited.status_code == 200
    again = checkout(pending.shopper, pending.order_id).get_json()
    assert again["session_id"] != pending.session_id


def test_only_the_owner_reopens_and_a_paid_session_is_never_reopened(pool) -> None:
    pending = pending_order(pool)
    stranger = new_shopper(pool)
    assert reopen(stranger, pending.order_id).status_code == 404
    local = checkout_provider.local_session(pending.session_id)
    assert local is not None
    checkout_provider.set_local_session_status(local, "complete")
    response = reopen(pending.shopper, pending.order_id)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "payment_completed"
    assert order_row(pool, pending.order_id).status == "pending_payment"


def test_reopening_expires_the_stripe_session_through_the_sdk(
    pool, stripe_stub: list[Request], httpserver: HTTPServer
) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    session_id = checkout(shopper, order["id"]).get_json()["session_id"]
    httpserver.expect_request(
        f"/v1/checkout/sessions/{session_id}/expire", method="POST"
    ).respond_with_json({"id": session_id, "object": "checkout.session", "status": "expired"})
    response = reopen(shopper, order["id"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"
    assert any(r.path == f"/v1/checkout/sessions/{session_id}/expire" for r, _ in httpserver.log)


def test_a_session_stripe_does_not_know_is_treated_as_ended_on_reopen(
    pool, stripe_stub: list[Request], httpserver: HTTPServer
) -> None:
    """Switching test and live keys, or a cs_local_ session from before a key was set."""
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    session_id = checkout(shopper, order["id"]).get_json()["session_id"]
    missing = {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such checkout.session: '{session_id}'",
        }
    }
    httpserver.expect_request(
        f"/v1/checkout/sessions/{session_id}/expire", method="POST"
    ).respond_with_json(missing, status=404)
    httpserver.expect_request(
        f"/v1/checkout/sessions/{session_id}", method="GET"
    ).respond_with_json(missing, status=404)
    response = reopen(shopper, order["id"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "draft"


def test_a_session_stripe_already_completed_keeps_the_order_waiting(
    pool, stripe_stub: list[Request], httpserver: HTTPServer
) -> None:
    shopper = new_shopper(pool)
    order = new_draft(shopper)
    session_id = checkout(shopper, order["id"]).get_json()["session_id"]
    httpserver.expect_request(
        f"/v1/checkout/sessions/{session_id}/expire", method="POST"
    ).respond_with_json(
        {"error": {"type": "invalid_request_error", "message": "Only open sessions expire."}},
        status=400,
    )
    httpserver.expect_request(
        f"/v1/checkout/sessions/{session_id}", method="GET"
    ).respond_with_json({"id": session_id, "object": "checkout.session", "status": "complete"})
    response = reopen(shopper, order["id"])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "payment_completed"
    assert order_row(pool, order["id"]).status == "pending_payment"


def test_an_order_never_sends_stripe_more_than_its_line_item_limit(database_url: str) -> None:
    import dataclasses
    from datetime import UTC, datetime

    from common.shop import order_store, payments
    from common.shop.lifecycle import Status

    sizes = ("XS", "S", "M", "L", "XL", "2XL", "3XL", "OS")

    def item(index: int) -> order_store.Item:
        lines = tuple(order_store.SizeLine(size, 2, 1500 + 100 * n) for n, size in enumerate(sizes))
        total = sum(line.quantity * line.unit_price_cents for line in lines)
        return order_store.Item(
            "classic-tee",
            None,
            "Black",
            16,
            1,
            1500,
            total,
            total,
            lines,
            None,
            None,
            None,
            None,
            None,
            (),
        )

    items = tuple(item(i) for i in range(20))  # 20 items x 8 prices = 160 > 100
    total = sum(i.line_total_cents for i in items)
    now = datetime.now(UTC)
    order = order_store.Order(
        "ord_" + "x" * 24, Status.DRAFT, items, total, total, "usd", 1, now, now, None, 0, None, ()
    )
    lines = payments.line_items(order)
    assert len(lines) <= payments.STRIPE_MAX_LINE_ITEMS
    assert sum(li["quantity"] * li["price_data"]["unit_amount"] for li in lines) == total
    assert "2XL:2" in lines[0]["price_data"]["product_data"]["description"]
    two = items[:2]
    small = dataclasses.replace(
        order, items=two, subtotal_cents=total // 10, total_cents=total // 10
    )
    few = payments.line_items(small)
    assert len(few) == 16  # one per unit price while under the limit
