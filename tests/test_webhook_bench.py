"""The webhook throughput bench runs end to end against a functions-framework-served webhook;
it checks what the events did, never how fast."""

import os

import pytest

from common.providers import checkout as checkout_provider
from devtools import bench_webhook


def test_the_bench_pays_one_order_per_distinct_event(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkout_provider.provider, "built", None)
    result = bench_webhook.measure(
        {**os.environ, "DATABASE_URL": database_url}, events=12, clients=3
    )
    assert result["statuses"] == {"200": 12}
    assert result["distinct_events_recorded"] == 12
    assert result["orders_paid"] == 12
    assert result["sheet_rows"] == 12
    assert result["emails"] == 24
    assert result["events_per_second"] > 0
