"""Fault injection on the outbox: providers that fail during fulfilment, retries with backoff
through the `ops` function's drain, and the on-demand sheet append. The order is always paid,
the task always kept, and a later drain completes it exactly once.

The webhook hands its tasks to the local queue, whose worker performs them through their
consumer (the `ops` function's `tasks.perform`). Here the worker tries each message once
(`worker_tries_once`), so that what follows a failure is the drain's; the queue's own
redelivery, and the push route Pub/Sub calls, are tested at the end.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from common.effects import outbox, tasks
from common.infra import config, db
from common.providers import mail, queue, sheets
from tests.conftest import function_app
from tests.test_checkout import Pending, order_row, pending_order
from tests.test_webhook import (
    confirmations,
    event,
    outbox_tasks,
    send,
    session_object,
    sheet_rows,
)


class FlakySheet:
    """The local sheet, failing its first `failures` appends (and counting every call)."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.inner = sheets.CsvSheet(config.settings().data_dir / "orders-sheet.csv")
        self.failures = failures
        self.error = error or sheets.SheetError("Google Sheets: 503 backend unavailable")
        self.calls = 0
        self.lock = threading.Lock()

    def append_once(self, order_id: str, rows: Sequence[sheets.Row]) -> bool:
        with self.lock:
            self.calls += 1
            if self.failures:
                self.failures -= 1
                raise self.error
        return self.inner.append_once(order_id, rows)


class FlakyMailer:
    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.inner = mail.LocalMailer(config.settings().data_dir / "mail")
        self.failures = failures
        self.error = error or mail.MailError("SendGrid answered 500")
        self.sent: list[str] = []

    def send(self, message: mail.Message, dedupe_key: str) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.sent.append(dedupe_key)
        self.inner.send(message, dedupe_key)


@pytest.fixture(autouse=True)
def local_providers(
    database_url: str, monkeypatch: pytest.MonkeyPatch, worker_tries_once: None
) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


def ops_post(
    path: str, body: dict[str, Any], token: str | None = "configured", client: str | None = None
) -> Any:
    """POST to an ops route with the configured token (or `token`), from the address `client`
    (by default the test client's own, shared with other tests)."""
    headers = {}
    if token is not None:
        value = config.settings().ops_token if token == "configured" else token
        headers["Authorization"] = f"Bearer {value}"
    if client is not None:
        headers["X-Forwarded-For"] = client
    return function_app("ops").test_client().post(path, json=body, headers=headers)


FAILED_TOKENS, FAILED_TOKENS_WINDOW = 10, 600  # failed ops-token attempts per client, per 10 min


def new_client() -> str:
    """An address of its own, so failed attempts of other tests do not count for it."""
    return f"2001:db8:5::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def drain() -> dict[str, int]:
    response = ops_post("/api/ops/outbox/drain", {})
    assert response.status_code == 200, response.get_json()
    result: dict[str, int] = response.get_json()
    return result


def make_due(pool: db.Pool, order_id: str) -> None:
    """Let time pass: the order's rescheduled tasks are due now."""
    with pool.transaction() as conn:
        conn.execute(
            "UPDATE outbox SET next_attempt_at = now() - interval '1 second'"
            " WHERE payload->>'order_id' = :o AND done_at IS NULL",
            {"o": order_id},
        )


def seconds_until_retry(pool: db.Pool, key: str) -> float:
    with pool.connect() as conn:
        return float(
            conn.execute(
                "SELECT EXTRACT(EPOCH FROM next_attempt_at - now()) FROM outbox"
                " WHERE dedupe_key = :k",
                {"k": key},
            ).scalar_one()
        )


def test_a_failing_sheet_keeps_the_task_and_a_later_drain_appends_once(pool, monkeypatch) -> None:
    flaky = FlakySheet(failures=1)
    monkeypatch.setattr(sheets.sheet, "built", flaky)
    pending = pending_order(pool)
    response = send(event("checkout.session.completed", session_object(pending)))
    assert response.get_json()["outcome"] == "paid"
    assert order_row(pool, pending.order_id).status == "paid"
    assert confirmations(pending.order_id) == 1
    assert sheet_rows(pending.order_id) == []
    key = f"sheet_row:{pending.order_id}"
    task = outbox_tasks(pool, pending.order_id)[key]
    assert (task.attempts, task.done_at) == (1, None)
    assert task.last_error == "SheetError: Google Sheets: 503 backend unavailable"
    assert 25 < seconds_until_retry(pool, key) <= 30
    drain()
    assert (flaky.calls, sheet_rows(pending.order_id)) == (1, [])  # not due yet
    make_due(pool, pending.order_id)
    assert drain()["succeeded"] >= 1
    drain()
    assert flaky.calls == 2
    assert_done_once(pool, pending.order_id, {key: 2})


