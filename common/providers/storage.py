"""Object storage for artwork, uploads and mockups.

Google Cloud Storage in production (`GCS_BUCKET`; the client honours `STORAGE_EMULATOR_HOST`),
files under `.data/storage` locally, which the local server serves at `/storage/<key>`.
Objects are only ever images we encoded ourselves, stored under generated names.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any, Protocol

from common.core import errors
from common.core.lazy import Lazy
from common.infra.config import ConfigError, settings

KEY = re.compile(r"^(artwork|uploads|mockups)/[A-Za-z0-9_-]{20,40}\.png$")
IMMUTABLE = "public, max-age=31536000, immutable"
TIMEOUT = (5.0, 20.0)  # connect, read (seconds) per attempt
RETRY_SECONDS = 20.0  # all attempts together: a shopper is waiting


def new_key(kind: str) -> str:
    """A fresh, unguessable object name of `kind` (artwork, uploads or mockups)."""
    key = f"{kind}/{secrets.token_urlsafe(18)}.png"
    if not KEY.match(key):
        raise ValueError(f"unknown object kind {kind!r}")
    return key


def _check(key: str) -> str:
    if not KEY.match(key):
        raise ValueError(f"not an object name of ours: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None: ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    def url(self, key: str) -> str:
        """Where a browser loads the object from."""
        ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _check(key)

    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(data)
        partial.replace(path)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def url(self, key: str) -> str:
        return f"/storage/{_check(key)}"


class GcsStorage:
    def __init__(self, bucket: str, project: str | None, client: Any = None) -> None:
        if client is None:
            from google.cloud import storage  # type: ignore[attr-defined]

            client = storage.Client(project=project)
        self.client = client
        self.bucket = client.bucket(bucket)

    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        blob = self.bucket.blob(_check(key))
        blob.cache_control = IMMUTABLE
        blob.content_disposition = "inline"
        from google.api_core import exceptions

        try:
            blob.upload_from_string(
                data, content_type=content_type, timeout=TIMEOUT, retry=self._retry()
            )
        except (exceptions.GoogleAPIError, OSError) as exc:
            raise _unavailable() from exc

    @staticmethod
    def _retry() -> Any:
        from google.cloud.storage.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_timeout(RETRY_SECONDS)

    def get(self, key: str) -> bytes | None:
        from google.api_core import exceptions

        try:
            blob = self.bucket.blob(_check(key))
            data: bytes = blob.download_as_bytes(timeout=TIMEOUT, retry=self._retry())
        except exceptions.NotFound:
            return None
        except (exceptions.GoogleAPIError, OSError) as exc:
            raise _unavailable() from exc
        return data

    def url(self, key: str) -> str:
        url: str = self.bucket.blob(_check(key)).public_url
        return url


def _unavailable() -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable(
        "image storage is unavailable, try again shortly",
        code="storage_unavailable",
        headers={"Retry-After": "5"},
    )


def build_storage() -> Storage:
    """GCS when `GCS_BUCKET` is set (required in production), else files under `.data`."""
    cfg = settings()
    if cfg.gcs_bucket:
        return GcsStorage(cfg.gcs_bucket, cfg.google_cloud_project)
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs GCS_BUCKET for image storage")
    return LocalStorage(cfg.data_dir / "storage")


storage = Lazy(build_storage)  # the instance's object storage
