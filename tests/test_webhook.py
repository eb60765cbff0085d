"""The Stripe webhook through the `stripe_webhook` function, against real Postgres, with
deliveries signed by the stripe SDK's own signature helper.

Every test ends by checking the whole outcome: the order's state, one `stripe_events` row per
event, and (where the order was paid) exactly one sheet row and one confirmation email, from
the local sheet and mail providers. The webhook answers before those side effects happen: the
local queue's worker performs them through their consumer, the `ops` function, and the tests
wait for it (`effects_performed`).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import stripe

from common.effects import outbox, tasks
from common.infra import config, db
from common.providers import mail, queue, sheets
from common.shop import fulfilment, order_store
from tests.conftest import function_app
from tests.test_checkout import Pending, checkout, order_row, pending_order

WEBHOOK = "/api/webhooks/stripe"


def session_object(
    pending: Pending, *, payment_status: str = "paid", **changes: Any
) -> dict[str, Any]:
    """The `checkout.session` object Stripe sends for this order's session."""
    return {
        "id": pending.session_id,
        "object": "checkout.session",
        "amount_subtotal": pending.amount_cents,
        "amount_total": pending.amount_cents,
        "currency": pending.currency,
        "client_reference_id": pending.order_id,
        "customer_details": {"email": pending.shopper.email, "name": "Ada Shopper"},
        "customer_email": pending.shopper.email,
        "collected_information": {
            "shipping_details": {
                "name": "Ada Shopper",
                "address": {"line1": "1 Main St", "city": "Austin", "country": "US"},
            }
        },
        "metadata": {"order_id": pending.order_id},
        "mode": "payment",
        "payment_intent": "pi_" + pending.session_id[-12:],
        "payment_status": payment_status,
        "status": "complete" if payment_status == "paid" else "open",
        **changes,
    }


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "type": event_type,
    }


def signed(
    body: dict[str, Any] | str, *, secret: str | None = None, timestamp: int | None = None
) -> tuple[str, str]:
    """The payload and its `Stripe-Signature`, made by the stripe SDK."""
    payload = body if isinstance(body, str) else json.dumps(body)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, secret or config.settings().stripe_webhook_secret, timestamp=timestamp
    )
    return payload, header


def deliver(payload: str, signature: str | None) -> Any:
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    return (
        function_app("stripe_webhook")
        .test_client()
        .post(WEBHOOK, data=payload, headers=headers, content_type="application/json")
    )


def effects_performed() -> None:
    """Wait until the local queue's worker has performed every side effect handed to it; its
    consumer, the `ops` function, is loaded first, so that it is subscribed."""
    function_app("ops")
    broker = queue.broker()
    assert isinstance(broker, queue.LocalBroker)
    assert broker.wait_idle(30), "the queue's worker was still busy after 30 s"


def send(body: dict[str, Any]) -> Any:
    """Deliver the event, signed, and wait for the side effects it handed to the queue."""
    response = deliver(*signed(body))
    effects_performed()
    return response


def events_recorded(pool: db.Pool, event_id: str) -> int:
    with pool.connect() as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM stripe_events WHERE event_id = :e", {"e": event_id}
            ).scalar_one()
        )


def sheet_rows(order_id: str) -> list[list[str]]:
    rows = sheets.CsvSheet(config.settings().data_dir / "orders-sheet.csv").rows()
    return [row for row in rows if row[0] == order_id]


def mail_file(dedupe_key: str) -> Path:
    return config.settings().data_dir / "mail" / mail.eml_name(dedupe_key)


def confirmations(order_id: str) -> int:
    return int(mail_file(f"order_confirmation_email:{order_id}").is_file())


def outbox_tasks(pool: db.Pool, order_id: str) -> dict[str, Any]:
    with pool.connect() as conn:
        rows = conn.execute(
            "SELECT dedupe_key, attempts, done_at, last_error FROM outbox"
            " WHERE payload->>'order_id' = :o",
            {"o": order_id},
        )
        return {row.dedupe_key: row for row in rows}


