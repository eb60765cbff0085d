"""After payment, in a real browser: ops move the order into production and ship it with a
tracking number (the ops route, with the bearer token), and the shopper sees how far it got on
the confirmation page and in My orders: the timeline, and the link to track the parcel."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import (
    VIEWPORTS,
    ConsoleWatch,
    Site,
    blocking_violations,
    new_context,
    save_screenshot,
)

SHOPPER = "parcel.watcher@example.com"
CARRIER = "UPS"
TRACKING_NUMBER = "1Z999AA10123456784"
TRACKING_URL = f"https://www.ups.com/track?tracknum={TRACKING_NUMBER}"
# "Dec 1, 2:02 PM" (en-US; the space before PM may be a narrow no-break space).
WHEN = r"[A-Z][a-z]{2} \d{1,2}, \d{1,2}:\d{2}\s[AP]M"


def pay_for_a_draft(site: Site, page: Page) -> str:
    """A tote order paid through the local sign-in and checkout; its id."""
    page.goto(site.url("/"))
    draft = page.request.post(
        site.url("/api/orders/draft"),
        data={"items": [{"product_id": "tote", "color": "Natural", "sizes": {"OS": 24}}]},
        headers={"Origin": site.origin},
    )
    assert draft.ok, draft.text()
    order_id: str = draft.json()["id"]
    page.goto(site.url(f"/summary?order={order_id}"))
    page.get_by_role("link", name="Continue with Google").click()
    page.get_by_label("Email").fill(SHOPPER)
    page.get_by_role("button", name="Continue").click()
    # Signed in, back on the review: one click on to the secure checkout.
    expect(page.get_by_role("link", name="Continue to secure checkout")).to_be_focused()
    page.get_by_role("link", name="Continue to secure checkout").click()
    page.wait_for_url(re.compile(r"/_dev/checkout/"))
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(rf"/confirmation\?order={order_id}&session_id=cs_local_\w+$"))
    expect(page.get_by_role("heading", name="Thank you! Your order is paid.")).to_be_visible()
    return order_id


def ops_move(site: Site, page: Page, order_id: str, body: dict[str, str]) -> dict[str, Any]:
    """POST /api/ops/orders/<id>/status with the ops bearer token, as ops would."""
    response = page.request.post(
        site.url(f"/api/ops/orders/{order_id}/status"),
        data=json.dumps(body),
        headers={
            "Authorization": f"Bearer {site.settings.ops_token}",
            "Content-Type": "application/json",
        },
    )
    assert response.ok, response.text()
    moved: dict[str, Any] = response.json()
    return moved


def expect_shipped_confirmation(page: Page) -> None:
    expect(page.get_by_role("heading", name="Your order is on its way")).to_be_visible()
    expect(page.locator("#confirmation-order .badge")).to_have_text("Shipped")
    timeline = page.get_by_role("list", name="Progress")
    expect(timeline.get_by_role("listitem")).to_have_text(
        [
            re.compile(rf"^Paid — {WHEN}$"),
            re.compile(rf"^In production — {WHEN}$"),
            re.compile(rf"^Shipped — {WHEN}{CARRIER} {TRACKING_NUMBER}$"),
        ]
    )
    expect(timeline.get_by_role("listitem").last).to_have_attribute("aria-current", "step")
    expect(timeline.get_by_role("link", name=TRACKING_NUMBER)).to_have_attribute(
        "href", TRACKING_URL
    )
    expect(page.get_by_role("link", name="Track your parcel")).to_have_attribute(
        "href", TRACKING_URL
    )
    # Who caused a step is the shop's business: no "ops", no Stripe event ids.
    progress = page.locator("#confirmation-order .order-progress")
    expect(progress).not_to_contain_text("evt_")
    expect(progress).not_to_contain_text("stripe")
    expect(progress).not_to_contain_text("ops")


def expect_shipped_row(page: Page, order_id: str) -> None:
    # A row names its order by the number people read (AUR-10001), not by its id.
    origin = page.url.split("/orders")[0]
    number = page.request.get(f"{origin}/api/orders/{order_id}").json()["number"]
    row = page.locator(".orders-row", has=page.get_by_role("link", name=number, exact=True))
    expect(row.locator(".badge")).to_have_text("Shipped")
    steps = row.get_by_role("list", name=f"Progress of order {number}").get_by_role("listitem")
    expect(steps).to_have_text(
        [re.compile(r"^Paid — "), re.compile(r"^In production — "), re.compile(r"^Shipped — ")]
    )
    track = row.get_by_role("link", name=f"Track your parcel (order {number})")
    expect(track).to_have_text("Track your parcel")
    expect(track).to_have_attribute("href", TRACKING_URL)


def test_the_shopper_follows_a_shipped_order_with_its_tracking_link(
    site: Site, page: Page, browser: Browser
) -> None:
    order_id = pay_for_a_draft(site, page)
    progress = page.get_by_role("list", name="Progress")
    expect(progress.get_by_role("listitem")).to_have_text([re.compile(rf"^Paid — {WHEN}$")])
    expect(page.get_by_role("link", name="Track your parcel")).to_have_count(0)

    moved = ops_move(site, page, order_id, {"status": "in_production"})
    assert moved["status"] == "in_production"
    page.reload()
    expect(page.get_by_role("heading", name="Your order is in production")).to_be_visible()
    expect(page.locator("#confirmation-order .badge")).to_have_text("In production")
    expect(progress.get_by_role("listitem")).to_have_count(2)

    moved = ops_move(
        site,
        page,
        order_id,
        {
            "status": "shipped",
            "carrier": CARRIER,
            "tracking_number": TRACKING_NUMBER,
            "tracking_url": TRACKING_URL,
        },
    )
    assert moved["status"] == "shipped"
    assert moved["tracking"] == {"carrier": CARRIER, "number": TRACKING_NUMBER, "url": TRACKING_URL}
    assert [e["status"] for e in moved["events"]][-3:] == ["paid", "in_production", "shipped"]

    page.reload()
    expect_shipped_confirmation(page)
    save_screenshot(page, "8-confirmation-shipped-desktop")
    assert not blocking_violations(page)

    page.goto(site.url("/orders"))
    expect_shipped_row(page, order_id)
    save_screenshot(page, "orders-shipped-desktop")
    assert not blocking_violations(page)

    # The same pages on a phone: nothing wider than the screen, nothing hidden.
    console = ConsoleWatch()
    phone = new_context(browser, VIEWPORTS["phone"], storage_state=page.context.storage_state())
    phone.on("page", console.watch)
    try:
        small = phone.new_page()
        small.goto(site.url(f"/confirmation?order={order_id}"))
        expect_shipped_confirmation(small)
        assert small.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"][0]
        save_screenshot(small, "8-confirmation-shipped-phone")
        assert not blocking_violations(small)

        small.goto(site.url("/orders"))
        expect_shipped_row(small, order_id)
        assert small.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"][0]
        save_screenshot(small, "orders-shipped-phone")
        assert not blocking_violations(small)
    finally:
        phone.close()
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)


def test_a_delivered_order_and_a_partial_refund_read_plainly(site: Site, page: Page) -> None:
    order_id = pay_for_a_draft(site, page)
    ops_move(site, page, order_id, {"status": "in_production"})
    # Shipped without a carrier page: the number is shown as text, and there is no link.
    ops_move(site, page, order_id, {"status": "shipped", "tracking_number": "JD014600006281"})
    page.reload()
    expect(page.get_by_role("link", name="Track your parcel")).to_have_count(0)
    shipped = page.get_by_role("list", name="Progress").get_by_role("listitem").last
    expect(shipped).to_have_text(re.compile(rf"^Shipped — {WHEN}Tracking number JD014600006281$"))
    expect(shipped.get_by_role("link")).to_have_count(0)

    delivered = ops_move(site, page, order_id, {"status": "delivered"})
    assert delivered["status"] == "delivered"

    # A partial refund (Stripe's charge.refunded of part of the charge) keeps the status and
    # says how much went back; the API's answer is amended here rather than driving Stripe.
    def partly_refunded(route: Route) -> None:
        response = route.fetch()
        order = response.json()
        order["refunded_cents"] = 500
        route.fulfill(response=response, json=order)

    page.route(f"**/api/orders/{order_id}", partly_refunded)
    page.reload()
    expect(page.get_by_role("heading", name="Your order was delivered")).to_be_visible()
    expect(page.locator("#confirmation-order .badge")).to_have_text("Delivered")
    steps = page.get_by_role("list", name="Progress").get_by_role("listitem")
    expect(steps.last).to_have_text(re.compile(rf"^Delivered — {WHEN}$"))
    total = delivered["total_cents"] / 100
    expect(page.locator("#confirmation-order .order-refund")).to_have_text(
        f"Refunded $5.00 of ${total:,.2f}"
    )
    assert not blocking_violations(page)
