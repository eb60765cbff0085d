"""`make bench`: each function against a bare baseline measured in the same run (issue 16).

Each function runs the way Cloud Functions runs it: its own `functions-framework` process
(gunicorn) on a loopback port.

- (a) cold start: from starting that process to the first HTTP response to the function's
  probe request, against a bare hello-world function (goal: at most `COLD_START_GOAL` x);
  import time is the wall time of `functions_framework.create_app(target, source)`.
- (b) webhook distinct events/s against a bare route doing one INSERT and commit through the
  same pool: `devtools/bench_webhook.py` (its `x_bare_insert`; "not run" without it).
- (c) warm p50 of reading and rewriting a bulk draft on one warm instance, against a bare
  functions-framework route doing one indexed SELECT through the same pool (goal: at most
  `WARM_GOAL` x). The routes and the bare SELECT take turns, one request each, from the same
  client: a change of load on the machine meets them all alike.
- (d) a load of concurrent clients on catalog, order reads, draft writes and the webhook
  (`devtools/bench_load.py`), then a count of what it did in the database.
- the mockup compositor and local artwork (`devtools/bench_studio.py`) and the landing page's
  weight in a real browser (`devtools/bench_pages.py`).

Results are printed as one table and written to `bench/results/latest.json`. The machine may
be shared: the ratios against the same run's baselines are what count. Nothing here asserts
on timings: the numbers are for people, not for tests.
"""

from __future__ import annotations

import compileall
import contextlib
import http.client
import json
import math
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from devtools import bench_groups, bench_jobs, bench_load, bench_pages, bench_studio, bench_webhook
from devtools.deploy_config import RUNTIME_SETTINGS
from devtools.openapi import FUNCTIONS_DIR, REPO, function_names

if TYPE_CHECKING:
    from common.core.caller import Session


class Probe(NamedTuple):
    method: str
    path: str
    body: Any = None


class WarmRoute(NamedTuple):
    function: str
    method: str
    path: str
    body: Any = None
    # Timed as the owner of a fresh draft: `{order_id}` in the path or body is its id.
    as_draft_owner: bool = False


# The first request each function gets: a cheap one, a 2xx where the function has a cheap
# 2xx route; otherwise whatever its router answers (404 before it has routes, 401, 405...).
PROBES: dict[str, Probe] = {
    "orders": Probe("GET", "/api/catalog"),
    "auth": Probe("GET", "/api/auth/me"),
    "chat": Probe("GET", "/api/chat"),
    "generate_image": Probe("GET", "/api/generate-image"),
    "checkout": Probe("GET", "/api/checkout/session"),
    "stripe_webhook": Probe("GET", "/api/webhooks/stripe"),
    "contact": Probe("GET", "/api/contact"),
    "ops": Probe("GET", "/api/ops/outbox/drain"),
}
BARE_PROBE = Probe("GET", "/")

# Routes timed on a warm instance: WARM_REQUESTS sequential requests each, after one untimed.
BULK_ITEMS = [
    {"product_id": "classic-tee", "color": "Black", "sizes": {"S": 4, "M": 10, "L": 6, "2XL": 2}},
    {"product_id": "hoodie", "color": "Navy", "sizes": {"M": 5, "L": 5, "XL": 3}},
]
WARM_ROUTES: tuple[WarmRoute, ...] = (
    WarmRoute("orders", "GET", "/api/catalog"),
    WarmRoute("orders", "GET", "/api/orders/{order_id}", as_draft_owner=True),
    WarmRoute(
        "orders",
        "POST",
        "/api/orders/draft",
        {"order_id": "{order_id}", "items": BULK_ITEMS},
        as_draft_owner=True,
    ),
)
WARM_REQUESTS = 200
COLD_START_GOAL = 1.5  # x the bare function's cold start, at most
WARM_GOAL = 1.5  # x the bare SELECT route's p50, at most
WEBHOOK_GOAL = 0.5  # x the bare INSERT route's distinct events/s, at least
MOCKUP_REFERENCE_MS = 27.0  # the mockup's p50 at 1024 px when issue 16 was filed

DEFAULT_RUNS = 9  # rounds of cold starts: the bare function and the eight each start one round
DEFAULT_OUTPUT = REPO / "bench" / "results" / "latest.json"
START_TIMEOUT_SECONDS = 60.0
HOST = "127.0.0.1"

