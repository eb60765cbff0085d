"""The bench runs end to end on one function and writes its results; no timing asserts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devtools import bench


def test_bench_measures_orders_and_the_bare_baselines(database_url: str, tmp_path: Path) -> None:
    output = tmp_path / "results" / "latest.json"
    bench.main(runs=1, functions=["orders"], output=output, warm_requests=5, pages=False)

    report = json.loads(output.read_text())
    assert set(report["machine"]) >= {"cpu_count", "python", "date"}
    assert report["runs"] == 1
    assert report["database"] == "DATABASE_URL"
    assert [f["name"] for f in report["functions"]] == ["orders"]
    for result in (report["bare"], report["functions"][0]):
        for measured in ("import_ms", "cold_start_ms"):
            assert set(result[measured]) == {"p50", "max", "samples"}
            assert len(result[measured]["samples"]) == 1
    assert report["bare"]["probe"]["statuses"] == [200]
    assert report["functions"][0]["probe"] == {
        "method": "GET",
        "path": "/api/catalog",
        "body": None,
        "statuses": [200],
    }
    timed = [(w["function"], w["method"], w["path"]) for w in report["warm"]]
    assert timed == [
        ("orders", "GET", "/api/catalog"),
        ("orders", "GET", "/api/orders/{order_id}"),
        ("orders", "POST", "/api/orders/draft"),
    ]
    for warm in report["warm"]:
        assert warm["requests"] == 5
        assert warm["statuses"] == {"200": 5}
        assert {"p50_ms", "p95_ms"} <= set(warm)
    # (c)'s baseline found the order it selects, every time.
    assert report["bare_select"]["statuses"] == {"200": 5}
    # Without stripe_webhook and generate_image there is no load, webhook or studio part.
    assert report["load"] is None and report["webhook"] is None and report["studio"] is None
    measures = [row["what"] for row in report["comparisons"]]
    assert measures == [
        "(a) cold start orders",
        "(b) webhook events/s vs bare INSERT",
        "(c) warm GET /api/orders/{order_id} p50",
        "(c) warm POST /api/orders/draft p50",
    ]


def report_of(cold: float, bare: float, order_read: float, select: float) -> dict[str, Any]:
    def measured(name: str, p50: float) -> dict[str, Any]:
        return {"name": name, "cold_start_ms": {"p50": p50}}

    return {
        "bare": measured("bare", bare),
        "functions": [measured("orders", cold)],
        "webhook": {"events_per_second": 48.6},  # throughput alone, no bare INSERT route
        "bare_select": {"p50_ms": select},
        "warm": [{"method": "GET", "path": "/api/orders/{order_id}", "p50_ms": order_read}],
        "load": None,
        "studio": None,
        "landing": None,
    }


def test_each_measure_is_held_to_its_goal_against_its_baseline() -> None:
    met = bench.comparisons(report_of(cold=300, bare=200, order_read=3, select=2))
    assert [(row["ratio"], row["met"]) for row in met if "ratio" in row] == [
        (1.5, True),
        (1.5, True),
    ]
    missed = bench.comparisons(report_of(cold=301, bare=200, order_read=3.1, select=2))
    assert [row["met"] for row in missed if "ratio" in row] == [False, False]
    webhook = next(row for row in missed if row["what"].startswith("(b)"))
    assert webhook["value"] == "not run" and "met" not in webhook
    compared = report_of(cold=300, bare=200, order_read=3, select=2)
    compared["webhook"] = {
        "events_per_second": 40.0,
        "bare_insert": {"events_per_second": 100.0},
        "x_bare_insert": 0.4,
    }
    webhook = next(row for row in bench.comparisons(compared) if row["what"].startswith("(b)"))
    assert (webhook["ratio"], webhook["goal"], webhook["met"]) == (0.4, ">= 0.5", False)


def test_each_round_of_cold_starts_starts_one_function_later() -> None:
    assert bench.rounds(["bare", "auth", "orders"], 4) == [
        ["bare", "auth", "orders"],
        ["auth", "orders", "bare"],
        ["orders", "bare", "auth"],
        ["bare", "auth", "orders"],
    ]


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert bench.percentile(samples, 0.95) == 95.0
    assert bench.percentile(samples, 0.5) == 50.0
    assert bench.percentile([7.0], 0.95) == 7.0
