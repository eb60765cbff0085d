"""The JSON of orders: the request models routes validate, and an order as a response.

The domain works on `common.shop.order_store.Order`; `order_out` turns one into the JSON the
storefront reads (with product names, savings and the next quantity tier of a draft).

Every sum the storefront shows can be checked from the JSON alone:
- a size: `quantity x unit_price_cents = total_cents`, `unit_price_cents = tier + upcharge_cents`;
- an item: `pieces x tier_unit_price_cents + upcharges_cents = line_total_cents` (and the sizes'
  `total_cents` add up to it); `pieces x list_unit_price_cents + upcharges_cents =
  list_total_cents`, and `list_total_cents - line_total_cents = savings_cents`;
- the order: the items' `line_total_cents` add up to `subtotal_cents`; `subtotal_cents +
  (shipping_cents or 0) = total_cents`; each of `shipping_options`: `subtotal_cents +
  amount_cents = total_cents`.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import ConfigDict, Field, StrictInt, StringConstraints, field_validator

from common.core.model import Model
from common.core.text import DEFAULT_MAX_CHARS, normalize_text
from common.shop.lifecycle import MAX_ITEMS, MAX_PER_SIZE, Status

# The models need none of the domain: a function whose routes answer with an order loads it
# (catalog, pricing, the order store) on its first order, not at start (issue 16).
if TYPE_CHECKING:
    from common.shop import delivery
    from common.shop.order_store import Choice, Item, Order, Summary
    from common.shop.pricing import NextTier

SizeCode = Annotated[str, StringConstraints(min_length=1, max_length=16)]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_PER_SIZE)]


class DraftItemIn(Model):
    model_config = ConfigDict(extra="forbid")
    product_id: str = Field(min_length=1, max_length=64)
    design_id: str | None = Field(default=None, min_length=1, max_length=64)
    color: str = Field(min_length=1, max_length=40)
    sizes: dict[SizeCode, Quantity] = Field(min_length=1, max_length=8)

    def choice(self) -> Choice:
        from common.shop.order_store import Choice

        return Choice(self.product_id, self.design_id, self.color, dict(self.sizes))


class DraftIn(Model):
    model_config = ConfigDict(extra="forbid")
    order_id: str | None = Field(default=None, max_length=64)
    items: list[DraftItemIn] = Field(max_length=MAX_ITEMS)


# The size assistant reads a message whole up to this many characters: the local parser's
# cap (`normalize_text`'s default), which the OpenAI adapter shares. A longer message is
# refused here, never cut short there.
MAX_ASSISTANT_MESSAGE = DEFAULT_MAX_CHARS


class AssistantIn(Model):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(max_length=64)
    item: StrictInt = Field(ge=0, lt=MAX_ITEMS, description="index of the item")
    message: str = Field(min_length=1, max_length=MAX_ASSISTANT_MESSAGE)

    @field_validator("message")
    @classmethod
    def _read_whole(cls, message: str) -> str:
        """The message as the assistant reads it (normalised) must fit too: a few characters
        (an ellipsis, a ligature) read as several."""
        if len(normalize_text(message, max_chars=sys.maxsize)) > MAX_ASSISTANT_MESSAGE:
            raise ValueError(
                f"String should have at most {MAX_ASSISTANT_MESSAGE} characters"
                " (some, like an ellipsis, count as several)"
            )
        return message


class OrderIdIn(Model):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=64)


class SizePriceOut(Model):
    size: str
    quantity: int
    upcharge_cents: int = Field(description="per piece, on top of the tier price")
    unit_price_cents: int = Field(description="the tier price plus the upcharge")
    total_cents: int = Field(description="quantity x unit_price_cents")


class NextTierOut(Model):
    min_quantity: int
    unit_price_cents: int
    pieces_to_go: int
    saving_per_piece_cents: int


class MockupsOut(Model):
    front: str | None
    back: str | None


class OrderItemOut(Model):
    product_id: str
    product_name: str
    design_id: str | None
    design_version: int | None = Field(
        description="the design version this line is made of (frozen once checkout starts)"
    )
    color: str
    sizes: dict[str, int]
    quantity: int
    pieces: int = Field(description="the item's pieces, every size (= quantity)")
    tier_min_quantity: int
    unit_price_cents: int
    tier_unit_price_cents: int = Field(
        description="a piece's price at the item's quantity tier (= unit_price_cents)"
    )
    upcharges_cents: int = Field(description="the sizes' upcharges times their pieces, summed")
    line_total_cents: int = Field(description="pieces x tier_unit_price_cents + upcharges_cents")
    list_unit_price_cents: int = Field(description="a piece's price below the first tier")
    list_total_cents: int = Field(description="pieces x list_unit_price_cents + upcharges_cents")
    savings_cents: int = Field(description="list_total_cents - line_total_cents")
    size_prices: list[SizePriceOut]
    mockups: MockupsOut | None = Field(
        description="the design's rendered mockups, when the item has a design"
    )
    print_files: dict[str, str] = Field(
        description="side -> the 300 DPI print file (opens with the ops token), once paid"
    )
    next_tier: NextTierOut | None = Field(
        description="the next quantity tier of this design, while the order is a draft"
    )


class ArrivalOut(Model):
    earliest: date
    latest: date


class ShippingOptionOut(Model):
    """A rate the order may choose on Checkout, priced for it by the server."""

    id: str = Field(description="standard or rush")
    name: str
    amount_cents: int = Field(description="0 when free")
    total_cents: int = Field(description="subtotal_cents + amount_cents: what Checkout charges")
    arrives: ArrivalOut = Field(description="if paid today: production, then transit")


class ShippingOut(Model):
    """The rate the shopper chose on Checkout, once paid."""

    id: str | None = Field(description="standard or rush; null when it is none of ours")
    name: str | None
    amount_cents: int
    arrives: ArrivalOut | None = Field(description="counted from the day it was paid")


class TrackingOut(Model):
    carrier: str | None
    number: str
    url: str | None


class EventOut(Model):
    at: datetime
    status: Status
    cause: str = Field(description="shopper, ops, or the Stripe event (stripe:evt_...)")
    detail: str


class RosterPieceOut(Model):
    """An entry of the group an order was made from: who it is for and what its back prints."""

    member_name: str
    size: str
    quantity: int
    print_name: str | None
    print_number: str | None
    print_file: str | None = Field(
        description="the piece's own back print (opens with the ops token), once made"
    )


class OrderOut(Model):
    id: str
    number: str = Field(description="the order's number as people read it: AUR-10482")
    status: Status
    items: list[OrderItemOut]
    quantity: int
    subtotal_cents: int = Field(description="the items' line totals, summed")
    savings_cents: int
    shipping_cents: int | None = Field(
        description="what shipping cost, once paid (null before, or when none was charged)"
    )
    total_cents: int = Field(description="subtotal_cents + shipping_cents")
    refunded_cents: int
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    tracking: TrackingOut | None = Field(description="set once the order has shipped")
    events: list[EventOut] = Field(description="every status the order took, oldest first")
    production_days: int = Field(description="business days to make it: its slowest product's")
    shipping_options: list[ShippingOptionOut] = Field(
        description="the rates Checkout offers, while the order is not paid (none when empty)"
    )
    shipping: ShippingOut | None = Field(description="the rate chosen on Checkout, once paid")
    roster: list[RosterPieceOut] = Field(
        description="an order made from a group order: its entries (none otherwise)"
    )


class SummaryOut(Model):
    id: str
    status: Status
    quantity: int
    item_count: int
    total_cents: int
    currency: str
    created_at: datetime
    paid_at: datetime | None
    number: str


class OrderListOut(Model):
    orders: list[SummaryOut]


class AssistantOut(Model):
    reply: str
    understood: bool
    order: OrderOut


def _arrival(arrival: delivery.Arrival) -> ArrivalOut:
    return ArrivalOut(earliest=arrival.earliest, latest=arrival.latest)


def _item_out(item: Item, next_tier: NextTier | None) -> OrderItemOut:
    from common.effects import print_links
    from common.shop import catalog

    product = catalog.catalog().product(item.product_id)
    upcharges = sum(s.quantity * (s.unit_price_cents - item.unit_price_cents) for s in item.sizes)
    return OrderItemOut(
        product_id=item.product_id,
        product_name=product.name if product else item.product_id,
        design_id=item.design_id,
        design_version=item.design_version,
        color=item.color,
        sizes=item.size_map,
        quantity=item.quantity,
        pieces=item.quantity,
        tier_min_quantity=item.tier_min_quantity,
        unit_price_cents=item.unit_price_cents,
        tier_unit_price_cents=item.unit_price_cents,
        upcharges_cents=upcharges,
        line_total_cents=item.line_total_cents,
        # Exact: the list total is pieces x the base price plus the same upcharges.
        list_unit_price_cents=(item.list_total_cents - upcharges) // max(item.quantity, 1),
        list_total_cents=item.list_total_cents,
        savings_cents=item.list_total_cents - item.line_total_cents,
        size_prices=[
            SizePriceOut(
                size=s.size,
                quantity=s.quantity,
                upcharge_cents=s.unit_price_cents - item.unit_price_cents,
                unit_price_cents=s.unit_price_cents,
                total_cents=s.quantity * s.unit_price_cents,
            )
            for s in item.sizes
        ],
        print_files={
            side: print_links.path(item.design_id, item.design_version, side)
            for side in item.printed_sides
            if item.design_id and item.design_version
        },
        mockups=MockupsOut(front=item.mockup_front, back=item.mockup_back)
        if item.design_id
        else None,
        next_tier=NextTierOut(
            min_quantity=next_tier.min_quantity,
            unit_price_cents=next_tier.unit_price_cents,
            pieces_to_go=next_tier.pieces_to_go,
            saving_per_piece_cents=next_tier.saving_per_piece_cents,
        )
        if next_tier
        else None,
    )


def _shipping_out(order: Order) -> ShippingOut | None:
    from common.shop import orders

    if order.shipping is None:
        return None
    arrives = orders.arrival(order)
    return ShippingOut(
        id=order.shipping.rate_id,
        name=order.shipping.name,
        amount_cents=order.shipping.amount_cents,
        arrives=_arrival(arrives) if arrives else None,
    )


def order_out(order: Order, now: datetime | None = None) -> OrderOut:
    """The order as the storefront reads it; its shipping options arrive from `now` (default:
    today)."""
    from common.effects import print_links
    from common.shop import orders

    items = [
        _item_out(item, hint)
        for item, hint in zip(order.items, orders.next_tiers(order), strict=True)
    ]
    return OrderOut(
        id=order.id,
        number=order.number,
        status=order.status,
        items=items,
        quantity=sum(i.quantity for i in items),
        subtotal_cents=order.subtotal_cents,
        savings_cents=sum(i.savings_cents for i in items),
        shipping_cents=order.shipping.amount_cents if order.shipping else None,
        total_cents=order.total_cents,
        refunded_cents=order.refunded_cents,
        currency=order.currency,
        version=order.version,
        created_at=order.created_at,
        updated_at=order.updated_at,
        paid_at=order.paid_at,
        tracking=TrackingOut(
            carrier=order.tracking.carrier, number=order.tracking.number, url=order.tracking.url
        )
        if order.tracking
        else None,
        events=[
            EventOut(at=event.at, status=event.status, cause=event.cause, detail=event.detail)
            for event in order.events
        ],
        production_days=orders.production_days(order),
        shipping_options=[
            ShippingOptionOut(
                id=option.rate.id,
                name=option.rate.name,
                amount_cents=option.amount_cents,
                total_cents=order.subtotal_cents + option.amount_cents,
                arrives=_arrival(option.arrives),
            )
            for option in orders.shipping_options(order, now)
        ],
        shipping=_shipping_out(order),
        roster=[
            RosterPieceOut(
                member_name=piece.member_name,
                size=piece.size,
                quantity=piece.quantity,
                print_name=piece.print_name,
                print_number=piece.print_number,
                print_file=print_links.path_of(piece.object_key) if piece.object_key else None,
            )
            for piece in order.roster
        ],
    )


def list_out(summaries: list[Summary]) -> OrderListOut:
    return OrderListOut(orders=[SummaryOut(**dataclasses.asdict(s)) for s in summaries])
