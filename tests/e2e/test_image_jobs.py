"""Image generation as a job, in the browser: the studio shows what is being drawn and for how
long, polls until the design is ready, resumes the wait after leaving the page, and offers to
try again when the picture could not be made. The slow test runs the local image stand-in
with a 25 s delay (`AUREN_IMAGE_DELAY_S`), like the image model on a bad day."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from common.infra import config
from common.providers import imagegen
from common.studio.prompts import ArtworkRequest
from tests.e2e.conftest import Site, save_screenshot

IMAGE_DELAY_S = 25


@pytest.fixture
def slow_images(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local image stand-in takes IMAGE_DELAY_S seconds for each picture."""
    monkeypatch.setenv("AUREN_IMAGE_DELAY_S", str(IMAGE_DELAY_S))
    config.settings.cache_clear()
    imagegen.provider.reset()
    assert imagegen.provider().delay_seconds == IMAGE_DELAY_S  # type: ignore[attr-defined]
    yield
    monkeypatch.undo()
    config.settings.cache_clear()
    imagegen.provider.reset()


def ask(page: Page, message: str) -> None:
    chat = page.get_by_role("textbox", name="Describe your design")
    chat.fill(message)
    chat.press("Enter")


@pytest.mark.slow
def test_a_design_completes_while_the_image_takes_25_s(
    site: Site, page: Page, slow_images: None
) -> None:
    page.goto(site.url("/studio?new"))
    asked = time.monotonic()
    ask(page, "A neon tiger on a black hoodie")
    log = page.get_by_role("log", name="Describe your design: conversation")
    progress = page.get_by_role("status").filter(has_text="Drawing your design")
    expect(progress).to_be_visible(timeout=10_000)
    # The reply comes at once; the picture is still being drawn.
    expect(log.locator(".chat-message:not(.chat-typing)")).to_have_count(3)
    assert time.monotonic() - asked < IMAGE_DELAY_S / 2
    expect(page.locator("#save-status")).to_have_text(re.compile(r"Drawing your design… [3-9] s"))
    save_screenshot(page, "image-job-progress")

    # Leaving and coming back resumes the wait, with the time counted since the request.
    page.goto(site.url("/catalog"))
    page.go_back()
    expect(progress).to_be_visible()
    expect(page.locator("#save-status")).to_have_text(
        re.compile(r"Drawing your design… (\d{2}) s"), timeout=15_000
    )

    proof = page.get_by_role("img", name="Print proof of your design, front")
    expect(proof).to_have_attribute("src", re.compile(r"^/storage/"), timeout=45_000)
    expect(proof).to_have_js_property("complete", True)
    expect(page.locator("#save-status")).to_have_text("Saved.")
    expect(progress).to_have_count(0)
    assert time.monotonic() - asked >= IMAGE_DELAY_S
    expect(page.locator("#studio-product")).to_have_text("Heavy Hoodie · Black")
    expect(page.locator("#stage .layer-image img")).to_have_js_property("complete", True)
    expect(page).to_have_url(re.compile(r"/studio\?design=dsn_"))
    save_screenshot(page, "image-job-done")


def test_a_picture_that_could_not_be_made_says_why_and_tries_again(
    site: Site, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Refusing:
        name = "refusing"

        def generate(self, request: ArtworkRequest) -> Image.Image:
            raise imagegen.ImageGenerationFailed(
                "the image service could not make this artwork; try again or rephrase"
            )

    monkeypatch.setattr(imagegen.provider, "built", Refusing())
    page.goto(site.url("/studio?new"))
    ask(page, "A vintage anchor on a white tee")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your design was not made")
    expect(alert).to_contain_text("the image service could not make this artwork")
    expect(page.locator("#save-status")).to_have_text("Not saved.")

    monkeypatch.undo()  # the image service is back
    alert.get_by_role("button", name="Try again").click()
    proof = page.get_by_role("img", name="Print proof of your design, front")
    expect(proof).to_have_attribute("src", re.compile(r"^/storage/"), timeout=30_000)
    expect(page.locator("#save-status")).to_have_text("Saved.")
    expect(page.get_by_role("alert")).to_have_count(0)
