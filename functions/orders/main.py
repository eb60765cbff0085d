"""The `orders` function: the catalog, bulk order drafts and the size assistant."""

import flask
import functions_framework

from common import config, sessions, state
from common import orders as order_domain
from common.catalog import Catalog, catalog
from common.http import PUBLIC_CACHE, Call, Router

config.require()
router = Router()
ASSISTANT_LIMIT = 30  # messages a minute per client: each may call the language model


@router.route("GET", "/api/catalog", response=Catalog, cache=PUBLIC_CACHE)
def get_catalog(call: Call) -> Catalog:
    """The active products with colors, sizes, print areas and price tiers."""
    return catalog()


@router.route(
    "POST", "/api/orders/draft", body=order_domain.DraftIn, response=order_domain.OrderOut
)
def save_draft(call: Call) -> order_domain.OrderOut:
    """Create a draft, or replace the items of the caller's draft (`order_id`)."""
    session = sessions.ensure(call)
    return order_domain.save_draft(session, call.body.order_id, call.body.items)


@router.route(
    "POST",
    "/api/orders/assistant",
    body=order_domain.AssistantIn,
    response=order_domain.AssistantOut,
    errors=(429,),
)
def ask_assistant(call: Call) -> order_domain.AssistantOut:
    """Set an item's sizes from free text ("10 M, 5 L and 3 XL"), or ask back."""
    state.rate_limit("sizes_assistant", call.request, limit=ASSISTANT_LIMIT, window_seconds=60)
    return order_domain.ask_assistant(sessions.current(call.request), call.body)


@router.route("GET", "/api/orders", response=order_domain.OrderListOut)
def list_orders(call: Call) -> order_domain.OrderListOut:
    """The signed-in shopper's orders, newest first."""
    return order_domain.list_orders(sessions.require_user(call))


@router.route("GET", "/api/orders/<order_id>", response=order_domain.OrderOut)
def get_order(call: Call) -> order_domain.OrderOut:
    """One of the caller's orders."""
    return order_domain.get_order(sessions.current(call.request), call.params["order_id"])


@functions_framework.http
def orders(request: flask.Request) -> flask.Response:
    """Entry point of the `orders` Cloud Function."""
    return router(request)
