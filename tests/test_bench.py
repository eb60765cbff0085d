"""The bench runs end to end on one function and writes its results; no timing asserts."""

from __future__ import annotations

import json
from pathlib import Path

from devtools import bench


def test_bench_measures_orders_and_the_bare_baseline(database_url: str, tmp_path: Path) -> None:
    output = tmp_path / "results" / "latest.json"
    bench.main(runs=1, functions=["orders"], output=output, warm_requests=5)

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


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert bench.percentile(samples, 0.95) == 95.0
    assert bench.percentile(samples, 0.5) == 50.0
    assert bench.percentile([7.0], 0.95) == 7.0
