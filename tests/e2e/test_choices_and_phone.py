"""Choices stick and the studio fits a phone: the color picked on a catalog card is the one
opened; another product keeps the color when it has it and says so when it does not; on a
390 px touch screen the mockup stays in view, a layer's controls open in a sheet, Continue is
always there, every target is 44 px, the help speaks of touch, and the header keeps every link
in view; from the keyboard, undo and Escape keep focus, and stacking says what it did."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import (
    VIEWPORTS,
    ConsoleWatch,
    Site,
    blocking_violations,
    new_context,
    save_screenshot,
)

PHONE_WIDTH, PHONE_HEIGHT = VIEWPORTS["phone"]
TOUCH_TARGET = 44

# Every control a shopper taps in the studio, with its box (the file input is reached through
# its label, and a swatch's radio fills its label).
TARGETS = """() => [...document.querySelectorAll(
    '.studio button, .studio select, .studio input:not([type=file]):not([type=radio]),'
    + ' .studio label.swatch, .studio label.upload-label, .studio-head-actions .btn')]
  .filter((node) => node.getClientRects().length > 0
    && getComputedStyle(node).visibility !== 'hidden')
  .map((node) => {
    const box = node.getBoundingClientRect();
    return { what: node.outerHTML.slice(0, 90), width: box.width, height: box.height };
  })"""

# A handle is hit anywhere within 22 px of its centre (44 px across), though drawn smaller.
HANDLE_HITS = """() => [...document.querySelectorAll('#stage .layer[aria-pressed="true"] .handle')]
  .map((handle) => {
    const box = handle.getBoundingClientRect();
    const x = box.left + box.width / 2;
    const y = box.top + box.height / 2;
    return [[0, 0], [20, 0], [-20, 0], [0, 20], [0, -20]].every(([dx, dy]) =>
      handle.contains(document.elementFromPoint(x + dx, y + dy)));
  })"""


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return {key: found[key] for key in ("x", "y", "width", "height")}


def in_view(found: dict[str, float]) -> bool:
    return found["y"] >= 0 and found["y"] + found["height"] <= PHONE_HEIGHT + 0.5


def test_the_color_picked_sticks_from_the_card_to_the_studio_and_across_products(
    site: Site, page: Page
) -> None:
    page.goto(site.url("/catalog"))
    card = page.locator(".product-card", has=page.get_by_role("link", name="Canvas Tote"))
    card.get_by_role("radio", name="Natural").check()
    card.get_by_role("link", name="Canvas Tote").click()
    expect(page.get_by_role("heading", name="Canvas Tote", level=1)).to_be_visible()
    expect(page.get_by_role("radio", name="Natural")).to_be_checked()
    page.get_by_role("link", name="Design this").click()
    expect(page.locator("#studio-product")).to_have_text("Canvas Tote · Natural")

    # The cap has no Natural: it shows in its first color, and the studio says so.
    product = page.get_by_label("Product", exact=True)
    product.select_option(label="Dad Cap")
    expect(page.locator("#studio-product")).to_have_text("Dad Cap · Black")
    expect(page.locator("#color-note")).to_have_text(
        "The Dad Cap does not come in Natural, so it shows in Black. Pick any color above."
    )
    # Back to the tote: Natural again, the color that was picked, and no note.
    product.select_option(label="Canvas Tote")
    expect(page.locator("#studio-product")).to_have_text("Canvas Tote · Natural")
    expect(page.locator("#color-note")).to_have_text("")
    # Navy on the tote, then a tee, which has Navy too: kept.
    page.locator("#color-swatches").get_by_role("radio", name="Navy").check()
    product.select_option(label="Classic Tee")
    expect(page.locator("#studio-product")).to_have_text("Classic Tee · Navy")
    expect(page.locator("#color-note")).to_have_text("")


def test_the_studio_on_a_phone(site: Site, browser: Browser) -> None:
    console = ConsoleWatch()
    context = new_context(browser, VIEWPORTS["phone"], has_touch=True, is_mobile=True)
    context.on("page", console.watch)
    page = context.new_page()
    try:
        page.goto(site.url("/studio?product=classic-tee&color=White"))
        expect(page).to_have_url(re.compile(r"design=dsn_"))
        # The help speaks of touch, not of arrow keys.
        help_text = page.locator("#stage-help")
        expect(help_text).to_have_attribute("data-help", "touch")
        expect(help_text).to_contain_text("Tap a layer")
        expect(help_text).not_to_contain_text("arrow")

        page.get_by_label("Add text").fill("Crew")
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator("#save-status")).to_have_text("Saved.")

        # Continue is always in view, at the top and deep down the page.
        page.evaluate("window.scrollTo(0, 0)")
        assert in_view(box(page, "#continue"))
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_timeout(200)
        assert in_view(box(page, "#continue"))
        # ... and so is the mockup, as the tools scroll under it.
        page.get_by_label("Add text").scroll_into_view_if_needed()
        stage = box(page, "#stage")
        assert in_view(stage), stage
        assert stage["width"] >= 200, stage

        # A layer's controls open in a sheet at the bottom, the mockup above it in view.
        layer = page.locator("#stage").get_by_role("button", name=re.compile(r"^Text “Crew”"))
        layer.tap()
        sheet = page.locator("#layer-controls")
        expect(sheet).to_be_visible()
        expect(sheet).to_be_in_viewport()
        sheet_box = box(page, "#layer-controls")
        stage = box(page, "#stage")
        assert in_view(stage)
        assert stage["y"] + stage["height"] * 0.6 <= sheet_box["y"], (stage, sheet_box)
        assert sheet_box["y"] + sheet_box["height"] <= box(page, "#continue")["y"] + 1
        save_screenshot(page, "studio-sheet-phone")

        # Every target in the studio is at least 44 px square, the handles' hit areas too.
        small = [
            target
            for target in page.evaluate(TARGETS)
            if min(target["width"], target["height"]) < TOUCH_TARGET - 0.5
        ]
        assert not small, json.dumps(small, indent=1)
        hits = page.evaluate(HANDLE_HITS)
        assert hits and all(hits), hits

        sheet.get_by_role("button", name="Done").tap()
        expect(sheet).to_be_hidden()
        expect(layer).to_be_focused()
        expect(layer).to_have_attribute("aria-pressed", "false")
        assert not blocking_violations(page)
    finally:
        context.close()
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)


def test_the_header_keeps_every_link_in_view_when_signed_in_on_a_phone(
    site: Site, browser: Browser
) -> None:
    context = new_context(browser, VIEWPORTS["phone"])
    page = context.new_page()
    try:
        page.goto(site.url("/"))
        page.evaluate(
            "localStorage.setItem('auren.user',"
            " JSON.stringify({email: 'a@example.com', name: null}))"
        )
        for path in ("/", "/catalog", "/studio", "/contact"):
            page.goto(site.url(path))
            nav = page.get_by_role("navigation", name="Main")
            orders = nav.get_by_role("link", name="My orders")
            expect(orders).to_be_visible()
            assert nav.evaluate("node => node.scrollWidth <= node.clientWidth"), path
            for link in nav.get_by_role("link").all():
                found = link.bounding_box()
                assert found is not None
                assert found["x"] >= 0 and found["x"] + found["width"] <= PHONE_WIDTH, (path, found)
                assert found["height"] < 48, (path, found)  # one line each
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        save_screenshot(page, "header-signed-in-phone")
    finally:
        context.close()


def test_undo_escape_and_stacking_from_the_keyboard(site: Site, page: Page) -> None:
    page.goto(site.url("/studio?product=classic-tee&color=White"))
    expect(page).to_have_url(re.compile(r"design=dsn_"))
    add = page.get_by_label("Add text")
    for text in ("Lower", "Upper"):
        add.fill(text)
        add.press("Enter")
    upper = page.locator("#stage").get_by_role("button", name=re.compile(r"^Text “Upper”"))
    lower = page.locator("#stage").get_by_role("button", name=re.compile(r"^Text “Lower”"))
    expect(upper).to_be_focused()

    # Undo and redo from the layer keep focus on it.
    page.keyboard.press("ArrowRight")
    expect(upper).to_have_attribute("aria-label", re.compile(r"51% across"))
    page.keyboard.press("Control+z")
    expect(upper).to_have_attribute("aria-label", re.compile(r"50% across"))
    expect(upper).to_be_focused()
    page.keyboard.press("Control+Shift+z")
    expect(upper).to_have_attribute("aria-label", re.compile(r"51% across"))
    expect(upper).to_be_focused()

    # Escape deselects and leaves focus on the layer; Tab goes on from it, not from the top.
    page.keyboard.press("Escape")
    expect(upper).to_be_focused()
    expect(upper).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#layer-controls")).to_be_hidden()
    page.keyboard.press("Shift+Tab")
    expect(lower).to_be_focused()

    # Stacking: the list's top prints on top; Send backward says what it did.
    expect(page.locator("#layer-list .layer-label")).to_have_text(["Text “Upper”", "Text “Lower”"])
    upper.focus()
    controls = page.locator("#layer-controls")
    expect(controls.get_by_role("button", name="Bring forward")).to_have_attribute(
        "aria-disabled", "true"
    )
    controls.get_by_role("button", name="Send backward").click()
    expect(page.locator("#save-status")).to_have_text("Text “Upper” is now behind Text “Lower”.")
    expect(page.locator("#layer-list .layer-label")).to_have_text(["Text “Lower”", "Text “Upper”"])
    expect(controls.get_by_role("button", name="Send backward")).to_have_attribute(
        "aria-disabled", "true"
    )
    expect(controls.get_by_role("button", name="Send backward")).to_be_focused()
    # The side is its own button, named for the garment's side.
    controls.get_by_role("button", name="Print on the back instead").click()
    expect(page.get_by_role("radio", name="Back")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#layer-list .layer-button").last).to_contain_text("Back")
    expect(page.locator("#save-status")).to_have_text("Saved.")
