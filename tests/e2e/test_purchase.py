"""The whole purchase in a real browser: a shopper who reads no instructions buys 20 custom
shirts in 3 sizes, and ops get the sheet row and the customer the confirmation email."""

from __future__ import annotations

import csv
import email
import email.policy
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from common.infra import db
from common.providers import queue
from tests.e2e.conftest import Site, save_screenshot
from tests.realistic import vendors_mode

SHOPPER = "dawn.patrol@example.com"
# With this seed the first chat completion, the first image, the first Stripe request and the
# first email fail (429 or 500) and are retried: by the openai SDK, google-genai, the stripe
# SDK and the outbox.
REALISTIC_SEED = "1140"


def confirmation_mails(mail_dir: Path, order_id: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        if body is not None and order_id in body.get_content():
            found.append(message)
    return found


def test_a_shopper_designs_by_chat_and_buys_20_shirts_in_3_sizes(site: Site, page: Page) -> None:
    order_id = buy_20_shirts(site, page)
    assert_fulfilled_once(site, order_id)


def buy_20_shirts(site: Site, page: Page, *, slow_vendors: bool = False) -> str:
    """The whole purchase, up to the confirmation page showing it paid; the order's id.

    With `slow_vendors`, the artwork takes as long as Vertex does (8-25 s, and a retry), and
    the studio must say it is working on it meanwhile.
    """
    page.goto(site.url("/"))
    page.get_by_role("link", name="Start designing").first.click()

    expect(page.get_by_role("heading", name="How would you like to start?")).to_be_visible()
    page.get_by_role("link", name="Describe something custom").click()

    # Design by chat: the brief becomes artwork, layers on the stage and a rendered mockup.
    expect(page.get_by_role("heading", name="Design studio")).to_be_visible()
    chat = page.get_by_role("textbox", name="Describe your design")
    chat.fill("A neon tiger on a navy t-shirt with 'Dawn Patrol' underneath")
    chat.press("Enter")
    log = page.get_by_role("log", name="Describe your design: conversation")
    expect(log).to_contain_text("Dawn Patrol")
    proof = page.get_by_role("img", name="Print proof of your design, front")
    if slow_vendors:  # the image job's progress, while Vertex takes its time
        progress = page.get_by_role("status").filter(has_text="Drawing your design")
        expect(progress).to_be_visible(timeout=20_000)
        expect(page.locator("#save-status")).to_have_text(re.compile(r"Drawing your design… \d+ s"))
    generating_ms = 90_000 if slow_vendors else 30_000
    expect(proof).to_have_attribute("src", re.compile(r"^/storage/"), timeout=generating_ms)
    expect(proof).to_have_js_property("complete", True)
    assert proof.evaluate("image => image.naturalWidth") > 0
    expect(page.locator("#studio-product")).to_have_text("Classic Tee · Navy")
    expect(page.locator("#stage .layer-image img")).to_have_js_property("complete", True)
    first_proof = proof.get_attribute("src")

    # Edit a layer: drag the text up a little; the edit is saved and the proof re-rendered.
    stage = page.locator("#stage")
    text_layer = stage.get_by_role("button", name=re.compile(r"^Text “Dawn Patrol”"))
    box = text_layer.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 - 12, steps=4)
    page.mouse.up()
    expect(page.locator("#save-status")).to_have_text("Saved.")
    expect(proof).not_to_have_attribute("src", first_proof or "")
    save_screenshot(page, "flow-studio-desktop")

    page.get_by_role("button", name="Continue to sizes").click()

    # Quantities by the size assistant.
    expect(page.get_by_role("heading", name="How many, in which sizes?")).to_be_visible()
    assistant = page.get_by_role("textbox", name=re.compile("Tell the size assistant"))
    assistant.fill("10 M, 5 L and 5 XL")
    assistant.press("Enter")
    expect(page.get_by_role("log").first).to_contain_text("20 pieces")
    expect(page.get_by_label("M", exact=True)).to_have_value("10")
    expect(page.get_by_label("L", exact=True)).to_have_value("5")
    expect(page.get_by_label("XL", exact=True)).to_have_value("5")
    expect(page.locator(".totals-grand dd")).to_have_text("$310.00")  # 20 x $15.50 (12+ tier)
    page.get_by_role("link", name="Review order").click()

    # Summary, then sign in through the local stand-in for Google.
    expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
    expect(page.locator(".summary-item")).to_have_count(1)
    expect(page.locator(".summary-item")).to_contain_text("10 M")
    expect(page.locator(".totals-grand dd")).to_have_text("$310.00")
    found = re.search(r"order=(ord_[\w-]+)", page.url)
    assert found, page.url
    order_id = found.group(1)
    page.get_by_role("link", name="Continue with Google").click()

    expect(page.get_by_role("heading", name="Sign in with Google")).to_be_visible()
    page.get_by_label("Email").fill(SHOPPER)
    page.get_by_role("button", name="Continue").click()
    # Signed in, back on the review: one click on to the secure checkout.
    expect(page.get_by_role("link", name="Continue to secure checkout")).to_be_focused()
    page.get_by_role("link", name="Continue to secure checkout").click()

    # Checkout hands over to the local Stripe stand-in; paying comes back to the confirmation.
    page.wait_for_url(re.compile(r"/_dev/checkout/"))
    expect(page.get_by_text(SHOPPER)).to_be_visible()
    page.get_by_role("button", name="Pay $310.00").click()

    page.wait_for_url(re.compile(rf"/confirmation\?order={order_id}&session_id=cs_local_\w+$"))
    expect(page.get_by_role("heading", name="Thank you! Your order is paid.")).to_be_visible()
    expect(page.locator("#confirmation-order .badge")).to_have_text("Paid")
    # The order's number, as people read it (AUR-10001), not its id.
    number = page.request.get(site.url(f"/api/orders/{order_id}")).json()["number"]
    assert re.fullmatch(r"AUR-\d+", number), number
    expect(page.locator(".order-number")).to_have_text(number)
    expect(page.locator("#confirmation-order .totals-grand dd")).to_have_text("$310.00")
    expect(page.locator("#my-orders .orders-row.is-current")).to_contain_text("Paid")
    expect(page.get_by_role("link", name="My orders").first).to_be_visible()
    return order_id


