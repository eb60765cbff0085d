"""The load part of `make bench` (item d of issue 16): `LOAD_CLIENTS` concurrent clients for
`LOAD_SECONDS` against the catalog, order reads, draft writes and the Stripe webhook, each
function served by functions-framework's production server (gunicorn with THREADS threads, as
deployed: `devtools/deploy_config.py`'s concurrency), then a count in the database of what the
load did, so nothing lost or doubled goes unnoticed.

Each client cycles through the four requests in turn, on keep-alive connections, as a shopper
of its own: it reads and rewrites its own draft (every write a new quantity, so the last one
acknowledged is what the database must hold) and delivers the next of a bounded pool of
Stripe-signed `checkout.session.completed` events, one in ten of them a second time (Stripe
retries). Loopback only, bounded in time and in events; the numbers are for people, nothing
asserts on them (the tests check what the load did, never how fast).
"""

from __future__ import annotations

import csv
import http.client
import json
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools import bench_webhook
from devtools.deploy_config import FUNCTIONS

LOAD_CLIENTS = 20
LOAD_SECONDS = 20.0
# Distinct events the webhook may be sent; a client skips the webhook once they are all sent.
LOAD_EVENTS = 600
DUPLICATE_EVERY = 10  # every tenth delivery repeats an earlier event
DRAIN_WAIT_SECONDS = 30.0  # for the side effects of the paid orders to be done
DRAIN_LIMIT = 500  # tasks per drain request
REQUEST_TIMEOUT_SECONDS = 30.0
KINDS = ("catalog", "order_read", "draft_write", "webhook")
# The effects each paid order must have, once (outbox dedupe keys `<kind>:<order id>`).
PAID_EFFECTS = ("sheet_row", "order_confirmation_email")


@dataclass
class Tally:
    """What one kind of request did: latencies (ms) and statuses; errors are non-2xx answers
    and requests that got no answer."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, status: str, elapsed_ms: float) -> None:
        self.statuses[status] += 1
        if status.isdigit():
            self.latencies.append(elapsed_ms)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))


def _quantile(samples: list[float], fraction: float) -> float | None:
    from devtools.bench import percentile

    return round(percentile(samples, fraction), 2) if samples else None


Delivery = tuple[bytes, str, str]  # payload, Stripe-Signature, the order it pays


class Deliveries:
    """The webhook's deliveries in order, shared by every client: each event once, and every
    `DUPLICATE_EVERY`th delivery an earlier event again; and the orders whose event was
    acknowledged (2xx)."""

    def __init__(self, events: list[Delivery]) -> None:
        order: list[Delivery] = []
        for index, event in enumerate(events, start=1):
            order.append(event)
            if index % DUPLICATE_EVERY == 0:
                order.append(events[index - DUPLICATE_EVERY // 2])
        self._order = iter(order)
        self._lock = threading.Lock()
        self.sent = 0
        self.acknowledged: set[str] = set()

    def next(self) -> Delivery | None:
        with self._lock:
            delivery = next(self._order, None)
            self.sent += delivery is not None
            return delivery

    def acknowledge(self, order_id: str) -> None:
        with self._lock:
            self.acknowledged.add(order_id)


@dataclass
class Shopper:
    """One client: its draft, its cookie, and the quantity of its last acknowledged write."""

    order_id: str
    headers: dict[str, str]
    last_written: int = 0


def _items(quantity: int) -> list[dict[str, Any]]:
    return [{"product_id": "classic-tee", "color": "Black", "sizes": {"M": quantity}}]


def _timed(
    conn: http.client.HTTPConnection,
    tally: Tally,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Send one request on `conn`, read its answer, and count it; return its status (0 when
    none came: the connection is then reopened on next use)."""
    started = time.perf_counter()
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        tally.add(type(exc).__name__, (time.perf_counter() - started) * 1000)
        return 0
    tally.add(str(response.status), (time.perf_counter() - started) * 1000)
    return response.status


