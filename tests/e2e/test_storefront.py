"""The storefront's pages in a real browser: the catalog path, error states, the 404 page, the
layer editor from the keyboard, and every page at a phone's and a desktop's size."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, Route, expect

from tests.e2e.conftest import (
    BLOCKING_IMPACTS,
    SCREENSHOTS,
    VIEWPORTS,
    ConsoleWatch,
    Site,
    accessibility_violations,
    new_context,
    save_screenshot,
)


def logo_png() -> bytes:
    """A small two-color logo, as a shopper might upload."""
    image = Image.new("RGB", (240, 160), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 20, 140, 140), fill="#ff7a59")
    draw.rectangle((120, 50, 220, 110), fill="#4b3fd6")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_catalog_path_leads_to_a_draft(site: Site, page: Page) -> None:
    page.goto(site.url("/catalog"))
    expect(page.get_by_role("heading", name="Choose what to make")).to_be_visible()
    page.get_by_role("link", name="Heavy Hoodie").click()

    expect(page.get_by_role("heading", name="Heavy Hoodie", level=1)).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("$43.00")
    expect(page.get_by_role("list", name="Available sizes")).to_contain_text("2XL")
    page.get_by_role("radio", name="Black").check()
    expect(page).to_have_url(re.compile(r"color=Black"))
    page.get_by_role("link", name="Design this").click()

    expect(page.locator("#studio-product")).to_have_text("Heavy Hoodie · Black")
    page.get_by_label("Add text").fill("Night Shift")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(
        page.locator("#stage").get_by_role("button", name=re.compile("Night Shift"))
    ).to_be_focused()
    expect(page.locator("#save-status")).to_have_text("Saved.")

    # Upload artwork: it becomes the design's image, beside the text added by hand.
    page.get_by_label("Upload an image").set_input_files(
        files=FilePayload(name="logo.png", mimeType="image/png", buffer=logo_png())
    )
    expect(page.locator("#stage .layer-image img")).to_have_js_property("complete", True)
    expect(page.locator("#layer-list")).to_contain_text("Night Shift")
    # The 240 x 160 px logo is too small for the print area: the save says it may print blurry.
    expect(page.locator("#save-status")).to_have_text(
        "Saved. An image may print blurry at its size."
    )
    page.get_by_role("button", name="Continue to sizes").click()

    expect(page.get_by_role("heading", name="Heavy Hoodie")).to_be_visible()
    medium = page.get_by_label("M", exact=True)
    expect(medium).to_have_value("12")
    medium.fill("15")
    page.get_by_label("L", exact=True).fill("9")
    expect(page.locator(".totals-row").first).to_contain_text("24")
    expect(page.locator(".tier.is-active")).to_contain_text("24")
    page.get_by_role("link", name="Review order").click()

    expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
    item = page.locator(".summary-item")
    expect(item).to_contain_text("Heavy Hoodie")
    expect(item).to_contain_text("Black · 24 pieces")
    expect(page.get_by_role("link", name="Continue with Apple")).to_be_visible()


def fail_with(status: int, headers: dict[str, str] | None = None):
    body = {"error": {"code": "internal", "message": "boom", "request_id": "req-e2e"}}
    if status == 429:
        body = {"error": {"code": "rate_limited", "message": "slow down"}}

    def handler(route: Route) -> None:
        route.fulfill(
            status=status,
            content_type="application/json",
            headers=headers or {},
            body=json.dumps(body),
        )

    return handler


def test_api_errors_are_shown_to_the_shopper(site: Site, page: Page, console: ConsoleWatch) -> None:
    console.allow("status of 500")
    console.allow("status of 429")
    page.route("**/api/catalog", fail_with(500))
    page.goto(site.url("/catalog"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Something went wrong on our side")
    expect(alert).to_contain_text("Reference: req-e2e")
    page.unroute("**/api/catalog")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("link", name="Classic Tee")).to_be_visible()

    page.route("**/api/chat", fail_with(429, {"Retry-After": "30"}))
    page.goto(site.url("/studio"))
    chat = page.get_by_role("textbox", name="Describe your design")
    chat.fill("A neon tiger on a black hoodie")
    chat.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(
        "Too many requests. Please try again in 30 s."
    )
    page.unroute("**/api/chat")
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("img", name="Print proof of your design, front")).to_be_visible(
        timeout=30_000
    )


def test_the_404_page(site: Site, page: Page, console: ConsoleWatch) -> None:
    console.allow("/no-such-page")
    response = page.goto(site.url("/no-such-page"))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="This page is not in the catalog")).to_be_visible()
    page.get_by_role("link", name="Browse the catalog").click()
    expect(page.get_by_role("heading", name="Choose what to make")).to_be_visible()


def test_the_layer_editor_works_with_the_keyboard_alone(site: Site, page: Page) -> None:
    page.goto(site.url("/studio?product=classic-tee&color=White"))
    expect(page.locator("#studio-product")).to_have_text("Classic Tee · White")

    add_text = page.get_by_label("Add text")
    for _ in range(40):
        if add_text.evaluate("node => node === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(add_text).to_be_focused()
    page.keyboard.type("Crew")
    page.keyboard.press("Enter")

    layer = page.locator("#stage").get_by_role("button", name=re.compile(r"^Text “Crew”"))
    expect(layer).to_be_focused()
    expect(layer).to_have_attribute("aria-label", re.compile(r"50% across, 50% down"))
    for key in ("ArrowRight", "ArrowRight", "ArrowUp", "=", "]"):
        page.keyboard.press(key)
    expect(layer).to_have_attribute(
        "aria-label", re.compile(r"52% across, 49% down, 105% size, rotated 5°")
    )
    expect(page.locator("#save-status")).to_have_text("Saved.")

    page.keyboard.press("Control+z")
    expect(layer).to_have_attribute("aria-label", re.compile(r"rotated 0°"))
    page.keyboard.press("Control+Shift+z")
    expect(layer).to_have_attribute("aria-label", re.compile(r"rotated 5°"))

    # The side switch is a radio group: arrows move between front and back.
    page.get_by_role("radio", name="Front").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="Back")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#stage")).to_contain_text("Nothing on the back yet.")
    page.keyboard.press("ArrowLeft")
    layer.focus()
    page.keyboard.press("Delete")
    expect(page.locator("#stage").get_by_role("button", name=re.compile("Crew"))).to_have_count(0)
    expect(page.locator("#layers-empty")).to_be_visible()


def test_the_contact_form_checks_its_fields_and_sends(site: Site, page: Page) -> None:
    page.goto(site.url("/contact"))
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_label("Your name")).to_be_focused()
    expect(page.get_by_text("Tell us your name.")).to_be_visible()
    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("Email").fill("robin@example.com")
    page.get_by_label("Message").fill("Can you print 500 totes by June?")
    page.get_by_role("button", name="Send message").click()
    expect(
        page.get_by_role("heading", name="Thank you, your message is on its way")
    ).to_be_visible()
    expect(page.locator("#contact-done")).to_be_focused()
    expect(page.get_by_text(re.compile(r"^Reference msg_"))).to_be_visible()


LANDING_BUDGET_BYTES = 300 * 1024


def test_the_landing_page_transfers_under_300_kb(site: Site, page: Page) -> None:
    """Every response of the landing page, by encoded body size, except the product images."""
    page.goto(site.url("/"), wait_until="networkidle")
    expect(page.locator("#featured-grid .product-card:not(.is-skeleton)")).to_have_count(6)
    entries = page.evaluate(
        """() => [...performance.getEntriesByType('navigation'),
                  ...performance.getEntriesByType('resource')]
                 .map((entry) => [entry.name, entry.encodedBodySize])"""
    )
    counted = {url: size for url, size in entries if "/img/products/" not in url}
    total = sum(counted.values())
    report = "\n".join(f"{size:>8} {url}" for url, size in sorted(counted.items()))
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "landing-size.txt").write_text(f"{report}\n{total:>8} total\n")
    assert 0 < total < LANDING_BUDGET_BYTES, report


# ---- every page, both sizes, no console errors ------------------------------------------------


def api(context: BrowserContext, site: Site, path: str, body: dict) -> dict:
    response = context.request.post(
        site.url(path),
        data=json.dumps(body),
        headers={"Origin": site.origin, "Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    return response.json()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_page_at_phone_and_desktop_size(site: Site, browser: Browser, viewport: str) -> None:
    """Every page renders without console errors, and axe finds no serious or critical
    accessibility violation (WCAG 2.1 A/AA, contrast included) on any of them."""
    console = ConsoleWatch()
    console.allow("/no-such-page")
    context = new_context(browser, VIEWPORTS[viewport])
    context.on("page", console.watch)
    page = context.new_page()
    blocking: dict[str, list[dict]] = {}

    def shoot(name: str) -> None:
        save_screenshot(page, f"{name}-{viewport}")
        found = [v for v in accessibility_violations(page) if v["impact"] in BLOCKING_IMPACTS]
        if found:
            blocking[name] = found

    try:
        page.goto(site.url("/"))
        expect(page.locator("#featured-grid .product-card:not(.is-skeleton)")).to_have_count(6)
        page.evaluate("document.fonts.ready")
        shoot("1-landing")

        for path, heading, name in (
            ("/start", "How would you like to start?", "2-start"),
            ("/catalog", "Choose what to make", "3a-catalog"),
            ("/contact", "Talk to a person", "contact"),
        ):
            page.goto(site.url(path))
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            if path == "/catalog":
                expect(page.locator(".product-card:not(.is-skeleton)")).to_have_count(6)
            shoot(name)

        page.goto(site.url("/catalog?product=classic-tee&color=Red"))
        expect(page.get_by_role("heading", name="Classic Tee", level=1)).to_be_visible()
        shoot("3a-product")

        page.goto(site.url("/studio"))
        chat = page.get_by_role("textbox", name="Describe your design")
        chat.fill("A neon tiger on a black hoodie with 'Night Shift' on the back")
        chat.press("Enter")
        proof = page.get_by_role("img", name="Print proof of your design, front")
        expect(proof).to_have_attribute("src", re.compile("^/storage/"), timeout=30_000)
        page.locator("#stage .layer").first.click()
        shoot("3b-studio")

        page.get_by_role("button", name="Continue to sizes").click()
        assistant = page.get_by_role("textbox", name=re.compile("Tell the size assistant"))
        assistant.fill("8 S, 10 M, 6 L and 2 2XL")
        assistant.press("Enter")
        expect(page.locator(".totals-row").first).to_contain_text("26")
        shoot("5-quantity")

        page.get_by_role("link", name="Review order").click()
        expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
        expect(page.locator(".summary-item")).to_have_count(1)
        shoot("6-summary")
        order_id = page.url.split("order=")[1]

        page.get_by_role("link", name="Continue with Apple").click()
        page.get_by_label("Email").fill(f"{viewport}@example.com")
        # Hold the checkout session request, to see the hand-over page before it redirects.
        held: list[Route] = []
        page.route("**/api/checkout/session", lambda route: held.append(route))
        page.get_by_role("button", name="Continue").click()
        # Signed in, back on the review: one click on to the secure checkout.
        expect(page.get_by_role("link", name="Continue to secure checkout")).to_be_focused()
        page.get_by_role("link", name="Continue to secure checkout").click()
        expect(page.get_by_role("heading", name="Taking you to secure checkout…")).to_be_visible()
        shoot("7-checkout")
        held[0].continue_()
        page.unroute("**/api/checkout/session")

        page.wait_for_url(re.compile("/_dev/checkout/"))
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        expect(page.get_by_role("heading", name="Thank you! Your order is paid.")).to_be_visible()
        expect(page.locator(".orders-row.is-current")).to_be_visible()
        shoot("8-confirmation")

        page.goto(site.url("/orders"))
        number = page.request.get(site.url(f"/api/orders/{order_id}")).json()["number"]
        expect(page.locator(".orders-row").first).to_contain_text(number)
        shoot("orders")

        page.goto(site.url("/no-such-page"))
        expect(page.get_by_role("heading", name="This page is not in the catalog")).to_be_visible()
        shoot("404")
    except Exception:
        save_screenshot(page, f"failed-every-page-{viewport}")
        raise
    finally:
        context.close()
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)
    assert not blocking, f"accessibility violations: {json.dumps(blocking, indent=1)}"
