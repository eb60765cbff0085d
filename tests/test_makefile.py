"""`make test` installs what its tests need on a fresh machine: Debian's chromium included.

The Makefile's chromium prerequisite is exercised for real (make runs its recipe) with
`CHROMIUM` pointing at a path that does not exist and `APT_GET` at a stand-in, so nothing is
installed: missing and root installs it with apt-get; missing and not root, or apt-get
failing, stops with a message naming the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_make_test_installs_chromium_before_the_tests_when_it_is_missing(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    dry = _make("-n", "test", f"CHROMIUM={chromium}", "USER_ID=0")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    install = next(i for i, line in enumerate(lines) if "apt-get install -y chromium" in line)
    tests = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert install < tests


def test_make_test_leaves_an_installed_chromium_alone(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.write_text("")
    dry = _make("-n", "test", f"CHROMIUM={chromium}")
    assert dry.returncode == 0, dry.stderr
    assert "apt-get" not in dry.stdout
    assert "-m pytest" in dry.stdout


def test_make_dev_does_not_need_chromium(tmp_path: Path) -> None:
    dry = _make("-n", "dev", f"CHROMIUM={tmp_path / 'chromium'}", "APT_GET=false")
    assert dry.returncode == 0, dry.stderr
    assert "chromium" not in dry.stdout
    assert "devtools serve" in dry.stdout


def test_as_root_it_runs_apt_get(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    log = tmp_path / "apt.log"
    apt = tmp_path / "apt-get"
    apt.write_text(
        f'#!/bin/sh\necho "$@" >> {log}\n'
        f'[ "$1" = install ] && printf "#!/bin/sh\\n" > {chromium} && chmod +x {chromium}\n'
        "exit 0\n"
    )
    apt.chmod(0o755)
    run = _make(str(chromium), f"CHROMIUM={chromium}", f"APT_GET={apt}", "USER_ID=0")
    assert run.returncode == 0, run.stderr
    assert log.read_text().splitlines() == ["update", "install -y chromium"]
    assert os.access(chromium, os.X_OK)


def test_when_apt_get_fails_it_stops_naming_the_package(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    run = _make(str(chromium), f"CHROMIUM={chromium}", "APT_GET=false", "USER_ID=0")
    assert run.returncode != 0
    assert "package chromium" in run.stderr
    assert "apt-get could not install it" in run.stderr
    assert not chromium.exists()


def test_when_not_root_it_stops_naming_the_package_without_calling_apt(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    marker = tmp_path / "apt-called"
    apt = tmp_path / "apt-get"
    apt.write_text(f"#!/bin/sh\ntouch {marker}\n")
    apt.chmod(0o755)
    run = _make(str(chromium), f"CHROMIUM={chromium}", f"APT_GET={apt}", "USER_ID=1000")
    assert run.returncode != 0
    assert "package chromium" in run.stderr
    assert "sudo apt-get install -y chromium" in run.stderr
    assert not marker.exists()