def assert_paid_once(pool: db.Pool, pending: Pending) -> None:
    effects_performed()
    row = order_row(pool, pending.order_id)
    assert row.status == "paid" and row.paid_at is not None
    assert row.stripe_payment_intent_id == "pi_" + pending.session_id[-12:]
    assert len(sheet_rows(pending.order_id)) == 1
    assert confirmations(pending.order_id) == 1
    tasks = outbox_tasks(pool, pending.order_id)
    assert set(tasks) == {
        f"sheet_row:{pending.order_id}",
        f"order_confirmation_email:{pending.order_id}",
        f"ops_notification_email:paid:{pending.order_id}",
        f"print_files:{pending.order_id}",  # nothing to print: done at once
    }
    assert all(task.done_at is not None and task.attempts == 1 for task in tasks.values())


@pytest.fixture(autouse=True)
def local_providers(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


def test_a_paid_checkout_marks_the_order_paid_with_one_row_and_one_email(pool) -> None:
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending))
    response = send(completed)
    assert response.status_code == 200
    assert response.get_json() == {"received": True, "duplicate": False, "outcome": "paid"}
    assert events_recorded(pool, completed["id"]) == 1
    assert_paid_once(pool, pending)
    ops_alert = mail_file(f"ops_notification_email:paid:{pending.order_id}")
    assert "1 Main St, Austin, US" in ops_alert.read_text()


def test_the_webhook_answers_before_the_sheet_and_emails_which_then_happen_once(
    pool, monkeypatch
) -> None:
    release = threading.Event()

    class HeldSheet(sheets.CsvSheet):
        def append_once(self, order_id: str, rows: Any) -> bool:
            assert release.wait(30)
            return super().append_once(order_id, rows)

    class HeldMailer(mail.LocalMailer):
        def send(self, message: mail.Message, dedupe_key: str) -> None:
            assert release.wait(30)
            super().send(message, dedupe_key)

    data = config.settings().data_dir
    monkeypatch.setattr(sheets.sheet, "built", HeldSheet(data / "orders-sheet.csv"))
    monkeypatch.setattr(mail.mailer, "built", HeldMailer(data / "mail"))
    function_app("ops")  # the consumer is subscribed: the worker starts on the tasks at once
    pending = pending_order(pool)
    # Answered while the sheet and the mailer cannot finish anything.
    response = deliver(*signed(event("checkout.session.completed", session_object(pending))))
    assert response.status_code == 200
    assert response.get_json() == {"received": True, "duplicate": False, "outcome": "paid"}
    assert order_row(pool, pending.order_id).status == "paid"
    assert sheet_rows(pending.order_id) == [] and confirmations(pending.order_id) == 0
    release.set()
    assert_paid_once(pool, pending)


def test_the_same_event_delivered_five_times_pays_once(pool) -> None:
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending))
    answers = [send(completed) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.get_json()["duplicate"] for a in answers] == [False] + [True] * 4
    assert events_recorded(pool, completed["id"]) == 1
    assert_paid_once(pool, pending)


def test_ten_concurrent_deliveries_of_one_event_pay_once(pool) -> None:
    pending = pending_order(pool)
    payload, signature = signed(event("checkout.session.completed", session_object(pending)))
    answers: list[Any] = []
    start = threading.Barrier(10)

    def post() -> None:
        start.wait()
        response = deliver(payload, signature)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * 10
    assert sorted(body["outcome"] for _, body in answers) == ["duplicate"] * 9 + ["paid"]
    assert events_recorded(pool, json.loads(payload)["id"]) == 1
    assert_paid_once(pool, pending)


