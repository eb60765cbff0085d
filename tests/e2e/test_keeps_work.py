"""A shopper never loses work: the studio works on the design named in its URL, and a reload
(twice), a second tab, Sizes and back, and Back/Forward all show exactly that design: its
layers, product, color and conversation. Starting from a product makes one design and puts its
id in the URL; an item removed from the order comes back with Undo. At 1440 and 390 px."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect

from tests.e2e.conftest import (
    VIEWPORTS,
    ConsoleWatch,
    Site,
    blocking_violations,
    new_context,
    save_screenshot,
)

DESIGN_URL = re.compile(r"/studio\?design=(dsn_[\w-]+)$")

# What the shopper sees of the design: product and color, every layer (on both sides, with
# its place, size and turn), the layer list, the conversation, and whether Continue is open.
SNAPSHOT = """() => ({
  product: document.getElementById('studio-product').textContent,
  color: document.querySelector('#color-swatches input:checked')?.value ?? null,
  select: document.getElementById('product-select').value,
  side: document.querySelector('#side-switch [aria-checked="true"]').dataset.side,
  stage: [...document.querySelectorAll('#stage .layer')].map((n) => n.getAttribute('aria-label')),
  list: [...document.querySelectorAll('#layer-list .layer-button')].map((b) => b.textContent),
  chat: [...document.querySelectorAll('#design-chat .chat-message:not(.chat-typing) .chat-text')]
    .map((p) => p.textContent),
  canContinue: !document.getElementById('continue').disabled,
})"""


def logo_png() -> bytes:
    image = Image.new("RGB", (480, 320), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, 280, 280), fill="#ff7a59")
    draw.rectangle((240, 100, 440, 220), fill="#4b3fd6")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def settled(page: Page, layers: int) -> dict[str, Any]:
    """The studio once it has loaded its design and saved it: what it shows."""
    expect(page.locator("#layer-list .layer-button")).to_have_count(layers)
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Saved"))
    expect(page.locator("#design-chat .chat-typing")).to_have_count(0)
    snapshot: dict[str, Any] = page.evaluate(SNAPSHOT)
    return snapshot


def watched(browser: Browser, viewport: str, console: ConsoleWatch) -> BrowserContext:
    context = new_context(browser, VIEWPORTS[viewport])
    context.on("page", console.watch)
    return context


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_the_design_is_the_same_after_reloads_a_second_tab_sizes_and_back_forward(
    site: Site, browser: Browser, viewport: str
) -> None:
    console = ConsoleWatch()
    context = watched(browser, viewport, console)
    page = context.new_page()
    try:
        page.goto(site.url("/studio"))
        chat = page.get_by_role("textbox", name="Describe your design")
        chat.fill("A minimal mountain on a natural tote with 'Weekend Crew' underneath")
        chat.press("Enter")
        expect(page).to_have_url(DESIGN_URL, timeout=30_000)
        design_id = DESIGN_URL.search(page.url).group(1)  # type: ignore[union-attr]
        expect(page.locator("#studio-product")).to_have_text("Canvas Tote · Natural")
        expect(page.locator("#layer-list")).to_contain_text("Weekend Crew")

        # Edits by hand: a text on the back, moved with the keyboard.
        page.get_by_role("radio", name="Back").click()
        page.get_by_label("Add text").fill("Est. 2024")
        page.get_by_role("button", name="Add", exact=True).click()
        layer = page.locator("#stage").get_by_role("button", name=re.compile(r"^Text “Est. 2024”"))
        expect(layer).to_be_focused()
        for key in ("ArrowDown", "ArrowDown", "ArrowDown", "="):
            page.keyboard.press(key)
        expect(layer).to_have_attribute("aria-label", re.compile(r"53% down, 105% size"))
        before = settled(page, 3)
        assert before["canContinue"], before
        assert before["side"] == "back"
        assert any("Weekend Crew" in text for text in before["list"]), before
        assert any("mountain" in text.lower() for text in before["chat"]), before
        save_screenshot(page, f"keeps-studio-{viewport}")

        def same(shown: dict[str, Any]) -> None:
            # The side in view may differ (a reload opens where the design is); the rest not.
            for key in ("product", "color", "select", "list", "chat", "canContinue"):
                assert shown[key] == before[key], (key, shown[key], before[key])

        def on_back(target: Page) -> dict[str, Any]:
            target.get_by_role("radio", name="Back").click()
            return settled(target, 3)

        # Reload, twice.
        for _ in range(2):
            page.reload()
            expect(page).to_have_url(re.compile(rf"design={design_id}$"))
            shown = on_back(page)
            same(shown)
            assert shown["stage"] == before["stage"], (shown["stage"], before["stage"])

        # A second tab, of the design's URL and of the bare studio: the same design.
        for path in (f"/studio?design={design_id}", "/studio"):
            other = context.new_page()
            other.goto(site.url(path))
            expect(other).to_have_url(re.compile(rf"design={design_id}$"))
            shown = on_back(other)
            same(shown)
            assert shown["stage"] == before["stage"]
            other.close()

        # Sizes, then Back: the studio shows the design; Forward: Sizes again.
        page.get_by_role("button", name="Continue to sizes").click()
        expect(page.get_by_role("heading", name="How many?")).to_be_visible()
        page.go_back()
        expect(page).to_have_url(re.compile(rf"/studio\?design={design_id}$"))
        same(on_back(page))
        page.go_forward()
        expect(page).to_have_url(re.compile(r"/quantity\?order="))
        expect(page.locator(".qty-item")).to_have_count(1)

        # Edit design, from Sizes: the same design, the conversation with it.
        page.get_by_role("link", name=re.compile("^Edit design of Canvas Tote")).click()
        expect(page).to_have_url(re.compile(rf"/studio\?design={design_id}$"))
        same(on_back(page))
        # ... and Back/Forward once more.
        page.go_back()
        expect(page).to_have_url(re.compile(r"/quantity\?order="))
        page.go_forward()
        expect(page).to_have_url(re.compile(rf"/studio\?design={design_id}$"))
        same(on_back(page))

        # The conversation goes on where it was: the assistant still knows the design.
        chat = page.get_by_role("textbox", name="Describe your design")
        chat.fill("Make the tote black")
        chat.press("Enter")
        expect(page.locator("#studio-product")).to_have_text("Canvas Tote · Black", timeout=30_000)
        page.reload()
        expect(page.locator("#studio-product")).to_have_text("Canvas Tote · Black")
        expect(page.locator("#design-chat .chat-log")).to_contain_text("Make the tote black")
        assert not blocking_violations(page)
    finally:
        context.close()
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_starting_from_a_product_makes_one_design_and_keeps_the_upload(
    site: Site, browser: Browser, viewport: str
) -> None:
    console = ConsoleWatch()
    context = watched(browser, viewport, console)
    page = context.new_page()
    try:
        page.goto(site.url("/catalog"))
        page.goto(site.url("/studio?product=tote&color=Natural"))
        expect(page).to_have_url(DESIGN_URL)
        design_id = DESIGN_URL.search(page.url).group(1)  # type: ignore[union-attr]
        expect(page.locator("#studio-product")).to_have_text("Canvas Tote · Natural")
        expect(page.get_by_role("button", name="Continue to sizes")).to_be_disabled()

        page.get_by_label("Upload an image").set_input_files(
            files=FilePayload(name="logo.png", mimeType="image/png", buffer=logo_png())
        )
        expect(page.locator("#stage .layer-image img")).to_have_js_property("complete", True)
        before = settled(page, 1)
        assert before["canContinue"]

        # A reload, then Back to the catalog and Forward again: the logo stays.
        page.reload()
        assert settled(page, 1)["stage"] == before["stage"]
        page.go_back()
        expect(page).to_have_url(re.compile(r"/catalog$"))
        page.go_forward()
        expect(page).to_have_url(re.compile(rf"design={design_id}$"))
        shown = settled(page, 1)
        assert shown["stage"] == before["stage"], shown
        assert shown["product"] == "Canvas Tote · Natural"

        # The server has one design of this shopper's for it, with the logo.
        saved = page.evaluate(
            "(id) => JSON.parse(localStorage.getItem('auren.design.' + id)).design", design_id
        )
        assert [layer["type"] for layer in saved["layers"]] == ["image"]
    finally:
        context.close()
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)


def test_a_removed_item_comes_back_with_undo(site: Site, page: Page) -> None:
    page.goto(site.url("/"))
    draft = page.request.post(
        site.url("/api/orders/draft"),
        data={
            "items": [
                {"product_id": "tote", "color": "Natural", "sizes": {"OS": 24}},
                {"product_id": "classic-tee", "color": "Navy", "sizes": {"M": 12, "2XL": 2}},
            ]
        },
        headers={"Origin": site.origin},
    )
    assert draft.ok, draft.text()
    order_id = draft.json()["id"]
    page.goto(site.url(f"/quantity?order={order_id}"))
    expect(page.locator(".qty-item")).to_have_count(2)
    page.get_by_role("button", name="Remove Canvas Tote, Natural from the order").click()
    expect(page.locator(".qty-item")).to_have_count(1)
    undo_notice = page.get_by_role("status").filter(has_text="Removed Canvas Tote, Natural")
    expect(undo_notice).to_be_visible()
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    undo.click()
    expect(page.locator(".qty-item")).to_have_count(2)
    expect(page.locator(".qty-item").first).to_contain_text("Canvas Tote")
    order = page.request.get(site.url(f"/api/orders/{order_id}")).json()
    assert [item["product_id"] for item in order["items"]] == ["tote", "classic-tee"]
    assert order["items"][0]["sizes"] == {"OS": 24}