def assert_done_once(pool: db.Pool, order_id: str, attempts: dict[str, int]) -> None:
    """Paid, one sheet row, one confirmation, every task done; `attempts` of the retried ones."""
    assert order_row(pool, order_id).status == "paid"
    assert len(sheet_rows(order_id)) == 1
    assert confirmations(order_id) == 1
    tasks = outbox_tasks(pool, order_id)
    assert len(tasks) == 4  # sheet row, confirmation, ops notification, print files
    assert all(task.done_at is not None for task in tasks.values())
    assert {key: task.attempts for key, task in tasks.items()} == {
        key: attempts.get(key, 1) for key in tasks
    }


def test_a_failing_mailer_keeps_the_email_and_a_later_drain_sends_it_once(
    pool, monkeypatch
) -> None:
    flaky = FlakyMailer(failures=2)  # the confirmation and the ops notification both fail
    monkeypatch.setattr(mail.mailer, "built", flaky)
    pending = pending_order(pool)
    assert send(event("checkout.session.completed", session_object(pending))).status_code == 200
    assert order_row(pool, pending.order_id).status == "paid"
    assert len(sheet_rows(pending.order_id)) == 1
    assert confirmations(pending.order_id) == 0
    tasks = outbox_tasks(pool, pending.order_id)
    confirmation = f"order_confirmation_email:{pending.order_id}"
    assert tasks[confirmation].done_at is None
    assert tasks[confirmation].last_error == "MailError: SendGrid answered 500"
    make_due(pool, pending.order_id)
    drain()
    drain()
    assert flaky.sent.count(confirmation) == 1
    ops_key = f"ops_notification_email:paid:{pending.order_id}"
    assert_done_once(pool, pending.order_id, {confirmation: 2, ops_key: 2})


def test_repeated_failures_back_off_exponentially_and_record_the_last_error(
    pool, monkeypatch
) -> None:
    flaky = FlakySheet(failures=4)
    monkeypatch.setattr(sheets.sheet, "built", flaky)
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending)))
    key = f"sheet_row:{pending.order_id}"
    waits = [seconds_until_retry(pool, key)]
    for _ in range(3):
        make_due(pool, pending.order_id)
        drain()
        waits.append(seconds_until_retry(pool, key))
    for wait, expected in zip(waits, (30, 60, 120, 240), strict=True):
        assert expected - 5 < wait <= expected
    assert outbox_tasks(pool, pending.order_id)[key].attempts == 4
    make_due(pool, pending.order_id)
    drain()
    assert_done_once(pool, pending.order_id, {key: 5})


def test_a_task_that_keeps_failing_is_reported_stuck_and_still_retried(
    pool, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(sheets.sheet, "built", FlakySheet(failures=100))
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending)))
    key = f"sheet_row:{pending.order_id}"
    with pool.transaction() as conn:
        conn.execute(
            "UPDATE outbox SET attempts = :n WHERE dedupe_key = :k",
            {"n": outbox.STUCK_AFTER_ATTEMPTS - 1, "k": key},
        )
    make_due(pool, pending.order_id)
    capsys.readouterr()
    result = drain()
    assert result["stuck"] >= 1
    logged = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    stuck = [e for e in logged if e["message"] == "outbox task stuck, needs ops"]
    assert stuck and stuck[0]["severity"] == "ERROR" and stuck[0]["dedupe_key"] == key
    task = outbox_tasks(pool, pending.order_id)[key]
    assert task.attempts == outbox.STUCK_AFTER_ATTEMPTS
    assert seconds_until_retry(pool, key) > 0