def _client(
    shopper: Shopper,
    ports: dict[str, int],
    deliveries: Deliveries,
    tallies: dict[str, Tally],
    deadline: float,
) -> None:
    from devtools.bench import HOST

    orders = http.client.HTTPConnection(HOST, ports["orders"], timeout=REQUEST_TIMEOUT_SECONDS)
    webhook = http.client.HTTPConnection(
        HOST, ports["stripe_webhook"], timeout=REQUEST_TIMEOUT_SECONDS
    )
    json_headers = {**shopper.headers, "Content-Type": "application/json"}
    kind = 0
    while time.monotonic() < deadline:
        name = KINDS[kind % len(KINDS)]
        kind += 1
        tally = tallies[name]
        if name == "catalog":
            _timed(orders, tally, "GET", "/api/catalog")
        elif name == "order_read":
            _timed(orders, tally, "GET", f"/api/orders/{shopper.order_id}", None, shopper.headers)
        elif name == "draft_write":
            quantity = shopper.last_written + 1
            body = json.dumps({"order_id": shopper.order_id, "items": _items(quantity)}).encode()
            if _timed(orders, tally, "POST", "/api/orders/draft", body, json_headers) == 200:
                shopper.last_written = quantity
        else:
            delivery = deliveries.next()
            if delivery is None:
                continue
            payload, signature, order_id = delivery
            headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
            status = _timed(webhook, tally, "POST", "/api/webhooks/stripe", payload, headers)
            if 200 <= status < 300:
                deliveries.acknowledge(order_id)
    orders.close()
    webhook.close()


@contextmanager
def _served(env: dict[str, str]) -> Iterator[dict[str, int]]:
    """orders, stripe_webhook and ops (for the drain), each in its own functions-framework
    process with as many gunicorn threads as its deployed concurrency; their ports."""
    from devtools.bench import FUNCTIONS_DIR, PROBES, Function, first_response, free_port, running

    ports: dict[str, int] = {}
    with ExitStack() as stack:
        for name in ("orders", "stripe_webhook", "ops"):
            function = Function(name, name, FUNCTIONS_DIR / name / "main.py", PROBES[name])
            port = free_port()
            threads = {"THREADS": str(FUNCTIONS[name].concurrency)}
            process = stack.enter_context(running(function, port, {**env, **threads}))
            first_response(process, port, function.probe)
            ports[name] = port
        yield ports


def _new_shopper(port: int) -> Shopper:
    from devtools.bench import HOST, new_draft

    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_SECONDS)
    order_id, headers = new_draft(conn)
    conn.close()
    return Shopper(order_id, headers)


def _warm(ports: dict[str, int], shopper: Shopper, deliveries: Deliveries) -> None:
    """One untimed request of each kind, so the load meets warm instances (first use of the
    database, the order store and the webhook's modules is the cold start's, not the load's)."""
    from devtools.bench import HOST

    warming = {kind: Tally() for kind in KINDS}
    conn = http.client.HTTPConnection(HOST, ports["orders"], timeout=REQUEST_TIMEOUT_SECONDS)
    _timed(
        conn, warming["order_read"], "GET", f"/api/orders/{shopper.order_id}", None, shopper.headers
    )
    conn.close()
    delivery = deliveries.next()
    if delivery is not None:
        payload, signature, order_id = delivery
        conn = http.client.HTTPConnection(
            HOST, ports["stripe_webhook"], timeout=REQUEST_TIMEOUT_SECONDS
        )
        headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
        if (
            200
            <= _timed(conn, warming["webhook"], "POST", "/api/webhooks/stripe", payload, headers)
            < 300
        ):
            deliveries.acknowledge(order_id)
        conn.close()


