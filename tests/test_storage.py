"""The storage providers: files locally, and the real google-cloud-storage client against
`gcp-storage-emulator` (started here) for GCS."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.providers import storage

PNG = b"\x89PNG\r\n\x1a\n fake but opaque bytes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_new_keys_are_unguessable_and_kind_checked() -> None:
    keys = {storage.new_key("artwork") for _ in range(50)}
    assert len(keys) == 50
    assert all(storage.KEY.match(key) for key in keys)
    with pytest.raises(ValueError):
        storage.new_key("../etc")


def test_local_storage_round_trip_and_url(tmp_path: Path) -> None:
    files = storage.LocalStorage(tmp_path)
    key = storage.new_key("mockups")
    assert files.get(key) is None
    files.put(key, PNG)
    assert files.get(key) == PNG
    assert (tmp_path / key).read_bytes() == PNG
    assert files.url(key) == f"/storage/{key}"
    assert not list(tmp_path.rglob("*.part"))


@pytest.mark.parametrize("key", ["../secrets.json", "artwork/x.png", "mockups/a/../../b.png"])
def test_local_storage_refuses_names_it_did_not_make(tmp_path: Path, key: str) -> None:
    files = storage.LocalStorage(tmp_path)
    with pytest.raises(ValueError):
        files.put(key, PNG)
    with pytest.raises(ValueError):
        files.get(key)


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--in-memory",
            "--default-bucket",
            "auren-test",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("gcp-storage-emulator did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def gcs(gcs_emulator: str, monkeypatch: pytest.MonkeyPatch) -> storage.GcsStorage:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    return storage.GcsStorage("auren-test", "auren-test-project")


def test_gcs_storage_round_trip_through_the_real_client(gcs: storage.GcsStorage) -> None:
    key = storage.new_key("artwork")
    assert gcs.get(key) is None
    gcs.put(key, PNG)
    assert gcs.get(key) == PNG
    blob = gcs.bucket.get_blob(key)
    assert blob.content_type == "image/png"
    assert blob.cache_control == storage.IMMUTABLE
    assert blob.size == len(PNG)


def test_gcs_public_url_names_the_bucket_and_object(
    gcs: storage.GcsStorage, gcs_emulator: str
) -> None:
    key = storage.new_key("mockups")
    assert gcs.url(key) == f"{gcs_emulator}/auren-test/{key}"


def test_gcs_unreachable_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(storage, "RETRY_SECONDS", 1.0)
    gcs = storage.GcsStorage("auren-test", "auren-test-project")
    with pytest.raises(storage.errors.ServiceUnavailable):
        gcs.get(storage.new_key("artwork"))