def test_backoff_doubles_from_30_seconds_up_to_six_hours() -> None:
    assert [outbox.backoff_seconds(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert outbox.backoff_seconds(30) == 6 * 3600


def test_last_errors_are_short_and_hold_no_secrets(database_url: str) -> None:
    cfg = config.settings()
    error = RuntimeError(
        f"POST failed with Authorization: Bearer SG.abc.def token={cfg.ops_token} "
        f"key sk_live_{'x' * 24} hook whsec_abc123 google ya29.a0AfH6 " + "x" * 1000
    )
    described = outbox.describe_error(error)
    assert len(described) <= outbox.MAX_ERROR_CHARS
    for secret in ("SG.abc", cfg.ops_token or "", "sk_live_", "whsec_abc", "ya29."):
        assert secret not in described
    assert described.startswith("RuntimeError: POST failed with Authorization: [redacted]")


def test_a_crash_between_appending_and_marking_done_does_not_duplicate_rows(
    pool, monkeypatch
) -> None:
    class AppendsThenCrashes(FlakySheet):
        def append_once(self, order_id: str, rows: Sequence[sheets.Row]) -> bool:
            self.inner.append_once(order_id, rows)
            raise sheets.SheetError("the instance died before marking the task done")

    monkeypatch.setattr(sheets.sheet, "built", AppendsThenCrashes(failures=0))
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending)))
    assert len(sheet_rows(pending.order_id)) == 1
    monkeypatch.setattr(sheets.sheet, "built", None)
    make_due(pool, pending.order_id)
    drain()
    assert_done_once(pool, pending.order_id, {f"sheet_row:{pending.order_id}": 2})


