"""The `hosting` section of firebase.json, read the way Firebase Hosting reads it.

firebase.json is the single source of routing truth: the local server and the routing tests
take the public dir, clean URLs, trailing slashes, headers, redirects and rewrites from here.

Sources are globs with the semantics of superstatic (the Hosting emulator), i.e. minimatch
after a leading slash is added: `*` and `?` stay inside one path segment, `**` spans any
number of segments, `{a,b}` expands, `@(a|b)`, `?(..)`, `+(..)`, `*(..)` and `!(..)` are
extglobs, and wildcards skip segments that start with a dot. A `regex` source is searched
for anywhere in the path.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
FIREBASE_JSON = REPO_ROOT / "firebase.json"


class HostingConfigError(ValueError):
    """firebase.json says something this module cannot honour; the message says what."""


class _GlobStar:
    """The `**` path segment."""


GLOBSTAR = _GlobStar()
Segment = _GlobStar | str | re.Pattern[str]
EXTGLOB = {"@": "(?:{})", "?": "(?:{})?", "+": "(?:{})+", "*": "(?:{})*"}


def _closing(text: str, start: int, pairs: dict[str, str]) -> int:
    """Index of the bracket closing the one at `start`, or -1."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in pairs:
            depth += 1
        elif text[i] in pairs.values():
            depth -= 1
            if depth == 0:
                return i
    return -1


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def expand_braces(glob: str) -> list[str]:
    """`a{b,c{d,e}}` -> [`ab`, `acd`, `ace`]; a brace without a comma stays literal."""
    start = glob.find("{")
    while start != -1:
        end = _closing(glob, start, {"{": "}"})
        if end == -1:
            break
        options = _split_top_level(glob[start + 1 : end], ",")
        if len(options) > 1:
            head, tail = glob[:start], glob[end + 1 :]
            return [out for option in options for out in expand_braces(head + option + tail)]
        start = glob.find("{", end)
    return [glob]


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char in "@!?+*" and segment[i + 1 : i + 2] == "(":
            end = _closing(segment, i + 1, {"(": ")"})
            if end != -1:
                options = _split_top_level(segment[i + 2 : end], "|")
                alternatives = "|".join(_segment_regex(option) for option in options)
                if char == "!":
                    # Anything, as long as the alternatives plus the rest do not match it.
                    rest = _segment_regex(segment[end + 1 :])
                    return "".join(out) + f"(?:(?!(?:{alternatives}){rest}\\Z)[^/]*?){rest}"
                out.append(EXTGLOB[char].format(alternatives))
                i = end + 1
                continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := segment.find("]", i + 2)) != -1:
            body = segment[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = "".join(c if c == "-" else re.escape(c) for c in body[negate:])
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end
        elif char == "\\" and i + 1 < len(segment):
            i += 1
            out.append(re.escape(segment[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _compile_segment(segment: str) -> Segment:
    if segment == "**":
        return GLOBSTAR
    if not any(char in segment for char in "*?[(\\"):
        return segment
    return re.compile(_segment_regex(segment))


def _segment_matches(pattern: str | re.Pattern[str], part: str) -> bool:
    if isinstance(pattern, str):
        return pattern == part
    # As minimatch: a wildcard never matches an empty segment or, unless the pattern itself
    # starts with a dot, a dot file.
    if not part or (part.startswith(".") and not pattern.pattern.startswith(r"\.")):
        return False
    return pattern.fullmatch(part) is not None


def _match(parts: list[str], pattern: list[Segment]) -> bool:
    if not pattern:
        return not parts or parts == [""]  # `/a/` still matches `/a`
    head, rest = pattern[0], pattern[1:]
    if isinstance(head, _GlobStar):
        if not parts:
            return False  # `/a/**` is not `/a`
        for i, part in enumerate(parts):
            if _match(parts[i:], rest):
                return True
            if part.startswith("."):
                return False
        return not rest
    return bool(parts) and _segment_matches(head, parts[0]) and _match(parts[1:], rest)


def with_leading_slash(path: str) -> str:
    """Normalise a glob or a URL path the way superstatic does before matching."""
    normal = posixpath.normpath(posixpath.join("/", path))
    return normal + "/" if path.endswith("/") and normal != "/" else normal


def compile_glob(glob: str) -> Callable[[str], bool]:
    """A predicate telling whether a URL path matches the Firebase Hosting glob."""
    negate = glob.startswith("!") and not glob.startswith("!(")
    patterns = [
        [_compile_segment(segment) for segment in with_leading_slash(expanded).split("/")]
        for expanded in expand_braces(glob[negate:])
    ]

    def matches(path: str) -> bool:
        parts = with_leading_slash(path).split("/")
        return any(_match(parts, pattern) for pattern in patterns) != negate

    return matches


@dataclass(frozen=True)
class Source:
    """Where a header rule, redirect or rewrite applies: a `source` glob or a `regex`."""

    text: str
    matches: Callable[[str], bool]

    @classmethod
    def of(cls, rule: dict[str, Any]) -> Source:
        if "source" in rule:
            return cls(rule["source"], compile_glob(rule["source"]))
        if "regex" in rule:
            regex = re.compile(rule["regex"])
            return cls(
                rule["regex"], lambda path: regex.search(with_leading_slash(path)) is not None
            )
        raise HostingConfigError(f"a hosting rule needs a source or a regex: {rule}")


@dataclass(frozen=True)
class Rewrite:
    """A rewrite to a function, to a Cloud Run service, or to a file of the public dir."""

    source: Source
    function: str | None = None
    region: str | None = None
    run_service: str | None = None
    destination: str | None = None

    @classmethod
    def of(cls, rule: dict[str, Any]) -> Rewrite:
        source = Source.of(rule)
        target = rule.get("function")
        if isinstance(target, str):
            return cls(source, function=target)
        if isinstance(target, dict) and "functionId" in target:
            return cls(source, function=target["functionId"], region=target.get("region"))
        if isinstance(rule.get("run"), dict) and "serviceId" in rule["run"]:
            return cls(
                source, run_service=rule["run"]["serviceId"], region=rule["run"].get("region")
            )
        if isinstance(rule.get("destination"), str):
            return cls(source, destination=rule["destination"])
        raise HostingConfigError(f"unsupported rewrite in firebase.json: {rule}")


@dataclass(frozen=True)
class Redirect:
    source: Source
    destination: str
    status: int

    @classmethod
    def of(cls, rule: dict[str, Any]) -> Redirect:
        destination = rule["destination"]
        if ":" in rule.get("source", "") or re.search(r"/:\w", destination):
            raise HostingConfigError(
                f"redirect captures (:name) are not supported by the local server: {rule}"
            )
        return cls(Source.of(rule), destination, int(rule.get("type", 301)))


@dataclass(frozen=True)
class HeaderRule:
    source: Source
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Hosting:
    public: Path
    clean_urls: bool
    trailing_slash: bool | None
    ignore: tuple[Source, ...]
    headers: tuple[HeaderRule, ...]
    redirects: tuple[Redirect, ...]
    rewrites: tuple[Rewrite, ...]

    def rewrite_for(self, path: str) -> Rewrite | None:
        """The first rewrite whose source matches `path`: order matters, as in Hosting."""
        return next((rule for rule in self.rewrites if rule.source.matches(path)), None)

    def redirect_for(self, path: str) -> Redirect | None:
        return next((rule for rule in self.redirects if rule.source.matches(path)), None)

    def headers_for(self, path: str) -> dict[str, str]:
        """Every matching rule's headers, in order: a later rule overrides the same key."""
        merged: dict[str, tuple[str, str]] = {}
        for rule in self.headers:
            if rule.source.matches(path):
                merged.update((key.lower(), (key, value)) for key, value in rule.headers)
        return dict(merged.values())

    def is_ignored(self, relative_path: str) -> bool:
        """True when `ignore` keeps the file (or a folder above it) out of the deploy."""
        parts = relative_path.strip("/").split("/")
        ancestors = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        return any(rule.matches(path) for rule in self.ignore for path in ancestors)


def load(firebase_json: Path = FIREBASE_JSON) -> Hosting:
    """The hosting config; `public` is relative to the folder of firebase.json."""
    config = json.loads(firebase_json.read_text()).get("hosting")
    if not isinstance(config, dict):
        raise HostingConfigError(f"{firebase_json} needs one `hosting` object (one site)")
    trailing_slash = config.get("trailingSlash")
    return Hosting(
        public=(firebase_json.parent / config.get("public", "public")).resolve(),
        clean_urls=bool(config.get("cleanUrls", False)),
        trailing_slash=None if trailing_slash is None else bool(trailing_slash),
        ignore=tuple(Source(glob, compile_glob(glob)) for glob in config.get("ignore", [])),
        headers=tuple(
            HeaderRule(
                Source.of(rule),
                tuple((header["key"], header["value"]) for header in rule.get("headers", [])),
            )
            for rule in config.get("headers", [])
        ),
        redirects=tuple(Redirect.of(rule) for rule in config.get("redirects", [])),
        rewrites=tuple(Rewrite.of(rule) for rule in config.get("rewrites", [])),
    )
