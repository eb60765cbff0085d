"""The local server over real HTTP: Firebase Hosting semantics, function dispatch, /_dev/, storage.

Each server runs on a free loopback port in a background thread. The shop server reads the
repo's firebase.json and functions with a throwaway public dir; the custom one has its own
firebase.json and an echo function, to see exactly what a function receives.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from common.infra import config
from devtools import hosting
from devtools.server import LocalServer, Moved
from tests.test_config import PRODUCTION

REPO = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

PAGES = {
    "index.html": "<!doctype html><title>home</title><h1>home page</h1>",
    "about.html": "<!doctype html><title>about</title><h1>about page</h1>",
    "docs/index.html": "<!doctype html><title>docs</title><h1>docs index</h1>",
    "404.html": "<!doctype html><title>lost</title><h1>custom not found</h1>",
    "js/app.js": "export const answer = 42;\n",
    "css/site.css": "body { margin: 0; }\n",
    "img/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
    ".secret": "never served",
}

ECHO = """
import flask
import functions_framework


@functions_framework.http
def echo(request: flask.Request) -> flask.Response:
    return flask.jsonify(
        path=request.full_path,
        cookie=request.headers.get("Cookie"),
        forwarded_for=request.headers.get("X-Forwarded-For"),
    )
"""


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def request(
    port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> Reply:
    """One request with the path sent exactly as given (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def site_config(folder: Path, hosting_config: dict) -> hosting.Hosting:
    (folder / "firebase.json").write_text(json.dumps({"hosting": hosting_config}))
    return hosting.load(folder / "firebase.json")


@dataclass
class Running:
    port: int
    app: LocalServer


def serve(app: LocalServer) -> Iterator[Running]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Running(server.port, app)
    server.shutdown()
    thread.join()


def repo_site(folder: Path) -> hosting.Hosting:
    """The repo's firebase.json hosting section, with its public dir replaced by `folder`."""
    config_ = json.loads((REPO / "firebase.json").read_text())["hosting"]
    write_files(folder / "public", PAGES)
    return site_config(folder, {**config_, "public": "public"})


@pytest.fixture(scope="module")
def shop(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("shop")
    cfg = dataclasses.replace(config.settings(), data_dir=folder / "data")
    yield from serve(LocalServer(cfg, repo_site(folder)))


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("production")
    cfg = config.load({**PRODUCTION, "AUREN_DATA_DIR": str(folder / "data")})
    yield from serve(LocalServer(cfg, repo_site(folder)))


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("custom")
    write_files(folder, {"functions/echo/main.py": ECHO, "public/app.html": "the app shell"})
    site = site_config(
        folder,
        {
            "public": "public",
            "rewrites": [
                {"source": "/echo/**", "function": "echo"},
                {"source": "/gone", "function": {"functionId": "missing", "region": "x"}},
                {"source": "/run/**", "run": {"serviceId": "api", "region": "us-central1"}},
                {"source": "**", "destination": "/app.html"},
            ],
        },
    )
    cfg = config.load({"AUREN_DATA_DIR": str(folder / "data")})
    yield from serve(LocalServer(cfg, site, functions_dir=folder / "functions"))


def test_index_is_served_at_the_root_with_the_firebase_json_headers(shop: Running) -> None:
    reply = request(shop.port, "/")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"home page" in reply.body
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "status", "location", "text"),
    [
        ("/about", 200, None, b"about page"),
        ("/about.html", 301, "/about", None),
        ("/about.html?ref=mail", 301, "/about?ref=mail", None),
        ("/about/", 301, "/about", None),
        ("/index.html", 301, "/", None),
        ("/docs", 200, None, b"docs index"),
        ("/docs/", 301, "/docs", None),
        ("/docs/index.html", 301, "/docs", None),
    ],
)
def test_clean_urls_without_trailing_slashes(
    shop: Running, path: str, status: int, location: str | None, text: bytes | None
) -> None:
    reply = request(shop.port, path)
    assert reply.status == status
    assert reply.headers["Location"] == location
    if text:
        assert text in reply.body


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/js/app.js", "text/javascript; charset=utf-8"),
        ("/css/site.css", "text/css; charset=utf-8"),
        ("/img/logo.svg", "image/svg+xml; charset=utf-8"),
    ],
)
def test_assets_have_their_content_type_and_cache_rule(
    shop: Running, path: str, content_type: str
) -> None:
    reply = request(shop.port, path)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == content_type
    # Names are not fingerprinted, so a browser revalidates every time (a 304 when unchanged):
    # after a deploy the new HTML never runs with an hour-old script.
    assert reply.headers["Cache-Control"] == "no-cache"
    assert reply.headers["ETag"] and reply.headers["Last-Modified"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def max_age(cache_control: str) -> int | None:
    """How long a browser may use the response without asking again (None: no freshness)."""
    directives = [part.strip().lower() for part in cache_control.split(",")]
    if "no-cache" in directives or "no-store" in directives:
        return 0
    ages = [int(d.split("=", 1)[1]) for d in directives if d.startswith("max-age=")]
    return ages[0] if ages else None


FINGERPRINTED = re.compile(r"\.[0-9a-f]{8,}\.\w+$")  # app.3f2a9c1d.js


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The real site: the repo's firebase.json and its hosting/ dir."""
    folder = tmp_path_factory.mktemp("site")
    cfg = dataclasses.replace(config.settings(), data_dir=folder / "data")
    yield from serve(LocalServer(cfg, hosting.load(REPO / "firebase.json")))


def deployed_files() -> list[str]:
    site_ = hosting.load(REPO / "firebase.json")
    files = sorted(p.relative_to(site_.public).as_posix() for p in site_.public.rglob("*"))
    return [
        name for name in files if (site_.public / name).is_file() and not site_.is_ignored(name)
    ]


@pytest.mark.parametrize("name", deployed_files())
def test_no_deployed_file_is_cached_across_a_deploy(site: Running, name: str) -> None:
    """Each file of the site is either fingerprinted and immutable, or revalidated each time
    with its validators: none is used unchecked after a deploy replaced it."""
    path = "/" + name
    reply = request(site.port, path)
    if reply.status == 301:  # a page: /about.html lives at /about
        path = reply.headers["Location"]
        reply = request(site.port, path)
    assert reply.status == 200, path
    cache_control = reply.headers["Cache-Control"]
    if "immutable" in cache_control:
        assert FINGERPRINTED.search(name), f"{name} is immutable but its name is not its content"
        return
    assert max_age(cache_control) == 0, f"{path}: {cache_control}"
    assert reply.headers["ETag"] and reply.headers["Last-Modified"]
    again = request(site.port, path, headers={"If-None-Match": reply.headers["ETag"]})
    assert again.status == 304


@pytest.mark.parametrize(
    "path", ["/js/missing.js", "/css/missing.css", "/img/missing.png", "/missing", "/x.woff2"]
)
def test_a_404_is_never_cached_for_long(site: Running, path: str) -> None:
    """A file missing now may be deployed in a minute: its 404 is revalidated too."""
    reply = request(site.port, path)
    assert reply.status == 404
    assert max_age(reply.headers["Cache-Control"]) == 0


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A site whose firebase.json caches scripts for an hour, as this repo's once did."""
    folder = tmp_path_factory.mktemp("cached")
    write_files(folder / "public", PAGES)
    site_ = site_config(
        folder,
        {
            "public": "public",
            "headers": [
                {"source": "**", "headers": [{"key": "X-Frame-Options", "value": "DENY"}]},
                {
                    "source": "**/*.js",
                    "headers": [{"key": "Cache-Control", "value": "public, max-age=3600"}],
                },
            ],
        },
    )
    yield from serve(LocalServer(config.load({"AUREN_DATA_DIR": str(folder)}), site_))


def test_a_404_gets_the_firebase_json_headers_of_its_path_as_hosting_gives_them(
    cached: Running,
) -> None:
    """Checked against the Hosting emulator (firebase-tools 15): a 404 of /js/missing.js is
    404.html with the headers firebase.json gives /js/missing.js, Cache-Control included, and
    404.html's validators; a path no Cache-Control rule matches gets none."""
    reply = request(cached.port, "/js/missing.js")
    assert reply.status == 404
    assert b"custom not found" in reply.body
    assert reply.headers["Cache-Control"] == "public, max-age=3600"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["ETag"] and reply.headers["Last-Modified"]
    page = request(cached.port, "/missing")
    assert page.status == 404
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers.get("Cache-Control") is None


def test_static_files_revalidate_with_their_etag(shop: Running) -> None:
    first = request(shop.port, "/js/app.js")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = request(shop.port, "/js/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    assert again.body == b""


def test_static_files_refuse_other_methods(shop: Running) -> None:
    reply = request(shop.port, "/about", method="POST")
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"


def test_catalog_is_dispatched_to_the_orders_function(shop: Running) -> None:
    reply = request(shop.port, "/api/catalog")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    products = reply.json()["products"]
    assert {"classic-tee", "hoodie", "tote"} <= {product["id"] for product in products}
    # The function's own headers win; Hosting's fill in what it did not set.
    assert reply.headers["Cache-Control"].startswith("public")
    assert reply.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert reply.headers["Permissions-Policy"].startswith("camera=()")


def test_an_unknown_path_under_a_rewrite_gets_the_function_json_404(shop: Running) -> None:
    reply = request(shop.port, "/api/orders/abc/def")
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/unknown"),
        ("GET", "/api/order"),
        ("POST", "/api/orderz/draft"),
        ("GET", "/api/no/such/deep/path"),
        ("DELETE", "/api/webhooks/paypal"),
        ("GET", "/api/"),
        ("GET", "/api"),
    ],
)
def test_an_unknown_api_path_gets_the_json_404(shop: Running, method: str, path: str) -> None:
    """API clients get the API's error shape, not the site's HTML page: the last rewrite sends
    every /api path no other rewrite owns to a function, whose router answers the JSON 404."""
    reply = request(shop.port, path, method=method)
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json()["error"]["code"] == "not_found"
    assert reply.headers["Cache-Control"] == "private, no-store"
    assert reply.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/nope", "/nope.js", "/apiary", "/docs/missing"])
