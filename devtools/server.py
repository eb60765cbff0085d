"""The local server behind `make dev`: the shop at http://127.0.0.1:8080 (`PORT` overrides).

It does what Firebase Hosting does in production, reading the same firebase.json: redirects,
then an existing static file of the public dir, then the first matching rewrite, then
`404.html`; every answer carries the headers firebase.json gives its path, a 404's too (as
Hosting does: a missing script's 404 is cached as scripts are). A rewrite to a function runs
that function's own `main.py` through functions-framework, one Flask app per function as
Cloud Functions builds it, with the request passed on untouched (full `/api/...` path). In
local mode only, it also serves the dev pages under `/_dev/` and the local object storage
under `/storage/`.
"""

from __future__ import annotations

import functools
import html
import importlib
import logging
import mimetypes
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import functions_framework
from werkzeug.exceptions import HTTPException
from werkzeug.http import dump_options_header
from werkzeug.routing import Map, Rule
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

from common.infra.config import Settings, settings
from devtools import hosting
from devtools.deploy_config import SUBSCRIPTIONS
from devtools.hosting import Hosting

DEFAULT_PORT = 8080
FUNCTIONS_DIR = hosting.REPO_ROOT / "functions"

# Dev-only pages, served under /_dev/ in local mode and nowhere in production. Register a page
# with its URL rule (werkzeug syntax) and the "module:function" that serves it. The function
# takes the werkzeug Request and the rule's parameters and returns a Response (a flask.Response
# is one), handles its own methods, and is imported on first use. For example:
#     "/_dev/checkout/<session_id>": "devtools.dev_checkout:checkout_page",
#     def checkout_page(request: Request, session_id: str) -> Response: ...
# The first line of its docstring describes it on the /_dev/ index.
DEV_PAGES: dict[str, str] = {
    "/_dev/sign-in": "devtools.dev_sign_in:sign_in_page",
    "/_dev/checkout/<session_id>": "devtools.dev_checkout:checkout_page",
    "/_dev/mail": "devtools.dev_mail:mail_index",
    "/_dev/mail/<name>": "devtools.dev_mail:mail_message",
    "/_dev/mail/<name>/html": "devtools.dev_mail:mail_html",
}

# Python 3.11's mimetypes says application/javascript; ES modules want text/javascript.
CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}
# Stored objects are user content: raster images only (an SVG can carry script).
STORAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
READ_METHODS = ("GET", "HEAD")

logger = logging.getLogger("devtools.server")


@dataclass(frozen=True)
class Moved:
    """A static path that Hosting answers with a 301 to its canonical form."""

    location: str


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return (
        CONTENT_TYPES.get(suffix)
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )


def is_unsafe(path: str) -> bool:
    """Dot segments (also when sent encoded, as `%2e%2e`), backslashes and NULs are refused."""
    return "\\" in path or "\x00" in path or any(part in (".", "..") for part in path.split("/"))


def plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    response = Response(text + "\n", status=status, mimetype="text/plain", headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def file_response(request: Request, file: Path, mimetype: str, headers: dict[str, str]) -> Response:
    """The file with validators, so a browser revalidates cheaply (304) instead of refetching."""
    if request.method not in READ_METHODS:
        return plain(405, "method not allowed", {"Allow": ", ".join(READ_METHODS)})
    response = Response(file.read_bytes(), mimetype=mimetype)
    # Local edits must show on reload; a firebase.json Cache-Control rule still wins.
    response.headers["Cache-Control"] = "no-cache"
    response.headers.update(headers)
    response.last_modified = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    response.add_etag()
    return response.make_conditional(request)


def hosting_forwarded(environ: WSGIEnvironment) -> WSGIEnvironment:
    """The request as Hosting forwards it to a function: only the `__session` cookie survives
    (Hosting strips every other cookie) and the client address is in X-Forwarded-For."""
    forwarded = dict(environ)
    cookies = [
        cookie.strip()
        for cookie in environ.get("HTTP_COOKIE", "").split(";")
        if cookie.strip().startswith("__session=")
    ]
    forwarded.pop("HTTP_COOKIE", None)
    if cookies:
        forwarded["HTTP_COOKIE"] = cookies[0]
    client = environ.get("REMOTE_ADDR", "")
    previous = environ.get("HTTP_X_FORWARDED_FOR")
    forwarded["HTTP_X_FORWARDED_FOR"] = f"{previous}, {client}" if previous else client
    return forwarded


@functools.cache
def dev_view(target: str) -> Callable[..., Response]:
    module, _, name = target.partition(":")
    view: Callable[..., Response] = getattr(importlib.import_module(module), name)
    return view


def dev_index(request: Request) -> Response:
    """The list of dev pages."""
    items = []
    for rule, target in sorted(DEV_PAGES.items()):
        summary = html.escape((dev_view(target).__doc__ or "").strip().split("\n")[0])
        name = html.escape(rule)
        # A rule with parameters is not a page one can open as such.
        label = f"<code>{name}</code>" if "<" in rule else f'<a href="{name}">{name}</a>'
        items.append(f"<li>{label} — {summary}</li>")
    items.append("<li><code>/storage/&lt;key&gt;</code> — local object storage (images only)</li>")
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Auren dev tools</title></head><body><h1>Auren dev tools</h1>"
        "<p>Local mode only: none of these exist in production.</p>"
        f'<ul>{"".join(items)}</ul><p><a href="/">The shop</a></p></body></html>\n'
    )
    return Response(page, mimetype="text/html")


