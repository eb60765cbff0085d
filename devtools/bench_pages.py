"""The landing page's weight, as `make bench` reports it: what a browser transfers to show `/`
with its six featured products, served by the local server (`devtools/server.py`, which
serves what Firebase Hosting serves) and loaded by Debian's Chromium through Playwright.

Every response's encoded body counts (the page, styles, modules, fonts, API answers, images);
the product photos are reported apart too, since the browser tests' budget leaves them out.
Skipped, with the reason, when Chromium is not installed. Loopback only, bounded in time.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("AUREN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
BUDGET_BYTES = 300 * 1024
TIMEOUT_MS = 60_000
PRODUCT_IMAGES = "/img/products/"


def measure() -> dict[str, Any]:
    """Bytes the landing page transfers, with and without the product photos."""
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} is not installed"}
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from common.infra import config
    from devtools import hosting
    from devtools.server import LocalServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda e, s: holder["app"](e, s), threaded=True)
    origin = f"http://127.0.0.1:{server.port}"
    previous = os.environ.get("SITE_URL")
    os.environ["SITE_URL"] = origin
    config.settings.cache_clear()
    holder["app"] = LocalServer(config.settings(), hosting.load())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(origin + "/", wait_until="networkidle", timeout=TIMEOUT_MS)
            page.wait_for_selector(
                "#featured-grid .product-card:not(.is-skeleton)", timeout=TIMEOUT_MS
            )
            # The cards' photos start once the catalog has answered: wait for them too, so a
            # slow machine does not report the page without its photos.
            page.wait_for_function(
                f"() => performance.getEntriesByType('resource')"
                f".some((entry) => entry.name.includes('{PRODUCT_IMAGES}'))",
                timeout=TIMEOUT_MS,
            )
            page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
            entries: list[tuple[str, int]] = page.evaluate(
                """() => [...performance.getEntriesByType('navigation'),
                          ...performance.getEntriesByType('resource')]
                         .map((entry) => [entry.name, entry.encodedBodySize])"""
            )
            browser.close()
    finally:
        server.shutdown()
        thread.join()
        if previous is None:
            os.environ.pop("SITE_URL", None)
        else:
            os.environ["SITE_URL"] = previous
        config.settings.cache_clear()
    photos = sum(size for url, size in entries if PRODUCT_IMAGES in url)
    total = sum(size for _, size in entries)
    return {
        "responses": len(entries),
        "bytes_with_images": total,
        "bytes_without_product_images": total - photos,
        "budget_bytes": BUDGET_BYTES,
    }