BARE_SOURCE = '''"""A hello-world HTTP function: the cold start baseline."""
import functions_framework


@functions_framework.http
def hello(request):
    return "ok"
'''

# (c)'s baseline: one indexed SELECT of an order through the shop's pool, on a bare route.
BARE_SELECT_SOURCE = '''"""One indexed SELECT through the shop's pool: (c)'s baseline."""
import functions_framework

from common.infra import db


@functions_framework.http
def select_order(request):
    with db.connect() as conn:
        row = conn.execute(
            "SELECT public_id, status FROM orders WHERE public_id = :id",
            {"id": request.args.get("id", "")},
        ).first()
    return {"id": row.public_id if row else None, "status": row.status if row else None}
'''

IMPORT_TIMER = """
import sys, time
import functions_framework
started = time.perf_counter()
functions_framework.create_app(sys.argv[1], sys.argv[2])
print((time.perf_counter() - started) * 1000)
"""


@dataclass(frozen=True)
class Function:
    name: str
    target: str
    source: Path
    probe: Probe


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` 0.95 is p95) of at least one sample."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "p50": round(statistics.median(samples), 2),
        "max": round(max(samples), 2),
        "samples": [round(s, 2) for s in samples],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def send(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> int:
    """Send one request on `conn` and read the whole response; return its status."""
    payload = None if body is None else json.dumps(body).encode()
    sent = dict(headers or {})
    if payload is not None:
        sent["Content-Type"] = "application/json"
    conn.request(method, path, body=payload, headers=sent)
    response = conn.getresponse()
    response.read()
    return response.status


def new_draft(conn: http.client.HTTPConnection) -> tuple[str, dict[str, str]]:
    """Create a bulk draft as a new shopper; return its id and the shopper's cookie header."""
    conn.request(
        "POST",
        "/api/orders/draft",
        body=json.dumps({"items": BULK_ITEMS}).encode(),
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    order = json.loads(response.read())
    cookie = response.headers["Set-Cookie"].split(";")[0]
    return order["id"], {"Cookie": cookie}


@contextmanager
def running(function: Function, port: int, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """The function served by `functions-framework` on `port` until the block ends."""
    command = [
        sys.executable,
        "-m",
        "functions_framework",
        "--target",
        function.target,
        "--source",
        str(function.source),
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    with tempfile.TemporaryFile() as log:
        # Its own process group, so the gunicorn worker stops with the arbiter.
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            yield process
        except RuntimeError:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{function.name} did not answer; its output:\n{tail}") from None
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def first_response(process: subprocess.Popen, port: int, probe: Probe) -> int:
    """Send `probe` until the server answers it; return the status of the first answer."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with status {process.returncode}")
        conn = http.client.HTTPConnection(HOST, port, timeout=START_TIMEOUT_SECONDS)
        try:
            return send(conn, probe.method, probe.path, probe.body)
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            time.sleep(0.002)
        finally:
            conn.close()
    raise RuntimeError(f"no answer within {START_TIMEOUT_SECONDS:.0f} s")


def cold_start(function: Function, env: dict[str, str]) -> tuple[float, int]:
    """Milliseconds from process start to the first response, and that response's status."""
    port = free_port()
    started = time.perf_counter()
    with running(function, port, env) as process:
        status = first_response(process, port, function.probe)
        return (time.perf_counter() - started) * 1000, status


def import_time(function: Function, env: dict[str, str]) -> float:
    """Milliseconds `create_app` takes to load the function in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_TIMER, function.target, str(function.source)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{function.name} failed to load:\n{result.stderr[-2000:]}")
    return float(result.stdout.split()[-1])


def timed(samples: list[float], statuses: Counter[int], requests: int) -> dict[str, Any]:
    return {
        "requests": requests,
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
    }


def warm_latencies(
    functions: dict[str, Function], routes: Sequence[WarmRoute], env: dict[str, str], requests: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(c): `requests` rounds on warm instances, each round one request to every route and one
    to the bare SELECT route, in turn, on keep-alive connections of this one client; the
    routes' latencies and the bare SELECT's."""
    from common.infra import db

    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        source = Path(folder) / "main.py"
        source.write_text(BARE_SELECT_SOURCE)
        servers: dict[str, http.client.HTTPConnection] = {}
        for function in {route.function: functions[route.function] for route in routes}.values():
            port = free_port()
            process = stack.enter_context(running(function, port, env))
            first_response(process, port, function.probe)
            servers[function.name] = http.client.HTTPConnection(HOST, port, timeout=60)
        # The bare route reads the order the timed routes read and rewrite.
        order_id, owner = new_draft(servers[routes[0].function])
        bare = Function("bare SELECT", "select_order", source, Probe("GET", f"/?id={order_id}"))
        port = free_port()
        process = stack.enter_context(running(bare, port, env))
        first_response(process, port, bare.probe)
        bare_conn = http.client.HTTPConnection(HOST, port, timeout=60)
        # (connection, method, path, body, headers) of each route, the bare SELECT last.
        requests_of = [
            (
                servers[route.function],
                route.method,
                route.path.replace("{order_id}", order_id),
                json.loads(json.dumps(route.body).replace("{order_id}", order_id)),
                owner if route.as_draft_owner else {},
            )
            for route in routes
        ]
        requests_of.append((bare_conn, "GET", bare.probe.path, None, {}))
        samples: list[list[float]] = [[] for _ in requests_of]
        statuses: list[Counter[int]] = [Counter() for _ in requests_of]
        for round_ in range(requests + 1):  # the first round warms up, untimed
            for i, (conn, method, path, body, headers) in enumerate(requests_of):
                started = time.perf_counter()
                status = send(conn, method, path, body, headers)
                if round_:
                    samples[i].append((time.perf_counter() - started) * 1000)
                    statuses[i][status] += 1
        for conn in (*servers.values(), bare_conn):
            conn.close()
    db.reset_pool()
    warm = [
        {
            "function": route.function,
            "method": route.method,
            "path": route.path,
            **timed(samples[i], statuses[i], requests),
        }
        for i, route in enumerate(routes)
    ]
    return warm, timed(samples[-1], statuses[-1], requests)


def as_deployed() -> dict[str, str]:
    """The environment a deployed function starts in, as far as start-up goes: the runtime
    settings `make deploy` gives every function, and the shop's modules compiled, as Cloud
    Functions' build compiles a function's source before it deploys it (the Python Functions
    Framework buildpack runs `python3 -m compileall -f -q .` over the uploaded source, in
    GoogleCloudPlatform/buildpacks `cmd/python/functions_framework`): common/ and functions/
    are compiled once here, and the functions write no bytecode of their own."""
    for folder in (REPO / "common", FUNCTIONS_DIR):
        compileall.compile_dir(folder, force=True, quiet=1)
    return {"PYTHONDONTWRITEBYTECODE": "1", **RUNTIME_SETTINGS}


def new_user() -> Session:
    """A new signed-in shopper of the bench database: a users row and its session."""
    from common.core import caller
    from common.infra import db

    public_id = "usr_bench_" + secrets.token_hex(8)
    email = f"{public_id}@bench.example"
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO users (public_id, email, provider) VALUES (:p, :e, 'local')",
            {"p": public_id, "e": email},
        )
    return caller.for_user(public_id, email, "Bench", "local")


def prepare_database() -> tuple[str, str]:
    """Migrate and seed the bench database; return its URL and where it is."""
    from common.infra import db
    from common.infra.config import settings
    from devtools.seed import seed

    configured = settings().database_url
    url = configured or db.embedded_url(settings())
    db.migrate()
    seed()
    db.reset_pool()
    return url, "DATABASE_URL" if configured else "embedded"


def rounds[T](items: Sequence[T], runs: int) -> list[list[T]]:
    """`runs` rounds of every item, each round starting one item later than the one before."""
    return [[*items[i % len(items) :], *items[: i % len(items)]] for i in range(runs)]


def measure(functions: Sequence[Function], env: dict[str, str], runs: int) -> list[dict[str, Any]]:
    """Import time and cold start of each function, `runs` rounds of all of them.

    Rounds rather than one function's runs in a row, so a load change on the machine during
    the bench spreads over every function instead of skewing one; each round starts one
    function later (`rounds`), so the place in a round does too: measured here, the function
    started right after the bare one took 10-15 ms longer than in any other place.
    """
    imports: dict[str, list[float]] = {function.name: [] for function in functions}
    starts: dict[str, list[float]] = {function.name: [] for function in functions}
    statuses: dict[str, set[int]] = {function.name: set() for function in functions}
    for round_ in rounds(functions, runs):
        for function in round_:
            imports[function.name].append(import_time(function, env))
            elapsed, status = cold_start(function, env)
            starts[function.name].append(elapsed)
            statuses[function.name].add(status)
    return [
        {
            "name": function.name,
            "probe": {**function.probe._asdict(), "statuses": sorted(statuses[function.name])},
            "import_ms": summary(imports[function.name]),
            "cold_start_ms": summary(starts[function.name]),
        }
        for function in functions
    ]


def _ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 2)


def comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every measure with its same-run baseline, ratio and goal: the table's rows."""
    rows: list[dict[str, Any]] = []
    bare = report["bare"]["cold_start_ms"]["p50"]
    for result in report["functions"]:
        cold = result["cold_start_ms"]["p50"]
        rows.append(
            {
                "what": f"(a) cold start {result['name']}",
                "value": f"{cold:.0f} ms",
                "baseline": f"bare {bare:.0f} ms",
                "ratio": _ratio(cold, bare),
                "goal": f"<= {COLD_START_GOAL}",
                "met": cold <= COLD_START_GOAL * bare,
            }
        )
    webhook = report["webhook"]
    if webhook is None or "x_bare_insert" not in webhook:
        rows.append({"what": "(b) webhook events/s vs bare INSERT", "value": "not run"})
    else:
        rows.append(
            {
                "what": "(b) webhook events/s vs bare INSERT",
                "value": f"{webhook['events_per_second']:.1f}/s",
                "baseline": f"bare {webhook['bare_insert']['events_per_second']:.1f}/s",
                "ratio": webhook["x_bare_insert"],
                "goal": f">= {WEBHOOK_GOAL}",
                "met": webhook["x_bare_insert"] >= WEBHOOK_GOAL,
            }
        )
    select = report["bare_select"]
    for warm in report["warm"]:
        if select is None or warm["path"] == "/api/catalog":
            continue
        rows.append(
            {
                "what": f"(c) warm {warm['method']} {warm['path']} p50",
                "value": f"{warm['p50_ms']:.2f} ms",
                "baseline": f"bare SELECT {select['p50_ms']:.2f} ms",
                "ratio": _ratio(warm["p50_ms"], select["p50_ms"]),
                "goal": f"<= {WARM_GOAL}",
                "met": warm["p50_ms"] <= WARM_GOAL * select["p50_ms"],
            }
        )
    load = report["load"]
    if load is not None:
        for kind, measured in (*load["kinds"].items(), ("total", load["total"])):
            rows.append(
                {
                    "what": f"(d) load {kind}",
                    "value": (
                        f"{measured['per_second']:.1f} req/s, p50 {measured['p50_ms']} ms,"
                        f" p99 {measured['p99_ms']} ms"
                    ),
                    "baseline": f"{load['clients']} clients, {load['seconds']:.0f} s",
                    "goal": "0 errors",
                    "met": measured["errors"] == 0,
                    "note": f"{measured['errors']} errors",
                }
            )
        problems = load["lost_or_doubled"]
        rows.append(
            {
                "what": "(d) load: lost or doubled",
                "value": "; ".join(problems) or "nothing",
                "baseline": f"{load['payments']['orders_paid']} orders paid",
                "goal": "nothing",
                "met": not problems,
            }
        )
    studio = report["studio"]
    if studio is not None:
        mockup = studio["mockup_1024"]["p50_ms"]
        rows.append(
            {
                "what": "mockup render 1024 px p50",
                "value": f"{mockup:.1f} ms",
                "baseline": f"issue 16: {MOCKUP_REFERENCE_MS:.0f} ms",
                "ratio": _ratio(mockup, MOCKUP_REFERENCE_MS),
                "note": "a reference from another run, not a same-run baseline",
            }
        )
    landing = report["landing"]
    if landing is not None:
        if "skipped" in landing:
            rows.append({"what": "landing page weight", "value": f"not run: {landing['skipped']}"})
        else:
            total, budget = landing["bytes_with_images"], landing["budget_bytes"]
            rows.append(
                {
                    "what": "landing page weight, with images",
                    "value": f"{total / 1024:.0f} KiB",
                    "baseline": f"{landing['bytes_without_product_images'] / 1024:.0f} KiB"
                    " without product photos",
                    "goal": f"< {budget // 1024} KiB",
                    "met": total < budget,
                }
            )
    return rows


def print_report(report: dict[str, Any]) -> None:
    machine = report["machine"]
    print(
        f"{report['runs']} runs, {machine['cpu_count']} CPUs, Python {machine['python']}, "
        f"database: {report['database']}"
    )
    header = ("measure", "value", "baseline (same run)", "ratio", "goal", "met")
    rows = [header]
    for row in report["comparisons"]:
        met = row.get("met")
        rows.append(
            (
                row["what"],
                row["value"],
                row.get("baseline", ""),
                f"{row['ratio']:.2f}" if "ratio" in row else "",
                row.get("goal", ""),
                ("yes" if met else "NO") if met is not None else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print("\nimport ms p50 (create_app in a fresh interpreter), probes:")
    for result in (report["bare"], *report["functions"]):
        probe = result["probe"]
        print(
            f"  {result['name']}: {result['import_ms']['p50']:.1f} ms,"
            f" {probe['method']} {probe['path']} -> {'/'.join(map(str, probe['statuses']))}"
        )
    for warm in report["warm"]:
        statuses = ", ".join(f"{n} answered {s}" for s, n in warm["statuses"].items())
        print(
            f"warm {warm['method']} {warm['path']}: {warm['requests']} req, p50"
            f" {warm['p50_ms']:.2f} ms, p95 {warm['p95_ms']:.2f} ms, {statuses}"
        )


def main(
    runs: int | None = None,
    functions: Sequence[str] | None = None,
    output: Path = DEFAULT_OUTPUT,
    warm_requests: int = WARM_REQUESTS,
    load_seconds: float = bench_load.LOAD_SECONDS,
    pages: bool = True,
) -> dict[str, Any]:
    """Measure `functions` (default: all) `runs` times (default: BENCH_RUNS, else DEFAULT_RUNS)."""
    runs = runs or int(os.environ.get("BENCH_RUNS", DEFAULT_RUNS))
    if runs < 1:
        raise ValueError("BENCH_RUNS must be at least 1")
    names = list(functions or function_names())
    url, database = prepare_database()
    env = {**os.environ, "DATABASE_URL": url, **as_deployed()}
    with tempfile.TemporaryDirectory() as bare_dir:
        bare_source = Path(bare_dir) / "main.py"
        bare_source.write_text(BARE_SOURCE)
        bare = Function("bare (hello world)", "hello", bare_source, BARE_PROBE)
        targets = {
            name: Function(
                name,
                name,
                FUNCTIONS_DIR / name / "main.py",
                PROBES.get(name, Probe("GET", f"/api/{name}")),
            )
            for name in names
        }
        bare_result, *results = measure([bare, *targets.values()], env, runs)
    routes = [route for route in WARM_ROUTES if route.function in targets]
    warm, bare_select = (
        warm_latencies(targets, routes, env, warm_requests) if routes else ([], None)
    )
    report: dict[str, Any] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "functions_framework": metadata.version("functions-framework"),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "runs": runs,
        "database": database,
        "bytecode": "common/ and functions/ compiled once, as the deploy's build compiles them",
        "bare": bare_result,
        "functions": results,
        "warm": warm,
        "bare_select": bare_select,
        # Webhook throughput (devtools/bench_webhook.py), when stripe_webhook is benched;
        # (b) once it times the bare INSERT route too (`x_bare_insert`).
        "webhook": bench_webhook.measure(env) if "stripe_webhook" in targets else None,
        "load": (
            bench_load.measure(env, seconds=load_seconds)
            if {"orders", "stripe_webhook"} <= targets.keys()
            else None
        ),
        # Mockup compositor and local artwork generator (devtools/bench_studio.py), when
        # generate_image is benched.
        "studio": bench_studio.measure() if "generate_image" in targets else None,
        # POST /api/generate-image's 202 against the design being ready
        # (devtools/bench_jobs.py), when generate_image is benched.
        "jobs": bench_jobs.measure(env) if "generate_image" in targets else None,
        # Group orders of 200 entries (devtools/bench_groups.py), when orders is benched.
        "groups": bench_groups.measure() if "orders" in targets else None,
        # Design ideas made and served (devtools/bench_studio.py), when chat is benched.
        "suggestions": bench_studio.measure_suggestions() if "chat" in targets else None,
        "landing": bench_pages.measure() if pages else None,
    }
    report["comparisons"] = comparisons(report)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    if report["webhook"]:
        bench_webhook.print_result(report["webhook"])
    if report["studio"]:
        bench_studio.print_result(report["studio"])
    if report["jobs"]:
        bench_jobs.print_result(report["jobs"])
    if report["groups"]:
        bench_groups.print_result(report["groups"])
    if report["suggestions"]:
        bench_studio.print_suggestions(report["suggestions"])
    print(f"\nwritten to {output}")
    return report
