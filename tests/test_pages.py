"""The storefront's pages: partials stamped and module preloads complete (`devtools/pages.py`).

The first tests hold the real `hosting/` to it; the rest prove the stamping and the import
graph on a small site in tmp_path.
"""

from __future__ import annotations

import http.client
import re
from pathlib import Path

import pytest

from devtools import hosting, pages

HOSTING = hosting.load().public
PAGE_ENTRIES = "/js/pages/"
SHARED = "/js/lib/"


def test_every_page_is_up_to_date() -> None:
    report = pages.check(HOSTING)
    assert not report, "run `make pages`:\n" + "\n".join(report)


def test_every_page_carries_the_header_and_footer() -> None:
    for path in pages.page_files(HOSTING):
        text = path.read_text()
        for name in ("header", "footer"):
            assert f"<!-- partial:{name} -->" in text, f"{path.name} has no {name}"


def test_the_js_layers_hold() -> None:
    """Pages load entries from js/pages/; entries import js/lib/ only; nothing is unused."""
    entries: set[str] = set()
    for path in pages.page_files(HOSTING):
        scripts = re.findall(r'<script type="module" src="([^"]+)"', path.read_text())
        assert all(src.startswith(PAGE_ENTRIES) for src in scripts), (path.name, scripts)
        entries.update(scripts)
    on_disk = {"/" + p.relative_to(HOSTING).as_posix() for p in HOSTING.glob("js/**/*.js")}
    assert {url for url in on_disk if url.startswith(PAGE_ENTRIES)} == entries
    graph = pages.import_graph(HOSTING, sorted(entries), {})
    assert graph.problems == []
    assert graph.modules == on_disk, "modules no page loads"
    for url in on_disk:
        for specifier in pages.static_imports((HOSTING / url.lstrip("/")).read_text()):
            target = pages.resolve(url, specifier)
            assert target and target.startswith(SHARED), f"{url} imports {specifier}"


def test_the_partials_are_not_served(local_site: int) -> None:
    assert (HOSTING / "_partials" / "header.html").is_file()
    for path in ("/_partials/header.html", "/_partials/header", "/_partials/footer.html"):
        conn = http.client.HTTPConnection("127.0.0.1", local_site, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        assert response.status == 404, path
        assert b"<title>Page not found" in body


# A small site: two pages, a header partial and modules importing one another.

HEADER = '<header>\n  <a href="/">Home</a>\n</header>\n'

PAGE = """<!doctype html>
<head>
  <!-- modulepreload -->
  <link rel="modulepreload" href="/js/old.js">
  <!-- /modulepreload -->
  <script type="module" src="/js/pages/{name}.js"></script>
</head>
<body>
  <!-- partial:header -->
  <header>stale</header>
  <!-- /partial:header -->
  <main>{name}</main>
</body>
"""

MODULES = {
    "js/pages/home.js": "import { b } from '../lib/b.js';\nimport '../lib/a.js';\n",
    "js/pages/about.js": (
        "// import { no } from '../lib/commented.js';\n"
        'import {\n  a,\n} from "/js/lib/a.js";\n'
        "const later = () => import('../lib/lazy.js');\n"
    ),
    "js/lib/a.js": "export const a = 'a';\n",
    "js/lib/b.js": "export { c } from './c.js';\nexport const b = 'from';\n",
    "js/lib/c.js": "import './a.js';\nexport const c = 1;\n",
    "js/lib/lazy.js": "export const lazy = 1;\n",
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    files = {
        "_partials/header.html": HEADER,
        "index.html": PAGE.format(name="home"),
        "about/index.html": PAGE.format(name="about"),
        **MODULES,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def preloads(text: str) -> list[str]:
    return re.findall(r'<link rel="modulepreload" href="([^"]+)">', text)


def test_static_imports_are_read_and_dynamic_ones_left_out() -> None:
    assert pages.static_imports(MODULES["js/pages/about.js"]) == ["/js/lib/a.js"]
    assert pages.static_imports(MODULES["js/lib/b.js"]) == ["./c.js"]
    assert pages.static_imports("import * as ns from './x.js';\nexport * from './y.js';") == [
        "./x.js",
        "./y.js",
    ]
    assert pages.static_imports("export const GET = 'GET';\nimport.meta.url;") == []


def test_stale_pages_are_named_and_nothing_is_written(site: Path) -> None:
    before = (site / "index.html").read_text()
    assert pages.check(site) == [
        "about/index.html: out of date (python -m devtools pages rewrites it)",
        "index.html: out of date (python -m devtools pages rewrites it)",
    ]
    assert (site / "index.html").read_text() == before


def test_writing_stamps_the_partial_and_preloads_the_transitive_imports(site: Path) -> None:
    written, problems = pages.write(site)
    assert problems == []
    assert sorted(written) == [site / "about/index.html", site / "index.html"]
    home = (site / "index.html").read_text()
    # c.js comes only through b.js's re-export; sorted, the entry itself left to its <script>.
    assert preloads(home) == ["/js/lib/a.js", "/js/lib/b.js", "/js/lib/c.js"]
    assert '  <!-- partial:header -->\n  <header>\n    <a href="/">Home</a>\n  </header>\n' in home
    assert "stale" not in home
    # The commented-out and the dynamic import are not preloaded.
    assert preloads((site / "about/index.html").read_text()) == ["/js/lib/a.js"]
    assert pages.check(site) == []
    assert pages.write(site) == ([], [])


def test_a_hand_edited_header_is_caught(site: Path) -> None:
    pages.write(site)
    page = site / "index.html"
    page.write_text(page.read_text().replace(">Home</a>", ">Start</a>"))
    assert pages.check(site) == ["index.html: out of date (python -m devtools pages rewrites it)"]


def test_a_changed_partial_makes_every_page_stale(site: Path) -> None:
    pages.write(site)
    (site / "_partials/header.html").write_text(HEADER.replace("Home", "Auren"))
    assert len(pages.check(site)) == 2


def test_a_missing_import_is_named_and_its_page_left_alone(site: Path) -> None:
    (site / "js/lib/c.js").write_text("import './gone.js';\nimport 'lit';\n")
    before = (site / "index.html").read_text()
    written, problems = pages.write(site)
    assert written == [site / "about/index.html"]
    assert problems == [
        "index.html: /js/lib/c.js imports './gone.js': no file at /js/lib/gone.js",
        "index.html: /js/lib/c.js imports 'lit': not a relative or /... URL",
    ]
    assert (site / "index.html").read_text() == before
    assert pages.check(site)[:2] == problems


def test_a_page_needs_its_markers_and_known_partials(site: Path) -> None:
    page = site / "index.html"
    text = page.read_text()
    page.write_text(
        text.replace("  <!-- modulepreload -->\n", "")
        .replace("  <!-- /modulepreload -->\n", "")
        .replace("partial:header", "partial:banner")
    )
    report = [line for line in pages.check(site) if line.startswith("index.html")]
    assert report[:3] == [
        "index.html: no partial _partials/banner.html",
        "index.html: has a module script but no <!-- modulepreload --> markers",
        "index.html: modulepreload outside the markers: /js/old.js",
    ]


def test_the_command_checks_and_writes(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        pages.main(["--check", "--root", str(site)])
    assert exit_.value.code == 1
    assert "index.html: out of date" in capsys.readouterr().out
    pages.main(["--root", str(site)])
    assert "updated index.html" in capsys.readouterr().out
    pages.main(["--check", "--root", str(site)])
    assert capsys.readouterr().out == "every page is up to date\n"
