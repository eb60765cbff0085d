"""The `chat` function: the design chat (POST /api/chat)."""

import flask
import functions_framework

from common.infra import config
from common.studio import chat as design_chat
from common.web import sessions
from common.web.http import Call, Router
from common.web.ratelimits import RateLimit

config.require("OPENAI_API_KEY", "GCS_BUCKET", "GOOGLE_CLOUD_PROJECT")
router = Router()

MESSAGES_PER_MINUTE = 20


@router.route(
    "POST",
    "/api/chat",
    body=design_chat.ChatIn,
    response=design_chat.ChatOut,
    errors=(502, 504),
    rate_limit=RateLimit("chat", MESSAGES_PER_MINUTE, 60),
)
def send_message(call: Call) -> design_chat.ChatOut:
    """Tell the design assistant what you want; get its reply, the brief, and the design when
    the conversation is about one (`design_id`) and the message changed it."""
    return design_chat.converse(sessions.ensure(call), call.body)


@functions_framework.http
def chat(request: flask.Request) -> flask.Response:
    """Entry point of the `chat` Cloud Function."""
    return router(request)
