"""The local checkout stand-in end to end, over real HTTP through the local server: a draft,
checkout, the local pay page, a Stripe-signed event to the real webhook route, a paid order
with one sheet row and one confirmation email."""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from common.infra import config, db
from common.providers import mail, sheets
from common.shop import pricing
from tests.test_checkout import TEE_ITEM, new_shopper, order_row
from tests.test_webhook import confirmations, effects_performed, sheet_rows


@pytest.fixture(autouse=True)
def local_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


@dataclasses.dataclass
class Browser:
    port: int
    cookie: str

    def send(
        self, method: str, path: str, body: str | None = None, content_type: str = "", **extra: str
    ) -> tuple[Any, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Origin": config.settings().site_url, "Cookie": f"__session={self.cookie}"}
        if content_type:
            headers["Content-Type"] = content_type
        connection.request(method, path, body=body, headers={**headers, **extra})
        response = connection.getresponse()
        return response, response.read().decode()

    def post_json(self, path: str, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        response, answer = self.send("POST", path, json.dumps(body), "application/json")
        return response, json.loads(answer)

    def pay_page(self, url: str, outcome: str, **extra: str) -> tuple[Any, str]:
        form = urlencode({"outcome": outcome})
        return self.send("POST", url, form, "application/x-www-form-urlencoded", **extra)


def checked_out(local_site: int, pool: db.Pool) -> tuple[Browser, dict[str, Any], str]:
    shopper = new_shopper(pool)
    browser = Browser(local_site, shopper.cookie)
    response, order = browser.post_json("/api/orders/draft", {"items": [TEE_ITEM]})
    assert response.status == 200
    response, session = browser.post_json("/api/checkout/session", {"order_id": order["id"]})
    assert response.status == 200
    return browser, order, session["url"]


def events_of(pool: db.Pool, order_id: str) -> list[str]:
    with pool.connect() as conn:
        return list(
            conn.execute(
                "SELECT type FROM stripe_events WHERE order_public_id = :o", {"o": order_id}
            ).scalars()
        )


def test_draft_to_paid_through_the_local_pay_page(local_site: int, pool: db.Pool) -> None:
    browser, order, url = checked_out(local_site, pool)
    assert re.fullmatch(r"/_dev/checkout/cs_local_[0-9a-f]{32}", url)
    response, page = browser.send("GET", url)
    assert response.status == 200
    assert order["id"] in page
    assert pricing.money(order["total_cents"], "usd") in page
    assert 'name="outcome" value="paid"' in page

    response, _ = browser.pay_page(url, "paid")
    assert response.status == 303
    site_url = config.settings().site_url
    session_id = url.rsplit("/", 1)[1]
    assert response.headers["Location"] == (
        f"{site_url}/confirmation?order={order['id']}&session_id={session_id}"
    )
    response, _ = browser.send("GET", f"/api/orders/{order['id']}")
    paid = json.loads(_)
    assert paid["status"] == "paid"
    # As on Checkout, the first shipping option is chosen and added to the total.
    [first, *_rest] = order["shipping_options"]
    assert paid["shipping"]["id"] == first["id"]
    assert paid["shipping_cents"] == first["amount_cents"]
    assert paid["total_cents"] == order["subtotal_cents"] + first["amount_cents"]
    assert events_of(pool, order["id"]) == ["checkout.session.completed"]
    effects_performed()
    assert len(sheet_rows(order["id"])) == 1
    assert confirmations(order["id"]) == 1

    again, _ = browser.pay_page(url, "paid")  # a second click: no second event, no charge
    assert again.status == 303
    assert events_of(pool, order["id"]) == ["checkout.session.completed"]
    effects_performed()
    assert len(sheet_rows(order["id"])) == 1 and confirmations(order["id"]) == 1
    _, page = browser.send("GET", url)
    assert "This checkout session is complete" in page


def test_cancel_goes_back_to_the_summary_and_the_same_session_stays_open(
    local_site: int, pool: db.Pool
) -> None:
    browser, order, url = checked_out(local_site, pool)
    response, _ = browser.pay_page(url, "cancel")
    assert response.status == 303
    site_url = config.settings().site_url
    assert response.headers["Location"] == f"{site_url}/summary?order={order['id']}"
    assert order_row(pool, order["id"]).status == "pending_payment"
    _, session = browser.post_json("/api/checkout/session", {"order_id": order["id"]})
    assert session["url"] == url
    assert events_of(pool, order["id"]) == []


def test_an_expired_session_returns_the_order_to_draft(local_site: int, pool) -> None:
    browser, order, url = checked_out(local_site, pool)
    response, _ = browser.pay_page(url, "expire")
    assert response.status == 303
    assert order_row(pool, order["id"]).status == "draft"
    assert events_of(pool, order["id"]) == ["checkout.session.expired"]
    refused, _ = browser.pay_page(url, "paid")
    assert refused.status == 409
    assert order_row(pool, order["id"]).status == "draft"


def test_the_pay_page_refuses_strangers_and_unknown_sessions(local_site: int, pool) -> None:
    browser, order, url = checked_out(local_site, pool)
    forged, _ = browser.pay_page(url, "paid", Origin="https://evil.example")
    assert forged.status == 403
    assert order_row(pool, order["id"]).status == "pending_payment"
    missing, _ = browser.send("GET", "/_dev/checkout/cs_local_" + "0" * 32)
    assert missing.status == 404
    stripe_id, _ = browser.send("GET", "/_dev/checkout/cs_test_abc")
    assert stripe_id.status == 404
    bad, _ = browser.pay_page(url, "refund")
    assert bad.status == 400


def test_the_dev_index_lists_checkout_and_mail(local_site: int, pool) -> None:
    response, page = Browser(local_site, "").send("GET", "/_dev/")
    assert response.status == 200
    assert "/_dev/checkout/&lt;session_id&gt;" in page
    assert 'href="/_dev/mail"' in page