def test_a_missing_file_gets_the_404_page(shop: Running, path: str) -> None:
    reply = request(shop.port, path)
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"custom not found" in reply.body
    assert reply.headers["X-Frame-Options"] == "DENY"


def test_files_firebase_json_ignores_are_not_served(shop: Running) -> None:
    reply = request(shop.port, "/.secret")
    assert reply.status == 404
    assert b"never served" not in reply.body


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/js/..%2f..%2fpyproject.toml",
        "/%2e%2e%5cpyproject.toml",
        "/storage/..%2f..%2fsecrets.json",
    ],
)
def test_path_traversal_is_refused(shop: Running, path: str) -> None:
    reply = request(shop.port, path)
    assert reply.status in (400, 404)
    assert b"[project]" not in reply.body
    assert b"SESSION_SECRET" not in reply.body


def test_dev_index_in_local_mode(shop: Running) -> None:
    reply = request(shop.port, "/_dev/")
    assert reply.status == 200
    assert b"Auren dev tools" in reply.body
    assert reply.headers["Cache-Control"] == "no-store"
    assert request(shop.port, "/_dev").status in (301, 308)
    assert request(shop.port, "/_dev/no-such-tool").status == 404


@pytest.mark.parametrize("path", ["/_dev/", "/_dev/sign-in", "/_dev/checkout/cs_1"])
def test_dev_pages_do_not_exist_in_production(production: Running, path: str) -> None:
    reply = request(production.port, path)
    assert reply.status == 404
    assert b"custom not found" in reply.body
    assert b"dev tools" not in reply.body


