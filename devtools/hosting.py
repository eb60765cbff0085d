"""The `hosting` section of firebase.json, read the way Firebase Hosting reads it.

firebase.json is the single source of routing truth: the local server and the routing tests
take the public dir, clean URLs, trailing slashes, headers, redirects and rewrites from here.

Sources are globs with the semantics of superstatic (the Hosting emulator): glob and path get
a leading slash and are normalised, a glob starting with `!` is negated, and the rest is
minimatch's: `*` and `?` stay inside one path segment, `**` spans any number of segments,
`{a,b}` and `{1..3}` expand, `@(a|b)`, `?(..)`, `+(..)`, `*(..)` and `!(..)` are extglobs, and
wildcards skip segments that start with a dot. wcmatch does the matching. A `regex` source is
searched for anywhere in the path.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wcmatch import glob as wcglob

REPO_ROOT = Path(__file__).resolve().parents[1]
FIREBASE_JSON = REPO_ROOT / "firebase.json"


class HostingConfigError(ValueError):
    """firebase.json says something this module cannot honour; the message says what."""


# minimatch's defaults in wcmatch's terms: no DOTGLOB, so wildcards (`**` included) skip dot
# segments; FORCEUNIX, so `/` is the only separator and case counts. No NEGATE: wcmatch's
# `!` excludes from a set of patterns, where minimatch's simply inverts the one pattern.
GLOB_FLAGS = wcglob.GLOBSTAR | wcglob.BRACE | wcglob.EXTGLOB | wcglob.FORCEUNIX


def with_leading_slash(path: str) -> str:
    """Normalise a glob or a URL path the way superstatic does before matching."""
    # As Node's path.normalize: `//a` is `/a` (posixpath keeps two leading slashes).
    normal = "/" + posixpath.normpath(posixpath.join("/", path)).lstrip("/")
    return normal + "/" if path.endswith("/") and normal != "/" else normal


def compile_glob(glob: str) -> Callable[[str], bool]:
    """A predicate telling whether a URL path matches the Firebase Hosting glob."""
    # As glob-slash: the `!` stays in front of the added slash, so `!(a)` is `!` + `/(a)`.
    negate = glob.startswith("!")
    matcher = wcglob.compile(with_leading_slash(glob[negate:]), flags=GLOB_FLAGS)
    return lambda path: matcher.match(with_leading_slash(path)) != negate


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
