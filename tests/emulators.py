"""Local peers the tests start: a free loopback port, and Google's emulators from the Cloud SDK
(Firestore, Pub/Sub), skipped cleanly where the SDK or Java is not installed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sdk_script(relative: str) -> Path | None:
    """A script of the Cloud SDK (beside `gcloud`, or Debian's install), when installed."""
    gcloud = shutil.which("gcloud")
    roots = [Path(os.path.realpath(gcloud)).parents[1]] if gcloud else []
    roots.append(Path("/usr/lib/google-cloud-sdk"))
    for root in roots:
        if (root / relative).is_file():
            return root / relative
    return None


def emulator(name: str, relative: str, arguments: Callable[[int], list[str]]) -> Iterator[str]:
    """Run the SDK's `name` emulator on a free loopback port for a fixture: yields its
    `host:port`, and stops it (its whole process group) afterwards."""
    port = free_port()
    script = sdk_script(relative)
    if script is None or shutil.which("java") is None:
        pytest.skip(f"the Cloud SDK's {name} emulator (and Java) is not installed here")
    process = subprocess.Popen(
        [str(script), *arguments(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        os.killpg(process.pid, 9)
        pytest.fail(f"the {name} emulator did not start within {START_SECONDS} s")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
