"""Fulfilment from both sides (issue 15): the success page (`POST /api/checkout/fulfil`, with the
`session_id` Checkout puts on the success URL) and the webhook, against real Postgres.

The success route asks the checkout provider for the session (never trusts the browser), and
pays the order only when it is the order's current session and paid. Either side first, or
both at once, ends in one paid order, one sheet row and one confirmation email.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from typing import Any

import pytest
import sqlalchemy
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from werkzeug.wrappers import Request, Response

from common.infra import config
from common.providers import checkout as checkout_provider
from common.providers import mail, sheets
from tests.conftest import function_app
from tests.test_checkout import (
    Pending,
    Shopper,
    checkout,
    new_draft,
    new_shopper,
    order_row,
    pending_order,
)
from tests.test_checkout_local import checked_out
from tests.test_webhook import (
    assert_paid_once,
    confirmations,
    effects_performed,
    event,
    outbox_tasks,
    send,
    session_object,
    sheet_rows,
)

FULFIL = "/api/checkout/fulfil"


@pytest.fixture(autouse=True)
def local_providers(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout_provider.provider.reset()
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


def fulfil(shopper: Shopper, order_id: str, session_id: str, **headers: str) -> Any:
    return shopper.client("checkout").post(
        FULFIL, json={"order_id": order_id, "session_id": session_id}, headers=headers
    )


def pay_locally(pending: Pending) -> dict[str, Any]:
    """What the local pay page does to the session (without delivering the webhook): it is
    complete; returns the `checkout.session` object Stripe's event would carry."""
    session = checkout_provider.local_session(pending.session_id)
    assert session is not None and session["status"] == "open"
    checkout_provider.set_local_session_status(session, "complete")
    return checkout_provider.local_session_object(session, paid=True)


def assert_paid_once_locally(engine: sqlalchemy.Engine, pending: Pending) -> None:
    effects_performed()
    row = order_row(engine, pending.order_id)
    assert row.status == "paid" and row.paid_at is not None
    local = checkout_provider.local_session(pending.session_id)
    assert local is not None and row.stripe_payment_intent_id == local["payment_intent"]
    assert len(sheet_rows(pending.order_id)) == 1
    assert confirmations(pending.order_id) == 1
    tasks = outbox_tasks(engine, pending.order_id)
    assert set(tasks) == {
        f"sheet_row:{pending.order_id}",
        f"order_confirmation_email:{pending.order_id}",
        f"ops_notification_email:paid:{pending.order_id}",
        f"print_files:{pending.order_id}",  # nothing to print: done at once
    }
    assert all(task.done_at is not None and task.attempts == 1 for task in tasks.values())


