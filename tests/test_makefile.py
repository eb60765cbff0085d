"""`make test` installs what its tests need on a fresh machine: Debian's chromium included,
and a `.venv` on the runtime's Python.

The Makefile's chromium prerequisite is exercised for real (make runs its recipe) with
`CHROMIUM` pointing at a path that does not exist and `APT_GET` at a stand-in, so nothing is
installed: missing and root installs it with apt-get; missing and not root, or apt-get
failing, stops with a message naming the package. Its `.venv` rule runs for real too, with
`VENV` in a temporary folder and stand-in interpreters that log what they are asked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import lock

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _make(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    if path:
        env["PATH"] = f"{path}:{env['PATH']}"
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


# --- .venv on the runtime's Python ----------------------------------------------------------

RUNTIME = lock.python_version()


def fake_python(path: Path, version: str, log: Path) -> Path:
    """An interpreter that answers the Makefile's version question and logs everything else;
    `-m venv DIR` makes DIR/bin/python, another such interpreter of the same version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = -c ]; then echo {version}; exit 0; fi\n'
        f'echo "$0 $*" >> {log}\n'
        'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi\n'
    )
    path.chmod(0o755)
    return path


def failing(path: Path) -> Path:
    """What an unselected pyenv shim does: exit 127 whatever it is asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho 'pyenv: command not found' >&2\nexit 127\n")
    path.chmod(0o755)
    return path


def test_a_venv_of_another_python_is_rebuilt_with_the_runtime(tmp_path: Path) -> None:
    log, venv = tmp_path / "log", tmp_path / "venv"
    fake_python(venv / "bin" / "python", "3.11", log)
    (venv / "made-by-3.11").write_text("")
    (venv / ".installed").write_text("")  # up to date, yet made by another Python
    bin_dir = tmp_path / "bin"
    fake_python(bin_dir / f"python{RUNTIME}", RUNTIME, log)

    run = _make(f"{venv}/.installed", f"VENV={venv}", "PYENV=false", path=str(bin_dir))

    assert run.returncode == 0, run.stderr
    assert not (venv / "made-by-3.11").exists()
    calls = log.read_text().splitlines()
    assert calls[0] == f"{bin_dir}/python{RUNTIME} -m venv {venv}"
    new = f"{venv}/bin/python -m pip install --quiet"
    assert f"{new} --require-hashes -r requirements-dev.txt" in calls
    assert calls[-1] == f"{new} --no-deps -e ."


def test_a_venv_of_the_runtime_is_kept(tmp_path: Path) -> None:
    log, venv = tmp_path / "log", tmp_path / "venv"
    fake_python(venv / "bin" / "python", RUNTIME, log)
    (venv / "kept").write_text("")

    run = _make(f"{venv}/.installed", f"VENV={venv}", "PYTHON=false", "PYENV=false")

    assert run.returncode == 0, run.stderr
    assert (venv / "kept").exists() and (venv / ".installed").exists()
    assert not any("-m venv" in call for call in log.read_text().splitlines())


def test_when_the_shim_fails_pyenv_finds_the_runtime(tmp_path: Path) -> None:
    log, venv = tmp_path / "log", tmp_path / "venv"
    bin_dir = tmp_path / "bin"
    failing(bin_dir / f"python{RUNTIME}")
    prefix = tmp_path / "pyenv" / "versions" / f"{RUNTIME}.9"
    fake_python(prefix / "bin" / f"python{RUNTIME}", RUNTIME, log)
    pyenv = bin_dir / "pyenv"
    pyenv.write_text(f'#!/bin/sh\n[ "$1 $2" = "prefix {RUNTIME}" ] && echo {prefix}\n')
    pyenv.chmod(0o755)

    run = _make(f"{venv}/.installed", f"VENV={venv}", path=str(bin_dir))

    assert run.returncode == 0, run.stderr
    assert log.read_text().splitlines()[0] == f"{prefix}/bin/python{RUNTIME} -m venv {venv}"


def test_without_the_runtime_python_it_stops_naming_the_version(tmp_path: Path) -> None:
    venv, bin_dir = tmp_path / "venv", tmp_path / "bin"
    failing(bin_dir / f"python{RUNTIME}")
    failing(bin_dir / "pyenv")

    run = _make(f"{venv}/.installed", f"VENV={venv}", path=str(bin_dir))

    assert run.returncode != 0
    assert f"Python {RUNTIME}, the Cloud Functions runtime" in run.stderr
    assert f"pyenv install {RUNTIME}" in run.stderr
    assert not venv.exists()