class LocalServer:
    """The WSGI app: one instance per server, loading each function on its first request."""

    def __init__(self, cfg: Settings, site: Hosting, functions_dir: Path = FUNCTIONS_DIR) -> None:
        self.settings = cfg
        self.site = site
        self.functions_dir = functions_dir
        self._functions: dict[str, WSGIApplication] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        app, handler = self.route(request)
        status = ""

        def capture(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status
            status = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        body = app(environ, capture)
        # The path without its query string (OAuth codes travel there), escaped if it would
        # break the line.
        path = request.path if request.path.isprintable() else ascii(request.path)
        logger.info(
            "%s %s %s %s %.0f ms",
            request.method,
            path,
            status,
            handler,
            (time.perf_counter() - started) * 1000,
        )
        return body

    def route(self, request: Request) -> tuple[WSGIApplication, str]:
        """The WSGI app that answers `request`, and a word for the log saying who answers."""
        if is_unsafe(request.path):
            return plain(400, "bad path"), "refused"
        path = re.sub("/{2,}", "/", request.path)
        if self.settings.local:
            if path == "/_dev" or path.startswith("/_dev/"):
                return self.dev_page(request), "dev"
            if path.startswith("/storage/"):
                return self.stored_object(request, path.removeprefix("/storage/")), "storage"
        return self.hosted(request, path)

    def hosted(self, request: Request, path: str) -> tuple[WSGIApplication, str]:
        """Firebase Hosting's order: redirects, an existing file, rewrites, then 404.html."""
        headers = self.site.headers_for(path)
        if redirect := self.site.redirect_for(path):
            return self.moved(request, redirect.destination, redirect.status, headers), "redirect"
        found = self.static(path)
        if isinstance(found, Moved):
            return self.moved(request, found.location, 301, headers), "redirect"
        if found:
            return file_response(request, found, content_type(found), headers), "static"
        rewrite = self.site.rewrite_for(path)
        if rewrite and rewrite.function:
            return self.function(rewrite.function, headers), rewrite.function
        if rewrite and rewrite.run_service:
            message = f"{path} rewrites to Cloud Run service {rewrite.run_service!r}, "
            return plain(501, message + "which the local server cannot run"), "run"
        if rewrite and rewrite.destination and (file := self.public_file(rewrite.destination)):
            return file_response(request, file, content_type(file), headers), "static"
        return self.not_found(request, headers), "404"

    def public_file(self, path: str) -> Path | None:
        """The deployed file at this URL path, if any (ignored files are not deployed)."""
        relative = path.lstrip("/")
        if not relative or path.endswith("/") or self.site.is_ignored(relative):
            return None
        file = (self.site.public / relative).resolve()
        if file.is_file() and file.is_relative_to(self.site.public):
            return file
        return None

    def static(self, path: str) -> Path | Moved | None:
        """The file for `path`, or its canonical URL, as superstatic's files middleware says."""
        clean, trailing = self.site.clean_urls, self.site.trailing_slash
        slash = path.endswith("/")
        stem = path.rstrip("/")
        if file := self.public_file(path):
            if clean and path.endswith(".html"):
                return Moved(self.canonical(path.removesuffix(".html")))
            return file
        if index := self.public_file(stem + "/index.html"):
            if (trailing is None and not clean and not slash) or (trailing and not slash):
                return Moved(path + "/")
            if trailing is False and slash and path != "/":
                return Moved(stem)
            return index
        if (
            clean
            and (not slash or trailing is not None)
            and (file := self.public_file(stem + ".html"))
        ):
            canonical = self.canonical(stem)
            return file if canonical == path else Moved(canonical)
        return None

    def canonical(self, page: str) -> str:
        """The URL Hosting prefers for a page: no `.html`, no `/index`, slash as configured."""
        page = page.removesuffix("/index")
        return page + "/" if self.site.trailing_slash else page or "/"

    def moved(
        self, request: Request, location: str, status: int, headers: dict[str, str]
    ) -> Response:
        query = request.query_string.decode("latin-1")
        response = Response(status=status, headers=headers)
        response.headers["Location"] = f"{location}?{query}" if query else location
        return response

    def not_found(self, request: Request, headers: dict[str, str]) -> Response:
        """`404.html` with the headers firebase.json gives the requested path, as Hosting
        answers (checked against its emulator): a 404 of /js/missing.js gets the Cache-Control
        of `**/*.js`, so whatever caches scripts caches their 404s too; and the page's own
        validators, so a browser revalidates it like any file."""
        page = self.site.public / "404.html"
        if not page.is_file():
            response = plain(404, "not found")
            response.headers.update(headers)
            return response
        response = Response(page.read_bytes(), status=404, mimetype="text/html", headers=headers)
        response.last_modified = datetime.fromtimestamp(page.stat().st_mtime, UTC)
        response.add_etag()
        return response.make_conditional(request)

    def function(self, name: str, hosting_headers: dict[str, str]) -> WSGIApplication:
        source = self.functions_dir / name / "main.py"
        if not source.is_file():
            return plain(502, f"firebase.json rewrites to {name!r} but {source} does not exist")
        app = self.function_app(name)

        def call(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            # Hosting adds its configured headers; where the function set one, it is kept.
            def with_hosting_headers(
                status: str, headers: list[tuple[str, str]], exc_info: Any = None
            ) -> Any:
                present = {key.lower() for key, _ in headers}
                extra = [(k, v) for k, v in hosting_headers.items() if k.lower() not in present]
                return start_response(status, headers + extra, exc_info)

            return app(hosting_forwarded(environ), with_hosting_headers)

        return call

    def function_app(self, name: str) -> WSGIApplication:
        """The function's Flask app, built from its own main.py on first use, as in production."""
        with self._lock:
            if name not in self._functions:
                source = self.functions_dir / name / "main.py"
                self._functions[name] = functions_framework.create_app(
                    target=name, source=str(source)
                )
            return self._functions[name]

    def load_consumers(self) -> None:
        """Load every function that consumes a queue topic: its handler subscribes at import,
        so the local queue delivers work another function publishes before a request ever
        reached the consumer."""
        for name in sorted(set(SUBSCRIPTIONS.values())):
            self.function_app(name)

    def dev_page(self, request: Request) -> WSGIApplication:
        pages = Map(
            [Rule("/_dev/", endpoint="devtools.server:dev_index")]
            + [Rule(rule, endpoint=target) for rule, target in DEV_PAGES.items()]
        )
        try:
            target, params = pages.bind_to_environ(request.environ).match()
        except HTTPException as exc:  # a 404, or the redirect from /_dev to /_dev/
            return exc
        response = dev_view(target)(request, **params)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def stored_object(self, request: Request, key: str) -> Response:
        """An object of the local storage, only ever as an image: never rendered as a page."""
        root = (self.settings.data_dir / "storage").resolve()
        file = (root / key).resolve()
        mimetype = STORAGE_TYPES.get(file.suffix.lower())
        if mimetype is None or not file.is_relative_to(root) or not file.is_file():
            return plain(404, "no such object")
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": dump_options_header("inline", {"filename": file.name}),
            "Content-Security-Policy": "default-src 'none'; sandbox",
        }
        return file_response(request, file, mimetype, headers)


def main(port: int | None = None) -> None:
    """Migrate, seed and serve the shop on 127.0.0.1 until interrupted."""
    if port is None:
        port = int(os.environ.get("PORT", DEFAULT_PORT))
    # The default SITE_URL, the origin the API accepts state-changing requests from, is
    # built from PORT: it must be this server's port before the settings are first read.
    os.environ["PORT"] = str(port)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # we log each request ourselves

    from common.infra import db
    from devtools.seed import seed

    cfg = settings()
    where = "DATABASE_URL" if cfg.database_url else f"embedded Postgres in {cfg.data_dir / 'pg'}"
    print(f"database: {where}", flush=True)
    applied = db.migrate()
    print(f"migrations applied: {', '.join(applied)}" if applied else "database is up to date")
    seed()
    print("catalog seeded")
    app = LocalServer(cfg, hosting.load())
    app.load_consumers()
    print(f"Auren ({cfg.env} mode) is running at http://127.0.0.1:{port}/", flush=True)
    if cfg.local:
        print(f"dev tools: http://127.0.0.1:{port}/_dev/", flush=True)
    run_simple("127.0.0.1", port, app, threaded=True)