def paid_events(engine: sqlalchemy.Engine, order_id: str) -> list[str]:
    """The causes of the order's transitions to paid (its history)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT e.cause FROM order_events e JOIN orders o ON o.id = e.order_id"
                    " WHERE o.public_id = :p AND e.kind = 'status' AND e.status = 'paid'"
                ),
                {"p": order_id},
            ).scalars()
        )


def test_the_success_url_asks_checkout_for_the_session_id(engine) -> None:
    pending = pending_order(engine)
    local = checkout_provider.local_session(pending.session_id)
    assert local is not None
    site = config.settings().site_url
    assert local["params"]["success_url"] == (
        f"{site}/confirmation?order={pending.order_id}&session_id={{CHECKOUT_SESSION_ID}}"
    )


def test_the_success_page_pays_without_the_webhook_and_the_late_webhook_changes_nothing(
    engine,
) -> None:
    pending = pending_order(engine)
    paid_session = pay_locally(pending)
    response = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    assert (body["id"], body["status"]) == (pending.order_id, "paid")
    assert_paid_once_locally(engine, pending)
    assert paid_events(engine, pending.order_id) == ["shopper:success_page"]
    # The page loaded again, then the webhook, late: nothing doubles.
    again = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert (again.status_code, again.get_json()["status"]) == (200, "paid")
    late = send(event("checkout.session.completed", paid_session))
    assert late.status_code == 200
    assert late.get_json()["outcome"] == "already_paid"
    assert_paid_once_locally(engine, pending)
    assert paid_events(engine, pending.order_id) == ["shopper:success_page"]


def test_the_webhook_first_then_the_success_page_answers_the_paid_order(engine) -> None:
    pending = pending_order(engine)
    paid_session = pay_locally(pending)
    assert send(event("checkout.session.completed", paid_session)).get_json()["outcome"] == "paid"
    response = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert (response.status_code, response.get_json()["status"]) == (200, "paid")
    assert_paid_once_locally(engine, pending)
    [cause] = paid_events(engine, pending.order_id)
    assert cause.startswith("stripe:evt_")


def test_the_success_page_and_the_webhook_at_once_pay_once(engine) -> None:
    pending = pending_order(engine)
    paid_session = pay_locally(pending)
    completed = event("checkout.session.completed", paid_session)
    start = threading.Barrier(8)
    answers: list[tuple[str, int, Any]] = []

    def page() -> None:
        start.wait()
        response = fulfil(pending.shopper, pending.order_id, pending.session_id)
        answers.append(("page", response.status_code, response.get_json()["status"]))

    def webhook() -> None:
        start.wait()
        response = send(event("checkout.session.completed", paid_session, completed["id"]))
        answers.append(("webhook", response.status_code, response.get_json()["outcome"]))

    threads = [threading.Thread(target=target) for target in [page, webhook] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status == 200 for _, status, _ in answers), answers
    assert sorted(result for side, _, result in answers if side == "page") == ["paid"] * 4
    webhook_outcomes = [result for side, _, result in answers if side == "webhook"]
    assert webhook_outcomes.count("duplicate") == 3
    assert set(webhook_outcomes) <= {"paid", "already_paid", "duplicate"}
    assert_paid_once_locally(engine, pending)
    assert len(paid_events(engine, pending.order_id)) == 1


def test_an_unpaid_session_changes_nothing(engine) -> None:
    pending = pending_order(engine)
    before = order_row(engine, pending.order_id)
    response = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert (response.status_code, response.get_json()["status"]) == (200, "pending_payment")
    assert order_row(engine, pending.order_id) == before
    assert outbox_tasks(engine, pending.order_id) == {}


def test_a_session_of_another_order_or_a_guess_changes_nothing(engine) -> None:
    pending, other = pending_order(engine), pending_order(engine)
    pay_locally(other)  # paid, but it is the other order's session
    before, other_before = order_row(engine, pending.order_id), order_row(engine, other.order_id)
    for session_id in (other.session_id, "cs_local_" + "0" * 32, "{CHECKOUT_SESSION_ID}"):
        response = fulfil(pending.shopper, pending.order_id, session_id)
        assert (response.status_code, response.get_json()["status"]) == (200, "pending_payment")
    assert order_row(engine, pending.order_id) == before
    assert order_row(engine, other.order_id) == other_before  # not paid from here either
    assert outbox_tasks(engine, pending.order_id) == outbox_tasks(engine, other.order_id) == {}


def test_a_paid_session_that_is_no_longer_the_orders_changes_nothing(engine) -> None:
    """The shopper reopened the order and checked out again: the old session cannot pay it."""
    pending = pending_order(engine)
    old = checkout_provider.local_session(pending.session_id)
    assert old is not None
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE orders SET stripe_checkout_session_id = :s WHERE public_id = :p"),
            {"s": "cs_local_" + secrets.token_hex(16), "p": pending.order_id},
        )
    checkout_provider.set_local_session_status(old, "complete")
    before = order_row(engine, pending.order_id)
    response = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert (response.status_code, response.get_json()["status"]) == (200, "pending_payment")
    assert order_row(engine, pending.order_id) == before


def test_only_the_signed_in_owner_settles_from_a_same_site_page(engine) -> None:
    pending = pending_order(engine)
    pay_locally(pending)
    stranger = new_shopper(engine)
    assert fulfil(stranger, pending.order_id, pending.session_id).status_code == 404
    unknown = fulfil(pending.shopper, "ord_" + "x" * 24, pending.session_id)
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "order_not_found"
    cross_site = fulfil(
        pending.shopper, pending.order_id, pending.session_id, Origin="https://evil.example"
    )
    assert cross_site.status_code == 403
    response = (
        function_app("checkout")
        .test_client()
        .post(FULFIL, json={"order_id": pending.order_id, "session_id": pending.session_id})
    )
    assert response.status_code == 401
    assert order_row(engine, pending.order_id).status == "pending_payment"
    assert outbox_tasks(engine, pending.order_id) == {}


def test_a_draft_is_answered_as_it_is(engine) -> None:
    shopper = new_shopper(engine)
    draft = new_draft(shopper)
    response = fulfil(shopper, draft["id"], "cs_local_" + "0" * 32)
    assert (response.status_code, response.get_json()["status"]) == (200, "draft")


def test_the_local_pay_page_comes_back_with_the_session_id_and_the_page_settles(
    local_site: int, engine: sqlalchemy.Engine
) -> None:
    browser, order, url = checked_out(local_site, engine)
    session_id = url.rsplit("/", 1)[1]
    response, _ = browser.pay_page(url, "paid")
    assert response.status == 303
    site = config.settings().site_url
    assert response.headers["Location"] == (
        f"{site}/confirmation?order={order['id']}&session_id={session_id}"
    )
    response, answer = browser.post_json(
        FULFIL, {"order_id": order["id"], "session_id": session_id}
    )
    assert (response.status, answer["status"]) == (200, "paid")
    effects_performed()
    assert len(sheet_rows(order["id"])) == 1 and confirmations(order["id"]) == 1


# The real stripe SDK against a stub of Stripe's API.


@pytest.fixture
def stripe_pending(
    engine: sqlalchemy.Engine, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Pending:
    """An order checked out through the stripe SDK against a stub of `POST
    /v1/checkout/sessions`."""

    def create_session(request: Request) -> Response:
        session_id = f"cs_test_{secrets.token_hex(12)}"
        created = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        return Response(json.dumps(created), content_type="application/json")

    httpserver.expect_request("/v1/checkout/sessions", method="POST").respond_with_handler(
        create_session
    )
    monkeypatch.setattr(
        checkout_provider.provider,
        "built",
        checkout_provider.StripeCheckout("sk_test_stub", httpserver.url_for("")),
    )
    shopper = new_shopper(engine)
    order = new_draft(shopper)
    response = checkout(shopper, order["id"])
    assert response.status_code == 200, response.get_json()
    session_id = response.get_json()["session_id"]
    assert session_id.startswith("cs_test_")
    return Pending(shopper, order["id"], session_id, order["total_cents"], "usd")


def retrievals(httpserver: HTTPServer, session_id: str) -> list[Request]:
    return [r for r, _ in httpserver.log if r.path == f"/v1/checkout/sessions/{session_id}"]


def test_the_success_page_retrieves_the_session_from_stripe(
    engine, stripe_pending: Pending, httpserver: HTTPServer
) -> None:
    pending = stripe_pending
    path = f"/v1/checkout/sessions/{pending.session_id}"
    httpserver.expect_request(path, method="GET").respond_with_json(session_object(pending))
    response = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert (response.status_code, response.get_json()["status"]) == (200, "paid")
    [request] = retrievals(httpserver, pending.session_id)
    assert request.method == "GET"
    assert request.query_string == b""
    assert request.get_data() == b""
    assert request.headers["Authorization"] == "Bearer sk_test_stub"
    assert "Idempotency-Key" not in request.headers
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\.\w+", request.headers["Stripe-Version"])
    assert_paid_once(engine, pending)
    # The webhook, late, finds it paid.
    late = send(event("checkout.session.completed", session_object(pending)))
    assert late.get_json()["outcome"] == "already_paid"
    assert_paid_once(engine, pending)
    # Once paid, the page does not ask Stripe again.
    assert fulfil(pending.shopper, pending.order_id, pending.session_id).status_code == 200
    assert len(retrievals(httpserver, pending.session_id)) == 1


def test_a_session_stripe_says_is_unpaid_changes_nothing(
    engine, stripe_pending: Pending, httpserver: HTTPServer
) -> None:
    pending = stripe_pending
    unpaid = session_object(pending, payment_status="unpaid")
    path = f"/v1/checkout/sessions/{pending.session_id}"
    httpserver.expect_request(path, method="GET").respond_with_json(unpaid)
    before = order_row(engine, pending.order_id)
    response = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert (response.status_code, response.get_json()["status"]) == (200, "pending_payment")
    assert len(retrievals(httpserver, pending.session_id)) == 1
    assert order_row(engine, pending.order_id) == before
    assert outbox_tasks(engine, pending.order_id) == {}


def test_a_webhook_that_pays_while_the_page_asks_stripe_is_what_the_page_answers(
    engine, stripe_pending: Pending, httpserver: HTTPServer
) -> None:
    """The page answers the order as it is when it answers, not as it read it first: here the
    webhook pays it while the page waits on Stripe, which still shows the session unpaid."""
    pending = stripe_pending
    answers: list[str] = []

    def retrieve(request: Request) -> Response:
        answers.append(
            send(event("checkout.session.completed", session_object(pending))).get_json()["outcome"]
        )
        unpaid = session_object(pending, payment_status="unpaid")
        return Response(json.dumps(unpaid), content_type="application/json")

    path = f"/v1/checkout/sessions/{pending.session_id}"
    httpserver.expect_request(path, method="GET").respond_with_handler(retrieve)
    response = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert answers == ["paid"]
    assert (response.status_code, response.get_json()["status"]) == (200, "paid")
    assert_paid_once(engine, pending)


def test_stripe_being_down_on_the_success_page_is_a_503_and_changes_nothing(
    engine, stripe_pending: Pending, httpserver: HTTPServer
) -> None:
    pending = stripe_pending
    path = f"/v1/checkout/sessions/{pending.session_id}"
    httpserver.expect_request(path, method="GET").respond_with_json(
        {"error": {"type": "api_error", "message": "boom"}}, status=500
    )
    response = fulfil(pending.shopper, pending.order_id, pending.session_id)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "payments_unavailable"
    assert order_row(engine, pending.order_id).status == "pending_payment"
