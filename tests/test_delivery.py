"""Shipping rates and arrival dates (`common.shop.delivery`): business days from a fixed clock,
rates priced from the settings, and what Checkout reports of the chosen rate."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from common.infra import config
from common.shop import delivery

FRIDAY = datetime(2026, 12, 11, 15, 0, tzinfo=UTC)  # 10:00 in New York


def test_business_days_skip_the_weekend() -> None:
    friday = date(2026, 12, 11)
    assert delivery.add_business_days(friday, 0, ()) == friday
    assert delivery.add_business_days(friday, 1, ()) == date(2026, 12, 14)  # Monday
    assert delivery.add_business_days(friday, 5, ()) == date(2026, 12, 18)
    saturday = date(2026, 12, 12)
    assert delivery.add_business_days(saturday, 1, ()) == date(2026, 12, 14)
    assert delivery.add_business_days(friday, 1, {date(2026, 12, 14)}) == date(2026, 12, 15)


def test_friday_plus_five_days_of_production_then_three_to_five_of_transit() -> None:
    standard, rush = delivery.rates()
    assert (standard.id, standard.transit_days, rush.id, rush.transit_days) == (
        "standard",
        (3, 5),
        "rush",
        (1, 2),
    )
    start = delivery.today(FRIDAY)
    assert start == date(2026, 12, 11)
    # Made Mon 14 .. Fri 18; then 3 to 5 business days: Wed 23 .. Fri 25.
    assert delivery.arrival(5, standard, start) == delivery.Arrival(
        date(2026, 12, 23), date(2026, 12, 25)
    )
    assert delivery.arrival(5, rush, start) == delivery.Arrival(
        date(2026, 12, 21), date(2026, 12, 22)
    )


def test_today_is_the_shop_s_date_and_the_clock_is_injectable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    late_friday_in_new_york = datetime(2026, 12, 12, 3, 0, tzinfo=UTC)
    assert delivery.today(late_friday_in_new_york) == date(2026, 12, 11)
    monkeypatch.setattr(delivery, "clock", lambda: FRIDAY)
    assert delivery.today() == date(2026, 12, 11)
    [standard, _] = delivery.options(10_000, 5)
    assert standard.arrives.earliest == date(2026, 12, 23)
    assert standard.business_days == (8, 10)


def test_shop_today_fixes_the_date_locally_and_is_refused_in_production() -> None:
    assert config.load({"SHOP_TODAY": "2026-12-11"}).shop_today == date(2026, 12, 11)
    with pytest.raises(config.ConfigError, match="SHOP_TODAY"):
        config.load({"SHOP_TODAY": "next friday"})
    production = {
        "AUREN_ENV": "production",
        "SITE_URL": "https://auren.example",
        "SESSION_SECRET": "s" * 32,
        "DATABASE_URL": "postgresql://x@127.0.0.1/x",
        "SHOP_TODAY": "2026-12-11",
    }
    with pytest.raises(config.ConfigError, match="SHOP_TODAY"):
        config.load(production)


def test_standard_is_free_over_the_threshold_and_rush_never() -> None:
    cfg = config.settings()
    assert cfg.shipping_free_over_cents is not None
    standard, rush = delivery.rates()
    below, over = cfg.shipping_free_over_cents - 1, cfg.shipping_free_over_cents
    assert standard.price(below) == cfg.shipping_standard_cents > 0
    assert standard.price(over) == 0
    assert rush.price(below) == rush.price(over) == cfg.shipping_rush_cents


def test_shipping_settings_are_read_and_checked() -> None:
    cfg = config.load(
        {
            "SHIPPING_STANDARD_CENTS": "500",
            "SHIPPING_RUSH_CENTS": "1500",
            "SHIPPING_FREE_OVER_CENTS": "none",
            "SHIPPING_STANDARD_DAYS": "4-6",
            "SHIPPING_RUSH_DAYS": "2",
            "BUSINESS_HOLIDAYS": "2026-12-25, 2027-01-01",
        }
    )
    assert (cfg.shipping_standard_cents, cfg.shipping_rush_cents) == (500, 1500)
    assert cfg.shipping_free_over_cents is None
    assert (cfg.shipping_standard_days, cfg.shipping_rush_days) == ((4, 6), (2, 2))
    assert cfg.business_holidays == {date(2026, 12, 25), date(2027, 1, 1)}
    for wrong in (
        {"SHIPPING_STANDARD_CENTS": "8.95"},
        {"SHIPPING_STANDARD_CENTS": "-1"},
        {"SHIPPING_RUSH_CENTS": "100"},  # not more than standard
        {"SHIPPING_STANDARD_DAYS": "5-3"},
        {"SHIPPING_RUSH_DAYS": "0-2"},
        {"SHIPPING_RUSH_DAYS": "x"},
        {"BUSINESS_HOLIDAYS": "christmas"},
    ):
        with pytest.raises(config.ConfigError, match=next(iter(wrong))):
            config.load(wrong)


def test_an_unknown_timezone_counts_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    cfg = dataclasses.replace(config.settings(), shop_timezone="Nowhere/Atlantis")
    monkeypatch.setattr(delivery, "settings", lambda: cfg)
    assert delivery.today(datetime(2026, 12, 12, 3, 0, tzinfo=UTC)) == date(2026, 12, 12)


def test_the_chosen_rate_is_read_from_the_session_stripe_reports() -> None:
    _, rush = delivery.rates()
    subtotal = 5_000
    session = {"shipping_cost": {"amount_total": rush.price(subtotal), "shipping_rate": "shr_1"}}
    assert delivery.shipping_paid(session) == rush.amount_cents
    assert delivery.charged(session, subtotal) == delivery.ShippingCharge(
        "rush", "Rush shipping", rush.amount_cents, "shr_1"
    )
    free = {"shipping_cost": {"amount_total": 0, "shipping_rate": {"id": "shr_2"}}}
    charge = delivery.charged(free, 100_000)
    assert charge is not None and (charge.rate_id, charge.amount_cents) == ("standard", 0)
    unknown = {"shipping_cost": {"amount_total": 1, "shipping_rate": {"display_name": "Boat"}}}
    assert delivery.charged(unknown, subtotal) == delivery.ShippingCharge(None, "Boat", 1, None)
    assert delivery.shipping_paid({}) == 0 and delivery.charged({}, subtotal) is None
    for wrong in ("x", {"amount_total": -1}, {"amount_total": True}, {"amount_total": "5"}):
        assert delivery.shipping_paid({"shipping_cost": wrong}) is None
        assert delivery.charged({"shipping_cost": wrong}, subtotal) is None
