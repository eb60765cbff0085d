"""The design chat: a conversation that turns what a shopper says into a `Brief`.

With `OPENAI_API_KEY` the brief comes from OpenAI (`gpt-4o` by default) through structured
outputs; without, from a deterministic local design assistant. Either way the shopper's text
is normalised and passed as data (never spliced into instructions), and the brief is accepted
only after validation against the catalog. Conversations live in the state backend; when a
conversation is about a design, the design is changed to match the new brief: at once, or,
when that needs a new picture, by an image job (`common.studio.jobs`) whose id the turn answers.
"""

from __future__ import annotations

import re
import secrets
import sys
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from common.core import errors
from common.core.caller import Session
from common.core.model import Model
from common.core.text import normalize_text
from common.infra import state
from common.studio.briefs import (
    Brief,
    ready,
)
from common.studio.design_models import DesignOut, GenerateIn, JobStarted

MAX_MESSAGE_CHARS = 500  # the one limit of a message: ChatIn refuses longer, nothing cuts
CONVERSATION_TTL_SECONDS = 7 * 24 * 3600
KEPT_MESSAGES = 20
CONVERSATION_ID = re.compile(r"^conv_[A-Za-z0-9_-]{20,40}$")
COLLECTION = "conversations"


class ChatIn(Model):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = Field(default=None, min_length=1, max_length=64)
    design_id: str | None = Field(default=None, min_length=1, max_length=64)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)

    @field_validator("message")
    @classmethod
    def _read_whole(cls, message: str) -> str:
        """The message as the assistant reads it (normalised) must fit too: a few characters
        (an ellipsis, a ligature) read as several."""
        if len(normalize_text(message, max_chars=sys.maxsize)) > MAX_MESSAGE_CHARS:
            raise ValueError(
                f"String should have at most {MAX_MESSAGE_CHARS} characters"
                " (some, like an ellipsis, count as several)"
            )
        return message


class ChatOut(Model):
    conversation_id: str
    reply: str
    brief: Brief
    ready: bool = Field(description="the brief names a product, a color and something to print")
    design_id: str | None = Field(description="the design this conversation edits, if any")
    design: DesignOut | None = Field(
        description="the design this conversation edits, as it is after this message"
    )
    job_id: str | None = Field(
        default=None,
        description="the image job making the design's new picture (poll "
        "GET /api/generate-image/<job_id>); `design` then is the design before it",
    )


# --- conversations ----------------------------------------------------------------------------


def _conversation(session: Session, conversation_id: str | None) -> tuple[str, dict[str, Any]]:
    """The caller's conversation, or a new one.

    A conversation that is not the caller's (expired, made up, or started before signing in,
    when the session was another) is never shown: the caller starts a new one, and the
    design it was about, now theirs, still carries the brief.
    """
    if conversation_id is not None and CONVERSATION_ID.match(conversation_id):
        stored = state.backend().get(COLLECTION, conversation_id)
        if stored is not None and stored.get("owner") == session.subject:
            return conversation_id, stored
    return "conv_" + secrets.token_urlsafe(18), {"owner": session.subject, "messages": []}


def converse(session: Session, request: ChatIn) -> ChatOut:
    """One chat turn: read the message, update the brief, and the design when there is one."""
    # The assistant and the studio: on the first message, not at the function's start.
    from common.providers.assistant import assistant
    from common.studio import designs

    message = normalize_text(request.message, max_chars=MAX_MESSAGE_CHARS)
    if not message:
        raise errors.Unprocessable(
            "the message is empty once invisible characters are removed",
            code="empty_message",
            field="message",
        )
    conversation_id, stored = _conversation(session, request.conversation_id)
    design_id = request.design_id or stored.get("design_id")
    if design_id:
        brief = designs.load_brief(session, design_id)
    else:
        brief = Brief.model_validate(stored.get("brief") or {})
    history = [m for m in stored.get("messages", []) if m.get("role") in ("user", "assistant")]
    turn = assistant().respond(history, message, brief, stored.get("focus"))
    design, job = None, None
    if design_id and ready(turn.brief) and turn.brief != brief:
        if designs.draws_artwork(session, design_id, turn.brief):
            job = _start_job(session, design_id, turn.brief)
            design = designs.read(session, design_id)
        else:
            design = designs.apply_brief(session, design_id, turn.brief)
    elif design_id:
        design = designs.read(session, design_id)
    history = [
        *history,
        {"role": "user", "content": message},
        {"role": "assistant", "content": turn.reply},
    ]
    state.backend().put(
        COLLECTION,
        conversation_id,
        {
            "owner": session.subject,
            "messages": history[-KEPT_MESSAGES:],
            "brief": turn.brief.model_dump(mode="json"),
            "focus": turn.focus,
            "design_id": design_id,
        },
        ttl_seconds=CONVERSATION_TTL_SECONDS,
    )
    return ChatOut(
        conversation_id=conversation_id,
        reply=turn.reply,
        brief=turn.brief,
        ready=ready(turn.brief),
        design_id=design_id,
        design=design,
        job_id=job.job_id if job else None,
    )


def _start_job(session: Session, design_id: str, brief: Brief) -> JobStarted:
    """An image job changing the caller's design to `brief` (ready: it names both)."""
    from common.studio import designs, jobs

    assert brief.product_id is not None and brief.color is not None
    request = GenerateIn(
        product_id=brief.product_id, color=brief.color, design_id=design_id, brief=brief
    )
    return jobs.start(session, designs.accept_generation(session, request))
