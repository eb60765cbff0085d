"""The `orders` function: the catalog, bulk order drafts, the size assistant and group orders."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from common.infra import config
from common.shop.catalog import catalog_out
from common.web import sessions
from common.web.http import PUBLIC_CACHE, Call, Router
from common.web.ratelimits import RateLimit

# The order and group models and domains (their stores, pricing) load on the first request
# that needs them, not at start (issue 16): a route's models come from a function that imports
# them. The catalog is what a storefront asks for first: it is answered without pydantic.
if TYPE_CHECKING:
    from common.api.groups import GroupOut, RosterOut
    from common.api.orders import AssistantOut, OrderListOut, OrderOut
    from common.shop.group_store import Entry
    from common.shop.groups import Target

config.require("GCS_BUCKET")  # a group entry's back preview is stored there
router = Router()
ASSISTANT_LIMIT = 30  # messages a minute per client: each may call the language model
# Group orders, per client: a few groups an hour, a roster polled every few seconds, entries
# at a person's pace (each personalized one draws a mockup).
GROUP_CREATE_LIMIT = RateLimit("groups_create", 20, 3600)
GROUP_READ_LIMIT = RateLimit("groups_read", 120, 60)
GROUP_ENTRY_LIMIT = RateLimit("groups_entries", 30, 60)
GROUP_CLOSE_LIMIT = RateLimit("groups_close", 10, 60)


def _catalog_api() -> ModuleType:
    """The catalog's JSON schema: only for the OpenAPI document (the catalog is plain JSON)."""
    from common.api import catalog

    return catalog


def _orders_api() -> ModuleType:
    """The order models: on the first request of a route that has them."""
    from common.api import orders

    return orders


def _groups_api() -> ModuleType:
    """The group order models: on the first request of a route that has them."""
    from common.api import groups

    return groups


@router.route("GET", "/api/catalog", response=lambda: _catalog_api().CatalogOut, cache=PUBLIC_CACHE)
def get_catalog(call: Call) -> dict[str, Any]:
    """The active products with colors, sizes, print areas, price tiers, production time and
    size charts; the shipping rates, and when each product arrives at each if ordered today."""
    return catalog_out()


@router.route(
    "POST",
    "/api/orders/draft",
    body=lambda: _orders_api().DraftIn,
    response=lambda: _orders_api().OrderOut,
)
def save_draft(call: Call) -> OrderOut:
    """Create a draft, or replace the items of the caller's draft (`order_id`)."""
    from common.api.orders import order_out
    from common.shop import orders as order_domain

    session = sessions.ensure(call)
    choices = [item.choice() for item in call.body.items]
    return order_out(order_domain.save_draft(session, call.body.order_id, choices))


@router.route(
    "POST",
    "/api/orders/assistant",
    body=lambda: _orders_api().AssistantIn,
    response=lambda: _orders_api().AssistantOut,
    errors=(429,),
    rate_limit=RateLimit("sizes_assistant", ASSISTANT_LIMIT, 60),
)
def ask_assistant(call: Call) -> AssistantOut:
    """Set an item's sizes from free text ("10 M, 5 L and 3 XL"), or ask back."""
    from common.api.orders import AssistantOut, order_out
    from common.shop import size_assistant  # the size parser: on its first message

    body = call.body
    answer = size_assistant.ask(
        sessions.current(call.request), body.order_id, body.item, body.message
    )
    return AssistantOut(
        reply=answer.reply, understood=answer.understood, order=order_out(answer.order)
    )


@router.route("GET", "/api/orders", response=lambda: _orders_api().OrderListOut)
def list_orders(call: Call) -> OrderListOut:
    """The signed-in shopper's orders, newest first."""
    from common.api.orders import list_out
    from common.shop import orders as order_domain

    return list_out(order_domain.list_orders(sessions.require_user(call)))


@router.route("GET", "/api/orders/<order_id>", response=lambda: _orders_api().OrderOut)
def get_order(call: Call) -> OrderOut:
    """One of the caller's orders."""
    from common.api.orders import order_out
    from common.shop import orders as order_domain

    order = order_domain.get_order(sessions.current(call.request), call.params["order_id"])
    return order_out(order)