def _drafts_as_written(shoppers: list[Shopper]) -> dict[str, int]:
    """Each shopper's draft in the database against its last acknowledged write."""
    from common.infra import db

    with db.connect() as conn:
        rows = conn.execute(
            "SELECT o.public_id, s.quantity FROM orders o"
            " JOIN order_items i ON i.order_id = o.id"
            " JOIN order_sizes s ON s.order_item_id = i.id AND s.size = 'M'"
            " WHERE o.public_id = ANY(CAST(:ids AS TEXT[]))",
            {"ids": [s.order_id for s in shoppers]},
        ).all()
    stored = {row.public_id: row.quantity for row in rows}
    written = [s for s in shoppers if s.last_written]
    return {
        "drafts": len(shoppers),
        "drafts_as_last_written": sum(stored.get(s.order_id) == s.last_written for s in written),
        "drafts_written": len(written),
    }


def _drain(port: int, token: str) -> None:
    """Whatever effects are still due, performed by the ops drain (the safety net every
    deployment schedules): effects that run after the answer are all done before the count."""
    from devtools.bench import HOST

    deadline = time.monotonic() + DRAIN_WAIT_SECONDS
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(HOST, port, timeout=DRAIN_WAIT_SECONDS)
        conn.request(
            "POST",
            "/api/ops/outbox/drain",
            json.dumps({"limit": DRAIN_LIMIT}),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        drained = json.loads(response.read())
        conn.close()
        if response.status != 200 or not drained["attempted"]:
            return
        time.sleep(0.2)


def _orders_created_since(started: float) -> int:
    from common.infra import db

    with db.connect() as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM orders WHERE created_at >= to_timestamp(:t)",
                {"t": started},
            ).scalar_one()
        )


def _payments(order_ids: list[str], data_dir: Path) -> dict[str, int]:
    """What the delivered events did: each paid order paid once, with its effects, waiting up to
    DRAIN_WAIT_SECONDS for effects that run after the answer."""
    from common.infra import db

    query = (
        "SELECT"
        " (SELECT count(*) FROM orders WHERE public_id = ANY(CAST(:ids AS TEXT[]))"
        "   AND status = 'paid') AS paid,"
        " (SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id"
        "   WHERE o.public_id = ANY(CAST(:ids AS TEXT[])) AND e.kind = 'status'"
        "   AND e.status = 'paid') AS paid_transitions,"
        " (SELECT count(*) FROM stripe_events"
        "   WHERE order_public_id = ANY(CAST(:ids AS TEXT[]))) AS events,"
        " (SELECT count(*) FROM outbox WHERE dedupe_key = ANY(CAST(:keys AS TEXT[]))) AS tasks,"
        " (SELECT count(*) FROM outbox WHERE dedupe_key = ANY(CAST(:keys AS TEXT[]))"
        "   AND done_at IS NULL) AS tasks_pending"
    )
    keys = [f"{kind}:{order_id}" for order_id in order_ids for kind in PAID_EFFECTS]
    deadline = time.monotonic() + DRAIN_WAIT_SECONDS
    while True:
        with db.connect() as conn:
            row = conn.execute(query, {"ids": order_ids, "keys": keys}).one()
        if not row.tasks_pending or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    sheet = data_dir / "orders-sheet.csv"
    rows = list(csv.reader(sheet.read_text().splitlines()))[1:] if sheet.is_file() else []
    sheet_rows = Counter(row[0] for row in rows if row)
    return {
        "orders_paid": int(row.paid),
        "paid_transitions": int(row.paid_transitions),
        "events_recorded": int(row.events),
        "effect_tasks": int(row.tasks),
        "effect_tasks_pending": int(row.tasks_pending),
        "orders_with_one_sheet_row": sum(sheet_rows.get(o) == 1 for o in order_ids),
        "orders_with_several_sheet_rows": sum(sheet_rows.get(o, 0) > 1 for o in order_ids),
    }


