"""`make bundle`: one self-contained deploy source per function, under `build/functions/<name>/`.

A bundle is what `gcloud functions deploy --source` uploads: the function's own folder
(`main.py`, its `requirements.txt` lock, any sibling module; not the `requirements.in` the lock
is compiled from), a copy of `common/` under the same package name (imports are never
rewritten) and a `.gcloudignore`. Nothing from `devtools/`, `tests/` or the repo root goes
in, and a bundle whose code imports them is refused.

Everything is read from the files at build time: which functions exist (the folders under
`functions/`), what each one needs (its `requirements.txt`, every package pinned and hashed)
and what its code imports. `--report` also installs each bundle into a fresh virtualenv from
its `requirements.txt` alone (`--require-hashes`: pip checks every file, as in Cloud Build)
and measures it: bundle size, dependency count, import time.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import fcntl
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = REPO / "functions"
COMMON_DIR = REPO / "common"
DEFAULT_OUT = Path("build") / "functions"  # relative to the repo, as `--source` shows it

# First-party packages that are tooling, not runtime: a bundle never contains or imports them.
TOOLING_PACKAGES = frozenset({"devtools", "tests", "bench"})
# Left out of a bundle wherever they appear under the function folder or `common/`.
EXCLUDED = (
    "requirements.in",
    "__pycache__",
    "*.pyc",
    "*.pyo",
    ".pytest_cache",
    ".mypy_cache",
    "test_*.py",
    ".env",
)
GCLOUDIGNORE = """\
# Written by `make bundle`: what `gcloud functions deploy` must not upload.
.gcloudignore
__pycache__/
*.py[cod]
.env
.env.*
.data/
.venv/
"""
# `name==version`, optional extras, optional environment marker: nothing looser ships.
PINNED = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[(?P<extras>[A-Za-z0-9._,\s-]+)\])?"
    r"\s*==\s*(?P<version>[A-Za-z0-9.+!_-]+)\s*(?:;.*)?$"
)


class BundleError(RuntimeError):
    """A function cannot be bundled as it stands; the message says what to fix."""


def function_names() -> list[str]:
    """Every deployable function: a folder under `functions/` with a `main.py`."""
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/main.py"))


def output_root() -> Path:
    """Where bundles go: `BUILD_DIR` when set, else `build/functions` (relative to the repo)."""
    return REPO / (os.environ.get("BUILD_DIR") or DEFAULT_OUT)


def normalize(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    """One line of a requirements.txt: `name[extras]==version`."""

    name: str
    extras: frozenset[str]
    version: str


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with `\\` continuations joined and comments left out."""
    start = 0
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if line.startswith("#"):
            line = ""
        if not parts:
            start = number
        parts.append(line.removesuffix("\\").strip())
        if not line.endswith("\\"):
            joined = " ".join(part for part in parts if part)
            parts = []
            if joined:
                yield start, joined


def pinned_requirements(path: Path) -> list[Pin]:
    """The packages a function's lock installs, refusing a line not pinned to one version
    and hashed (`make lock` writes it so; pip then installs it with --require-hashes)."""
    pins: list[Pin] = []
    for number, line in _logical_lines(path.read_text()):
        words = line.split()
        hashes = [word for word in words if word.startswith("--hash=")]
        requirement = " ".join(word for word in words if not word.startswith("--hash="))
        found = PINNED.match(requirement)
        if not found:
            raise BundleError(
                f"{path}:{number}: {requirement!r} is not pinned; write it as name==version "
                "so every deploy installs exactly what was tested"
            )
        if not hashes:
            raise BundleError(f"{path}:{number}: {requirement!r} has no --hash; run make lock")
        extras = frozenset(e.strip() for e in (found["extras"] or "").split(",") if e.strip())
        pins.append(Pin(normalize(found["name"]), extras, found["version"]))
    if "functions-framework" not in {pin.name for pin in pins}:
        raise BundleError(f"{path} must pin functions-framework (the runtime's entry point)")
    return pins


