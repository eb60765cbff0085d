"""Webhook throughput against its limit: distinct, Stripe-signed `checkout.session.completed`
events POSTed by concurrent clients to the `stripe_webhook` function served by
functions-framework (gunicorn threads, as Cloud Functions runs it), each paying its own order,
and the same deliveries from the same clients to a bare functions-framework route that does one
INSERT and commit through the same engine (`common.infra.db`): the ratio says how close the
webhook is to what the database allows.

The two are timed in alternating rounds in one run, after one untimed delivery to each: the
webhook's first delivery loads what its probe did not (the Stripe SDK, the payment domain, the
models' schemas), which is its cold path, not its throughput. The webhook answers after its one
transaction and hands its side effects (sheet row, emails) to the queue; as in production,
nothing in its own process consumes them (its local queue holds the first LOCAL_CAPACITY
messages and refuses the rest, which the webhook logs and answers anyway: the outbox keeps
them). After each round the bench pushes every order's tasks to the `ops` function's push
route, as Pub/Sub would, at the concurrency `ops` is deployed with; the counts at the end say
whether every effect happened once.

Part of `make bench` (`devtools.bench`); alone: `python -m devtools.bench_webhook`. The function
runs in local mode with a throwaway data dir: no Stripe, SendGrid or Sheets call is made. The
numbers are for people; nothing asserts on them.
"""

from __future__ import annotations

import base64
import csv
import http.client
import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

DEFAULT_EVENTS = 200
DEFAULT_CLIENTS = 8
ROUNDS = 4
WEBHOOK = "/api/webhooks/stripe"
ORDER_IN_NAME = re.compile(r"ord_[A-Za-z0-9_-]{20,40}")
ITEMS: list[dict[str, Any]] = [
    {"product_id": "classic-tee", "color": "Black", "sizes": {"S": 4, "M": 10, "L": 5}}
]
# Provider settings that would reach a vendor: the bench function runs without them.
VENDOR_SETTINGS = ("STRIPE_SECRET_KEY", "SENDGRID_API_KEY", "SHEET_ID", "AUREN_ENV")

BARE_INSERT_SOURCE = '''"""The webhook bench's baseline: one INSERT and commit per delivery."""
import json

import functions_framework

from common.infra import db


@functions_framework.http
def bare_insert(request):
    event = json.loads(request.get_data())
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO stripe_events (event_id, type) VALUES (:id, :type)",
            {"id": event["id"], "type": event["type"]},
        )
    return {"received": True}
'''


def pending_orders(count: int) -> list[dict[str, Any]]:
    """`count` orders of one new shopper, checked out with the local stand-in: the
    `checkout.session` objects Stripe would send once each is paid."""

    from common.providers import checkout
    from common.shop import orders, payments
    from common.shop.order_store import Choice
    from devtools.bench import new_user

    shopper = new_user()
    checkout.provider.built = checkout.LocalCheckout()  # the bench never creates Stripe sessions
    items = [Choice(item["product_id"], None, item["color"], item["sizes"]) for item in ITEMS]
    paid = []
    for _ in range(count):
        order = orders.save_draft(shopper, None, items)
        started = payments.start_checkout(shopper, order.id)
        paid.append(
            {
                "id": started.session_id,
                "object": "checkout.session",
                "amount_total": order.total_cents,
                "currency": order.currency,
                "client_reference_id": order.id,
                "customer_details": {"email": shopper.email},
                "customer_email": shopper.email,
                "metadata": {"order_id": order.id},
                "mode": "payment",
                "payment_intent": "pi_bench_" + secrets.token_hex(8),
                "payment_status": "paid",
                "status": "complete",
            }
        )
    return paid


def signed_events(sessions_paid: list[dict[str, Any]], secret: str) -> list[tuple[bytes, str]]:
    import stripe

    deliveries = []
    for session in sessions_paid:
        payload = json.dumps(
            {
                "id": "evt_bench_" + secrets.token_hex(12),
                "object": "event",
                "created": int(time.time()),
                "type": "checkout.session.completed",
                "data": {"object": session},
            }
        )
        header = stripe.WebhookSignature.generate_signature_header(payload, secret)
        deliveries.append((payload.encode(), header))
    return deliveries