def _verdict(result: dict[str, Any]) -> list[str]:
    """What went missing or happened twice, in words (empty: nothing)."""
    drafts, paid, acked = result["drafts"], result["payments"], result["webhook_orders_acked"]
    problems = []
    if result["orders_created_during_load"]:
        problems.append(f"{result['orders_created_during_load']} orders created by draft writes")
    if drafts["drafts_as_last_written"] != drafts["drafts_written"]:
        problems.append("a draft does not hold its last acknowledged write")
    if paid["orders_paid"] != acked or paid["events_recorded"] != acked:
        problems.append(f"{acked} events acknowledged, {paid['orders_paid']} orders paid")
    if paid["paid_transitions"] != paid["orders_paid"]:
        problems.append("an order was marked paid more than once")
    if paid["effect_tasks"] != acked * len(PAID_EFFECTS) or paid["effect_tasks_pending"]:
        problems.append("a paid order's effects are missing or not done")
    if paid["orders_with_one_sheet_row"] != acked or paid["orders_with_several_sheet_rows"]:
        problems.append("sheet rows lost or doubled")
    return problems


def measure(
    env: dict[str, str],
    clients: int = LOAD_CLIENTS,
    seconds: float = LOAD_SECONDS,
    events: int = LOAD_EVENTS,
) -> dict[str, Any]:
    """`clients` clients for `seconds` against orders and stripe_webhook; what they did."""
    secret = "whsec_bench_" + secrets.token_hex(16)
    ops_token = "ops_bench_" + secrets.token_hex(16)
    pending = bench_webhook.pending_orders(events)
    signed = bench_webhook.signed_events(pending, secret)
    deliveries = Deliveries(
        [
            (payload, signature, session["client_reference_id"])
            for session, (payload, signature) in zip(pending, signed, strict=True)
        ]
    )
    tallies = {kind: Tally() for kind in KINDS}
    with tempfile.TemporaryDirectory() as data_dir:
        server_env = {k: v for k, v in env.items() if k not in bench_webhook.VENDOR_SETTINGS}
        server_env.update(
            AUREN_DATA_DIR=data_dir, STRIPE_WEBHOOK_SECRET=secret, OPS_TOKEN=ops_token
        )
        with _served(server_env) as ports:
            shoppers = [_new_shopper(ports["orders"]) for _ in range(clients)]
            _warm(ports, shoppers[0], deliveries)
            load_started = time.time()
            started = time.perf_counter()
            deadline = time.monotonic() + seconds
            threads = [
                threading.Thread(
                    target=_client, args=(s, ports, deliveries, tallies, deadline), daemon=True
                )
                for s in shoppers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(seconds + REQUEST_TIMEOUT_SECONDS + 5)
            elapsed = time.perf_counter() - started
            result: dict[str, Any] = {
                "clients": clients,
                "seconds": round(elapsed, 2),
                "threads_per_instance": {n: FUNCTIONS[n].concurrency for n in ports},
                "webhook_deliveries": deliveries.sent,
                "webhook_events_available": len(signed),
                "kinds": {
                    kind: {
                        "requests": sum(t.statuses.values()),
                        "per_second": round(sum(t.statuses.values()) / elapsed, 1),
                        "p50_ms": _quantile(t.latencies, 0.5),
                        "p99_ms": _quantile(t.latencies, 0.99),
                        "errors": t.errors,
                        "statuses": dict(sorted(t.statuses.items())),
                    }
                    for kind, t in tallies.items()
                },
                "drafts": _drafts_as_written(shoppers),
                "orders_created_during_load": _orders_created_since(load_started),
            }
            _drain(ports["ops"], ops_token)
        acked = sorted(deliveries.acknowledged)
        result["webhook_orders_acked"] = len(acked)
        result["payments"] = _payments(acked, Path(data_dir))
    every = [latency for t in tallies.values() for latency in t.latencies]
    result["total"] = {
        "requests": sum(k["requests"] for k in result["kinds"].values()),
        "per_second": round(sum(k["requests"] for k in result["kinds"].values()) / elapsed, 1),
        "p50_ms": round(statistics.median(every), 2) if every else None,
        "p99_ms": _quantile(every, 0.99),
        "errors": sum(k["errors"] for k in result["kinds"].values()),
    }
    result["lost_or_doubled"] = _verdict(result)
    return result
