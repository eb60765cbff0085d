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
from tests.emulators import free_port

PNG = b"\x89PNG\r\n\x1a\n fake but opaque bytes"


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


def test_private_keys_are_their_own_kind() -> None:
    assert storage.is_private(storage.new_key("print"))
    key = storage.private_key("dsn_" + "a" * 24 + "-v3-front")
    assert key == "print/dsn_" + "a" * 24 + "-v3-front.png" and storage.is_private(key)
    assert not storage.is_private(storage.new_key("mockups"))
    for name in ("../../etc/passwd", "short", "a/b" * 10, "x" * 81):
        with pytest.raises(ValueError):
            storage.private_key(name)


def test_local_private_objects_live_outside_the_served_root(tmp_path: Path) -> None:
    files = storage.LocalStorage(tmp_path / "storage")
    key = storage.new_key("print")
    assert files.get(key) is None and not files.exists(key)
    files.put(key, PNG)
    assert files.get(key) == PNG and files.exists(key)
    assert (tmp_path / "private" / key).read_bytes() == PNG
    assert not (tmp_path / "storage").exists()
    with pytest.raises(ValueError):
        files.url(key)
    with pytest.raises(ValueError):
        storage.LocalStorage(tmp_path / "storage", tmp_path / "storage" / "private")


def test_the_local_server_never_serves_a_private_object(tmp_path: Path) -> None:
    import dataclasses

    from werkzeug.test import Client

    from common.infra import config
    from devtools import hosting
    from devtools.server import LocalServer

    cfg = dataclasses.replace(config.load({"AUREN_DATA_DIR": str(tmp_path)}), gcs_bucket=None)
    files = storage.LocalStorage(cfg.data_dir / "storage", cfg.data_dir / "private")
    public, private = storage.new_key("mockups"), storage.new_key("print")
    files.put(public, PNG)
    files.put(private, PNG)
    browser = Client(LocalServer(cfg, hosting.load()))
    assert browser.get(f"/storage/{public}").status_code == 200
    for path in (f"/storage/{private}", f"/storage/../private/{private}"):
        assert browser.get(path).status_code in (400, 404)


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
    files = storage.GcsStorage("auren-test", "auren-test-project", private_bucket="auren-print")
    if files.client.lookup_bucket("auren-print") is None:
        files.client.create_bucket("auren-print")
    return files


def test_gcs_storage_round_trip_through_the_real_client(gcs: storage.GcsStorage) -> None:
    key = storage.new_key("artwork")
    assert gcs.get(key) is None
    gcs.put(key, PNG)
    assert gcs.get(key) == PNG
    blob = gcs.bucket.get_blob(key)
    assert blob.content_type == "image/png"
    assert blob.cache_control == storage.IMMUTABLE
    assert blob.size == len(PNG)


def test_gcs_private_objects_go_to_the_private_bucket(gcs: storage.GcsStorage) -> None:
    key = storage.new_key("print")
    assert gcs.get(key) is None and not gcs.exists(key)
    gcs.put(key, PNG)
    assert gcs.get(key) == PNG and gcs.exists(key)
    assert gcs.bucket.get_blob(key) is None  # never in the media bucket, public by name
    blob = gcs.client.bucket("auren-print").get_blob(key)
    assert blob.cache_control == storage.PRIVATE
    assert blob.content_disposition.startswith("attachment")
    with pytest.raises(ValueError):
        gcs.url(key)


def test_gcs_without_a_private_bucket_refuses_private_objects(
    gcs_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    gcs = storage.GcsStorage("auren-test", "auren-test-project")
    with pytest.raises(storage.ConfigError):
        gcs.put(storage.new_key("print"), PNG)
    assert not list(gcs.bucket.list_blobs(prefix="print/"))


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
