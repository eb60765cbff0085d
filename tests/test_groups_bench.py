"""The group orders bench runs end to end through the `orders` function; it checks what the
calls did (a full roster read, closed into one draft that keeps every entry), never how fast."""

from __future__ import annotations

from devtools import bench_groups


def test_the_bench_closes_full_groups_into_drafts_that_keep_their_roster(database_url) -> None:
    result = bench_groups.measure(members=30, repeats=2, closes=2)
    assert result["members"] == 30
    assert sum(result["closed_order_sizes"].values()) == result["pieces"] == 60
    assert set(result["closed_order_sizes"]) == set(bench_groups.SIZES)
    assert result["closed_order_roster"] == 30
    for key in ("roster_read", "roster_read_empty_group", "member_view", "close"):
        assert result[key]["runs"] > 0 and result[key]["median_ms"] > 0
