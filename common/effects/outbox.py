"""The outbox: side effects (sheet rows, emails) enqueued in the transaction that causes them,
then performed, retried with backoff until done, and never performed twice.

`enqueue` runs inside the caller's transaction, so a paid order and its sheet row and emails
are committed together or not at all. Once that transaction has committed, the route hands the
new tasks' ids to the queue (`publish`, on TOPIC) and answers; the queue's consumer performs
them (`attempt`, from `common.effects.tasks.perform`): the `ops` function's push route in
production, the in-process worker locally. `drain` (from `POST /api/ops/outbox/drain`, e.g.
Cloud Scheduler) performs every task that is due, so a task whose message never arrived is
done anyway. A task is performed while its row is locked (`FOR UPDATE SKIP LOCKED`), so two
workers never perform the same task at once; each provider is itself idempotent (the sheet
looks for the order's rows first, a local mail file is named by the dedupe key), so a crash
between "performed" and "marked done" does not repeat the effect either.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.infra import db, log
from common.infra.config import settings
from common.providers import queue

if TYPE_CHECKING:
    from common.infra.db import Connection

KINDS = (
    "sheet_row",
    "order_confirmation_email",
    "ops_notification_email",
    "contact_email",
    "shipped_email",
    "print_files",
)
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 6 * 3600
MAX_ERROR_CHARS = 500
# After this many failed tries (about two hours of backoff) a task is "stuck": it is still
# retried, and an ERROR log line (for a Cloud Logging alert) and the drain's answer say so.
STUCK_AFTER_ATTEMPTS = 8
DEFAULT_DRAIN_LIMIT = 50
TOPIC = "outbox"  # the queue topic that carries committed task ids to their consumer
# A drain claims no task after this long, so that it ends within the ops function's timeout
# (docs/deploy.md, time budgets); what is left is due for the next drain.
DRAIN_WINDOW_SECONDS = 240.0

# Credentials that can appear in a vendor's error text, beyond the configured secrets.
_SECRET_PATTERNS = (
    re.compile(r"(?i)bearer\s+[^\s\"',]+"),
    re.compile(r"\bSG\.[\w.-]+"),
    re.compile(r"\b[sr]k_(?:live|test)_\w+"),
    re.compile(r"\bwhsec_\w+"),
    re.compile(r"\bya29\.[\w.-]+"),
)


@dataclass(frozen=True)
class Task:
    id: int
    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Result:
    task: Task
    ok: bool
    error: str | None = None


Handler = Callable[["Connection", Task], None]


@dataclass(frozen=True)
class NewTask:
    """A task to enqueue: its kind (one of KINDS), the key that makes it once, its payload."""

    kind: str
    dedupe_key: str
    payload: dict[str, Any]


# The tasks go as one JSON array: pg8000 escapes a text array character by character (most of a
# paid webhook's time in Python), a JSON document is encoded once.
ENQUEUE = (
    "INSERT INTO outbox (kind, dedupe_key, payload)"
    " SELECT kind, dedupe_key, payload FROM jsonb_to_recordset(CAST(:tasks AS JSONB))"
    " AS t(kind TEXT, dedupe_key TEXT, payload JSONB)"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)


def enqueue(conn: Connection, *tasks: NewTask) -> list[int]:
    """Add the tasks in the caller's transaction, in one statement; the ids of those added (a
    task whose key exists already is not added again)."""
    for task in tasks:
        if task.kind not in KINDS:
            raise ValueError(f"unknown outbox kind {task.kind!r}")
    if not tasks:
        return []
    rows = [
        {"kind": task.kind, "dedupe_key": task.dedupe_key, "payload": task.payload}
        for task in tasks
    ]
    added = conn.execute(ENQUEUE, {"tasks": json.dumps(rows)}).scalars()
    return sorted(int(task_id) for task_id in added)


def publish(task_ids: Sequence[int]) -> None:
    """Hand tasks whose transaction has committed to the queue, for its consumer to perform.

    Never raises for the queue: when it cannot take them (down, full, slower than its
    timeout) the tasks stay in the outbox for the drain, and the caller still answers.
    """
    if not task_ids:
        return
    try:
        queue.broker().publish(TOPIC, {"tasks": list(task_ids)})
    except queue.QueueUnavailable:
        log.warning("outbox tasks not queued; the drain will perform them", outbox_ids=task_ids)


def backoff_seconds(attempts: int) -> int:
    """The wait before the next try after `attempts` failed tries: 30 s, 60 s, 120 s ... 6 h."""
    return min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempts - 1))


def describe_error(exc: BaseException) -> str:
    """The error as stored in `last_error`: short, and without secrets."""
    message = f"{type(exc).__name__}: {exc}"
    cfg = settings()
    for secret in (
        cfg.stripe_secret_key,
        cfg.stripe_webhook_secret,
        cfg.sendgrid_api_key,
        cfg.ops_token,
        cfg.session_secret,
    ):
        if secret:
            message = message.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        message = pattern.sub("[redacted]", message)
    message = " ".join(message.split())
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 1] + "…"


CLAIM_ONE = (
    "SELECT id, kind, dedupe_key, payload, attempts FROM outbox"
    " WHERE id = :id AND done_at IS NULL AND kind = ANY(CAST(:kinds AS TEXT[]))"
    " FOR UPDATE SKIP LOCKED"
)
CLAIM_DUE = (
    "SELECT id, kind, dedupe_key, payload, attempts FROM outbox"
    " WHERE done_at IS NULL AND next_attempt_at <= now()"
    " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)


def _perform_claimed(
    sql: str, params: dict[str, Any], handlers: Mapping[str, Handler]
) -> Result | None:
    """Claim one task with `sql`, perform it while it stays locked, and record the outcome."""
    with db.transaction() as conn:
        row = conn.execute(sql, params).first()
        if row is None:
            return None
        task = Task(int(row.id), row.kind, row.dedupe_key, dict(row.payload), int(row.attempts))
        try:
            with conn.savepoint():
                handlers[task.kind](conn, task)
        # Any failure of a vendor or of the data must leave the task for a later try, recorded;
        # the savepoint keeps the transaction usable to record it.
        except Exception as exc:
            error = describe_error(exc)
            delay = backoff_seconds(task.attempts + 1)
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = :error,"
                " next_attempt_at = now() + make_interval(secs => :delay) WHERE id = :id",
                {"id": task.id, "error": error, "delay": delay},
            )
            stuck = task.attempts + 1 >= STUCK_AFTER_ATTEMPTS
            log.log(
                "ERROR" if stuck else "WARNING",
                "outbox task stuck, needs ops" if stuck else "outbox task failed, will retry",
                outbox_id=task.id,
                kind=task.kind,
                dedupe_key=task.dedupe_key,
                attempts=task.attempts + 1,
                retry_in_seconds=delay,
                error=error,
            )
            return Result(task, ok=False, error=error)
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, done_at = now() WHERE id = :id",
            {"id": task.id},
        )
    log.info("outbox task done", outbox_id=task.id, kind=task.kind)
    return Result(task, ok=True)


def attempt(task_ids: Sequence[int], handlers: Mapping[str, Handler]) -> list[Result]:
    """Perform these tasks now, whether due or not (the queue delivered them), with
    `handlers`. A task of another kind is left for the drain, as is one another worker holds;
    one already done is skipped, so a message delivered again does nothing.
    """
    results = []
    for task_id in task_ids:
        result = _perform_claimed(CLAIM_ONE, {"id": task_id, "kinds": list(handlers)}, handlers)
        if result is not None:
            results.append(result)
    return results


@dataclass(frozen=True)
class Drained:
    """What a drain did (`common.api.ops.DrainOut` is its JSON)."""

    attempted: int
    succeeded: int
    failed: int
    due: int  # tasks still due after this drain
    stuck: int  # tasks not done after STUCK_AFTER_ATTEMPTS tries


def drain(
    handlers: Mapping[str, Handler],
    limit: int = DEFAULT_DRAIN_LIMIT,
    window_seconds: float = DRAIN_WINDOW_SECONDS,
) -> Drained:
    """Perform up to `limit` due tasks, oldest first, claiming none after `window_seconds`;
    each failure is rescheduled with backoff."""
    results: list[Result] = []
    ends = time.monotonic() + window_seconds
    while len(results) < limit and time.monotonic() < ends:
        # A performed task is done or rescheduled into the future: the next claim is another.
        result = _perform_claimed(CLAIM_DUE, {}, handlers)
        if result is None:
            break
        results.append(result)
    with db.connect() as conn:
        due, stuck = conn.execute(
            "SELECT count(*) FILTER (WHERE next_attempt_at <= now()),"
            " count(*) FILTER (WHERE attempts >= :stuck)"
            " FROM outbox WHERE done_at IS NULL",
            {"stuck": STUCK_AFTER_ATTEMPTS},
        ).one()
    succeeded = sum(1 for r in results if r.ok)
    return Drained(
        attempted=len(results),
        succeeded=succeeded,
        failed=len(results) - succeeded,
        due=int(due),
        stuck=int(stuck),
    )
