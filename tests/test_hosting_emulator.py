"""devtools.hosting's globs against the real Hosting emulator (firebase-tools), when installed.

firebase-tools is not a dependency of the project: put `firebase` on PATH, or point
FIREBASE_BIN at it, to run this; without it the test skips. The emulator gets one header
rule per glob and a catch-all rewrite (so that every path is a 200, never the 404 page, whose
headers superstatic matches against `/404.html`); a header coming back means a match.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from devtools import hosting
from tests.emulators import free_port

GLOBS = [
    "**",
    "/api/orders/**",
    "/api/*",
    "**/*.@(js|css)",
    "/js/!(*.min).js",
    "/{about,contact}",
    "/img/{a,b{1,2}}.png",
    "/{solo}",
    "**/.*",
    "!/api/**",
    "!(*.min).js",
    "/x/@(.env|y)",
    "/{a..c}",
    "/a\\{b,c}",
    "/[!ab]x",
    "/f/+(ab)",
    "/old{,/**}",
    "/blog/?(index.html)",
    "/@(a|b/c)",
]
PATHS = [
    "/",
    "/api/orders",
    "/api/orders/",
    "/api/orders/abc",
    "/api/",
    "/api/chat",
    "/js/app.js",
    "/js/app.min.js",
    "/app.min.js",
    "/contact",
    "/img/b2.png",
    "/{solo}",
    "/.env",
    "/deep/.git",
    "/x/.env",
    "/b",
    "/a{b,c}",
    "/ab",
    "/a",
    "/cx",
    "/bx",
    "/f/ababab",
    "/old",
    "/older",
    "/old/x",
    "/blog/",
    "/blog/index.html",
    "//api/chat",
    "/(x.min).js",
]
# Where wcmatch and minimatch part (also pinned, as xfails, in test_routing.py).
KNOWN = {("/blog/?(index.html)", "/blog/"), ("/@(a|b/c)", "/a")}


def firebase_bin() -> str | None:
    return os.environ.get("FIREBASE_BIN") or shutil.which("firebase")


def get(port: int, path: str) -> tuple[int, set[str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, {key.lower() for key, _ in response.getheaders()}
    finally:
        conn.close()


@pytest.mark.skipif(firebase_bin() is None, reason="firebase-tools is not installed")
def test_globs_match_as_the_hosting_emulator_matches_them(tmp_path: Path) -> None:
    port, hub, logging = free_port(), free_port(), free_port()
    (tmp_path / "pub").mkdir()
    (tmp_path / "pub" / "index.html").write_text("<p>x</p>")
    headers = [
        {"source": glob, "headers": [{"key": f"X-Rule-{i}", "value": "1"}]}
        for i, glob in enumerate(GLOBS)
    ]
    config = {
        "hosting": {
            "public": "pub",
            "headers": headers,
            "rewrites": [{"regex": ".*", "destination": "/index.html"}],
        },
        "emulators": {
            "hosting": {"host": "127.0.0.1", "port": port},
            "hub": {"host": "127.0.0.1", "port": hub},
            "logging": {"host": "127.0.0.1", "port": logging},
            "ui": {"enabled": False},
        },
    }
    (tmp_path / "firebase.json").write_text(json.dumps(config))
    env = {**os.environ, "CI": "1", "NO_UPDATE_NOTIFIER": "1"}
    command = [str(firebase_bin()), "emulators:start", "--only", "hosting", "--project", "demo-x"]
    log = (tmp_path / "emulator.log").open("w")
    emulator = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(port, "/")
                break
            except OSError:
                if emulator.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / "emulator.log").read_text()
                    pytest.fail(f"the emulator did not start:\n{output}")
                time.sleep(0.5)
        parted = set()
        for path in PATHS:
            status, keys = get(port, path)
            assert status == 200, path
            for i, glob in enumerate(GLOBS):
                if (f"x-rule-{i}" in keys) != hosting.compile_glob(glob)(path):
                    parted.add((glob, path))
    finally:
        os.killpg(emulator.pid, signal.SIGTERM)
        try:
            emulator.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(emulator.pid, signal.SIGKILL)
            emulator.wait()
        log.close()
    assert parted == KNOWN