def assert_fulfilled_once(site: Site, order_id: str) -> None:
    """Ops: the sheet has the order's rows; the shopper: one confirmation email."""
    # Made by the local queue's worker after the payment was answered.
    broker = queue.broker()
    assert isinstance(broker, queue.LocalBroker)
    assert broker.wait_idle(30), "the queue's worker was still busy after 30 s"
    with (site.settings.data_dir / "orders-sheet.csv").open(newline="") as file:
        rows = [row for row in csv.reader(file) if row and row[0] == order_id]
    assert len(rows) == 1, "one sheet row for the order's one line"
    assert any(SHOPPER in cell for row in rows for cell in row)
    mails = confirmation_mails(site.settings.data_dir / "mail", order_id)
    assert [m["To"] for m in mails].count(SHOPPER) == 1, "one confirmation to the shopper"


@pytest.mark.slow
def test_the_purchase_with_vendors_as_slow_and_unreliable_as_the_real_ones(
    site: Site, page: Page
) -> None:
    """The same purchase with `AUREN_VENDORS=realistic`: Vertex takes 8-25 s, OpenAI 1-6 s,
    mail and the sheet up to 2 s, and a quarter of their calls answer 429 or 500 first."""
    started = time.monotonic()
    with vendors_mode(FAILURES="0.25", SEED=REALISTIC_SEED) as weather:
        order_id = buy_20_shirts(site, page, slow_vendors=True)
        drain_outbox(site, page)  # what Cloud Scheduler does every five minutes
        calls, failures = dict(weather.calls), dict(weather.failures)
    took = time.monotonic() - started
    print(f"realistic purchase: {took:.0f} s; calls {calls}; injected failures {failures}")

    assert failures, "at least one 429 or 500 was injected"
    for vendor, status in failures:
        assert status in (429, 500)
        assert calls[vendor] > weather.failures[vendor, 429] + weather.failures[vendor, 500], (
            f"{vendor} was called again after failing"
        )
    assert {vendor for vendor, _ in failures} >= {"openai", "vertex", "stripe", "sendgrid"}
    assert calls["vertex"] >= 1 and calls["openai"] >= 2, "chat, artwork and sizes went through"
    order = page.request.get(site.url(f"/api/orders/{order_id}")).json()
    assert order["status"] == "paid"
    assert [event["status"] for event in order["events"]].count("paid") == 1, "paid once"
    assert_fulfilled_once(site, order_id)
    mails = confirmation_mails(site.settings.data_dir / "mail", order_id)
    assert sorted(m["To"] for m in mails) == sorted([SHOPPER, site.settings.ops_email])


