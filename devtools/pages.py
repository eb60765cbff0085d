"""`python -m devtools pages`: stamp the shared partials into every page of the static site and
regenerate each page's `<link rel="modulepreload">` list from its import graph.

Pages stay plain HTML, served as they are (no build step). Generated text sits between marker
comments, each on its own line, and is rewritten whole:

    <!-- partial:header -->        the text of `_partials/header.html`, at the marker's indent
    <!-- /partial:header -->
    <!-- modulepreload -->         one preload per module the page's entry imports, directly or
    <!-- /modulepreload -->        not, sorted by URL (the entry itself loads from its <script>)

A page's entries are its `<script type="module" src=...>`. Their graph follows static import
specifiers (`import ... from "x"`, `import "x"`, `export ... from "x"`) at the start of a line;
dynamic `import()` is left out, as it loads on demand. Specifiers must be relative (`./`,
`../`) or root-absolute (`/js/...`) URLs of files in the site: the browser resolves nothing
else without an import map.

`--check` writes nothing and exits 1 naming every page that is out of date or broken (a missing
module, an unknown partial, a preload outside the markers); `tests/test_pages.py` runs it.
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

PARTIALS = "_partials"

PARTIAL_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)<!-- partial:(?P<name>[\w-]+) -->[ \t]*\n"
    r"(?:.*?\n)??"
    r"[ \t]*<!-- /partial:(?P=name) -->[ \t]*$",
    re.M | re.S,
)
PRELOAD_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)<!-- modulepreload -->[ \t]*\n"
    r"(?:.*?\n)??"
    r"[ \t]*<!-- /modulepreload -->[ \t]*$",
    re.M | re.S,
)
ANY_MARKER = re.compile(r"<!-- /?(?:partial:[\w-]+|modulepreload) -->")

# A static import or re-export at the start of a line: the clause (names, braces, `* as x`) is
# optional, so `import "./x.js"` matches; `import(` and `export const x = "..."` do not.
STATIC_IMPORT = re.compile(
    r"""^[ \t]*(?:import|export)\s*(?:[\w$*{},\s]+?\s*\bfrom\s*)?(["'])(?P<spec>[^"'\n]+)\1""",
    re.M,
)


def static_imports(source: str) -> list[str]:
    """The specifiers of the module's static imports and re-exports, in source order."""
    return [match["spec"] for match in STATIC_IMPORT.finditer(source)]


def resolve(base_url: str, specifier: str) -> str | None:
    """The site URL path `specifier` names from the module or page at `base_url`, or None when
    it is not a URL the browser resolves alone (a bare name, another origin)."""
    if specifier.startswith("/") and not specifier.startswith("//"):
        url = specifier
    elif specifier.startswith(("./", "../")):
        url = posixpath.join(posixpath.dirname(base_url), specifier)
    else:
        return None
    return posixpath.normpath(url)


def file_of(root: Path, url: str) -> Path | None:
    """The file under `root` serving the URL path `url`, if there is one."""
    path = (root / url.lstrip("/")).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return path


@dataclass
class Graph:
    """What a set of entry modules loads: module URLs, and the imports that do not resolve."""

    modules: set[str]
    problems: list[str]


def import_graph(root: Path, entries: Iterable[str], cache: dict[str, list[str]]) -> Graph:
    """Every module the entry URLs load through static imports, the entries included.

    `cache` maps a module URL to its specifiers, shared across pages of one run.
    """
    graph = Graph(set(), [])
    pending = list(entries)
    while pending:
        url = pending.pop()
        if url in graph.modules:
            continue
        graph.modules.add(url)
        if url not in cache:
            path = file_of(root, url)
            cache[url] = static_imports(path.read_text(encoding="utf-8")) if path else []
        for specifier in cache[url]:
            target = resolve(url, specifier)
            if target is None:
                graph.problems.append(f"{url} imports {specifier!r}: not a relative or /... URL")
            elif file_of(root, target) is None:
                graph.problems.append(f"{url} imports {specifier!r}: no file at {target}")
            else:
                pending.append(target)
    return graph


class _Scripts(HTMLParser):
    """The module scripts' src and the modulepreload hrefs of a page, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.modules: list[str] = []
        self.preloads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and values.get("type") == "module" and values.get("src"):
            self.modules.append(values["src"])
        if tag == "link" and "modulepreload" in values.get("rel", "").split():
            self.preloads.append(values.get("href", ""))


def _scan(text: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(text)
    parser.close()
    return parser


def _indented(text: str, indent: str) -> str:
    return "".join(f"{indent}{line}" if line.strip() else line for line in text.splitlines(True))


def load_partials(root: Path) -> dict[str, str]:
    """Partial name -> its text (no surrounding blank lines), from `<root>/_partials/*.html`."""
    folder = root / PARTIALS
    return {
        path.stem: path.read_text(encoding="utf-8").strip("\n") + "\n"
        for path in sorted(folder.glob("*.html"))
    }


def page_files(root: Path) -> list[Path]:
    """Every HTML page of the site, the partials excepted, in a stable order."""
    return sorted(
        path
        for path in root.rglob("*.html")
        if PARTIALS not in path.relative_to(root).parts[:-1]
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


@dataclass
class Page:
    path: Path
    text: str
    expected: str
    problems: list[str]

    @property
    def stale(self) -> bool:
        return self.text != self.expected


def render(
    root: Path,
    path: Path,
    text: str,
    partials: dict[str, str],
    cache: dict[str, list[str]] | None = None,
) -> Page:
    """The page as `python -m devtools pages` writes it, and what keeps it from being right."""
    problems: list[str] = []
    cache = {} if cache is None else cache
    page_url = "/" + path.relative_to(root).as_posix()

    def stamp(match: re.Match[str]) -> str:
        indent, name = match["indent"], match["name"]
        if name not in partials:
            problems.append(f"no partial {PARTIALS}/{name}.html")
            return match[0]
        body = _indented(partials[name], indent)
        return f"{indent}<!-- partial:{name} -->\n{body}{indent}<!-- /partial:{name} -->"

    stamped = PARTIAL_BLOCK.sub(stamp, text)

    entries: list[str] = []
    for src in _scan(stamped).modules:
        url = resolve(page_url, src)
        if url is None or file_of(root, url) is None:
            problems.append(f'<script type="module" src="{src}">: no such module in the site')
        else:
            entries.append(url)
    graph = import_graph(root, entries, cache)
    problems.extend(graph.problems)
    preloads = sorted(graph.modules - set(entries))

    blocks = list(PRELOAD_BLOCK.finditer(stamped))
    if len(blocks) > 1:
        problems.append("more than one <!-- modulepreload --> block")
    if entries and not blocks:
        problems.append("has a module script but no <!-- modulepreload --> markers")

    def preload(match: re.Match[str]) -> str:
        indent = match["indent"]
        links = "".join(f'{indent}<link rel="modulepreload" href="{url}">\n' for url in preloads)
        return f"{indent}<!-- modulepreload -->\n{links}{indent}<!-- /modulepreload -->"

    expected = PRELOAD_BLOCK.sub(preload, stamped)

    outside = PARTIAL_BLOCK.sub("", PRELOAD_BLOCK.sub("", expected))
    if stray := _scan(outside).preloads:
        problems.append(f"modulepreload outside the markers: {', '.join(stray)}")
    if unmatched := ANY_MARKER.findall(outside):
        problems.append(f"marker without its pair (each on its own line): {unmatched[0]}")
    return Page(path, text, expected, problems)


def pages(root: Path) -> list[Page]:
    """Every page of the site under `root`, as it is and as it should be."""
    partials = load_partials(root)
    cache: dict[str, list[str]] = {}
    return [
        render(root, path, path.read_text(encoding="utf-8"), partials, cache)
        for path in page_files(root)
    ]


def check(root: Path) -> list[str]:
    """One line per page that is out of date or broken; empty when every page is right."""
    report: list[str] = []
    for page in pages(root):
        name = page.path.relative_to(root).as_posix()
        report.extend(f"{name}: {problem}" for problem in page.problems)
        if page.stale:
            report.append(f"{name}: out of date (python -m devtools pages rewrites it)")
    return report


def write(root: Path) -> tuple[list[Path], list[str]]:
    """Rewrite every stale page that has no problem; the pages written and the problems."""
    written: list[Path] = []
    problems: list[str] = []
    for page in pages(root):
        name = page.path.relative_to(root).as_posix()
        problems.extend(f"{name}: {problem}" for problem in page.problems)
        if page.stale and not page.problems:
            page.path.write_text(page.expected, encoding="utf-8")
            written.append(page.path)
    return written, problems


def default_root() -> Path:
    """The site's public dir, as firebase.json names it."""
    from devtools import hosting

    return hosting.load().public


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools pages", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--root", type=Path, default=None, help="the site (default: hosting/)")
    args = parser.parse_args(argv)
    root = args.root or default_root()
    if args.check:
        report = check(root)
        for line in report:
            print(line)
        if report:
            sys.exit(1)
        print("every page is up to date")
        return
    written, problems = write(root)
    for path in written:
        print(f"updated {path.relative_to(root).as_posix()}")
    for line in problems:
        print(line)
    if problems:
        sys.exit(1)
    if not written:
        print("every page is up to date")


if __name__ == "__main__":
    main()
