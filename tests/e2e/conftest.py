"""Browser tests: Debian's Chromium, driven by Playwright, against the local server.

One server (on a free loopback port, over the fresh test database) and one browser per test
session; a new browser context, so new cookies, per test. Every page fails its test on a
console error or an uncaught exception. Screenshots go to `test-output/screenshots/`; with
`AUREN_UPDATE_SCREENSHOTS=1` they are also written to `docs/screenshots/` for the README.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)
from werkzeug.serving import make_server

from common.infra import config
from devtools import hosting
from devtools.server import LocalServer

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("AUREN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = REPO / "test-output" / "screenshots"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
# What the accessibility check fails on; minor and moderate findings are reported, not failed.
BLOCKING_IMPACTS = ("serious", "critical")


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (contrast included).

    axe is evaluated through the DevTools protocol, which the page's CSP does not govern.
    """
    page.evaluate("(source) => { (0, eval)(source); }", AXE.read_text())
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'best-practice']},
            resultTypes: ['violations'],
        })).violations.map(v => ({id: v.id, impact: v.impact,
                                  nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return violations


def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """The accessibility violations the check fails on (BLOCKING_IMPACTS)."""
    return [v for v in accessibility_violations(page) if v["impact"] in BLOCKING_IMPACTS]


def post_json(page: Page, site: Site, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST `body` to the site's `path` with the page's cookies, as the storefront does; the
    answer's JSON (the request must succeed)."""
    response = page.request.post(
        site.url(path),
        data=json.dumps(body or {}),
        headers={"Origin": site.origin, "Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    return response.json()


DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
VIEWPORTS = {"phone": (390, 844), "desktop": (1440, 900)}
TIMEOUT_MS = 20_000  # rendering mockups on a busy 2-core CI machine takes seconds
expect.set_options(timeout=TIMEOUT_MS)


class Site:
    """The running local server: its origin, and a Page factory that watches the console."""

    def __init__(self, origin: str, settings: config.Settings) -> None:
        self.origin = origin
        self.settings = settings

    def url(self, path: str) -> str:
        return self.origin + path


@pytest.fixture(scope="session")
def site(database_url: str) -> Iterator[Site]:
    """The local server on a free port; SITE_URL is its origin while the e2e tests run."""
    holder: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    origin = f"http://127.0.0.1:{server.port}"
    with site_url(origin):
        holder["app"] = LocalServer(config.settings(), hosting.load())
        holder["app"].load_consumers()
        cfg = config.settings()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(origin, cfg)
    server.shutdown()
    thread.join()


@contextlib.contextmanager
def site_url(origin: str) -> Iterator[None]:
    """Set SITE_URL (the origin the API trusts and redirects to) and restore it after."""
    previous = os.environ.get("SITE_URL")
    os.environ["SITE_URL"] = origin
    config.settings.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SITE_URL", None)
        else:
            os.environ["SITE_URL"] = previous
        config.settings.cache_clear()


@pytest.fixture(autouse=True)
def _site_origin(site: Site) -> Iterator[None]:
    """Each browser test sees the server's origin as the site; other tests see theirs."""
    with site_url(site.origin):
        yield


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class ConsoleWatch:
    """Console errors and uncaught exceptions of every page of a context."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[str] = []

    def allow(self, fragment: str) -> None:
        """Expect an error containing `fragment` (a deliberately failed request logs one)."""
        self.allowed.append(fragment)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = f"{message.text} ({message.location.get('url', '')})"
        if not any(fragment in text for fragment in self.allowed):
            self.errors.append(text)


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


def new_context(browser: Browser, viewport: tuple[int, int], **options: Any) -> BrowserContext:
    width, height = viewport
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="en-US", **options
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, console: ConsoleWatch) -> Iterator[BrowserContext]:
    ctx = new_context(browser, VIEWPORTS["desktop"])
    ctx.on("page", console.watch)
    yield ctx
    ctx.close()
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page of the test's context; on failure, a screenshot of where it stopped."""
    opened = context.new_page()
    yield opened
    if request.node.stash.get(FAILED, False) and not opened.is_closed():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(SCREENSHOTS / f"failed-{request.node.name}.png"), full_page=True)


# A full-page screenshot shows what is below the fold: load lazy images first.
LOAD_ALL_IMAGES = """async () => {
  const images = [...document.images];
  for (const image of images) image.loading = 'eager';
  await Promise.all(images.map((image) => image.complete ? null : new Promise((done) => {
    image.addEventListener('load', done, { once: true });
    image.addEventListener('error', done, { once: true });
  })));
  await document.fonts.ready;
}"""


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot in test-output/, copied to docs/ when asked to update them."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate(LOAD_ALL_IMAGES)
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    if os.environ.get("AUREN_UPDATE_SCREENSHOTS") == "1":
        # The committed set is palette-reduced: a third of the size, and it reads the same.
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as shot:
            small = shot.convert("RGB").quantize(colors=256, dither=Image.Dither.FLOYDSTEINBERG)
            small.save(DOCS_SCREENSHOTS / path.name, optimize=True)
    return path
