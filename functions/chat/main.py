"""The `chat` function: the design chat (POST /api/chat) and the design ideas shown beside it
(GET /api/suggestions)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import flask
import functions_framework

from common.infra import config
from common.web import sessions
from common.web.http import PUBLIC_CACHE, Call, Router
from common.web.ratelimits import RateLimit

# The chat and the ideas (their models, the studio) load on the first request that needs them:
# the function starts without pydantic (issue 16).
if TYPE_CHECKING:
    from common.studio.chat import ChatOut
    from common.studio.suggestions import SuggestionsOut

config.require("OPENAI_API_KEY", "GCS_BUCKET", "GOOGLE_CLOUD_PROJECT")
router = Router()

MESSAGES_PER_MINUTE = 20
SUGGESTION_READS_PER_MINUTE = 60


def _design_chat() -> ModuleType:
    from common.studio import chat

    return chat


def _suggestions() -> ModuleType:
    from common.studio import suggestions

    return suggestions


@router.route(
    "POST",
    "/api/chat",
    body=lambda: _design_chat().ChatIn,
    response=lambda: _design_chat().ChatOut,
    errors=(502, 504),
    rate_limit=RateLimit("chat", MESSAGES_PER_MINUTE, 60),
)
def send_message(call: Call) -> ChatOut:
    """Tell the design assistant what you want; get its reply, the brief, and the design when
    the conversation is about one (`design_id`) and the message changed it."""
    from common.studio import chat as design_chat

    return design_chat.converse(sessions.ensure(call), call.body)


@router.route(
    "GET",
    "/api/suggestions",
    query=lambda: _suggestions().SuggestionsQuery,
    response=lambda: _suggestions().SuggestionsOut,
    errors=(502, 504),
    cache=PUBLIC_CACHE,
    rate_limit=RateLimit("suggestions", SUGGESTION_READS_PER_MINUTE, 60),
)
def design_ideas(call: Call) -> SuggestionsOut:
    """Three or so design ideas for a product, made by the design assistant and the image
    provider once a day: each a title, the brief the studio opens with and its mockup."""
    from common.studio import suggestions

    return suggestions.suggestions(call.query.product_id)


@functions_framework.http
def chat(request: flask.Request) -> flask.Response:
    """Entry point of the `chat` Cloud Function."""
    return router(request)
