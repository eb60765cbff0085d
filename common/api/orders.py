"""The JSON of orders: the request models routes validate, and an order as a response.

The domain works on `common.shop.order_store.Order`; `order_out` turns one into the JSON the
storefront reads (with product names, savings and the next quantity tier of a draft).
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from common.core.text import DEFAULT_MAX_CHARS, normalize_text
from common.effects import print_links
from common.shop import catalog, orders
from common.shop.lifecycle import Status
from common.shop.order_store import Choice, Item, Order, Summary
from common.shop.pricing import NextTier

SizeCode = Annotated[str, StringConstraints(min_length=1, max_length=16)]
Quantity = Annotated[StrictInt, Field(ge=1, le=orders.MAX_PER_SIZE)]


class DraftItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: str = Field(min_length=1, max_length=64)
    design_id: str | None = Field(default=None, min_length=1, max_length=64)
    color: str = Field(min_length=1, max_length=40)
    sizes: dict[SizeCode, Quantity] = Field(min_length=1, max_length=8)

    def choice(self) -> Choice:
        return Choice(self.product_id, self.design_id, self.color, dict(self.sizes))


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str | None = Field(default=None, max_length=64)
    items: list[DraftItemIn] = Field(max_length=orders.MAX_ITEMS)


# The size assistant reads a message whole up to this many characters: the local parser's
# cap (`normalize_text`'s default), which the OpenAI adapter shares. A longer message is
# refused here, never cut short there.
MAX_ASSISTANT_MESSAGE = DEFAULT_MAX_CHARS


class AssistantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(max_length=64)
    item: StrictInt = Field(ge=0, lt=orders.MAX_ITEMS, description="index of the item")
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


class OrderIdIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=64)


class SizePriceOut(BaseModel):
    size: str
    quantity: int
    upcharge_cents: int
    unit_price_cents: int


class NextTierOut(BaseModel):
    min_quantity: int
    unit_price_cents: int
    pieces_to_go: int
    saving_per_piece_cents: int


class MockupsOut(BaseModel):
    front: str | None
    back: str | None


class OrderItemOut(BaseModel):
    product_id: str
    product_name: str
    design_id: str | None
    design_version: int | None = Field(
        description="the design version this line is made of (frozen once checkout starts)"
    )
    color: str
    sizes: dict[str, int]
    quantity: int
    tier_min_quantity: int
    unit_price_cents: int
    line_total_cents: int
    list_total_cents: int
    savings_cents: int
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


class TrackingOut(BaseModel):
    carrier: str | None
    number: str
    url: str | None


class EventOut(BaseModel):
    at: datetime
    status: Status
    cause: str = Field(description="shopper, ops, or the Stripe event (stripe:evt_...)")
    detail: str


class OrderOut(BaseModel):
    id: str
    status: Status
    items: list[OrderItemOut]
    quantity: int
    subtotal_cents: int
    savings_cents: int
    total_cents: int
    refunded_cents: int
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    tracking: TrackingOut | None = Field(description="set once the order has shipped")
    events: list[EventOut] = Field(description="every status the order took, oldest first")


class OrderListOut(BaseModel):
    orders: list[Summary]


class AssistantOut(BaseModel):
    reply: str
    understood: bool
    order: OrderOut


def _item_out(item: Item, next_tier: NextTier | None) -> OrderItemOut:
    product = catalog.catalog().product(item.product_id)
    return OrderItemOut(
        product_id=item.product_id,
        product_name=product.name if product else item.product_id,
        design_id=item.design_id,
        design_version=item.design_version,
        color=item.color,
        sizes=item.size_map,
        quantity=item.quantity,
        tier_min_quantity=item.tier_min_quantity,
        unit_price_cents=item.unit_price_cents,
        line_total_cents=item.line_total_cents,
        list_total_cents=item.list_total_cents,
        savings_cents=item.list_total_cents - item.line_total_cents,
        size_prices=[
            SizePriceOut(
                size=s.size,
                quantity=s.quantity,
                upcharge_cents=s.unit_price_cents - item.unit_price_cents,
                unit_price_cents=s.unit_price_cents,
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
        next_tier=NextTierOut(**dataclasses.asdict(next_tier)) if next_tier else None,
    )


def order_out(order: Order) -> OrderOut:
    items = [
        _item_out(item, hint)
        for item, hint in zip(order.items, orders.next_tiers(order), strict=True)
    ]
    return OrderOut(
        id=order.id,
        status=order.status,
        items=items,
        quantity=sum(i.quantity for i in items),
        subtotal_cents=order.subtotal_cents,
        savings_cents=sum(i.savings_cents for i in items),
        total_cents=order.total_cents,
        refunded_cents=order.refunded_cents,
        currency=order.currency,
        version=order.version,
        created_at=order.created_at,
        updated_at=order.updated_at,
        paid_at=order.paid_at,
        tracking=TrackingOut(**dataclasses.asdict(order.tracking)) if order.tracking else None,
        events=[EventOut(**dataclasses.asdict(event)) for event in order.events],
    )


def list_out(summaries: list[Summary]) -> OrderListOut:
    return OrderListOut(orders=summaries)