def drain_outbox(site: Site, page: Page, within_seconds: float = 240) -> None:
    """Drain the outbox with the ops token, waiting out each retry's backoff, until every
    side effect is done."""
    deadline = time.monotonic() + within_seconds
    while True:
        with db.connect() as conn:
            left, wait = conn.execute(
                "SELECT count(*), EXTRACT(EPOCH FROM min(next_attempt_at) - now())"
                " FROM outbox WHERE done_at IS NULL"
            ).one()
        if left == 0:
            return
        assert time.monotonic() + float(wait) < deadline, f"{left} side effects still waiting"
        time.sleep(max(0.0, float(wait)) + 0.1)
        drained = page.request.post(
            site.url("/api/ops/outbox/drain"),
            data={},
            headers={"Authorization": f"Bearer {site.settings.ops_token}"},
        )
        assert drained.ok, drained.text()


def test_a_shopper_who_leaves_the_checkout_can_still_change_the_order(
    site: Site, page: Page
) -> None:
    page.goto(site.url("/"))
    draft = page.request.post(
        site.url("/api/orders/draft"),
        data={"items": [{"product_id": "tote", "color": "Natural", "sizes": {"OS": 24}}]},
        headers={"Origin": site.origin},
    )
    assert draft.ok, draft.text()
    order_id = draft.json()["id"]

    page.goto(site.url(f"/summary?order={order_id}"))
    page.get_by_role("link", name="Continue with Apple").click()
    page.get_by_label("Email").fill("second.thoughts@example.com")
    page.get_by_role("button", name="Continue").click()
    # Signed in, back on the review: one click on to the secure checkout.
    expect(page.get_by_role("link", name="Continue to secure checkout")).to_be_focused()
    page.get_by_role("link", name="Continue to secure checkout").click()
    page.wait_for_url(re.compile(r"/_dev/checkout/"))
    page.get_by_role("button", name="Back to the shop").click()

    page.wait_for_url(re.compile(rf"/summary\?order={order_id}$"))
    expect(page.get_by_text("Payment not finished")).to_be_visible()
    page.get_by_role("button", name="Change the order").click()

    page.wait_for_url(re.compile(rf"/quantity\?order={order_id}$"))
    # A one-size tote is asked how many, not in which sizes.
    expect(page.get_by_role("heading", name="How many?", exact=True)).to_be_visible()
    expect(page.get_by_role("spinbutton", name="How many? Canvas Tote, Natural")).to_have_value(
        "24"
    )
    assistant = page.get_by_role("textbox", name=re.compile("Tell the size assistant"))
    assistant.fill("make it 30")
    assistant.press("Enter")
    expect(page.get_by_role("log").first).to_contain_text("30")
    expect(page.get_by_role("spinbutton", name="How many? Canvas Tote, Natural")).to_have_value(
        "30"
    )
    expect(page.locator("#totals")).not_to_have_attribute("aria-busy", "true")
    order = page.request.get(site.url(f"/api/orders/{order_id}")).json()
    assert order["status"] == "draft"
    assert order["items"][0]["sizes"] == {"OS": 30}