@router.route(
    "POST",
    "/api/orders/<order_id>/reorder",
    response=lambda: _orders_api().OrderOut,
    status=201,
    errors=(409, 422),
)
def reorder(call: Call) -> OrderOut:
    """A new draft with the items of one of the caller's orders (any status): each design's
    latest version, at today's prices."""
    from common.api.orders import order_out
    from common.shop import orders as order_domain

    order = order_domain.reorder(sessions.current(call.request), call.params["order_id"])
    return order_out(order)


@router.route(
    "POST",
    "/api/groups",
    body=lambda: _groups_api().GroupIn,
    response=lambda: _groups_api().RosterOut,
    status=201,
    errors=(429,),
    rate_limit=GROUP_CREATE_LIMIT,
)
def create_group(call: Call) -> RosterOut:
    """Start a group order from one of the signed-in caller's designs; its share link is
    `share_url`."""
    from common.api.groups import roster_out
    from common.shop import groups

    return roster_out(groups.create(sessions.require_user(call), call.body.spec()))


@router.route(
    "GET",
    "/api/groups/<ref>",
    response=lambda: _groups_api().GroupRead,
    errors=(404, 429),
    rate_limit=GROUP_READ_LIMIT,
)
def read_group(call: Call) -> RosterOut | GroupOut:
    """By its id (`grp_...`), the organizer's roster; by its share token, a member's view."""
    from common.api.groups import group_out, roster_out
    from common.shop import groups

    ref = call.params["ref"]
    session = sessions.current(call.request)
    if groups.GROUP_ID.match(ref):
        return roster_out(groups.roster(session, ref))
    return group_out(groups.view(session, ref))


@router.route(
    "POST",
    "/api/groups/<group_id>/close",
    response=lambda: _groups_api().RosterOut,
    errors=(404, 409, 429),
    rate_limit=GROUP_CLOSE_LIMIT,
)
def close_group(call: Call) -> RosterOut:
    """Close the organizer's group: its roster becomes a draft order (`order_id`)."""
    from common.api.groups import roster_out
    from common.shop import groups

    return roster_out(groups.close(sessions.current(call.request), call.params["group_id"]))


def _preview(target: Target, entry: Entry) -> str | None:
    if not entry.personalized:
        return None
    from common.studio import personalization  # the imaging stack, only for a print to draw

    return personalization.back_preview(target, entry)


@router.route(
    "POST",
    "/api/groups/<token>/members",
    body=lambda: _groups_api().MemberIn,
    response=lambda: _groups_api().GroupOut,
    status=201,
    errors=(404, 409, 429),
    rate_limit=GROUP_ENTRY_LIMIT,
)
def join_group(call: Call) -> GroupOut:
    """Add the caller's entry (name, size, quantity, and a name and number to print)."""
    from common.api.groups import group_out
    from common.shop import groups

    session = sessions.ensure(call)
    token = call.params["token"]
    target = groups.target(session, token)
    entry = call.body.entry(target)
    return group_out(groups.join(session, token, entry, _preview(target, entry)))


@router.route(
    "PATCH",
    "/api/groups/<token>/members/<member_id>",
    body=lambda: _groups_api().MemberIn,
    response=lambda: _groups_api().GroupOut,
    errors=(404, 409, 429),
    rate_limit=GROUP_ENTRY_LIMIT,
)
def edit_group_entry(call: Call) -> GroupOut:
    """Change one of the caller's own entries."""
    from common.api.groups import group_out
    from common.shop import groups

    session = sessions.current(call.request)
    token, member_id = call.params["token"], call.params["member_id"]
    target = groups.target(session, token, member_id)
    entry = call.body.entry(target)
    return group_out(groups.edit(session, token, member_id, entry, _preview(target, entry)))


@router.route(
    "DELETE",
    "/api/groups/<token>/members/<member_id>",
    response=lambda: _groups_api().GroupOut,
    errors=(404, 409, 429),
    rate_limit=GROUP_ENTRY_LIMIT,
)
def remove_group_entry(call: Call) -> GroupOut:
    """Remove one of the caller's own entries."""
    from common.api.groups import group_out
    from common.shop import groups

    session = sessions.current(call.request)
    return group_out(groups.remove(session, call.params["token"], call.params["member_id"]))


@functions_framework.http
def orders(request: flask.Request) -> flask.Response:
    """Entry point of the `orders` Cloud Function."""
    return router(request)
