"""The load bench runs end to end against functions-framework-served orders and webhook, and
its count of what the load did catches a lost or doubled write; never how fast."""

from __future__ import annotations

import concurrent.futures
import copy
import os
from pathlib import Path
from typing import Any

import pytest

from common.providers import checkout as checkout_provider
from devtools import bench_load, bench_pages


def test_a_short_load_loses_and_doubles_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkout_provider.provider, "built", None)
    result = bench_load.measure(
        {**os.environ, "DATABASE_URL": database_url}, clients=3, seconds=2.0, events=20
    )
    assert result["clients"] == 3
    assert result["threads_per_instance"] == {"orders": 8, "stripe_webhook": 8, "ops": 2}
    for kind in bench_load.KINDS:
        measured = result["kinds"][kind]
        assert measured["requests"] > 0 and measured["errors"] == 0, (kind, measured)
        assert set(measured["statuses"]) == {"200"}
    assert result["drafts"]["drafts_written"] == 3
    assert result["drafts"]["drafts_as_last_written"] == 3
    assert result["orders_created_during_load"] == 0
    paid = result["payments"]
    assert result["webhook_orders_acked"] > 0
    assert paid["orders_paid"] == paid["events_recorded"] == result["webhook_orders_acked"]
    assert paid["orders_with_one_sheet_row"] == result["webhook_orders_acked"]
    assert result["lost_or_doubled"] == []


def test_every_tenth_delivery_repeats_an_earlier_event() -> None:
    events = [(f"payload-{n}".encode(), f"sig-{n}", f"ord_{n}") for n in range(20)]
    deliveries = bench_load.Deliveries(events)
    sent = []
    while (delivery := deliveries.next()) is not None:
        sent.append(delivery[2])
    assert len(sent) == 22 and len(set(sent)) == 20
    assert sent[10] == "ord_5" and sent[21] == "ord_15"


GOOD: dict[str, Any] = {
    "orders_created_during_load": 0,
    "drafts": {"drafts": 2, "drafts_written": 2, "drafts_as_last_written": 2},
    "webhook_orders_acked": 4,
    "payments": {
        "orders_paid": 4,
        "paid_transitions": 4,
        "events_recorded": 4,
        "effect_tasks": 8,
        "effect_tasks_pending": 0,
        "orders_with_one_sheet_row": 4,
        "orders_with_several_sheet_rows": 0,
    },
}


@pytest.mark.parametrize(
    ("part", "field", "value", "problem"),
    [
        (None, "orders_created_during_load", 1, "orders created by draft writes"),
        ("drafts", "drafts_as_last_written", 1, "last acknowledged write"),
        ("payments", "orders_paid", 3, "orders paid"),
        ("payments", "paid_transitions", 5, "marked paid more than once"),
        ("payments", "effect_tasks_pending", 1, "effects are missing or not done"),
        ("payments", "orders_with_several_sheet_rows", 1, "sheet rows lost or doubled"),
    ],
)
def test_the_count_names_what_was_lost_or_doubled(
    part: str | None, field: str, value: int, problem: str
) -> None:
    assert bench_load._verdict(GOOD) == []
    broken = copy.deepcopy(GOOD)
    (broken[part] if part else broken)[field] = value
    assert any(problem in found for found in bench_load._verdict(broken))


@pytest.mark.skipif(not Path(bench_pages.CHROMIUM).exists(), reason="Chromium is not installed")
def test_the_landing_page_weight_counts_the_product_photos_apart(database_url: str) -> None:
    # The browser tests' Playwright keeps an event loop running in this worker's main thread,
    # and Playwright's sync API refuses to start inside one: measure from a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        landing = pool.submit(bench_pages.measure).result(timeout=180)
    assert landing["responses"] > 1
    assert 0 < landing["bytes_without_product_images"] < landing["bytes_with_images"]
