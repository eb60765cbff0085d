"""The `orders` function: the catalog, bulk order drafts and the size assistant."""

import flask
import functions_framework

from common.api.orders import (
    AssistantIn,
    AssistantOut,
    DraftIn,
    OrderListOut,
    OrderOut,
    list_out,
    order_out,
)
from common.infra import config
from common.shop import orders as order_domain
from common.shop.catalog import CatalogOut, catalog_out
from common.web import sessions
from common.web.http import PUBLIC_CACHE, Call, Router
from common.web.ratelimits import RateLimit

config.require()
router = Router()
ASSISTANT_LIMIT = 30  # messages a minute per client: each may call the language model


@router.route("GET", "/api/catalog", response=CatalogOut, cache=PUBLIC_CACHE)
def get_catalog(call: Call) -> CatalogOut:
    """The active products with colors, sizes, print areas, price tiers, production time and
    size charts; the shipping rates, and when each product arrives at each if ordered today."""
    return catalog_out()


@router.route("POST", "/api/orders/draft", body=DraftIn, response=OrderOut)
def save_draft(call: Call) -> OrderOut:
    """Create a draft, or replace the items of the caller's draft (`order_id`)."""
    session = sessions.ensure(call)
    choices = [item.choice() for item in call.body.items]
    return order_out(order_domain.save_draft(session, call.body.order_id, choices))


@router.route(
    "POST",
    "/api/orders/assistant",
    body=AssistantIn,
    response=AssistantOut,
    errors=(429,),
    rate_limit=RateLimit("sizes_assistant", ASSISTANT_LIMIT, 60),
)
def ask_assistant(call: Call) -> AssistantOut:
    """Set an item's sizes from free text ("10 M, 5 L and 3 XL"), or ask back."""
    from common.shop import size_assistant  # the size parser: on its first message

    body = call.body
    answer = size_assistant.ask(
        sessions.current(call.request), body.order_id, body.item, body.message
    )
    return AssistantOut(
        reply=answer.reply, understood=answer.understood, order=order_out(answer.order)
    )


@router.route("GET", "/api/orders", response=OrderListOut)
def list_orders(call: Call) -> OrderListOut:
    """The signed-in shopper's orders, newest first."""
    return list_out(order_domain.list_orders(sessions.require_user(call)))


@router.route("GET", "/api/orders/<order_id>", response=OrderOut)
def get_order(call: Call) -> OrderOut:
    """One of the caller's orders."""
    order = order_domain.get_order(sessions.current(call.request), call.params["order_id"])
    return order_out(order)


@router.route(
    "POST", "/api/orders/<order_id>/reorder", response=OrderOut, status=201, errors=(409, 422)
)
def reorder(call: Call) -> OrderOut:
    """A new draft with the items of one of the caller's orders (any status): each design's
    latest version, at today's prices."""
    order = order_domain.reorder(sessions.current(call.request), call.params["order_id"])
    return order_out(order)


@functions_framework.http
def orders(request: flask.Request) -> flask.Response:
    """Entry point of the `orders` Cloud Function."""
    return router(request)
