"""`make lock`: compile every dependency lock from its human-edited input, with uv.

Edited by hand: `pyproject.toml` (the shop's runtime and `[dev]` dependencies, and
`requires-python`, which names the Cloud Functions runtime) and each function's
`functions/<name>/requirements.in` (its direct dependencies).

Written here, never by hand: `requirements-dev.txt`, everything resolved together (what
`.venv` installs), then each `functions/<name>/requirements.txt` constrained by it, so a
function deploys exactly the versions the tests ran on. Every lock pins every package,
transitive ones included, with its hashes, for the runtime's Python on Linux x86_64 (Cloud
Functions' platform), and its header records the command that wrote it. Without `--upgrade`
uv keeps the pins already there and resolves only what an input changed; with it, every pin
moves to the newest version the inputs allow.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from devtools import bundle

REPO = bundle.REPO
PYPROJECT = REPO / "pyproject.toml"
DEV_LOCK = Path("requirements-dev.txt")  # paths relative to the repo, as lock headers show them
PLATFORM = "x86_64-manylinux_2_28"  # Cloud Functions' machines: Linux x86_64, glibc >= 2.28
RUNTIME_SPEC = re.compile(r"~=(?P<version>\d+\.\d+)\.0")


class LockError(RuntimeError):
    """A lock cannot be written, or is stale; the message says what to run or fix."""


def python_version(pyproject: Path = PYPROJECT) -> str:
    """The runtime's `major.minor`: pyproject's `requires-python = "~=3.12.0"` is the one
    place it is named (the Makefile, the deploy and pip all read it there)."""
    spec = tomllib.loads(pyproject.read_text())["project"]["requires-python"]
    found = RUNTIME_SPEC.fullmatch(spec)
    if not found:
        raise LockError(f"{pyproject.name}: requires-python = {spec!r}; write it as '~=3.12.0'")
    return found["version"]


def runtime() -> str:
    """The Cloud Functions runtime id (`--runtime`): `python312` for Python 3.12."""
    return "python" + python_version().replace(".", "")


def function_lock(name: str) -> Path:
    return Path("functions") / name / "requirements.txt"


def function_input(name: str) -> Path:
    return Path("functions") / name / "requirements.in"


def compile_command(
    inputs: Sequence[Path | str], output: Path, constraint: Path | None
) -> list[str]:
    """The `uv pip compile` that writes one lock (its header repeats it)."""
    return [
        "uv",
        "pip",
        "compile",
        *map(str, inputs),
        *(["-c", str(constraint)] if constraint else []),
        "--generate-hashes",
        f"--python-version={python_version()}",
        f"--python-platform={PLATFORM}",
        f"--output-file={output}",
    ]


def dev_command() -> list[str]:
    names = bundle.function_names()
    inputs: list[Path | str] = ["pyproject.toml", "--extra=dev", *map(function_input, names)]
    return compile_command(inputs, DEV_LOCK, None)


def function_command(name: str) -> list[str]:
    return compile_command([function_input(name)], function_lock(name), DEV_LOCK)


def _run(command: list[str], upgrade: bool) -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise LockError("uv is not installed: it is in pyproject's [dev] extras (make .venv)")
    done = subprocess.run(
        [uv, *command[1:], *(["--upgrade"] if upgrade else []), "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise LockError(f"{' '.join(command)} failed:\n{done.stderr}")


def lock_all(upgrade: bool = False, jobs: int = 4) -> list[Path]:
    """Write the dev lock, then every function's lock from it; the paths written."""
    _run(dev_command(), upgrade)
    names = bundle.function_names()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda name: _run(function_command(name), upgrade=False), names))
    return [DEV_LOCK, *map(function_lock, names)]


def header_command(lock: Path) -> str:
    """The command a lock's header says wrote it (uv's `#    uv pip compile ...` line)."""
    lines = (REPO / lock).read_text().splitlines()
    return lines[1].removeprefix("#").strip() if len(lines) > 1 else ""


def requirement_lines(path: Path) -> list[str]:
    """The requirements a `.in` file lists, comments left out."""
    lines = (REPO / path).read_text().splitlines()
    return [text for text in (line.split("#", 1)[0].strip() for line in lines) if text]


def pyproject_requirements() -> list[str]:
    """pyproject's runtime dependencies and its `[dev]` extras."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


def pins(lock: Path) -> dict[str, str]:
    """{normalized name: version} of every package a lock pins (refusing unhashed pins)."""
    return {pin.name: pin.version for pin in bundle.pinned_requirements(REPO / lock)}


def stale(name: str | None = None) -> list[str]:
    """Why functions/<name>/requirements.txt (the dev lock: None) no longer matches its inputs.

    Offline checks, empty when it does: the header records today's command (same inputs,
    Python and platform); every requirement of the inputs is pinned at a version it allows;
    every pin is hashed; a function pins each package as the dev lock does, which is what
    the tests run on.
    """
    from packaging.requirements import Requirement

    if name is None:
        lock, command = DEV_LOCK, dev_command()
        wanted = [*pyproject_requirements()]
        for function in bundle.function_names():
            wanted += requirement_lines(function_input(function))
    else:
        lock, command = function_lock(name), function_command(name)
        wanted = requirement_lines(function_input(name))
    problems: list[str] = []
    expected = " ".join(command)
    if header_command(lock) != expected:
        problems.append(f"{lock} was not written by `{expected}`")
    try:
        pinned = pins(lock)
        dev = pins(DEV_LOCK)
    except bundle.BundleError as exc:
        return [*problems, str(exc)]
    for text in wanted:
        requirement = Requirement(text)
        version = pinned.get(bundle.normalize(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{lock} pins {requirement.name} at {version}, the input asks {text}")
    problems += [
        f"{lock} pins {package}=={version} but {DEV_LOCK} {package}=={dev.get(package)}"
        for package, version in sorted(pinned.items())
        if dev.get(package) != version
    ]
    return problems


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools lock", description=__doc__)
    parser.add_argument("--upgrade", action="store_true", help="move every pin to the newest")
    args = parser.parse_args(argv)
    try:
        for path in lock_all(upgrade=args.upgrade):
            print(f"{path}: {len(bundle.pinned_requirements(REPO / path))} pinned")
        problems = [p for name in [None, *bundle.function_names()] for p in stale(name)]
        if problems:
            sys.exit("lock: still stale:\n" + "\n".join(problems))
    except (LockError, bundle.BundleError) as exc:
        sys.exit(f"lock: {exc}")


if __name__ == "__main__":
    main()
