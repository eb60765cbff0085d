"""Design ideas for a product: a few briefs the design assistant makes from the day's themes,
each drawn on the product by the image provider, kept per product and day.

The product page and the empty studio show them (`GET /api/suggestions`); a click opens the
studio with the idea's brief. The first request of a product's day makes them (the assistant,
the artwork and the mockups: the slow part, once); every other request that day reads them
from the state backend.
"""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

from pydantic import Field

from common.core import errors
from common.core.model import Model
from common.infra import log, state
from common.studio.briefs import Brief, ready

# The assistant, the catalog and the mockups load on the first request for ideas: the `chat`
# function starts on the models alone (issue 16).
if TYPE_CHECKING:
    from common.shop import catalog

IDEAS_PER_PRODUCT = 3
COLLECTION = "suggestions"
KEPT_SECONDS = 2 * 24 * 3600  # a day's ideas outlive the day by one, then go
# What a shopper might ask the assistant for; the day picks a few for each product.
THEMES = (
    "a neon tiger on the back and 'Night Shift' on the front",
    "a retro sunset with 'Good Vibes' below it",
    "a minimal mountain with 'Take a Hike' under it",
    "a vintage anchor with 'Salt Life' below it",
    "'Coffee First' above a bold coffee cup",
    "a watercolor butterfly",
    "a pixel ghost with 'Game Over' under it",
    "a geometric wolf on the back",
    "a grunge skull with 'Stay Loud' below it",
    "a bold rocket with 'To The Moon' under it",
    "a small red heart on the chest",
    "a minimal cactus with 'Stay Sharp' below it",
    "a vintage eagle with 'Est. 2026' under it",
    "a bold lightning bolt with 'Full Power' above it",
)


class Suggestion(Model):
    title: str = Field(description="the idea, as a shopper would ask the assistant for it")
    brief: Brief = Field(description="what the studio opens with when the idea is picked")
    mockup: str = Field(description="URL of the mockup PNG of the side the idea is printed on")
    side: str = Field(description="front or back: the side `mockup` shows")


class SuggestionsOut(Model):
    product_id: str
    day: date = Field(description="the shop's day these ideas are for; tomorrow brings others")
    suggestions: list[Suggestion]


class SuggestionsQuery(Model):
    product_id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")


def themes_of(product_id: str, day: date) -> list[str]:
    """The day's themes for a product: the same all day, others the next."""
    return random.Random(f"{product_id}:{day.isoformat()}").sample(THEMES, IDEAS_PER_PRODUCT)


def _idea(product: catalog.Product, theme: str, index: int) -> Suggestion | None:
    """One idea: the assistant's brief for `theme` on the product (in one of its colours), and
    its mockup; None when the assistant did not make a brief of it."""
    from common.providers.assistant import assistant
    from common.studio import designs

    color = product.colors[(index + 1) % len(product.colors)]
    message = f"a {color.name.lower()} {product.name.lower()} with {theme}"
    turn = assistant().respond([], message, Brief(), None)
    if not ready(turn.brief) or turn.brief.product_id != product.id:
        log.warning("suggestion not understood", product_id=product.id, theme=theme)
        return None
    side = turn.brief.image.area if turn.brief.image else turn.brief.texts[0].area
    return Suggestion(
        title=theme[0].upper() + theme[1:],
        brief=turn.brief,
        mockup=designs.preview(turn.brief, side),
        side=side,
    )


def suggestions(product_id: str) -> SuggestionsOut:
    """The day's ideas for `product_id` (a 422 for a product we do not sell), made on the
    day's first request and read from the state backend after."""
    from common.shop import catalog, delivery

    product = catalog.product_named(product_id, field="product_id")
    day = delivery.today()
    doc_id = f"{product.id}:{day.isoformat()}"
    stored = state.backend().get(COLLECTION, doc_id)
    if stored is not None:
        return SuggestionsOut.model_validate(stored)
    ideas: list[Suggestion] = []
    failed = False
    for index, theme in enumerate(themes_of(product.id, day)):
        try:
            idea = _idea(product, theme, index)
        except errors.UpstreamError:
            failed = True  # the assistant or the image model: the next request tries again
            continue
        if idea is not None:
            ideas.append(idea)
    if not ideas and failed:
        raise errors.UpstreamError(
            "the design ideas could not be made just now; try again shortly",
            code="suggestions_failed",
        )
    out = SuggestionsOut(product_id=product.id, day=day, suggestions=ideas)
    if not failed:
        state.backend().put(
            COLLECTION, doc_id, out.model_dump(mode="json"), ttl_seconds=KEPT_SECONDS
        )
    return out