def test_completed_and_async_succeeded_concurrently_pay_once(pool) -> None:
    """Several events paying one session, concurrently, then its expiry: paid once."""
    pending = pending_order(pool)
    kinds = ["checkout.session.completed", "checkout.session.async_payment_succeeded"] * 5
    bodies = [event(kind, session_object(pending)) for kind in kinds]
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda b=b: answers.append(send(b).status_code)) for b in bodies
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * len(bodies)
    assert send(event("checkout.session.expired", session_object(pending))).status_code == 200
    assert_paid_once(pool, pending)


def test_expired_after_completed_changes_nothing(pool) -> None:
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending)))
    expired = event(
        "checkout.session.expired",
        session_object(pending, payment_status="unpaid", status="expired"),
    )
    response = send(expired)
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "ignored"
    assert events_recorded(pool, expired["id"]) == 1
    assert_paid_once(pool, pending)


def test_expired_returns_the_order_to_an_editable_draft_with_a_new_session(pool) -> None:
    pending = pending_order(pool)
    before = order_row(pool, pending.order_id)
    expired = event(
        "checkout.session.expired",
        session_object(pending, payment_status="unpaid", status="expired"),
    )
    assert send(expired).get_json()["outcome"] == "back_to_draft"
    row = order_row(pool, pending.order_id)
    assert (row.status, row.version, row.checkout_url) == ("draft", before.version + 1, None)
    assert sheet_rows(pending.order_id) == [] and confirmations(pending.order_id) == 0
    again = checkout(pending.shopper, pending.order_id)
    assert again.status_code == 200
    assert again.get_json()["session_id"] != pending.session_id
    # A late "completed" of the expired session does not pay the order: ops look at it.
    late = send(event("checkout.session.completed", session_object(pending)))
    assert late.get_json()["outcome"] == "flagged"
    assert order_row(pool, pending.order_id).status == "pending_payment"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount_total": 1}, "paid 1 usd"),
        ({"currency": "eur"}, "eur"),
        ({"id": "cs_test_someone_else"}, "is not the order's current session"),
    ],
)
def test_a_paid_session_that_does_not_match_the_order_is_flagged_not_paid(
    pool, changes: dict[str, Any], reason: str
) -> None:
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending, **changes))
    response = send(completed)
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "flagged"
    row = order_row(pool, pending.order_id)
    assert row.status == "pending_payment" and row.paid_at is None
    assert reason in row.flagged_reason
    assert events_recorded(pool, completed["id"]) == 1
    assert sheet_rows(pending.order_id) == [] and confirmations(pending.order_id) == 0
    [alert] = [
        key for key in outbox_tasks(pool, pending.order_id) if key.startswith("ops_notification")
    ]
    assert "flagged" in alert
    assert "ACTION NEEDED" in mail_file(alert).read_text()


def test_a_completed_but_unpaid_session_waits_for_the_async_payment(pool) -> None:
    pending = pending_order(pool)
    unpaid = send(
        event("checkout.session.completed", session_object(pending, payment_status="unpaid"))
    )
    assert unpaid.get_json()["outcome"] == "awaiting_payment"
    assert order_row(pool, pending.order_id).status == "pending_payment"
    succeeded = send(event("checkout.session.async_payment_succeeded", session_object(pending)))
    assert succeeded.get_json()["outcome"] == "paid"
    assert_paid_once(pool, pending)


def test_a_failed_async_payment_returns_the_order_to_draft(pool) -> None:
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending, payment_status="unpaid")))
    failed = send(
        event(
            "checkout.session.async_payment_failed",
            session_object(pending, payment_status="unpaid"),
        )
    )
    assert failed.get_json()["outcome"] == "payment_failed"
    assert order_row(pool, pending.order_id).status == "draft"
    assert sheet_rows(pending.order_id) == [] and confirmations(pending.order_id) == 0