def _outcomes(order_ids: list[str], data_dir: Path) -> dict[str, int]:
    from common.infra import db

    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'paid') AS paid,"
            " (SELECT count(*) FROM stripe_events e"
            "  WHERE e.order_public_id = ANY(CAST(:ids AS TEXT[]))) AS events"
            " FROM orders WHERE public_id = ANY(CAST(:ids AS TEXT[]))",
            {"ids": order_ids},
        ).one()
    # Of these orders only (not the warm-up's): a sheet row starts with its order id, an
    # email's file is named by its task's key, which holds the order id.
    ids = set(order_ids)
    sheet = data_dir / "orders-sheet.csv"
    rows = list(csv.reader(sheet.read_text().splitlines()))[1:] if sheet.is_file() else []
    named = [ORDER_IN_NAME.search(path.stem) for path in (data_dir / "mail").glob("*.eml")]
    return {
        "distinct_events_recorded": int(row.events),
        "orders_paid": int(row.paid),
        "sheet_rows": len([line for line in rows if line and line[0] in ids]),
        "emails": len([match for match in named if match and match[0] in ids]),
    }


def post_concurrently(
    port: int, deliveries: list[tuple[bytes, str]], clients: int
) -> tuple[float, Counter[int]]:
    """POST the signed deliveries to the webhook path from `clients` keep-alive connections at
    once; the seconds from the first request to the last answer, and the statuses."""
    from devtools.bench import HOST

    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def post_all(batch: list[tuple[bytes, str]]) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        for payload, signature in batch:
            conn.request(
                "POST",
                WEBHOOK,
                body=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] += 1
        conn.close()

    batches = [deliveries[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post_all, batches))
    return time.perf_counter() - started, statuses


