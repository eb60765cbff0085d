"""Webhook throughput: distinct, Stripe-signed `checkout.session.completed` events POSTed by
concurrent clients to the `stripe_webhook` function served by functions-framework, each
paying its own order (state change, outbox, local sheet row and emails).

Part of `make bench` (`devtools.bench`); alone: `python -m devtools.bench_webhook`. The function
runs in local mode with a throwaway data dir: no Stripe, SendGrid or Sheets call is made. The
numbers are for people; nothing asserts on them.
"""

from __future__ import annotations

import http.client
import json
import os
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
ITEMS: list[dict[str, Any]] = [
    {"product_id": "classic-tee", "color": "Black", "sizes": {"S": 4, "M": 10, "L": 5}}
]
# Provider settings that would reach a vendor: the bench function runs without them.
VENDOR_SETTINGS = ("STRIPE_SECRET_KEY", "SENDGRID_API_KEY", "SHEET_ID", "AUREN_ENV")


def pending_orders(count: int) -> list[dict[str, Any]]:
    """`count` orders of one new shopper, checked out with the local stand-in: the
    `checkout.session` objects Stripe would send once each is paid."""
    from sqlalchemy import text

    from common.core import caller
    from common.infra import db
    from common.providers import checkout
    from common.shop import orders, payments
    from common.shop.order_store import Choice

    public_id = "usr_bench_" + secrets.token_hex(8)
    email = f"{public_id}@bench.example"
    with db.transaction() as conn:
        conn.execute(
            text("INSERT INTO users (public_id, email, provider) VALUES (:p, :e, 'local')"),
            {"p": public_id, "e": email},
        )
    shopper = caller.for_user(public_id, email, "Bench", "local")
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
                "customer_details": {"email": email},
                "customer_email": email,
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
    from sqlalchemy import text

    from common.infra import db

    with db.engine().connect() as conn:
        row = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE status = 'paid') AS paid,"
                " (SELECT count(*) FROM stripe_events e"
                "  WHERE e.order_public_id = ANY(CAST(:ids AS TEXT[]))) AS events"
                " FROM orders WHERE public_id = ANY(CAST(:ids AS TEXT[]))"
            ),
            {"ids": order_ids},
        ).one()
    sheet = data_dir / "orders-sheet.csv"
    rows = sheet.read_text().splitlines()[1:] if sheet.is_file() else []
    return {
        "distinct_events_recorded": int(row.events),
        "orders_paid": int(row.paid),
        "sheet_rows": len(rows),
        "emails": len(list((data_dir / "mail").glob("*.eml"))),
    }


def measure(
    env: dict[str, str], events: int = DEFAULT_EVENTS, clients: int = DEFAULT_CLIENTS
) -> dict[str, Any]:
    """POST `events` distinct signed events from `clients` concurrent connections."""
    from devtools.bench import FUNCTIONS_DIR, HOST, Function, Probe, first_response, free_port
    from devtools.bench import running as serving

    secret = "whsec_bench_" + secrets.token_hex(16)
    paid = pending_orders(events)
    deliveries = signed_events(paid, secret)
    function = Function(
        "stripe_webhook",
        "stripe_webhook",
        FUNCTIONS_DIR / "stripe_webhook" / "main.py",
        Probe("GET", "/api/webhooks/stripe"),
    )
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as data_dir:
        server_env = {k: v for k, v in env.items() if k not in VENDOR_SETTINGS}
        server_env.update(AUREN_DATA_DIR=data_dir, STRIPE_WEBHOOK_SECRET=secret)
        port = free_port()
        with serving(function, port, server_env) as process:
            first_response(process, port, function.probe)

            def post_all(batch: list[tuple[bytes, str]]) -> None:
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
                for payload, signature in batch:
                    conn.request(
                        "POST",
                        "/api/webhooks/stripe",
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
            elapsed = time.perf_counter() - started
        outcomes = _outcomes([s["client_reference_id"] for s in paid], Path(data_dir))
    return {
        "events": events,
        "clients": clients,
        "seconds": round(elapsed, 3),
        "events_per_second": round(events / elapsed, 1),
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        **outcomes,
    }


def print_result(result: dict[str, Any]) -> None:
    statuses = ", ".join(f"{n} answered {s}" for s, n in result["statuses"].items())
    print(
        f"\nstripe webhook throughput | {result['events']} distinct signed events, "
        f"{result['clients']} concurrent clients | {result['events_per_second']:.1f} events/s "
        f"({result['seconds']:.2f} s) | {statuses} | {result['distinct_events_recorded']} events "
        f"recorded, {result['orders_paid']} orders paid, {result['sheet_rows']} sheet rows, "
        f"{result['emails']} emails"
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