def test_production_still_serves_the_site(production: Running) -> None:
    assert request(production.port, "/").status == 200


def test_stored_images_are_served_only_as_images(shop: Running) -> None:
    storage = shop.app.settings.data_dir / "storage"
    write_files(
        storage, {"designs/page.html": "<script>alert(1)</script>", "designs/x.svg": "<svg/>"}
    )
    (storage / "designs" / "art.png").write_bytes(PNG)
    reply = request(shop.port, "/storage/designs/art.png")
    assert reply.status == 200
    assert reply.body == PNG
    assert reply.headers["Content-Type"] == "image/png"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Content-Disposition"] == "inline; filename=art.png"
    assert "sandbox" in reply.headers["Content-Security-Policy"]
    for path in ("/storage/designs/page.html", "/storage/designs/x.svg", "/storage/designs/no.png"):
        assert request(shop.port, path).status == 404


def test_storage_is_not_served_in_production(production: Running) -> None:
    storage = production.app.settings.data_dir / "storage"
    storage.mkdir(parents=True)
    (storage / "art.png").write_bytes(PNG)
    assert request(production.port, "/storage/art.png").status == 404


def test_a_function_gets_the_full_path_and_only_the_session_cookie(custom: Running) -> None:
    reply = request(
        custom.port,
        "/echo/a/b?x=1",
        headers={"Cookie": "tracker=1; __session=abc.def; other=2"},
    )
    assert reply.status == 200
    assert reply.json() == {
        "path": "/echo/a/b?x=1",
        "cookie": "__session=abc.def",
        "forwarded_for": "127.0.0.1",
    }