def _imports(source: str) -> Iterator[str]:
    """Every absolute module an import statement in `source` names, at any depth (lazy ones too)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from a.b import c`: c may be a submodule (google.cloud.firestore) or a name
            # (flask.Response); consumers resolve the longest prefix that is a module.
            for alias in node.names:
                yield node.module if alias.name == "*" else f"{node.module}.{alias.name}"


def _common_module_file(module: str) -> Path:
    """The file of the longest prefix of `common.x.y` that is a module (`from common import x`
    names a module or a name of the package; a module not written yet falls back to it)."""
    parts = module.split(".")[1:]
    while parts:
        candidate = COMMON_DIR.joinpath(*parts)
        for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
            if path.is_file():
                return path
        parts.pop()
    return COMMON_DIR / "__init__.py"


@dataclass(frozen=True)
class ImportGraph:
    """What a function's code can import: its own modules plus the `common` modules they reach.

    `imports` holds (module, file that imports it) for every import statement, lazy ones too.
    """

    files: tuple[Path, ...]
    imports: tuple[tuple[str, Path], ...]

    @property
    def modules(self) -> frozenset[str]:
        return frozenset(module for module, _ in self.imports)

    def third_party(self) -> dict[str, Path]:
        """{module: first file importing it} for every module that is not stdlib nor ours."""
        own = {p.stem for p in self.files if p.parent.parent == FUNCTIONS_DIR} | {"common"}
        found: dict[str, Path] = {}
        for module, path in self.imports:
            top = module.split(".")[0]
            if top not in sys.stdlib_module_names and top not in own:
                found.setdefault(module, path)
        return found


def import_graph(name: str) -> ImportGraph:
    """Follow `common.*` imports from the function folder's modules, lazy imports included."""
    pending = sorted((FUNCTIONS_DIR / name).glob("*.py"))
    seen: set[Path] = set()
    imports: list[tuple[str, Path]] = []
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imports(path.read_text()):
            imports.append((module, path))
            if module == "common" or module.startswith("common."):
                pending.append(_common_module_file(module))
    return ImportGraph(files=tuple(sorted(seen)), imports=tuple(imports))


def _distribution_of(module: str, candidates: Mapping[str, list[str]]) -> str | None:
    """The installed distribution that provides `module` (namespace packages resolved by path)."""
    owners = candidates.get(module.split(".")[0], [])
    if len(owners) <= 1:
        return normalize(owners[0]) if owners else None
    parts = module.split(".")
    best: tuple[int, str] | None = None
    for owner in owners:
        for file in metadata.files(owner) or ():
            depth = 0
            while depth < min(len(parts), len(file.parts)) and (
                file.parts[depth] == parts[depth] or file.parts[depth] == parts[depth] + ".py"
            ):
                depth += 1
            if best is None or depth > best[0]:
                best = (depth, owner)
    return normalize(best[1]) if best else None


def _installed_closure(roots: Iterable[tuple[str, frozenset[str]]]) -> set[str]:
    """The roots plus everything they pull in, per this environment's installed metadata."""
    from packaging.requirements import Requirement

    closure: set[str] = set()
    done: set[tuple[str, frozenset[str]]] = set()
    pending = [(normalize(name), extras) for name, extras in roots]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in done:
            continue
        done.add((name, extras))
        closure.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
        for line in requires:
            req = Requirement(line)
            if not req.marker or any(req.marker.evaluate(env) for env in environments):
                pending.append((normalize(req.name), frozenset(req.extras)))
    return closure


