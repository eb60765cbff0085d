"""One Python and locked dependencies: what is tested is what is deployed.

pyproject.toml's `requires-python` names the Cloud Functions runtime; the tests run on it.
Each function deploys its hashed lock (functions/<name>/requirements.txt, compiled by
`make lock` from its requirements.in), every pin of which is what `.venv` has installed, and
pyproject's floors are the locked minors, so its bounds are ones the code is tested with.
"""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from devtools import bundle, deploy, lock

FUNCTION_NAMES = bundle.function_names()
LOCKS = [lock.DEV_LOCK, *map(lock.function_lock, FUNCTION_NAMES)]


def test_the_tests_run_on_the_runtime_python() -> None:
    version = lock.python_version()
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == version
    assert lock.runtime() == "python" + version.replace(".", "")


def test_requires_python_must_name_one_minor_version(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nrequires-python = ">=3.12"\n')
    with pytest.raises(lock.LockError, match=r"~=3\.12\.0"):
        lock.python_version(pyproject)
    pyproject.write_text('[project]\nrequires-python = "~=3.13.0"\n')
    assert lock.python_version(pyproject) == "3.13"


@pytest.mark.parametrize("name", [None, *FUNCTION_NAMES])
def test_every_lock_is_fresh_against_its_inputs(name: str | None) -> None:
    assert lock.stale(name) == [], "run make lock"


@pytest.mark.parametrize("path", LOCKS, ids=str)
def test_the_venv_holds_every_locked_package_at_its_locked_version(path: Path) -> None:
    pins = lock.pins(path)
    assert len(pins) > len(lock.requirement_lines(lock.function_input("orders")))
    installed = {name: metadata.version(name) for name in pins}
    wrong = {name: (pins[name], found) for name, found in installed.items()}
    assert {k: v for k, v in wrong.items() if Version(v[0]) != Version(v[1])} == {}


def test_pyproject_floors_are_the_locked_minors() -> None:
    locked = lock.pins(lock.DEV_LOCK)
    for text in lock.pyproject_requirements():
        requirement = Requirement(text)
        floors = [s.version for s in requirement.specifier if s.operator in (">=", "==")]
        assert floors, f"{text}: give it a floor (>=), the locked minor"
        pinned = Version(locked[bundle.normalize(requirement.name)])
        floor = Version(floors[0])
        assert floor.release[:2] == pinned.release[:2], (
            f"pyproject.toml {text}: the lock (what the tests run on) has {pinned}; "
            f"raise the floor to >={pinned.major}.{pinned.minor}"
        )


def test_every_lock_is_hashed_and_records_its_command() -> None:
    for path in LOCKS:
        text = (lock.REPO / path).read_text()
        assert text.count("--hash=sha256:") >= len(lock.pins(path))
        assert lock.header_command(path).startswith("uv pip compile ")
        assert f"--python-version={lock.python_version()}" in lock.header_command(path)
        assert f"--python-platform={lock.PLATFORM}" in lock.header_command(path)


@pytest.fixture
def copy_of_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The locks and inputs of `orders` and the dev lock, in a folder `lock` reads instead."""
    for path in (lock.DEV_LOCK, lock.function_lock("orders"), lock.function_input("orders")):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(lock.REPO / path, tmp_path / path)
    monkeypatch.setattr(lock, "REPO", tmp_path)
    assert lock.stale("orders") == []
    return tmp_path


def test_a_requirement_added_to_the_input_makes_the_lock_stale(copy_of_locks: Path) -> None:
    source = copy_of_locks / lock.function_input("orders")
    source.write_text(source.read_text() + "stripe\n")
    assert lock.stale("orders") == [
        "functions/orders/requirements.txt pins stripe at None, the input asks stripe"
    ]
    source.write_text(source.read_text().replace("stripe\n", "openai>=99\n"))
    assert "the input asks openai>=99" in " ".join(lock.stale("orders"))


def test_a_lock_of_another_python_or_unhashed_is_stale(copy_of_locks: Path) -> None:
    target = copy_of_locks / lock.function_lock("orders")
    original = target.read_text()
    target.write_text(original.replace("--python-version=3.12", "--python-version=3.11"))
    assert (
        "was not written by `uv pip compile functions/orders/requirements.in"
        in (lock.stale("orders")[0])
    )
    first_hash = original.index("    --hash=")
    target.write_text(original[:first_hash].rstrip(" \\\n") + "\n" + original[first_hash:])
    assert "has no --hash" in " ".join(lock.stale("orders"))


def test_a_function_pinning_other_than_the_tests_is_stale(copy_of_locks: Path) -> None:
    dev = copy_of_locks / lock.DEV_LOCK
    version = lock.pins(lock.DEV_LOCK)["flask"]
    dev.write_text(dev.read_text().replace(f"\nflask=={version} ", "\nflask==0.1 "))
    assert lock.stale("orders") == [
        f"functions/orders/requirements.txt pins flask=={version} "
        "but requirements-dev.txt flask==0.1"
    ]


def test_a_stale_lock_stops_the_deploy(copy_of_locks: Path) -> None:
    source = copy_of_locks / lock.function_input("orders")
    source.write_text(source.read_text() + "stripe\n")
    env = {"PROJECT": "auren-test", "SITE_URL": "https://auren.example", "DRY_RUN": "1"}
    with pytest.raises(deploy.DeployError, match=r"pins stripe at None.*run make lock"):
        deploy.deploy("orders", env)
