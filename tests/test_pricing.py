"""Pricing: examples a shopper can check by hand, and properties over any input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.shop.pricing import PriceList, Tier, price_line, price_order

TEE = PriceList(
    base_price_cents=1800,
    upcharges={"2XL": 200, "3XL": 400},
    tiers=(Tier(12, 1550), Tier(24, 1400), Tier(48, 1250), Tier(100, 1100)),
)
SIZES = ("XS", "S", "M", "L", "XL", "2XL", "3XL")


def test_below_the_first_tier_pays_the_base_price() -> None:
    line = price_line(TEE, {"M": 5, "L": 3})
    assert line.unit_price_cents == 1800
    assert line.line_total_cents == 8 * 1800
    assert line.savings_cents == 0
    assert line.next_tier is not None
    assert (line.next_tier.min_quantity, line.next_tier.pieces_to_go) == (12, 4)
    assert line.next_tier.saving_per_piece_cents == 250


def test_tiers_and_upcharges_add_up() -> None:
    line = price_line(TEE, {"M": 10, "L": 5, "2XL": 3, "3XL": 2})
    assert line.quantity == 20
    assert line.tier == Tier(12, 1550)
    by_size = {s.size: s.unit_price_cents for s in line.sizes}
    assert by_size == {"M": 1550, "L": 1550, "2XL": 1750, "3XL": 1950}
    assert line.line_total_cents == 15 * 1550 + 3 * 1750 + 2 * 1950
    assert line.list_total_cents == 15 * 1800 + 3 * 2000 + 2 * 2200
    assert line.savings_cents == 20 * 250


def test_the_same_design_in_two_colors_shares_its_tier() -> None:
    order = price_order(
        [(TEE, {"M": 6}, ("classic-tee", "dsn_1")), (TEE, {"L": 6}, ("classic-tee", "dsn_1"))]
    )
    assert [line.unit_price_cents for line in order.lines] == [1550, 1550]
    apart = price_order([(TEE, {"M": 6}, 1), (TEE, {"L": 6}, 2)])
    assert [line.unit_price_cents for line in apart.lines] == [1800, 1800]


def test_the_top_tier_has_no_next_tier() -> None:
    assert price_line(TEE, {"M": 150}).next_tier is None


def test_a_price_list_whose_tiers_get_dearer_is_refused() -> None:
    with pytest.raises(ValueError, match="never cost more"):
        PriceList(1000, {}, (Tier(12, 900), Tier(24, 950)))
    with pytest.raises(ValueError, match="negative"):
        PriceList(-1, {}, ())


def test_zero_or_negative_quantities_are_refused() -> None:
    with pytest.raises(ValueError):
        price_line(TEE, {"M": 0})


size_maps = st.dictionaries(st.sampled_from(SIZES), st.integers(1, 10_000), min_size=1)
price_lists = st.builds(
    lambda base, ups, steps: PriceList(
        base,
        {"2XL": ups[0], "3XL": ups[0] + ups[1]},
        tuple(
            Tier(min_q, max(0, base - sum(cut for _, cut in steps[: i + 1])))
            for i, (min_q, _) in enumerate(steps)
        ),
    ),
    st.integers(0, 20_000),
    st.tuples(st.integers(0, 2_000), st.integers(0, 2_000)),
    st.lists(
        st.tuples(st.integers(2, 500), st.integers(0, 3_000)), max_size=5, unique_by=lambda t: t[0]
    ).map(lambda steps: sorted(steps)),
)


@given(price_lists, st.lists(size_maps, min_size=1, max_size=6), st.data())
def test_order_total_is_the_sum_of_its_lines_and_never_negative(prices, items, data) -> None:
    groups = [data.draw(st.integers(0, 2)) for _ in items]
    order = price_order([(prices, sizes, g) for sizes, g in zip(items, groups, strict=True)])
    assert order.subtotal_cents == sum(line.line_total_cents for line in order.lines)
    assert order.total_cents == order.subtotal_cents >= 0
    for line, sizes in zip(order.lines, items, strict=True):
        assert line.line_total_cents == sum(s.total_cents for s in line.sizes)
        assert line.quantity == sum(sizes.values())
        assert 0 <= line.savings_cents <= line.list_total_cents


@given(price_lists, st.sampled_from(SIZES), st.integers(1, 9_999))
def test_a_larger_quantity_never_costs_more_per_piece(prices, size, quantity) -> None:
    fewer = price_line(prices, {size: quantity})
    more = price_line(prices, {size: quantity + 1})
    assert more.sizes[0].unit_price_cents <= fewer.sizes[0].unit_price_cents


@given(price_lists, st.integers(1, 10_000))
def test_an_upcharged_size_never_costs_less(prices, quantity) -> None:
    line = price_line(prices, {"M": quantity, "2XL": quantity, "3XL": quantity})
    m, xxl, xxxl = (s.unit_price_cents for s in line.sizes)
    assert m <= xxl <= xxxl