def test_a_full_refund_marks_the_order_refunded_and_tells_ops(pool) -> None:
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending)))
    charge = {
        "id": "ch_" + secrets.token_hex(8),
        "object": "charge",
        "amount": pending.amount_cents,
        "amount_refunded": pending.amount_cents,
        "currency": "usd",
        "payment_intent": "pi_" + pending.session_id[-12:],
        "refunded": True,
        "metadata": {},
    }
    refunded = event("charge.refunded", charge)
    assert send(refunded).get_json()["outcome"] == "refunded"
    assert send(refunded).get_json()["duplicate"] is True
    assert order_row(pool, pending.order_id).status == "refunded"
    assert len(sheet_rows(pending.order_id)) == 1
    alert = mail_file(f"ops_notification_email:refunded:{charge['id']}:{pending.amount_cents}")
    assert f"Order {pending.order_id} was refunded" in alert.read_text()


def test_a_tampered_body_is_refused_and_changes_nothing(pool) -> None:
    pending = pending_order(pool)
    payload, signature = signed(event("checkout.session.completed", session_object(pending)))
    tampered = payload.replace(f'"amount_total": {pending.amount_cents}', '"amount_total": 1')
    assert tampered != payload
    response = deliver(tampered, signature)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert events_recorded(pool, json.loads(payload)["id"]) == 0
    assert order_row(pool, pending.order_id).status == "pending_payment"


def test_a_stale_signature_is_refused_and_changes_nothing(pool) -> None:
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending))
    response = deliver(*signed(completed, timestamp=int(time.time()) - 301))
    assert response.status_code == 400
    assert events_recorded(pool, completed["id"]) == 0
    assert order_row(pool, pending.order_id).status == "pending_payment"
    assert deliver(*signed(completed, timestamp=int(time.time()) - 290)).status_code == 200


@pytest.mark.parametrize(
    "signature",
    [None, "", "garbage", "t=notanumber,v1=abc", "t=123", "v1=abc", "WRONG_SECRET"],
)
def test_missing_malformed_or_wrong_signatures_are_refused(pool, signature) -> None:
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending))
    payload, _ = signed(completed)
    if signature == "WRONG_SECRET":
        signature = signed(completed, secret="whsec_not_ours")[1]
    response = deliver(payload, signature)
    assert response.status_code == 400
    assert events_recorded(pool, completed["id"]) == 0
    assert order_row(pool, pending.order_id).status == "pending_payment"


def test_an_unknown_event_type_is_acknowledged_recorded_and_ignored(pool) -> None:
    unknown = event("customer.created", {"id": "cus_123", "object": "customer"})
    response = send(unknown)
    assert response.status_code == 200
    assert response.get_json() == {"received": True, "duplicate": False, "outcome": "ignored"}
    assert events_recorded(pool, unknown["id"]) == 1
    assert send(unknown).get_json()["duplicate"] is True


def test_an_event_for_an_unknown_order_is_acknowledged(pool) -> None:
    pending = pending_order(pool)
    stranger = session_object(
        pending, metadata={"order_id": "ord_" + "z" * 24}, client_reference_id=None
    )
    response = send(event("checkout.session.completed", stranger))
    assert response.get_json()["outcome"] == "order_not_found"
    assert order_row(pool, pending.order_id).status == "pending_payment"


def test_database_down_is_a_503_so_stripe_retries(pool, monkeypatch) -> None:
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending))
    payload, signature = signed(completed)
    down = db.url_pool("postgresql://postgres@127.0.0.1:9/none")
    with monkeypatch.context() as patched:
        patched.setattr(db.pool, "built", down)
        response = deliver(payload, signature)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert events_recorded(pool, completed["id"]) == 0
    retried = deliver(payload, signature)  # Stripe's retry, once the database is back
    assert retried.get_json()["outcome"] == "paid"
    assert_paid_once(pool, pending)


