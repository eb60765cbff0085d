"""What it costs, shown whole, and what is printed, shown whole: on Sizes, Review, the checkout
hand-over and the confirmation every price equation is read from the page and done again, a
design printed on the back shows its back (opening larger), Back from the checkout returns to
Review and nothing forwards on its own, and My orders shows each item's mockups. At 1440 and
390 px, axe-clean."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.arithmetic import check_equations, check_totals
from tests.e2e.conftest import (
    VIEWPORTS,
    ConsoleWatch,
    Site,
    blocking_violations,
    new_context,
    post_json,
    save_screenshot,
)

HOODIE = "Heavy Hoodie"


def text_layer(layer_id: str, area: str, text: str) -> dict[str, Any]:
    return {
        "id": layer_id,
        "type": "text",
        "area": area,
        "x": 0.5,
        "y": 0.4,
        "scale": 1,
        "rotation": 0,
        "text": text,
        "font": "Aileron Bold",
        "size": 0.12,
        "color": "#ffffff",
    }


def expect_sums(page: Page, at_least: int) -> None:
    """Every equation on the page adds up, and each totals list too."""
    checked = check_equations(page)
    assert len(checked) >= at_least, [c.text for c in checked]
    check_totals(page)


def expect_both_sides(page: Page, scope: str) -> None:
    """The item shows its back print, and the mockup opens larger (and closes with Escape)."""
    back = page.locator(scope).get_by_role("button", name=re.compile(r"^Enlarge: .*, back$"))
    expect(back.first).to_be_visible()
    expect(
        page.locator(scope).get_by_role("button", name=re.compile(r"^Enlarge: .*, front$")).first
    ).to_be_visible()
    back.first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("img", name=re.compile(r", back$"))).to_have_js_property(
        "complete", True
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(back.first).to_be_focused()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_sum_adds_up_the_back_print_shows_and_back_from_checkout_is_review(
    site: Site, browser: Browser, viewport: str
) -> None:
    console = ConsoleWatch()
    context = new_context(browser, VIEWPORTS[viewport])
    context.on("page", console.watch)
    page = context.new_page()
    blocking_found: dict[str, list[dict[str, Any]]] = {}

    def audit(name: str) -> None:
        save_screenshot(page, f"{name}-{viewport}")
        found = blocking_violations(page)
        if found:
            blocking_found[name] = found

    try:
        page.goto(site.url("/"))
        design = post_json(
            page,
            site,
            "/api/designs",
            {
                "product_id": "hoodie",
                "color": "Black",
                "layers": [
                    text_layer("front-1", "front", "Crew"),
                    text_layer("back-1", "back", "Night Shift"),
                ],
            },
        )
        order = post_json(
            page,
            site,
            "/api/orders/draft",
            {
                "items": [
                    {
                        "product_id": "hoodie",
                        "design_id": design["design_id"],
                        "color": "Black",
                        "sizes": {"M": 10, "L": 10, "2XL": 3, "3XL": 1},
                    },
                    {"product_id": "tote", "color": "Natural", "sizes": {"OS": 12}},
                ]
            },
        )
        order_id = order["id"]

        # Sizes: each item's equation, its larger sizes, and the order's totals add up.
        page.goto(site.url(f"/quantity?order={order_id}"))
        expect(page.locator(".qty-item")).to_have_count(2)
        hoodie = page.locator(".qty-item").first
        # 24 x $39.50 + (3 x $3.00 + 1 x $6.00) = $963.00
        expect(hoodie.locator(".qty-price")).to_have_text(
            "24 pieces × $39.50 + $15.00 for larger sizes = $963.00"
        )
        expect(hoodie.locator(".upcharge-equation")).to_contain_text(
            "3 × $3.00 (2XL) + 1 × $6.00 (3XL) = $15.00"
        )
        expect_sums(page, 3)
        # When it arrives, if paid today (the server's dates, production then transit).
        expect(page.locator("#totals .arrival")).to_contain_text(
            re.compile(r"^Arrives [A-Z][a-z]{2} \d{1,2}")
        )
        page.get_by_label("M", exact=True).fill("12")
        expect(hoodie.locator(".qty-price")).to_contain_text("26 pieces × $39.50", timeout=10_000)
        expect(page.locator("#totals")).not_to_have_attribute("aria-busy", "true")
        expect_sums(page, 3)
        audit("numbers-quantity")

        # Review: the same sums, and the hoodie's back print.
        page.get_by_role("link", name="Review order").click()
        expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
        expect(page.locator(".summary-item")).to_have_count(2)
        # The shipping Stripe will offer, each with what it adds: subtotal + shipping = total.
        options = page.locator(".shipping-option")
        expect(options).to_have_count(2)
        expect(options.first).to_contain_text("Standard shipping · Free · arrives")
        expect(options.last).to_contain_text(re.compile(r"Rush shipping · \$\d+\.\d\d · arrives"))
        expect(page.locator(".totals-grand dt")).to_have_text("Total before shipping")
        expect_sums(page, 5)
        expect_both_sides(page, "#summary-items")
        audit("numbers-summary")

        # Sign in, and see the hand-over (its session held back): its sums add up too.
        page.get_by_role("link", name="Continue with Google").click()
        page.get_by_label("Email").fill(f"numbers.{viewport}@example.com")
        held: list[Route] = []
        page.route("**/api/checkout/session", lambda route: held.append(route))
        page.get_by_role("button", name="Continue").click()
        # Signed in, back on the review: one click on to the secure checkout.
        expect(page.get_by_role("link", name="Continue to secure checkout")).to_be_focused()
        page.get_by_role("link", name="Continue to secure checkout").click()
        expect(page.get_by_role("heading", name="Taking you to secure checkout…")).to_be_visible()
        expect(page.locator("#checkout-order")).to_be_visible()
        expect(page.locator("#checkout-order .shipping-option")).to_have_count(2)
        expect_sums(page, 5)
        audit("numbers-checkout")
        held[0].continue_()
        page.unroute("**/api/checkout/session")
        page.wait_for_url(re.compile(r"/_dev/checkout/"))

        # Back from the checkout: Review, and it stays there (nothing forwards on its own).
        page.go_back()
        expect(page).to_have_url(re.compile(rf"/summary\?order={order_id}$"))
        expect(page.get_by_text("Payment not finished")).to_be_visible()
        resume = page.get_by_role("link", name="Continue to secure checkout").first
        expect(resume).to_be_in_viewport()
        page.wait_for_timeout(1500)
        expect(page).to_have_url(re.compile(rf"/summary\?order={order_id}$"))
        # Forward again goes to the checkout, and Back once more to Review.
        page.go_forward()
        page.wait_for_url(re.compile(r"/_dev/checkout/"))
        page.go_back()
        expect(page).to_have_url(re.compile(rf"/summary\?order={order_id}$"))
        expect(page.get_by_text("Payment not finished")).to_be_visible()

        # Continue where it was left: pay; the confirmation adds up and shows the back.
        resume.click()
        page.wait_for_url(re.compile(r"/_dev/checkout/"))
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        expect(page.get_by_role("heading", name="Thank you! Your order is paid.")).to_be_visible()
        expect(page.locator("#confirmation-order .summary-item")).to_have_count(2)
        # Paid: the shipping chosen is a row of the total, and the arrival counts from today.
        expect(page.locator("#confirmation-order .totals-row.is-shipping")).to_have_text(
            "Standard shippingFree"
        )
        expect(page.locator("#confirmation-order .arrival")).to_contain_text("Standard shipping")
        expect_sums(page, 3)
        expect_both_sides(page, "#confirmation-order")
        audit("numbers-confirmation")

        # My orders: each item's mockups, front and back, and the way back to its design.
        page.goto(site.url("/orders"))
        row = page.locator(".orders-row").first
        expect(row.locator(".orders-item")).to_have_count(2)
        expect_both_sides(page, ".orders-row")
        expect(row.get_by_role("link", name=f"Edit design of {HOODIE}, Black")).to_have_attribute(
            "href", f"/studio?design={design['design_id']}"
        )
        # An old order reads as it is, without thanks.
        page.goto(site.url("/orders"))
        page.locator(".orders-row").first.locator(".orders-id").click()
        expect(page.get_by_role("heading", name="Your order is paid", exact=True)).to_be_visible()
    finally:
        context.close()
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)
    assert not blocking_found, f"accessibility violations: {json.dumps(blocking_found, indent=1)}"
