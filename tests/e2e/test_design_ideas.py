"""Design ideas in a real browser: a product page shows the day's ideas for that product and
a click opens the studio with the idea's brief made into a design; the empty studio shows
them too, and a picked one fills the canvas."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Site

MAKING_MS = 90_000  # the day's first request makes the ideas: artwork and mockups


def todays_ideas(site: Site, page: Page, product_id: str) -> list[dict[str, Any]]:
    """The ideas the page will show, made now if they are not yet (the day's first request)."""
    answer = page.request.get(
        site.url(f"/api/suggestions?product_id={product_id}"), timeout=MAKING_MS
    )
    assert answer.ok, answer.text()
    ideas: list[dict[str, Any]] = answer.json()["suggestions"]
    assert len(ideas) == 3
    return ideas


def test_a_product_page_shows_ideas_and_one_opens_the_studio(site: Site, page: Page) -> None:
    ideas = todays_ideas(site, page, "tote")
    page.goto(site.url("/catalog?product=tote"))
    shown = page.locator("#product-ideas")
    shown.scroll_into_view_if_needed()  # the ideas are asked for once they are seen
    expect(shown.get_by_role("heading", name="Ideas for your Canvas Tote")).to_be_visible()
    cards = shown.get_by_role("link")
    expect(cards).to_have_count(3)
    for index, idea in enumerate(ideas):
        expect(cards.nth(index)).to_have_text(idea["title"])
        expect(cards.nth(index).locator("img")).to_have_js_property("naturalWidth", 1024)

    picked = ideas[0]["brief"]
    cards.first.click()
    expect(page).to_have_url(re.compile(r"/studio\?design=dsn_"))
    expect(page.locator("#studio-product")).to_have_text(f"Canvas Tote · {picked['color']}")
    layers = page.locator("#layer-list")
    for text in picked["texts"]:
        expect(layers).to_contain_text(text["text"])
    if picked["image"]:
        expect(page.locator("#stage .layer-image img").first).to_have_js_property("complete", True)
    expect(page.locator("#design-chat")).to_contain_text("Here is the idea you picked")
    expect(page.locator("#studio-ideas")).to_be_hidden()


def test_the_empty_studio_offers_ideas_for_its_product(site: Site, page: Page) -> None:
    ideas = todays_ideas(site, page, "classic-tee")
    page.goto(site.url("/studio?new=1"))
    expect(page.locator("#studio-product")).to_contain_text("Classic Tee")
    page.locator("#studio-ideas").scroll_into_view_if_needed()
    offered = page.locator("#studio-ideas").get_by_role("button")
    expect(offered).to_have_count(3)
    picked = ideas[1]
    offered.nth(1).click()
    expect(page.locator("#design-chat")).to_contain_text(f"Starting from “{picked['title']}”")
    expect(page).to_have_url(re.compile(r"/studio\?design=dsn_"))
    layers = page.locator("#layer-list .layer-item")
    expect(layers).to_have_count(len(picked["brief"]["texts"]) + bool(picked["brief"]["image"]))
    expect(page.locator("#studio-ideas")).to_be_hidden()