def _pyproject_requirements(*, extra: str | None) -> list[tuple[str, frozenset[str]]]:
    """pyproject.toml's runtime dependencies, or those of one of its extras."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    if extra:
        lines = project.get("optional-dependencies", {}).get(extra, [])
    else:
        lines = project.get("dependencies", [])
    return [(req.name, frozenset(req.extras)) for req in map(Requirement, lines)]


def undeclared_imports(name: str) -> list[str]:
    """Third-party modules the function's code may import (at load or lazily, at first use)
    that its requirements.txt does not install: each one is an ImportError waiting in
    production. Local-only tooling (the `[dev]` extras, e.g. the embedded Postgres) is exempt.
    """
    pins = pinned_requirements(FUNCTIONS_DIR / name / "requirements.txt")
    installed = _installed_closure((pin.name, pin.extras) for pin in pins)
    runtime = _installed_closure(_pyproject_requirements(extra=None))
    dev_only = _installed_closure(_pyproject_requirements(extra="dev")) - runtime
    candidates = metadata.packages_distributions()
    problems: dict[tuple[Path, str], str] = {}
    for module, path in sorted(import_graph(name).third_party().items()):
        distribution = _distribution_of(module, candidates)
        if distribution in installed or distribution in dev_only:
            continue
        provider = distribution or module.split(".")[0]
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        problems.setdefault((path, provider), f"{shown} imports {module} ({provider})")
    return list(problems.values())


def check_sources(name: str) -> ImportGraph:
    """Refuse a function whose entry point is missing or whose code imports tooling."""
    main = FUNCTIONS_DIR / name / "main.py"
    tree = ast.parse(main.read_text())
    if not any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body):
        raise BundleError(f"{main} must define the entry point `def {name}(request)`")
    graph = import_graph(name)
    tooling = sorted(m for m in graph.modules if m.split(".")[0] in TOOLING_PACKAGES)
    if tooling:
        raise BundleError(
            f"functions/{name} imports {', '.join(tooling)}: tooling is not shipped in bundles"
        )
    return graph


def build(name: str, out_root: Path | None = None) -> Path:
    """Write `<out_root>/<name>/` from the current files and return it."""
    source = FUNCTIONS_DIR / name
    if not (source / "main.py").is_file():
        known = ", ".join(function_names())
        raise BundleError(f"no function {name!r}: expected functions/{name}/main.py ({known})")
    check_sources(name)
    pinned_requirements(source / "requirements.txt")
    target = (out_root or output_root()) / name
    if target.exists():
        shutil.rmtree(target)
    ignore = shutil.ignore_patterns(*EXCLUDED)
    shutil.copytree(source, target, ignore=ignore)
    shutil.copytree(COMMON_DIR, target / "common", ignore=ignore)
    (target / ".gcloudignore").write_text(GCLOUDIGNORE)
    return target


def files_of(bundle: Path) -> list[Path]:
    return sorted(p for p in bundle.rglob("*") if p.is_file())


# --- what a fresh virtualenv makes of a bundle (used by --report and by the tests) ---


def wheelhouse() -> Path:
    """Distribution files kept between runs (`AUREN_WHEELHOUSE`, else ~/.cache/auren/wheels).

    pip's own cache is not always usable (some proxies forbid caching), and resolving every
    bundle against the index again costs more than installing it; this is the same idea.
    """
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "auren" / "wheels"
    return Path(os.environ.get("AUREN_WHEELHOUSE") or default)


@contextmanager
def _locked(folder: Path, mode: int) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, mode)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def create_venv(bundle: Path, venv: Path, wheels: Path | None = None) -> Path:
    """A fresh virtualenv with only the bundle's lock installed (`--require-hashes`); its python.

    The venv has no pip of its own: this interpreter's pip installs into it (`--python`), so
    nothing but the requirements and what they pull in lands there. Distribution files come
    from `wheels` (default: `wheelhouse()`); what is missing there is downloaded first.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    wheels = wheels or wheelhouse()
    requirements = str(bundle / "requirements.txt")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    # --no-compile: bytecode is written at first import, for the modules actually imported.
    hashed = ["--require-hashes", "-r", requirements]
    offline = [*pip, "install", "--quiet", "--no-compile", "--no-index", "--find-links"]

    def install() -> subprocess.CompletedProcess[str]:
        with _locked(wheels, fcntl.LOCK_SH):
            return subprocess.run(
                [*offline, str(wheels), *hashed],
                capture_output=True,
                text=True,
                timeout=600,
            )

    result = install()
    if result.returncode != 0:
        with _locked(wheels, fcntl.LOCK_EX):
            download = subprocess.run(
                [*pip, "download", "--quiet", "--dest", str(wheels), *hashed],
                capture_output=True,
                text=True,
                timeout=600,
            )
        if download.returncode != 0:
            raise BundleError(f"downloading {requirements} failed:\n{download.stderr}")
        result = install()
    if result.returncode != 0:
        raise BundleError(f"installing {requirements} failed:\n{result.stderr}")
    return python


def installed_distributions(python: Path) -> list[str]:
    """The distributions installed in a venv (what `pip list` counts)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return sorted(entry["name"] for entry in json.loads(result.stdout))


def bundle_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment for a bundle's process: no dev venv, no repo on the path."""
    env = {"PATH": "/usr/bin:/bin", "AUREN_DATA_DIR": str(data_dir), "PYTHONHASHSEED": "0"}
    return {**env, **(extra or {})}


