"""Small shared state: JSON documents (conversations, OAuth states, session revocations) and
rate-limit counters.

Firestore in production (`STATE_BACKEND=firestore`, honours `FIRESTORE_EMULATOR_HOST`);
Postgres tables locally. Both offer the same operations with the same meaning.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from common.core.lazy import Lazy
from common.infra import db
from common.infra.config import ConfigError, settings


@dataclass(frozen=True)
class Hit:
    allowed: bool
    retry_after: int


class StateBackend(Protocol):
    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None: ...

    def get_many(self, collection: str, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The live documents among `doc_ids`, by id, read in one round trip."""
        ...

    def put(
        self, collection: str, doc_id: str, data: dict[str, Any], ttl_seconds: int | None = None
    ) -> None: ...

    def take(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """Read and delete a document atomically: a second take gets None."""
        ...

    def hit(self, key: str, limit: int, window_seconds: int) -> Hit:
        """Count one hit on `key` in a fixed window; allowed while hits <= limit."""
        ...

    def peek(self, key: str, limit: int, window_seconds: int) -> Hit:
        """Whether one more `hit` on `key` would be allowed, without counting one."""
        ...


def _retry_after(window_start: datetime, window_seconds: int, now: datetime) -> int:
    return max(
        1, math.ceil((window_start + timedelta(seconds=window_seconds) - now).total_seconds())
    )


def _peeked(
    window_start: datetime | None, hits: int, limit: int, window: int, now: datetime
) -> Hit:
    """What `peek` answers for a counter read as (`window_start`, `hits`) at `now`."""
    if window_start is None or window_start <= now - timedelta(seconds=window):
        return Hit(True, 0)
    return Hit(hits < limit, _retry_after(window_start, window, now))


class PostgresState:
    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with db.connect() as conn:
            data = conn.execute(
                "SELECT data FROM state_documents WHERE collection = :c AND id = :i"
                " AND (expires_at IS NULL OR expires_at > now())",
                {"c": collection, "i": doc_id},
            ).scalar()
        return dict(data) if data is not None else None

    def get_many(self, collection: str, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not doc_ids:
            return {}
        query = (
            "SELECT id, data FROM state_documents WHERE collection = :c AND id = ANY(:ids)"
            " AND (expires_at IS NULL OR expires_at > now())"
        )
        with db.connect() as conn:
            rows = conn.execute(query, {"c": collection, "ids": list(dict.fromkeys(doc_ids))})
            return {row.id: dict(row.data) for row in rows}

    def put(
        self, collection: str, doc_id: str, data: dict[str, Any], ttl_seconds: int | None = None
    ) -> None:
        with db.transaction() as conn:
            conn.execute(
                "INSERT INTO state_documents (collection, id, data, expires_at)"
                " VALUES (:c, :i, CAST(:d AS JSONB),"
                "  now() + make_interval(secs => CAST(:ttl AS DOUBLE PRECISION)))"
                " ON CONFLICT (collection, id) DO UPDATE SET data = EXCLUDED.data,"
                " updated_at = now(), expires_at = EXCLUDED.expires_at",
                {"c": collection, "i": doc_id, "d": json.dumps(data), "ttl": ttl_seconds},
            )

    def take(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with db.transaction() as conn:
            data = conn.execute(
                "DELETE FROM state_documents WHERE collection = :c AND id = :i"
                " RETURNING data, expires_at IS NULL OR expires_at > now() AS live",
                {"c": collection, "i": doc_id},
            ).first()
        return dict(data.data) if data is not None and data.live else None

    def hit(self, key: str, limit: int, window_seconds: int) -> Hit:
        with db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO rate_limits AS r (key, window_start, hits) VALUES (:k, now(), 1)"
                " ON CONFLICT (key) DO UPDATE SET"
                " window_start = CASE WHEN r.window_start <= now() - make_interval(secs => :w)"
                "  THEN now() ELSE r.window_start END,"
                " hits = CASE WHEN r.window_start <= now() - make_interval(secs => :w)"
                "  THEN 1 ELSE r.hits + 1 END"
                " RETURNING window_start, hits, now() AS now",
                {"k": key, "w": window_seconds},
            ).one()
        return Hit(row.hits <= limit, _retry_after(row.window_start, window_seconds, row.now))

    def peek(self, key: str, limit: int, window_seconds: int) -> Hit:
        with db.connect() as conn:
            row = conn.execute(
                "SELECT now() AS now, r.window_start, r.hits FROM (SELECT 1) AS one"
                " LEFT JOIN rate_limits AS r ON r.key = :k",
                {"k": key},
            ).one()
        return _peeked(row.window_start, row.hits or 0, limit, window_seconds, row.now)


HIT_ATTEMPTS = 10


class FirestoreState:
    def __init__(self) -> None:
        from google.cloud import firestore

        self._firestore = firestore
        self.client = firestore.Client(project=settings().google_cloud_project)

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        snapshot = self.client.collection(collection).document(doc_id).get()
        return self._live(snapshot.to_dict()) if snapshot.exists else None

    def get_many(self, collection: str, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        refs = [self.client.collection(collection).document(i) for i in dict.fromkeys(doc_ids)]
        found: dict[str, dict[str, Any]] = {}
        for snapshot in self.client.get_all(refs) if refs else ():
            live = self._live(snapshot.to_dict()) if snapshot.exists else None
            if live is not None:
                found[snapshot.id] = live
        return found

    @staticmethod
    def _live(stored: dict[str, Any] | None) -> dict[str, Any] | None:
        if stored is None:
            return None
        expires_at = stored.pop("_expires_at", None)
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None
        return stored

    def put(
        self, collection: str, doc_id: str, data: dict[str, Any], ttl_seconds: int | None = None
    ) -> None:
        document = dict(data)
        if ttl_seconds is not None:
            # A Firestore TTL policy on `_expires_at` deletes expired documents in production.
            document["_expires_at"] = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
        self.client.collection(collection).document(doc_id).set(document)

    def take(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        ref = self.client.collection(collection).document(doc_id)

        @self._firestore.transactional
        def take_in(transaction: Any) -> dict[str, Any] | None:
            snapshot = ref.get(transaction=transaction)
            if not snapshot.exists:
                return None
            transaction.delete(ref)
            return self._live(snapshot.to_dict())

        result: dict[str, Any] | None = take_in(self.client.transaction())
        return result

    def hit(self, key: str, limit: int, window_seconds: int) -> Hit:
        ref = self.client.collection("rate_limits").document(key)

        @self._firestore.transactional
        def hit_in(transaction: Any) -> Hit:
            now = datetime.now(UTC)
            snapshot = ref.get(transaction=transaction)
            stored = snapshot.to_dict() if snapshot.exists else None
            if stored is None or stored["window_start"] <= now - timedelta(seconds=window_seconds):
                stored = {"window_start": now, "hits": 0}
            stored["hits"] += 1
            transaction.set(
                ref,
                {
                    **stored,
                    "_expires_at": stored["window_start"] + timedelta(seconds=window_seconds),
                },
            )
            return Hit(
                stored["hits"] <= limit, _retry_after(stored["window_start"], window_seconds, now)
            )

        try:
            result: Hit = hit_in(self.client.transaction(max_attempts=HIT_ATTEMPTS))
        except ValueError as exc:
            # Firestore gives up when a burst on one key keeps the transaction contended:
            # that burst is exactly what a rate limit refuses.
            if not str(exc).startswith("Failed to commit transaction"):
                raise
            return Hit(False, 1)
        return result

    def peek(self, key: str, limit: int, window_seconds: int) -> Hit:
        snapshot = self.client.collection("rate_limits").document(key).get()
        stored = (snapshot.to_dict() if snapshot.exists else None) or {}
        return _peeked(
            stored.get("window_start"),
            int(stored.get("hits", 0)),
            limit,
            window_seconds,
            datetime.now(UTC),
        )


def build_backend() -> StateBackend:
    chosen = settings().state_backend
    if chosen not in ("postgres", "firestore"):
        raise ConfigError(f"STATE_BACKEND must be postgres or firestore, not {chosen!r}")
    return FirestoreState() if chosen == "firestore" else PostgresState()


backend = Lazy(build_backend)  # the instance's state backend