def test_rewrites_that_cannot_run_locally_say_why(custom: Running) -> None:
    gone = request(custom.port, "/gone")
    assert gone.status == 502
    assert b"functions/missing/main.py" in gone.body
    run = request(custom.port, "/run/x")
    assert run.status == 501
    assert b"Cloud Run service 'api'" in run.body


def test_a_destination_rewrite_serves_its_file(custom: Running) -> None:
    reply = request(custom.port, "/any/client/route")
    assert reply.status == 200
    assert reply.body == b"the app shell"


@pytest.mark.parametrize(
    ("trailing_slash", "clean_urls", "path", "expected"),
    [
        (None, False, "/docs", Moved("/docs/")),
        (None, False, "/docs/", "docs/index.html"),
        (None, False, "/about", None),
        (None, False, "/about.html", "about.html"),
        (True, True, "/about", Moved("/about/")),
        (True, True, "/about/", "about.html"),
        (True, True, "/about.html", Moved("/about/")),
        (True, True, "/docs", Moved("/docs/")),
        (False, True, "/docs/index", Moved("/docs")),
        (False, False, "/about", None),
    ],
)
def test_static_resolution_follows_superstatic(
    tmp_path: Path,
    trailing_slash: bool | None,
    clean_urls: bool,
    path: str,
    expected: Moved | str | None,
) -> None:
    write_files(tmp_path / "public", PAGES)
    settings = {"public": "public", "cleanUrls": clean_urls}
    if trailing_slash is not None:
        settings["trailingSlash"] = trailing_slash
    app = LocalServer(
        config.load({"AUREN_DATA_DIR": str(tmp_path)}), site_config(tmp_path, settings)
    )
    found = app.static(path)
    if isinstance(expected, str):
        assert found == (tmp_path / "public" / expected).resolve()
    else:
        assert found == expected


def test_the_real_404_page_fits_the_content_security_policy() -> None:
    page = (REPO / "hosting" / "404.html").read_text()
    assert "<script" not in page and "<style" not in page and "style=" not in page
