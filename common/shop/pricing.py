"""Pricing, as a pure module: integer cents in, integer cents out, no I/O.

A piece costs the product's price at its quantity tier plus the upcharge of its size (2XL and
up). The tier is decided by the total quantity of one design on one product across all sizes
(and across colors, when the same design is ordered in several), as apparel shops price it.
Below the first tier the base price applies.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    min_quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class PriceList:
    base_price_cents: int
    upcharges: Mapping[str, int]
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        if self.base_price_cents < 0 or any(v < 0 for v in self.upcharges.values()):
            raise ValueError("prices must not be negative")
        ordered = sorted(self.tiers, key=lambda t: t.min_quantity)
        prices = [self.base_price_cents] + [t.unit_price_cents for t in ordered]
        if any(later > earlier for earlier, later in itertools.pairwise(prices)):
            raise ValueError("a higher tier must never cost more per piece")
        object.__setattr__(self, "tiers", tuple(ordered))

    def tier(self, quantity: int) -> Tier:
        """The tier that `quantity` pieces reach (the base price below the first tier)."""
        reached = [t for t in self.tiers if quantity >= t.min_quantity]
        return reached[-1] if reached else Tier(1, self.base_price_cents)

    def next_tier(self, quantity: int) -> Tier | None:
        return next((t for t in self.tiers if t.min_quantity > quantity), None)


@dataclass(frozen=True)
class SizePrice:
    size: str
    quantity: int
    upcharge_cents: int
    unit_price_cents: int
    total_cents: int


@dataclass(frozen=True)
class NextTier:
    min_quantity: int
    unit_price_cents: int
    pieces_to_go: int
    saving_per_piece_cents: int


@dataclass(frozen=True)
class LinePrice:
    quantity: int
    tier_quantity: int
    tier: Tier
    unit_price_cents: int
    sizes: tuple[SizePrice, ...]
    line_total_cents: int
    list_total_cents: int
    savings_cents: int
    next_tier: NextTier | None


@dataclass(frozen=True)
class OrderPrice:
    lines: tuple[LinePrice, ...]
    subtotal_cents: int
    savings_cents: int
    total_cents: int


def price_line(
    prices: PriceList, sizes: Mapping[str, int], tier_quantity: int | None = None
) -> LinePrice:
    """Price one item. `tier_quantity` (default: the item's own) decides its tier."""
    if any(q <= 0 for q in sizes.values()):
        raise ValueError("every size needs a positive quantity")
    quantity = sum(sizes.values())
    counted = quantity if tier_quantity is None else tier_quantity
    if counted < quantity:
        raise ValueError("the tier quantity includes the item's own pieces")
    tier = prices.tier(counted)
    size_prices = tuple(
        SizePrice(
            size=size,
            quantity=q,
            upcharge_cents=prices.upcharges.get(size, 0),
            unit_price_cents=tier.unit_price_cents + prices.upcharges.get(size, 0),
            total_cents=q * (tier.unit_price_cents + prices.upcharges.get(size, 0)),
        )
        for size, q in sizes.items()
    )
    line_total = sum(s.total_cents for s in size_prices)
    list_total = sum(s.quantity * (prices.base_price_cents + s.upcharge_cents) for s in size_prices)
    upcoming = prices.next_tier(counted)
    return LinePrice(
        quantity=quantity,
        tier_quantity=counted,
        tier=tier,
        unit_price_cents=tier.unit_price_cents,
        sizes=size_prices,
        line_total_cents=line_total,
        list_total_cents=list_total,
        savings_cents=list_total - line_total,
        next_tier=None
        if upcoming is None
        else NextTier(
            min_quantity=upcoming.min_quantity,
            unit_price_cents=upcoming.unit_price_cents,
            pieces_to_go=upcoming.min_quantity - counted,
            saving_per_piece_cents=tier.unit_price_cents - upcoming.unit_price_cents,
        ),
    )


def price_order(items: Sequence[tuple[PriceList, Mapping[str, int], Hashable]]) -> OrderPrice:
    """Price every item; items with the same group key (product + design) share one tier."""
    group_totals: dict[Hashable, int] = defaultdict(int)
    for _, sizes, group in items:
        group_totals[group] += sum(sizes.values())
    lines = tuple(price_line(prices, sizes, group_totals[group]) for prices, sizes, group in items)
    subtotal = sum(line.line_total_cents for line in lines)
    return OrderPrice(
        lines=lines,
        subtotal_cents=subtotal,
        savings_cents=sum(line.savings_cents for line in lines),
        total_cents=subtotal,
    )


CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}


def money(cents: int, currency: str) -> str:
    """`$1,234.50`; currencies without a symbol here read `1,234.50 CHF`."""
    sign = "-" if cents < 0 else ""
    amount = f"{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency.upper()}"