IMPORT_PROBE = (
    "import time; started = time.perf_counter(); import functions_framework; "
    "functions_framework.create_app({name!r}, 'main.py'); "
    "print(time.perf_counter() - started)"
)


def import_seconds(python: Path, bundle: Path, name: str, env: dict[str, str]) -> float:
    """Wall time of `functions_framework.create_app(...)` in a fresh interpreter in the venv."""
    result = subprocess.run(
        [str(python), "-c", IMPORT_PROBE.format(name=name)],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise BundleError(f"{name} does not import from its bundle:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Measurement:
    name: str
    bundle_bytes: int
    bundle_files: int
    requirements: int
    dependencies: int
    venv_bytes: int
    import_ms: float | None  # None: the bundle does not import (see `error`)
    error: str | None
    undeclared: int  # third-party imports its requirements.txt does not install (static)


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def measure(name: str, work: Path, runs: int = 3) -> Measurement:
    """Build, install into a fresh venv, and time the import of one function."""
    bundle = build(name, work / "bundles")
    files = files_of(bundle)  # before any import writes bytecode next to the sources
    python = create_venv(bundle, work / "venvs" / name)
    env = bundle_env(work / "data" / name)
    import_ms, error = None, None
    try:
        import_seconds(python, bundle, name, env)  # the first import also writes bytecode
        samples = [import_seconds(python, bundle, name, env) for _ in range(runs)]
        import_ms = statistics.median(samples) * 1000
    except BundleError as exc:
        error = str(exc).strip().splitlines()[-1]
    return Measurement(
        name=name,
        bundle_bytes=sum(p.stat().st_size for p in files),
        bundle_files=len(files),
        requirements=len(pinned_requirements(bundle / "requirements.txt")),
        dependencies=len(installed_distributions(python)),
        venv_bytes=_tree_bytes(work / "venvs" / name),
        import_ms=import_ms,
        error=error,
        undeclared=len(undeclared_imports(name)),
    )


def report_table(rows: Iterable[Measurement]) -> str:
    lines = [
        "| function | bundle bytes | bundle files | pinned requirements "
        "| installed dependencies | venv MB | import ms (median of 3, warm) "
        "| lazy imports not installed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        imported = f"{row.import_ms:.0f}" if row.import_ms is not None else f"fails: {row.error}"
        lines.append(
            f"| {row.name} | {row.bundle_bytes:,} | {row.bundle_files} | {row.requirements} "
            f"| {row.dependencies} | {row.venv_bytes / 1e6:.0f} | {imported} "
            f"| {row.undeclared} |"
        )
    return "\n".join(lines)


def report(names: Sequence[str], jobs: int = 2) -> str:
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="auren-bundles-") as tmp,
        concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool,
    ):
        rows = list(pool.map(lambda n: measure(n, Path(tmp)), names))
    elapsed = time.perf_counter() - started
    note = (
        f"\nPython {sys.version.split()[0]} on {os.cpu_count()} CPUs; {elapsed:.0f} s in all. "
        "Dependencies = distributions `pip list` shows in a venv holding only the bundle's "
        "requirements.txt (the venv has no pip of its own); venv MB: installed without "
        "bytecode (--no-compile). Lazy imports not installed: `make bundle` lists them."
    )
    return report_table(rows) + "\n" + note


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools bundle", description=__doc__)
    parser.add_argument("names", nargs="*", help="functions to bundle (default: all)")
    parser.add_argument("--report", action="store_true", help="install and measure each bundle")
    args = parser.parse_args(argv)
    names = args.names or function_names()
    try:
        if args.report:
            print(report(names))
            return
        for name in names:
            target = build(name)
            files = files_of(target)
            size = sum(p.stat().st_size for p in files)
            print(f"{target}: {len(files)} files, {size:,} bytes")
            for problem in undeclared_imports(name):
                print(f"  warning: {problem}, not in functions/{name}/requirements.in")
    except BundleError as exc:
        sys.exit(f"bundle: {exc}")


if __name__ == "__main__":
    main()