def push_effects(port: int, order_ids: list[str], consumers: int) -> Counter[int]:
    """Perform the outbox tasks of these orders through the `ops` function's push route, one
    push per order with `consumers` at once, as Pub/Sub pushes what the webhook published;
    the statuses of the pushes."""

    from common.effects import outbox
    from common.infra import db
    from common.providers import queue
    from devtools.bench import HOST

    with db.connect() as conn:
        messages = [
            list(row.ids)
            for row in conn.execute(
                "SELECT array_agg(id ORDER BY id) AS ids FROM outbox WHERE done_at IS NULL"
                " AND payload->>'order_id' = ANY(CAST(:ids AS TEXT[]))"
                " GROUP BY payload->>'order_id'",
                {"ids": order_ids},
            )
        ]
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def push_all(batch: list[list[int]]) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        for task_ids in batch:
            data = base64.b64encode(json.dumps({"tasks": task_ids}).encode()).decode()
            envelope = {"message": {"data": data}, "subscription": "bench"}
            conn.request(
                "POST",
                queue.push_path(outbox.TOPIC),
                body=json.dumps(envelope),
                headers={"Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] += 1
        conn.close()

    with ThreadPoolExecutor(consumers) as pool:
        list(pool.map(push_all, [messages[i::consumers] for i in range(consumers)]))
    return statuses


def measure(
    env: dict[str, str], events: int = DEFAULT_EVENTS, clients: int = DEFAULT_CLIENTS
) -> dict[str, Any]:
    """`events` distinct signed paid events from `clients` concurrent connections to the
    webhook, and as many to the bare-insert route, in ROUNDS alternating rounds."""
    from devtools.bench import FUNCTIONS_DIR, Function, Probe, first_response, free_port
    from devtools.bench import running as serving
    from devtools.deploy_config import FUNCTIONS

    consumers = FUNCTIONS["ops"].concurrency

    load_average = os.getloadavg()  # the machine is shared: how busy it was before this run
    secret = "whsec_bench_" + secrets.token_hex(16)
    warm_up, *paid = pending_orders(events + 1)
    deliveries = signed_events(paid, secret)
    bare_deliveries = signed_events(paid, secret)  # other event ids: the bare route only records
    webhook = Function(
        "stripe_webhook",
        "stripe_webhook",
        FUNCTIONS_DIR / "stripe_webhook" / "main.py",
        Probe("GET", WEBHOOK),
    )
    ops = Function("ops", "ops", FUNCTIONS_DIR / "ops" / "main.py", Probe("GET", WEBHOOK))
    seconds = {"webhook": 0.0, "bare": 0.0, "effects": 0.0}
    statuses: dict[str, Counter[int]] = {"webhook": Counter(), "bare": Counter(), "push": Counter()}
    with tempfile.TemporaryDirectory() as data_dir:
        bare_source = Path(data_dir) / "bare_insert.py"
        bare_source.write_text(BARE_INSERT_SOURCE)
        bare = Function("bare insert", "bare_insert", bare_source, Probe("GET", WEBHOOK))
        server_env = {k: v for k, v in env.items() if k not in VENDOR_SETTINGS}
        server_env.update(AUREN_DATA_DIR=data_dir, STRIPE_WEBHOOK_SECRET=secret)
        ports = {"webhook": free_port(), "bare": free_port(), "ops": free_port()}
        with (
            serving(webhook, ports["webhook"], server_env) as webhook_process,
            serving(bare, ports["bare"], server_env) as bare_process,
            serving(ops, ports["ops"], {**server_env, "THREADS": str(consumers)}) as ops_process,
        ):
            first_response(webhook_process, ports["webhook"], webhook.probe)
            first_response(bare_process, ports["bare"], bare.probe)
            first_response(ops_process, ports["ops"], ops.probe)
            for side in ("bare", "webhook"):
                post_concurrently(ports[side], signed_events([warm_up], secret), 1)
            push_effects(ports["ops"], [warm_up["client_reference_id"]], consumers)
            for round_ in range(ROUNDS):
                for side, sent in (("bare", bare_deliveries), ("webhook", deliveries)):
                    elapsed, answered = post_concurrently(
                        ports[side], sent[round_::ROUNDS], clients
                    )
                    seconds[side] += elapsed
                    statuses[side].update(answered)
                # The round's side effects, performed by the `ops` function as Pub/Sub would
                # have it do them, before the next round: neither route is timed meanwhile.
                started = time.perf_counter()
                round_orders = [s["client_reference_id"] for s in paid[round_::ROUNDS]]
                statuses["push"].update(push_effects(ports["ops"], round_orders, consumers))
                seconds["effects"] += time.perf_counter() - started
        outcomes = _outcomes([s["client_reference_id"] for s in paid], Path(data_dir))
    webhook_rate = events / seconds["webhook"]
    bare_rate = events / seconds["bare"]
    return {
        "events": events,
        "clients": clients,
        "rounds": ROUNDS,
        "seconds": round(seconds["webhook"], 3),
        "events_per_second": round(webhook_rate, 1),
        "statuses": {str(status): n for status, n in sorted(statuses["webhook"].items())},
        "effects": {
            "seconds": round(seconds["effects"], 3),
            "pushes": {str(status): n for status, n in sorted(statuses["push"].items())},
        },
        "bare_insert": {
            "seconds": round(seconds["bare"], 3),
            "events_per_second": round(bare_rate, 1),
            "statuses": {str(status): n for status, n in sorted(statuses["bare"].items())},
        },
        "x_bare_insert": round(webhook_rate / bare_rate, 2),
        "load_average": [round(load, 2) for load in load_average],
        **outcomes,
    }


def print_result(result: dict[str, Any]) -> None:
    def answered(statuses: dict[str, int]) -> str:
        return ", ".join(f"{n} answered {s}" for s, n in statuses.items())

    bare = result["bare_insert"]
    load = " ".join(f"{n:.2f}" for n in result["load_average"])
    print(
        f"\nstripe webhook throughput | {result['events']} distinct signed events, "
        f"{result['clients']} concurrent clients, {result['rounds']} rounds, load {load}\n"
        f"  webhook     {result['events_per_second']:7.1f} events/s ({result['seconds']:.2f} s)"
        f" | {answered(result['statuses'])}\n"
        f"  bare insert {bare['events_per_second']:7.1f} events/s ({bare['seconds']:.2f} s)"
        f" | {answered(bare['statuses'])}\n"
        f"  x bare insert {result['x_bare_insert']:.2f}"
        f" | effects pushed to ops in {result['effects']['seconds']:.2f} s"
        f" | {result['distinct_events_recorded']} events recorded, {result['orders_paid']}"
        f" orders paid, {result['sheet_rows']} sheet rows, {result['emails']} emails"
    )


def main(events: int | None = None) -> dict[str, Any]:
    """Prepare the bench database and measure (events: BENCH_WEBHOOK_EVENTS, else 200)."""
    from devtools.bench import prepare_database

    events = events or int(os.environ.get("BENCH_WEBHOOK_EVENTS", DEFAULT_EVENTS))
    url, _ = prepare_database()
    result = measure({**os.environ, "DATABASE_URL": url}, events)
    print_result(result)
    return result


if __name__ == "__main__":
    main()
