"""Delivery: the shipping rates an order may choose, and when it arrives.

Two rates, priced here on the server from the settings (`SHIPPING_*`): standard (a flat fee,
free once the items' subtotal reaches `SHIPPING_FREE_OVER_CENTS`) and rush (a higher flat fee).
An order ships once it is made: `production_days` business days (the slowest of its products),
then the rate's transit, so it arrives between `earliest` and `latest`. Business days skip
Saturdays, Sundays and `BUSINESS_HOLIDAYS`, counted from "today" where the shop is
(`SHOP_TIMEZONE`).

"Today" comes from `clock`, which tests replace, unless `SHOP_TODAY` fixes it (local only), or a
caller passes `now`.

Stripe Checkout gets the same rates as its `shipping_options` (`common.shop.payments`), with a
delivery estimate of production plus transit; once paid, `charged` reads which one the shopper
chose from the session Stripe reports.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from common.infra import log
from common.infra.config import settings

DEFAULT_PRODUCTION_DAYS = 5  # a product the catalog no longer has


@dataclass(frozen=True)
class Rate:
    id: str  # "standard" | "rush": what the JSON, the metadata and the order keep
    name: str  # what the shopper reads, on our pages and on Stripe's
    amount_cents: int
    free_over_cents: int | None  # free from this subtotal on (None: never free)
    transit_days: tuple[int, int]  # business days from shipping to arrival, (min, max)

    def price(self, subtotal_cents: int) -> int:
        """What this rate costs an order whose items come to `subtotal_cents`."""
        if self.free_over_cents is not None and subtotal_cents >= self.free_over_cents:
            return 0
        return self.amount_cents


@dataclass(frozen=True)
class ShippingCharge:
    """The shipping rate a paid order's shopper chose on Checkout, and what it cost."""

    rate_id: str | None  # ours (standard, rush); None when no rate of ours had that price
    name: str | None
    amount_cents: int
    stripe_rate_id: str | None = None  # Stripe's shr_... (for ops; never in the shopper's JSON)


@dataclass(frozen=True)
class Arrival:
    earliest: date
    latest: date


@dataclass(frozen=True)
class Option:
    """A rate as one order may choose it: its price for that order and when it would arrive."""

    rate: Rate
    amount_cents: int
    production_days: int
    arrives: Arrival

    @property
    def business_days(self) -> tuple[int, int]:
        """From today to arrival (Stripe's delivery estimate): production plus transit."""
        low, high = self.rate.transit_days
        return self.production_days + low, self.production_days + high


def rates() -> tuple[Rate, ...]:
    """The shop's rates, standard first (Checkout preselects the first)."""
    cfg = settings()
    return (
        Rate(
            "standard",
            "Standard shipping",
            cfg.shipping_standard_cents,
            cfg.shipping_free_over_cents,
            cfg.shipping_standard_days,
        ),
        Rate("rush", "Rush shipping", cfg.shipping_rush_cents, None, cfg.shipping_rush_days),
    )


def rate_named(rate_id: str | None) -> Rate | None:
    return next((rate for rate in rates() if rate.id == rate_id), None)


# Dates.


def _now() -> datetime:
    return datetime.now(UTC)


clock: Callable[[], datetime] = _now  # tests set a fixed one


def _zone() -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = settings().shop_timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown SHOP_TIMEZONE, counting days in UTC", timezone=name)
        return UTC


def today(now: datetime | None = None) -> date:
    """The shop's date at `now` (default: `SHOP_TODAY` if set, else the clock's)."""
    if now is None:
        fixed = settings().shop_today
        if fixed is not None:
            return fixed
        now = clock()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(_zone()).date()


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, days: int, holidays: Iterable[date] | None = None) -> date:
    """The `days`-th business day after `start` (`start` itself for 0)."""
    closed = set(settings().business_holidays if holidays is None else holidays)
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_business_day(day, closed):
            days -= 1
    return day


def arrival(production_days: int, rate: Rate, start: date) -> Arrival:
    """When an order made in `production_days` from `start` arrives at `rate`."""
    low, high = rate.transit_days
    return _arrival(start, production_days, low, high, settings().business_holidays)


@functools.lru_cache(maxsize=256)
def _arrival(start: date, production: int, low: int, high: int, closed: frozenset[date]) -> Arrival:
    """Counted day by day once per day, production time and transit: every order read and
    the catalog show the same few."""
    shipped = add_business_days(start, production, closed)
    return Arrival(
        add_business_days(shipped, low, closed), add_business_days(shipped, high, closed)
    )


def options(
    subtotal_cents: int, production_days: int, *, now: datetime | None = None
) -> list[Option]:
    """Every rate for an order of `subtotal_cents` made in `production_days`, from today."""
    start = today(now)
    return [
        Option(
            rate, rate.price(subtotal_cents), production_days, arrival(production_days, rate, start)
        )
        for rate in rates()
    ]


# What Checkout reports.


def _amount(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def shipping_paid(session: Mapping[str, Any]) -> int | None:
    """What a Checkout Session charged for shipping: 0 when it reports none, None when what it
    reports is not an amount (the session then does not add up)."""
    cost = session.get("shipping_cost")
    if cost is None:
        return 0
    return _amount(cost.get("amount_total")) if isinstance(cost, Mapping) else None


def charged(session: Mapping[str, Any], subtotal_cents: int) -> ShippingCharge | None:
    """The rate the shopper chose on a paid Checkout Session for items of `subtotal_cents`, or
    None when it reports no shipping. Stripe names the rate only by its own id (`shr_...`), so
    ours is the one of that price (rush always costs more than standard)."""
    cost = session.get("shipping_cost")
    amount = shipping_paid(session)
    if not isinstance(cost, Mapping) or amount is None:
        return None
    reported = cost.get("shipping_rate")
    stripe_id = reported.get("id") if isinstance(reported, Mapping) else reported
    chosen = next((rate for rate in rates() if rate.price(subtotal_cents) == amount), None)
    name = chosen.name if chosen else None
    if chosen is None and isinstance(reported, Mapping):  # expanded: it names itself
        shown = reported.get("display_name")
        name = shown[:100] if isinstance(shown, str) else None
    return ShippingCharge(
        rate_id=chosen.id if chosen else None,
        name=name,
        amount_cents=amount,
        stripe_rate_id=stripe_id[:255] if isinstance(stripe_id, str) else None,
    )
