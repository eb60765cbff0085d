"""The chat message has one limit, at the edge: what the assistant reads is the whole message,
and a longer one is a 422 naming the field, never a silently dropped tail."""

from __future__ import annotations

import uuid

import flask.testing
import pytest

from common.infra import state
from common.studio import chat
from tests.conftest import function_app


@pytest.fixture
def shopper(database_url: str) -> flask.testing.FlaskClient:
    client = function_app("chat").test_client()
    client.environ_base["REMOTE_ADDR"] = f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client


def test_a_message_at_the_limit_is_kept_whole(shopper) -> None:
    tail = " and a bold star on the front"
    message = ("a navy tee" + " " + "x" * chat.MAX_MESSAGE_CHARS)[
        : chat.MAX_MESSAGE_CHARS - len(tail)
    ]
    message += tail
    assert len(message) == chat.MAX_MESSAGE_CHARS
    turn = shopper.post("/api/chat", json={"message": message})
    assert turn.status_code == 200
    stored = state.backend().get("conversations", turn.get_json()["conversation_id"])
    assert stored is not None and stored["messages"][0]["content"] == message


@pytest.mark.parametrize(
    "message",
    [
        "a white tee with a rose " + "x" * chat.MAX_MESSAGE_CHARS,
        "\ufb03" * (chat.MAX_MESSAGE_CHARS // 2),  # "ﬃ" reads as three letters
    ],
)
def test_a_longer_message_is_refused_naming_the_field(shopper, message: str) -> None:
    refused = shopper.post("/api/chat", json={"message": message})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["field"] == "message"
    assert str(chat.MAX_MESSAGE_CHARS) in error["message"]


def test_the_model_declares_the_limit_it_reads() -> None:
    limits = chat.ChatIn.model_fields["message"].metadata
    assert any(getattr(m, "max_length", None) == chat.MAX_MESSAGE_CHARS for m in limits)
