"""The webhook's side effects on the production path: the real Pub/Sub SDK publishing to
Google's emulator, which pushes to the `ops` function served on a loopback port, which performs
them. Skipped where the Cloud SDK's emulator (and Java) is not installed.
"""

from __future__ import annotations

import time

import pytest

from common.effects import outbox
from common.infra import db
from common.providers import mail, queue, sheets
from tests.conftest import function_app
from tests.test_checkout import pending_order
from tests.test_outbox import FlakySheet, assert_done_once
from tests.test_queue import pubsub, pubsub_emulator, push_subscription, serve  # noqa: F401
from tests.test_webhook import deliver, event, outbox_tasks, session_object, signed

PUSH_SECONDS = 60


def wait_until_done(pool: db.Pool, order_id: str) -> None:
    deadline = time.monotonic() + PUSH_SECONDS
    while time.monotonic() < deadline:
        tasks = outbox_tasks(pool, order_id).values()
        if tasks and all(task.done_at is not None for task in tasks):
            return
        time.sleep(0.2)
    pytest.fail(f"the order's outbox tasks were not done within {PUSH_SECONDS} s")


def test_a_paid_event_reaches_ops_through_pubsub_and_a_failed_effect_comes_again(
    pool: db.Pool,
    pubsub: queue.PubSubBroker,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queue.broker, "built", pubsub)  # the webhook publishes to the emulator
    flaky = FlakySheet(failures=1)
    monkeypatch.setattr(sheets.sheet, "built", flaky)
    monkeypatch.setattr(mail.mailer, "built", None)
    with serve(function_app("ops")) as port:
        endpoint = f"http://127.0.0.1:{port}{queue.push_path(outbox.TOPIC)}"
        push_subscription(pubsub, outbox.TOPIC, endpoint)
        pending = pending_order(pool)
        response = deliver(*signed(event("checkout.session.completed", session_object(pending))))
        assert response.status_code == 200
        assert response.get_json()["outcome"] == "paid"
        wait_until_done(pool, pending.order_id)
    # The first push answered 503 (the sheet failed) and Pub/Sub pushed the message again.
    assert flaky.calls == 2
    assert_done_once(pool, pending.order_id, {f"sheet_row:{pending.order_id}": 2})