def test_concurrent_drains_perform_each_task_once(pool, monkeypatch) -> None:
    flaky = FlakySheet(failures=3)
    monkeypatch.setattr(sheets.sheet, "built", flaky)
    orders = [pending_order(pool) for _ in range(3)]
    for pending in orders:
        send(event("checkout.session.completed", session_object(pending)))
    assert flaky.calls == 3
    for pending in orders:
        make_due(pool, pending.order_id)
    threads = [threading.Thread(target=drain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert flaky.calls == 6
    for pending in orders:
        assert_done_once(pool, pending.order_id, {f"sheet_row:{pending.order_id}": 2})


def test_a_paid_order_survives_every_provider_failing(pool, monkeypatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", FlakySheet(failures=1))
    monkeypatch.setattr(mail.mailer, "built", FlakyMailer(failures=2))
    pending = pending_order(pool)
    assert send(event("checkout.session.completed", session_object(pending))).status_code == 200
    assert order_row(pool, pending.order_id).status == "paid"
    print_files = f"print_files:{pending.order_id}"  # nothing to print, no provider: done
    failed = {k: t for k, t in outbox_tasks(pool, pending.order_id).items() if k != print_files}
    assert len(failed) == 3 and all(task.done_at is None for task in failed.values())
    make_due(pool, pending.order_id)
    drain()
    assert_done_once(pool, pending.order_id, {key: 2 for key in failed})


# The ops routes.


@pytest.mark.parametrize("token", [None, "", "not-the-token", "Basic abc"])
def test_ops_routes_need_the_bearer_token(database_url: str, token: str | None) -> None:
    client = new_client()
    for path, body in [("/api/ops/outbox/drain", {}), ("/api/sheets/append", {"order_id": "x"})]:
        response = ops_post(path, body, token=token, client=client)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_failed_token_attempts_are_limited_per_client(database_url: str) -> None:
    client = new_client()
    attempts = [
        ops_post("/api/ops/outbox/drain", {}, token=f"guess-{n}", client=client).status_code
        for n in range(FAILED_TOKENS)
    ]
    assert attempts == [401] * FAILED_TOKENS
    limited = ops_post("/api/ops/outbox/drain", {}, token="guess-again", client=client)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= FAILED_TOKENS_WINDOW
    # Refused before the token is compared: even the right one says nothing to this client.
    assert ops_post("/api/ops/outbox/drain", {}, client=client).status_code == 429
    assert ops_post("/api/sheets/append", {"order_id": "x"}, client=client).status_code == 429
    assert ops_post("/api/ops/outbox/drain", {}, client=new_client()).status_code == 200


def test_the_right_token_is_never_throttled(database_url: str) -> None:
    client = new_client()
    for _ in range(FAILED_TOKENS + 5):
        assert ops_post("/api/ops/outbox/drain", {}, client=client).status_code == 200
    for n in range(FAILED_TOKENS):  # the successes counted nothing
        assert (
            ops_post("/api/ops/outbox/drain", {}, token=f"g{n}", client=client).status_code == 401
        )


def test_calls_without_a_token_are_not_failed_attempts(database_url: str) -> None:
    client = new_client()
    for _ in range(FAILED_TOKENS + 2):
        assert ops_post("/api/ops/outbox/drain", {}, token=None, client=client).status_code == 401
    assert ops_post("/api/ops/outbox/drain", {}, client=client).status_code == 200


def test_print_files_count_failed_tokens_too(database_url: str) -> None:
    client = new_client()
    ops = function_app("ops").test_client()
    path = "/api/ops/print-files/ord_x-1-front.png"
    for n in range(FAILED_TOKENS):
        wrong = {"Authorization": f"Bearer g{n}", "X-Forwarded-For": client}
        assert ops.get(path, headers=wrong).status_code == 403
    right = {"Authorization": f"Bearer {config.settings().ops_token}", "X-Forwarded-For": client}
    assert ops.get(path, headers=right).status_code == 429
    assert ops_post("/api/ops/outbox/drain", {}, client=client).status_code == 429


def test_ops_routes_are_off_without_an_ops_token(database_url: str, monkeypatch) -> None:
    real = config.settings()
    monkeypatch.setattr(config, "settings", lambda: dataclasses.replace(real, ops_token=None))
    response = ops_post("/api/ops/outbox/drain", {}, token="anything")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "ops_disabled"


def test_sheet_append_on_demand_is_idempotent_and_completes_the_task(pool, monkeypatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", FlakySheet(failures=1))
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending)))
    assert sheet_rows(pending.order_id) == []
    first = ops_post("/api/sheets/append", {"order_id": pending.order_id})
    assert first.status_code == 200
    assert first.get_json() == {"order_id": pending.order_id, "appended": True, "rows": 1}
    again = ops_post("/api/sheets/append", {"order_id": pending.order_id})
    assert again.get_json() == {"order_id": pending.order_id, "appended": False, "rows": 1}
    assert len(sheet_rows(pending.order_id)) == 1
    assert outbox_tasks(pool, pending.order_id)[f"sheet_row:{pending.order_id}"].done_at
    make_due(pool, pending.order_id)
    drain()
    assert len(sheet_rows(pending.order_id)) == 1


def test_sheet_append_refuses_unknown_and_unpaid_orders(pool, monkeypatch) -> None:
    assert ops_post("/api/sheets/append", {"order_id": "ord_" + "q" * 24}).status_code == 404
    assert ops_post("/api/sheets/append", {"order_id": "1"}).status_code == 404
    pending = pending_order(pool)
    response = ops_post("/api/sheets/append", {"order_id": pending.order_id})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "order_not_paid"
    send(event("checkout.session.completed", session_object(pending)))
    monkeypatch.setattr(sheets.sheet, "built", FlakySheet(failures=1))
    unavailable = ops_post("/api/sheets/append", {"order_id": pending.order_id})
    assert unavailable.status_code == 503
    assert unavailable.get_json()["error"]["code"] == "sheet_unavailable"


def test_every_task_kind_has_one_handler() -> None:
    from common.effects import tasks

    assert sorted(tasks.HANDLERS) == sorted(outbox.KINDS)


# The queue: the webhook hands its tasks over after its commit; their consumer performs them.


def test_failed_effects_are_delivered_again_by_the_queue_and_done_once(pool, monkeypatch) -> None:
    monkeypatch.setattr(queue.broker, "built", queue.LocalBroker(backoff_seconds=0.05))
    flaky_sheet, flaky_mailer = FlakySheet(failures=2), FlakyMailer(failures=1)
    monkeypatch.setattr(sheets.sheet, "built", flaky_sheet)
    monkeypatch.setattr(mail.mailer, "built", flaky_mailer)
    pending = pending_order(pool)
    response = send(event("checkout.session.completed", session_object(pending)))
    assert (response.status_code, response.get_json()["outcome"]) == (200, "paid")
    # The message came three times: the sheet failed twice, the first email once.
    sheet_key = f"sheet_row:{pending.order_id}"
    confirmation = f"order_confirmation_email:{pending.order_id}"
    assert flaky_sheet.calls == 3
    ops_key = f"ops_notification_email:paid:{pending.order_id}"
    assert sorted(flaky_mailer.sent) == sorted([confirmation, ops_key])  # each once
    assert drain()["attempted"] == 0  # nothing was left for the safety net
    assert_done_once(pool, pending.order_id, {sheet_key: 3, confirmation: 2})


def test_a_queue_that_refuses_the_tasks_leaves_them_for_the_drain(
    pool, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(queue.broker, "built", queue.LocalBroker(capacity=0))  # always full
    pending = pending_order(pool)
    capsys.readouterr()
    response = send(event("checkout.session.completed", session_object(pending)))
    assert (response.status_code, response.get_json()["outcome"]) == (200, "paid")
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [refused] = [e for e in logged if e["message"].startswith("outbox tasks not queued")]
    assert refused["severity"] == "WARNING" and len(refused["outbox_ids"]) == 4
    assert sheet_rows(pending.order_id) == [] and confirmations(pending.order_id) == 0
    assert all(task.attempts == 0 for task in outbox_tasks(pool, pending.order_id).values())
    assert drain()["succeeded"] >= 4
    assert_done_once(pool, pending.order_id, {})


def push(message: Any) -> Any:
    """Pub/Sub's push of `message` to the ops function's outbox route, as the emulator sends
    it (locally no push token is configured, so none is needed)."""
    data = base64.b64encode(json.dumps(message).encode()).decode()
    body = {"message": {"data": data, "messageId": "1"}, "subscription": "projects/p/s/x"}
    return (
        function_app("ops")
        .test_client()
        .post(queue.push_path(outbox.TOPIC), json=body, content_type="application/json")
    )


def committed_tasks(pool: db.Pool) -> tuple[Pending, list[int]]:
    """A paid order whose tasks the queue never got: their ids, as the message names them."""
    queue_down = queue.LocalBroker(capacity=0)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(queue.broker, "built", queue_down)
        pending = pending_order(pool)
        send(event("checkout.session.completed", session_object(pending)))
    with pool.connect() as conn:
        ids = conn.execute(
            "SELECT id FROM outbox WHERE payload->>'order_id' = :o ORDER BY id",
            {"o": pending.order_id},
        ).scalars()
        return pending, [int(task_id) for task_id in ids]


def test_the_push_route_performs_the_tasks_and_a_redelivery_does_nothing(pool, monkeypatch) -> None:
    pending, task_ids = committed_tasks(pool)
    flaky = FlakySheet(failures=0)
    monkeypatch.setattr(sheets.sheet, "built", flaky)
    first = push({"tasks": task_ids})
    assert (first.status_code, first.data) == (204, b"")
    again = push({"tasks": task_ids})
    assert again.status_code == 204
    assert flaky.calls == 1
    assert_done_once(pool, pending.order_id, {})


def test_a_failed_effect_answers_503_so_pubsub_delivers_it_again(pool, monkeypatch) -> None:
    pending, task_ids = committed_tasks(pool)
    monkeypatch.setattr(mail.mailer, "built", FlakyMailer(failures=1))
    failed = push({"tasks": task_ids})
    assert failed.status_code == 503
    assert failed.get_json()["error"]["code"] == "outbox_tasks_failed"
    assert len(sheet_rows(pending.order_id)) == 1  # the others are done, and stay done
    assert push({"tasks": task_ids}).status_code == 204
    confirmation = f"order_confirmation_email:{pending.order_id}"
    assert_done_once(pool, pending.order_id, {confirmation: 2})


@pytest.mark.parametrize(
    "message",
    [{}, {"tasks": []}, {"tasks": ["1"]}, {"tasks": [0]}, {"tasks": [1], "x": 1}, {"tasks": 7}],
)
def test_a_message_that_is_not_ours_is_acknowledged_and_logged(message, database_url, capsys):
    capsys.readouterr()
    assert push(message).status_code == 204  # delivering it again would not change it
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["severity"] for e in logged if e["message"] == "outbox message malformed"] == [
        "ERROR"
    ]


def test_a_push_that_is_not_a_pubsub_envelope_is_a_400(database_url: str) -> None:
    client = function_app("ops").test_client()
    answer = client.post(queue.push_path(outbox.TOPIC), data=b"{}", content_type="text/plain")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_push"


def test_a_drain_claims_no_task_after_its_window(pool) -> None:
    key = f"contact_email:window-{secrets.token_hex(6)}"
    with pool.transaction() as conn:
        assert outbox.enqueue(conn, outbox.NewTask("contact_email", key, {"message_id": 0}))
    ended = outbox.drain(tasks.HANDLERS, window_seconds=0)
    assert ended.attempted == 0 and ended.due >= 1
    with pool.connect() as conn:
        attempts = conn.execute(
            "SELECT attempts FROM outbox WHERE dedupe_key = :k", {"k": key}
        ).scalar_one()
    assert attempts == 0, "left untouched for the next drain"
    assert outbox.DRAIN_WINDOW_SECONDS + 3 * config.SHEETS.budget_seconds < 300
