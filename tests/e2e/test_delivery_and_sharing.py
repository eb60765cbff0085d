"""What the server now knows, shown where the shopper decides: when a product arrives (product
page, Sizes, Review, confirmation), its size chart next to the size inputs, Reorder on a past
order, and "Share for approval", whose link shows a stranger the mockups and nothing else."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import (
    VIEWPORTS,
    ConsoleWatch,
    Site,
    blocking_violations,
    new_context,
    post_json,
    save_screenshot,
)

ARRIVES = r"[A-Z][a-z]{2} \d{1,2}(–\d{1,2}| – [A-Z][a-z]{2} \d{1,2})?"


def test_arrival_and_the_size_chart(site: Site, page: Page) -> None:
    page.goto(site.url("/catalog?product=classic-tee"))
    expect(page.get_by_role("heading", name="Classic Tee", level=1)).to_be_visible()
    delivery = page.locator(".product-option", has=page.get_by_role("heading", name="Delivery"))
    expect(delivery.locator(".arrival")).to_have_text(
        re.compile(
            rf"^Order today: arrives {ARRIVES} with Standard shipping,"
            rf" or {ARRIVES} with Rush shipping\.$"
        )
    )
    # The server's own dates, as it counts them.
    catalog = page.request.get(site.url("/api/catalog")).json()
    tee = next(p for p in catalog["products"] if p["id"] == "classic-tee")
    latest = tee["shipping_options"][0]["arrives"]["latest"]
    expect(delivery.locator("time").first).to_have_attribute("datetime", latest)

    order = post_json(
        page,
        site,
        "/api/orders/draft",
        {"items": [{"product_id": "classic-tee", "color": "Navy", "sizes": {"M": 12}}]},
    )
    page.goto(site.url(f"/quantity?order={order['id']}"))
    expect(page.locator("#totals .arrival")).to_contain_text("Standard shipping")
    chart = page.get_by_role("group", name=re.compile("Quantities by size")).locator(".size-chart")
    chart.get_by_text("Size chart").click()
    table = chart.get_by_role("table")
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name=re.compile(r"^M "))).to_contain_text("20″")
    # Opened next to the inputs, not below the page.
    grid = page.locator(".size-grid").bounding_box()
    opened = table.bounding_box()
    assert grid and opened and opened["x"] >= grid["x"] + grid["width"] - 1, (grid, opened)
    assert opened["y"] < grid["y"] + grid["height"], (grid, opened)
    save_screenshot(page, "size-chart-desktop")
    assert not blocking_violations(page)


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_a_share_link_shows_a_stranger_the_mockups_and_nothing_else(
    site: Site, browser: Browser, viewport: str
) -> None:
    console = ConsoleWatch()
    context = new_context(browser, VIEWPORTS[viewport])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.origin)
    context.on("page", console.watch)
    page = context.new_page()
    stranger_context = new_context(browser, VIEWPORTS[viewport])
    stranger_context.on("page", console.watch)
    try:
        page.goto(site.url("/studio?product=hoodie&color=Maroon"))
        expect(page).to_have_url(re.compile(r"design=dsn_"))
        for side, text in (("Front", "Quiz Night"), ("Back", "Team Owl")):
            # On a phone the new layer's controls open in a sheet: Done closes it.
            done = page.locator("#layer-controls").get_by_role("button", name="Done")
            if done.is_visible():
                done.click()
            page.get_by_role("radio", name=side).click()
            page.get_by_label("Add text").fill(text)
            page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator("#save-status")).to_have_text("Saved.")

        page.get_by_role("button", name="Share for approval").click()
        link = page.get_by_label("Link for approval")
        expect(link).to_have_value(re.compile(r"/shared#[\w-]{32}$"))
        url = link.input_value()
        expect(page.locator(".share-status")).to_contain_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == url
        save_screenshot(page, f"share-studio-{viewport}")

        # Someone else, another browser, not signed in: the two mockups, nothing else.
        stranger = stranger_context.new_page()
        stranger.goto(url)
        expect(
            stranger.get_by_role("heading", name="Heavy Hoodie in Maroon", level=1)
        ).to_be_visible()
        main = stranger.get_by_role("main")
        front = main.get_by_role("button", name="Enlarge: Heavy Hoodie in Maroon, front")
        back = main.get_by_role("button", name="Enlarge: Heavy Hoodie in Maroon, back")
        expect(front).to_be_visible()
        expect(back).to_be_visible()
        for mockup in (front, back):
            expect(mockup.locator("img")).to_have_js_property("complete", True)
            assert mockup.locator("img").evaluate("image => image.naturalWidth") > 0
        shown = main.inner_text()
        for secret in ("$", "Quiz Night", "Team Owl", "Edit design", "dsn_", "piece"):
            assert secret not in shown, (secret, shown)
        assert main.get_by_role("link").count() == 0
        back.click()
        expect(stranger.get_by_role("dialog")).to_be_visible()
        stranger.keyboard.press("Escape")
        save_screenshot(stranger, f"shared-{viewport}")
        assert not blocking_violations(stranger)

        # Continue, then share from Review: the same link for the same design.
        page.get_by_role("button", name="Continue to sizes").click()
        page.get_by_role("link", name="Review order").click()
        expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
        page.get_by_role("button", name="Share for approval of Heavy Hoodie, Maroon").click()
        expect(page.get_by_label("Link for approval")).to_have_value(url)
        assert not blocking_violations(page)

        # A link that names nothing says so.
        console.allow("status of 404")
        stranger.goto(site.url("/shared#" + "x" * 32))
        expect(
            stranger.get_by_role("heading", name="This design is no longer shared")
        ).to_be_visible()
    finally:
        context.close()
        stranger_context.close()
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)


def test_reorder_a_past_order(site: Site, page: Page) -> None:
    page.goto(site.url("/"))
    order = post_json(
        page,
        site,
        "/api/orders/draft",
        {"items": [{"product_id": "tote", "color": "Navy", "sizes": {"OS": 30}}]},
    )
    page.goto(site.url(f"/summary?order={order['id']}"))
    page.get_by_role("link", name="Continue with Google").click()
    page.get_by_label("Email").fill("again@example.com")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Continue to secure checkout").click()
    page.wait_for_url(re.compile(r"/_dev/checkout/"))
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("heading", name="Thank you! Your order is paid.")).to_be_visible()

    page.goto(site.url("/orders"))
    row = page.locator(
        ".orders-row", has=page.get_by_role("link", name=order["number"], exact=True)
    )
    expect(row.locator(".orders-item")).to_have_count(1)
    row.get_by_role("button", name=f"Reorder order {order['number']}").click()
    page.wait_for_url(re.compile(r"/quantity\?order=ord_"))
    new_id = page.url.split("order=")[1]
    assert new_id != order["id"]
    expect(page.get_by_role("heading", name="How many?", exact=True)).to_be_visible()
    expect(page.get_by_role("spinbutton", name="How many? Canvas Tote, Navy")).to_have_value("30")
    again = page.request.get(site.url(f"/api/orders/{new_id}")).json()
    assert again["status"] == "draft"
    assert again["items"][0]["sizes"] == {"OS": 30}
