"""firebase.json and the functions agree, and its globs match the way Firebase Hosting matches."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from common.providers import queue
from devtools import hosting
from tests.conftest import FUNCTIONS

REPO = Path(__file__).resolve().parents[1]
SITE = hosting.load(REPO / "firebase.json")

# The routes ARCHITECTURE.md gives each function, reachable before the code exists.
CONTRACT = [
    ("/api/chat", "chat"),
    ("/api/generate-image", "generate_image"),
    ("/api/generate-image/job_123", "generate_image"),
    ("/api/catalog", "orders"),
    ("/api/orders/draft", "orders"),
    ("/api/orders/assistant", "orders"),
    ("/api/orders/ord_123", "orders"),
    ("/api/orders", "orders"),
    ("/api/checkout/session", "checkout"),
    ("/api/webhooks/stripe", "stripe_webhook"),
    ("/api/auth/login", "auth"),
    ("/api/auth/callback", "auth"),
    ("/api/auth/logout", "auth"),
    ("/api/auth/me", "auth"),
    ("/api/contact", "contact"),
    ("/api/sheets/append", "ops"),
    ("/api/ops/outbox/drain", "ops"),
]


def load_main(name: str) -> ModuleType:
    """The function's main.py, under a module name of its own (each file is called main)."""
    spec = importlib.util.spec_from_file_location(
        f"routing_{name}_main", REPO / "functions" / name / "main.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_rewrite_names_a_function_with_its_entry_point() -> None:
    functions = {rewrite.function for rewrite in SITE.rewrites if rewrite.function}
    assert functions <= set(FUNCTIONS)
    for name in functions:
        source = (REPO / "functions" / name / "main.py").read_text()
        assert re.search(rf"^def {name}\(", source, re.MULTILINE), name


@pytest.mark.parametrize(("path", "function"), CONTRACT)
def test_every_contract_route_reaches_its_function(path: str, function: str) -> None:
    rewrite = SITE.rewrite_for(path)
    assert rewrite is not None and rewrite.function == function


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_route_a_function_declares_reaches_it(name: str) -> None:
    for route in load_main(name).router.routes:
        path = re.sub(r"<\w+>", "sample-1", route.path)
        rewrite = SITE.rewrite_for(path)
        if route.path.startswith(queue.PUSH_PREFIX):  # Pub/Sub's, at the function's own URL
            assert rewrite is None, f"{route.method} {path} must not be reachable through Hosting"
            continue
        assert rewrite is not None and rewrite.function == name, f"{route.method} {path}"


def test_nothing_follows_a_catch_all_rewrite() -> None:
    sources = [rewrite.source.text for rewrite in SITE.rewrites]
    catch_alls = [i for i, source in enumerate(sources) if source in ("**", "/**")]
    assert not catch_alls or catch_alls[0] == len(sources) - 1


@pytest.mark.parametrize(
    "path", ["/api", "/api/", "/api/zz-unknown", "/api/order", "/api/orders-x/1", "/api/a/b/c"]
)
def test_an_api_path_no_rewrite_owns_still_reaches_a_function(path: str) -> None:
    """The last rewrite takes every /api path the others do not own to one function (the
    lightest, contact), whose router answers the JSON 404: never the site's HTML 404 page."""
    rewrite = SITE.rewrite_for(path)
    assert rewrite is SITE.rewrites[-1]
    assert rewrite.function == "contact"
    assert path not in {route.path for route in load_main("contact").router.routes}


def test_api_paths_are_never_static_files() -> None:
    assert not (SITE.public / "api").exists()


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("/api/catalog", "/api/catalog", True),
        ("/api/catalog", "/api/catalog/", True),
        ("/api/catalog", "/api/catalogue", False),
        ("/api/orders/**", "/api/orders", False),
        ("/api/orders/**", "/api/orders/", True),
        ("/api/orders/**", "/api/orders/abc", True),
        ("/api/orders/**", "/api/orders/abc/def", True),
        ("/api/orders/**", "/api/ordersx/abc", False),
        ("/api/*", "/api/chat", True),
        ("/api/*", "/api/", False),
        ("/api/*", "/api/orders/abc", False),
        ("/api/?at", "/api/cat", True),
        ("/api/?at", "/api/at", False),
        ("/a/**/z", "/a/z", True),
        ("/a/**/z", "/a/b/c/z", True),
        ("**", "/", True),
        ("**", "/any/depth/file.txt", True),
        ("**", "/.well-known/x", False),
        ("**/*.@(js|css)", "/js/app.js", True),
        ("**/*.@(js|css)", "/app.css", True),
        ("**/*.@(js|css)", "/js/app.json", False),
        ("**/*.@(js|css|png|svg|webp|woff2)", "/img/products/tee-front.png", True),
        ("**/*.html", "/about.html", True),
        ("**/*.html", "/about", False),
        ("/{about,contact}", "/contact", True),
        ("/{about,contact}", "/faq", False),
        ("/img/{a,b{1,2}}.png", "/img/b2.png", True),
        ("/{solo}", "/{solo}", True),
        ("/js/!(*.min).js", "/js/app.js", True),
        ("/js/!(*.min).js", "/js/app.min.js", False),
        ("/f/?(x)y", "/f/y", True),
        ("/f/+(ab)", "/f/ababab", True),
        ("/[ab]x", "/bx", True),
        ("/[!ab]x", "/bx", False),
        ("**/.*", "/.env", True),
        ("**/.*", "/deep/.git", True),
        ("!/api/**", "/index.html", True),
        ("!/api/**", "/api/chat", False),
        # Checked against the Hosting emulator (firebase-tools 15.34, superstatic 10).
        ("!/api/**", "/.env", True),  # `!` inverts; it is not `**` less the api
        ("!(*.min).js", "/app.min.js", True),  # a leading `!` negates: `!` + `/(*.min).js`
        ("!(*.min).js", "/(x.min).js", False),
        ("/x/@(.env|y)", "/x/.env", True),  # a dot the pattern spells out matches
        ("/{1..3}", "/2", True),
        ("/{a..c}", "/b", True),
        ("/a\\{b,c}", "/a{b,c}", True),
        ("/a\\{b,c}", "/ab", False),
        ("/api/*", "//api/chat", True),
        ("/api/../img/*.png", "/img/a.png", True),
        ("/api/orders/**", "/api/x/../orders/1", True),
        # Where wcmatch and the emulator part: an extglob that can match nothing matches the
        # empty last segment of a path ending in `/`, and `/` inside an extglob is kept.
        *(
            pytest.param(glob, path, False, marks=pytest.mark.xfail(strict=True, reason=why))
            for glob, path, why in [
                ("/blog/?(index.html)", "/blog/", "wcmatch: ?(..) matches the empty segment"),
                ("/*(a|b)", "/", "wcmatch: *(..) matches the empty segment"),
                ("/@(a|b/c)", "/a", "minimatch splits the glob at every `/` first"),
            ]
        ),
    ],
)
def test_glob_semantics(glob: str, path: str, matches: bool) -> None:
    assert hosting.compile_glob(glob)(path) is matches


