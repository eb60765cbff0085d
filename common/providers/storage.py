"""Object storage for artwork, uploads and mockups (public), and print files (private).

Google Cloud Storage in production (`GCS_BUCKET`; the client honours `STORAGE_EMULATOR_HOST`),
files under `.data/storage` locally, which the local server serves at `/storage/<key>`.
Objects are only ever images we encoded ourselves, stored under generated names.

A private object (`print/<name>.png`, a production print file) is never public: `url()`
refuses it, and it lives apart from the public objects: in the private bucket on GCS (the
media bucket is readable by anyone who knows a name), under `.data/private` locally (outside
what the local server serves). Only `get()` reads it back, for whoever serves it behind its
own check (the ops function's signed link).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any, Protocol

from common.core import errors
from common.core.lazy import Lazy
from common.infra.config import GCS, ConfigError, settings
from common.providers.local import vendors

KEY = re.compile(r"^(artwork|uploads|mockups)/[A-Za-z0-9_-]{20,40}\.png$")
PRIVATE_KEY = re.compile(r"^print/[A-Za-z0-9_-]{20,80}\.png$")
IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, no-store"
CONNECT_SECONDS = 1.0  # of each attempt's GCS.timeout_seconds
TIMEOUT = (CONNECT_SECONDS, GCS.timeout_seconds - CONNECT_SECONDS)  # connect, read
RETRY_SECONDS = GCS.deadline_seconds  # retried until then: a shopper is waiting


def new_key(kind: str) -> str:
    """A fresh, unguessable object name of `kind` (artwork, uploads, mockups or print)."""
    key = f"{kind}/{secrets.token_urlsafe(18)}.png"
    if not (KEY.match(key) or PRIVATE_KEY.match(key)):
        raise ValueError(f"unknown object kind {kind!r}")
    return key


def private_key(name: str) -> str:
    """The private object called `name` (20 to 80 of A-Z a-z 0-9 _ -): `print/<name>.png`."""
    key = f"print/{name}.png"
    if not PRIVATE_KEY.match(key):
        raise ValueError(f"not a private object name: {name!r}")
    return key


def is_private(key: str) -> bool:
    """Whether `key` names a private object (which has no public URL)."""
    return PRIVATE_KEY.match(key) is not None


def _check(key: str) -> str:
    if not (KEY.match(key) or PRIVATE_KEY.match(key)):
        raise ValueError(f"not an object name of ours: {key!r}")
    return key


def _public(key: str) -> str:
    if PRIVATE_KEY.match(key):
        raise ValueError(f"a private object has no public URL: {key!r}")
    if not KEY.match(key):
        raise ValueError(f"not an object name of ours: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        """Store the object (public or private, as its key says), replacing any of that name."""
        ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes (public or private), or None when there is no such object."""
        ...

    def exists(self, key: str) -> bool:
        """Whether the object is stored (without reading it)."""
        ...

    def url(self, key: str) -> str:
        """Where a browser loads the public object from; ValueError for a private one."""
        ...


class LocalStorage:
    """Files: public objects under `root` (served by the local server at `/storage/`),
    private ones under `private_root` (default: `private` beside `root`), never served."""

    def __init__(self, root: Path, private_root: Path | None = None) -> None:
        self.root = root
        self.private_root = private_root or root.parent / "private"
        if self.private_root.resolve().is_relative_to(self.root.resolve()):
            raise ValueError("private objects must live outside the served storage root")

    def _path(self, key: str) -> Path:
        _check(key)
        return (self.private_root if is_private(key) else self.root) / key

    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        vendors.answer("storage")
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(data)
        partial.replace(path)

    def get(self, key: str) -> bytes | None:
        vendors.answer("storage")
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def exists(self, key: str) -> bool:
        vendors.answer("storage")
        return self._path(key).is_file()

    def url(self, key: str) -> str:
        return f"/storage/{_public(key)}"


class GcsStorage:
    """The media bucket for public objects (anyone may read it by name) and
    `private_bucket`, which only the service account reads, for private ones."""

    def __init__(
        self,
        bucket: str,
        project: str | None,
        client: Any = None,
        *,
        private_bucket: str | None = None,
    ) -> None:
        if client is None:
            from google.cloud import storage  # type: ignore[attr-defined]

            client = storage.Client(project=project)
        self.client = client
        self.bucket = client.bucket(bucket)
        self.private_bucket = client.bucket(private_bucket) if private_bucket else None

    def _blob(self, key: str) -> Any:
        if not is_private(_check(key)):
            return self.bucket.blob(key)
        if self.private_bucket is None:
            # The media bucket is public by name: a private object is never put there.
            raise ConfigError("private objects (print files) need a private GCS bucket")
        return self.private_bucket.blob(key)

    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        blob = self._blob(key)
        if is_private(key):
            blob.cache_control = PRIVATE
            blob.content_disposition = f'attachment; filename="{key.rsplit("/", 1)[-1]}"'
        else:
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

        blob = self._blob(key)
        try:
            data: bytes = blob.download_as_bytes(timeout=TIMEOUT, retry=self._retry())
        except exceptions.NotFound:
            return None
        except (exceptions.GoogleAPIError, OSError) as exc:
            raise _unavailable() from exc
        return data

    def exists(self, key: str) -> bool:
        from google.api_core import exceptions

        try:
            return bool(self._blob(key).exists(timeout=TIMEOUT, retry=self._retry()))
        except (exceptions.GoogleAPIError, OSError) as exc:
            raise _unavailable() from exc

    def url(self, key: str) -> str:
        url: str = self.bucket.blob(_public(key)).public_url
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
        return GcsStorage(
            cfg.gcs_bucket, cfg.google_cloud_project, private_bucket=cfg.gcs_print_bucket
        )
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs GCS_BUCKET for image storage")
    return LocalStorage(cfg.data_dir / "storage", cfg.data_dir / "private")


storage = Lazy(build_storage)  # the instance's object storage
