"""The size assistant: what a shopper types about an item's sizes, turned into its new sizes.

OpenAI interprets the message when `OPENAI_API_KEY` is set, or the local OpenAI endpoint with
`AUREN_VENDORS=realistic` (falling back to the local parser on any failure); otherwise the
local parser alone (`common.shop.sizes.interpret`). Only a
draft's item changes, and only when the message was understood.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from common.core import errors
from common.core.caller import Session
from common.infra.config import settings
from common.providers.local import vendors
from common.providers.sizes_openai import interpret_with_openai
from common.shop import catalog, orders
from common.shop.lifecycle import OrderNotEditable, Status
from common.shop.order_store import Order
from common.shop.sizes import SizeUpdate, interpret


def assistant(message: str, *, available: Sequence[str], current: Mapping[str, int]) -> SizeUpdate:
    """The size assistant: OpenAI when `OPENAI_API_KEY` is set (falling back to the local
    parser on any failure), else the local parser."""
    if settings().openai_api_key or vendors.realistic():
        return interpret_with_openai(message, available=available, current=current)
    return interpret(message, available=available, current=current)


@dataclass(frozen=True)
class Answer:
    reply: str
    understood: bool
    order: Order


def ask(session: Session | None, order_id: str, index: int, message: str) -> Answer:
    """Apply the shopper's words about sizes to item `index`, or ask back and change nothing."""
    order = orders.get_order(session, order_id)
    assert session is not None
    if order.status != Status.DRAFT:
        raise OrderNotEditable(f"this order is {order.status} and can no longer be changed")
    if index >= len(order.items):
        raise errors.Unprocessable(
            f"this order has {len(order.items)} item(s)", code="unknown_item", field="item"
        )
    item = order.items[index]
    product = catalog.catalog().product(item.product_id)
    if product is None:
        raise OrderNotEditable("this product is no longer sold")
    update = assistant(message, available=product.sizes, current=item.size_map)
    if update.sizes is None:
        return Answer(update.reply, understood=False, order=order)
    if not update.sizes:
        return Answer(
            "That would leave no pieces on this item. Which sizes should stay?",
            understood=False,
            order=order,
        )
    choices = [i.choice for i in order.items]
    choices[index] = dataclasses.replace(choices[index], sizes=update.sizes)
    saved = orders.save_draft(session, order.id, choices, expected_version=order.version)
    return Answer(update.reply, understood=True, order=saved)