def test_a_failure_inside_the_event_transaction_records_nothing(pool, monkeypatch) -> None:
    """The event id is recorded in the transaction that applies it: a failed apply is retried."""
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending))

    def broken(*args: Any) -> None:
        raise RuntimeError("the disk is on fire")

    with monkeypatch.context() as patched:
        patched.setattr(order_store, "transition", broken)
        assert send(completed).status_code == 500
    assert events_recorded(pool, completed["id"]) == 0
    assert outbox_tasks(pool, pending.order_id) == {}
    assert send(completed).get_json()["outcome"] == "paid"
    assert_paid_once(pool, pending)


def test_fulfil_without_a_webhook_is_idempotent(pool) -> None:
    pending = pending_order(pool)
    session = session_object(pending)
    first = fulfilment.fulfil(session)
    assert first.result == "paid"
    outbox.attempt(first.tasks, tasks.HANDLERS)
    assert fulfilment.fulfil(session) == fulfilment.Outcome("already_paid")
    assert send(event("checkout.session.completed", session)).get_json()["outcome"] == (
        "already_paid"
    )
    assert_paid_once(pool, pending)


def test_a_second_paid_session_for_a_paid_order_alerts_ops(pool) -> None:
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending)))
    twice = send(event("checkout.session.completed", session_object(pending, id="cs_test_other")))
    assert twice.get_json()["outcome"] == "flagged"
    row = order_row(pool, pending.order_id)
    assert row.status == "paid" and "paid too" in row.flagged_reason
    tasks = outbox_tasks(pool, pending.order_id)
    assert f"ops_notification_email:flagged:{pending.order_id}:cs_test_other" in tasks
    assert len(sheet_rows(pending.order_id)) == 1 and confirmations(pending.order_id) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [('{"hello": 1}', "application/json"), ("hello", "text/plain"), ("[", "application/json")],
)
def test_an_unsigned_delivery_of_any_shape_is_a_400(body: str, content_type: str) -> None:
    client = function_app("stripe_webhook").test_client()
    response = client.post("/api/webhooks/stripe", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_signature"


def test_a_signature_from_the_future_is_refused_and_changes_nothing(pool) -> None:
    """The timestamp is checked both ways (±300 s), not only for age."""
    pending = pending_order(pool)
    completed = event("checkout.session.completed", session_object(pending))
    for ahead in (86_400, 301):
        response = deliver(*signed(completed, timestamp=int(time.time()) + ahead))
        assert response.status_code == 400, ahead
        assert response.get_json()["error"]["code"] == "invalid_signature"
    assert events_recorded(pool, completed["id"]) == 0
    assert order_row(pool, pending.order_id).status == "pending_payment"
    assert deliver(*signed(completed, timestamp=int(time.time()) + 290)).status_code == 200


# Malformed but signed deliveries. Each case builds a body (a JSON-able dict, or the raw text)
# for a pending order, and says what the webhook answers:
# - REFUSED: 400 `malformed_event`, nothing recorded. The body is not a Stripe event at all
#   (not JSON, not an object, no evt_ id / type / data.object, a NUL where the envelope is
#   stored): there is no event id to record, and Stripe never sends such a body.
# - MALFORMED: 200 `malformed`, the event id recorded, nothing applied, an ERROR log. It is a
#   real event (signed, a proper envelope) whose object does not have the shape its handler
#   reads: a retry would carry the same bytes, so a 4xx/5xx would only make Stripe retry it for
#   three days; a person has to look at it (the ERROR log names the event, the order, the field).
# - an outcome: 200 and the usual outcome; a wrong-typed field no handler relies on (the event's
#   `created`, an unknown event type's object) is simply not used.
REFUSED, MALFORMED = "refused", "malformed"
ENVELOPE = '{"id": "evt_%s", "object": "event", "type": "checkout.session.completed", '


def _session(**changes: Any) -> Any:
    return lambda p: event("checkout.session.completed", session_object(p, **changes))


def _envelope(**changes: Any) -> Any:
    def build(p: Pending) -> dict[str, Any]:
        body = event("checkout.session.completed", session_object(p))
        for key, value in changes.items():
            if value is ...:
                del body[key]
            else:
                body[key] = value
        return body

    return build


def _charge(**changes: Any) -> Any:
    def build(p: Pending) -> dict[str, Any]:
        charge = {
            "id": "ch_" + secrets.token_hex(8),
            "object": "charge",
            "amount": p.amount_cents,
            "amount_refunded": p.amount_cents,
            "currency": "usd",
            "payment_intent": "pi_" + p.session_id[-12:],
            "refunded": True,
            "metadata": {"order_id": p.order_id},
            **changes,
        }
        return event("charge.refunded", charge)

    return build


def _raw(text: str) -> Any:
    return lambda p: text.replace("{id}", secrets.token_hex(8))


MALFORMED_CASES: list[tuple[str, Any, str]] = [
    # not an event at all: refused
    ("not JSON", _raw("this is not json"), REFUSED),
    ("empty body", _raw(""), REFUSED),
    ("truncated JSON", _raw(ENVELOPE + '"data": {"object": {'), REFUSED),
    ("JSON null", _raw("null"), REFUSED),
    ("JSON list", _raw("[]"), REFUSED),
    ("JSON string", _raw('"evt_{id}"'), REFUSED),
    ("JSON number", _raw("42"), REFUSED),
    ("NaN is not JSON", _raw(ENVELOPE % "{id}" + '"data": {"object": {"amount": NaN}}}'), REFUSED),
    (
        "nested too deep",
        _raw(ENVELOPE % "{id}" + '"data": {"object": ' + "[" * 60_000 + "]" * 60_000 + "}}"),
        REFUSED,
    ),
    ("a byte order mark", _raw("\ufeff" + ENVELOPE % "{id}" + '"data": {"object": {}}}'), REFUSED),
    ("no id", _envelope(id=...), REFUSED),
    ("id a number", _envelope(id=12345), REFUSED),
    ("id a list", _envelope(id=["evt_1"]), REFUSED),
    ("id not an event id", _envelope(id="cus_123"), REFUSED),
    ("id with a NUL", _envelope(id="evt_1\u0000x"), REFUSED),
    ("no type", _envelope(type=...), REFUSED),
    ("type a number", _envelope(type=7), REFUSED),
    ("type with a NUL", _envelope(type="checkout.session.completed\u0000"), REFUSED),
    ("data a list", _envelope(data=[]), REFUSED),
    ("data.object a list", _envelope(data={"object": []}), REFUSED),
    ("data.object a string", _envelope(data={"object": "cs_1"}), REFUSED),
    ("data.object null", _envelope(data={"object": None}), REFUSED),
    # a real event whose object has the wrong shape: acknowledged, recorded, not applied
    ("amount as a string", lambda p: _session(amount_total=str(p.amount_cents))(p), MALFORMED),
    ("amount as a float", lambda p: _session(amount_total=float(p.amount_cents))(p), MALFORMED),
    ("amount as a bool", _session(amount_total=True), MALFORMED),
    ("amount negative", _session(amount_total=-1), MALFORMED),
    ("amount beyond any integer column", _session(amount_total=10**20), MALFORMED),
    ("metadata as a list", lambda p: _session(metadata=[p.order_id])(p), MALFORMED),
    ("metadata as a string", lambda p: _session(metadata=p.order_id)(p), MALFORMED),
    ("client_reference_id a number", _session(client_reference_id=7), MALFORMED),
    ("session id a number", _session(id=12345), MALFORMED),
    ("session id missing", lambda p: _session(id=None)(p), MALFORMED),
    ("payment_status a number", _session(payment_status=1), MALFORMED),
    ("currency a list", _session(currency=["usd"]), MALFORMED),
    ("payment_intent an object", _session(payment_intent={"id": "pi_1"}), MALFORMED),
    ("customer_details a list", _session(customer_details=[]), MALFORMED),
    ("customer email a number", _session(customer_details={"email": 5}), MALFORMED),
    ("customer email with a NUL", _session(customer_email="a\u0000@x.com"), MALFORMED),
    ("collected_information a string", _session(collected_information="x"), MALFORMED),
    (
        "shipping address a list",
        _session(collected_information={"shipping_details": {"name": "A", "address": []}}),
        MALFORMED,
    ),
    ("shipping name a dict", _session(shipping_details={"name": {}}), MALFORMED),
    (
        "expired with metadata a list",
        lambda p: event("checkout.session.expired", session_object(p, metadata=[1])),
        MALFORMED,
    ),
    (
        "async failure with a numeric session id",
        lambda p: event("checkout.session.async_payment_failed", session_object(p, id=5)),
        MALFORMED,
    ),
    ("refund amount a string", _charge(amount="100"), MALFORMED),
    ("refunded amount a float", _charge(amount_refunded=1.5), MALFORMED),
    ("refunded amount too big", _charge(amount_refunded=10**12), MALFORMED),
    ("refunded a string", _charge(refunded="yes"), MALFORMED),
    ("refund payment_intent a number", _charge(payment_intent=5), MALFORMED),
    ("refund metadata a list", _charge(metadata=[]), MALFORMED),
    ("refund currency null", _charge(currency=None), MALFORMED),
    # a wrong type where nothing relies on it: the usual outcome
    ("created a string", lambda p: {**_session()(p), "created": "yesterday"}, "paid"),
    ("created far out of range", lambda p: {**_session()(p), "created": 10**20}, "paid"),
    ("created a bool", lambda p: {**_session()(p), "created": True}, "paid"),
    ("order_id in metadata a number", _session(metadata={"order_id": 5}), "order_not_found"),
    (
        "an unknown type with metadata a list",
        lambda p: event("customer.created", {"id": "cus_1", "metadata": ["x"]}),
        "ignored",
    ),
    (
        "an unknown type with an odd object",
        lambda p: event("invoice.paid", {"metadata": "x", "client_reference_id": {}, "id": 1}),
        "ignored",
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"),
    [pytest.param(build, expected, id=name) for name, build, expected in MALFORMED_CASES],
)
def test_a_malformed_but_signed_delivery_never_gets_a_5xx(pool, capsys, build, expected) -> None:
    pending = pending_order(pool)
    body = build(pending)
    payload, signature = signed(body)
    event_id = body.get("id") if isinstance(body, dict) else None
    capsys.readouterr()
    response = deliver(payload, signature)
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert response.status_code < 500
    if expected == REFUSED:
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "malformed_event"
        if isinstance(event_id, str) and event_id.isprintable():
            assert events_recorded(pool, event_id) == 0
    else:
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {"received": True, "duplicate": False, "outcome": expected}
        assert events_recorded(pool, str(event_id)) == 1
        assert deliver(payload, signature).get_json()["outcome"] == "duplicate"
    if expected in (REFUSED, MALFORMED):
        row = order_row(pool, pending.order_id)
        assert (row.status, row.flagged_reason, row.paid_at) == ("pending_payment", None, None)
        assert outbox_tasks(pool, pending.order_id) == {}
    if expected == MALFORMED:
        [entry] = [line for line in logged if line["message"] == "stripe event malformed"]
        assert entry["severity"] == "ERROR"
        assert entry["event_id"] == event_id and entry["problems"]


def test_only_our_metadata_names_an_order_not_a_buyer_chosen_reference(pool) -> None:
    """A payment link's buyer sets `client_reference_id`; our sessions carry metadata."""
    pending = pending_order(pool)
    other = session_object(pending, id="cs_test_" + secrets.token_hex(8), metadata={})
    answer = send(event("checkout.session.completed", other)).get_json()
    assert answer["outcome"] == "order_not_found"
    row = order_row(pool, pending.order_id)
    assert (row.status, row.flagged_reason) == ("pending_payment", None)