def rewrite_at(rules: hosting.Hosting, path: str) -> hosting.Rewrite:
    found = rules.rewrite_for(path)
    assert found is not None, path
    return found


def site(tmp_path: Path, config: dict) -> hosting.Hosting:
    (tmp_path / "firebase.json").write_text(json.dumps({"hosting": {"public": "pub", **config}}))
    return hosting.load(tmp_path / "firebase.json")


def test_both_function_forms_run_services_and_destinations_are_read(tmp_path: Path) -> None:
    rewrites = site(
        tmp_path,
        {
            "rewrites": [
                {"source": "/a", "function": "alpha"},
                {"source": "/b", "function": {"functionId": "beta", "region": "europe-west1"}},
                {"source": "/c", "run": {"serviceId": "gamma", "region": "us-central1"}},
                {"regex": "^/d/\\d+$", "function": "delta"},
                {"source": "**", "destination": "/index.html"},
            ]
        },
    )
    assert rewrites.public == tmp_path / "pub"
    assert rewrite_at(rewrites, "/a").function == "alpha"
    beta = rewrite_at(rewrites, "/b")
    assert (beta.function, beta.region) == ("beta", "europe-west1")
    gamma = rewrite_at(rewrites, "/c")
    assert (gamma.function, gamma.run_service) == (None, "gamma")
    assert rewrite_at(rewrites, "/d/42").function == "delta"
    assert rewrite_at(rewrites, "/d/x").destination == "/index.html"


def test_the_first_matching_rewrite_wins(tmp_path: Path) -> None:
    rewrites = site(
        tmp_path,
        {
            "rewrites": [
                {"source": "/api/x", "function": "one"},
                {"source": "/api/**", "function": "two"},
            ]
        },
    )
    assert rewrite_at(rewrites, "/api/x").function == "one"
    assert rewrite_at(rewrites, "/api/y").function == "two"
    assert rewrites.rewrite_for("/other") is None


def test_headers_of_every_matching_rule_merge_in_order(tmp_path: Path) -> None:
    rules = site(
        tmp_path,
        {
            "headers": [
                {
                    "source": "**",
                    "headers": [{"key": "X-A", "value": "1"}, {"key": "X-B", "value": "1"}],
                },
                {"source": "**/*.js", "headers": [{"key": "x-b", "value": "2"}]},
                {"regex": "^/admin", "headers": [{"key": "X-C", "value": "3"}]},
            ]
        },
    )
    assert rules.headers_for("/js/app.js") == {"X-A": "1", "x-b": "2"}
    assert rules.headers_for("/admin/x") == {"X-A": "1", "X-B": "1", "X-C": "3"}


def test_ignored_files_and_folders(tmp_path: Path) -> None:
    rules = site(tmp_path, {"ignore": ["firebase.json", "**/.*", "**/node_modules/**"]})
    assert rules.is_ignored("firebase.json")
    assert rules.is_ignored(".env")
    assert rules.is_ignored(".git/config")
    assert rules.is_ignored("js/node_modules/x/index.js")
    assert not rules.is_ignored("js/app.js")


@pytest.mark.parametrize(
    "config",
    [
        {"rewrites": [{"source": "/x", "dynamicLinks": True}]},
        {"rewrites": [{"function": "no-source"}]},
        {"redirects": [{"source": "/old/:id", "destination": "/new/:id", "type": 301}]},
    ],
)
def test_what_the_local_server_cannot_honour_is_refused_by_name(
    tmp_path: Path, config: dict
) -> None:
    with pytest.raises(hosting.HostingConfigError):
        site(tmp_path, config)


def test_redirects(tmp_path: Path) -> None:
    rules = site(
        tmp_path, {"redirects": [{"source": "/old{,/**}", "destination": "/new", "type": 302}]}
    )
    redirect = rules.redirect_for("/old/page")
    assert redirect and (redirect.destination, redirect.status) == ("/new", 302)
    assert rules.redirect_for("/old") and not rules.redirect_for("/older")
