"""`POST /api/chat` through the `chat` function with the local assistant: conversations kept in
the state backend and owned by the session, design edits applied, text normalised."""

from __future__ import annotations

import uuid

import flask.testing
import pytest

from common.infra import state
from tests.conftest import function_app
from tests.test_generate_image_api import made, png_at, wait_for_jobs


def browser(name: str) -> flask.testing.FlaskClient:
    client = function_app(name).test_client()
    client.environ_base["REMOTE_ADDR"] = f"203.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client


@pytest.fixture
def shopper(database_url: str) -> flask.testing.FlaskClient:
    return browser("chat")


def chat(client: flask.testing.FlaskClient, message: str, **body: str):
    response = client.post("/api/chat", json={"message": message, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_request_becomes_a_brief_and_the_conversation_is_kept(shopper) -> None:
    first = chat(
        shopper, "black hoodie, a neon tiger on the back, 'Night Shift' on the front in bold"
    )
    assert first["conversation_id"].startswith("conv_")
    assert first["ready"] is True and first["design"] is None and first["design_id"] is None
    brief = first["brief"]
    assert brief["product_id"] == "hoodie" and brief["color"] == "Black"
    assert brief["image"]["prompt"] == "tiger" and brief["image"]["area"] == "back"
    second = chat(shopper, "make the tiger bigger", conversation_id=first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    assert second["brief"]["image"]["size"] == "full"
    stored = state.backend().get("conversations", first["conversation_id"])
    assert stored is not None
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"] * 2
    assert stored["messages"][2]["content"] == "make the tiger bigger"


def test_the_whole_studio_flow_chat_generate_edit(shopper, database_url: str) -> None:
    """The issue's story: ask, see it generated, ask for an edit, see the design change."""
    first = chat(
        shopper, "black hoodie, a neon tiger on the back, 'Night Shift' on the front in bold"
    )
    studio = function_app("generate_image").test_client()
    studio.set_cookie("__session", shopper.get_cookie("__session").value)
    brief = first["brief"]
    first_design = made(
        studio,
        studio.post(
            "/api/generate-image",
            json={
                "prompt": brief["image"]["prompt"],
                "product_id": brief["product_id"],
                "color": brief["color"],
                "brief": brief,
            },
        ),
    )
    art = next(layer for layer in first_design["layers"] if layer["id"] == "art")
    edited = chat(
        shopper,
        "make the tiger bigger and purple",
        conversation_id=first["conversation_id"],
        design_id=first_design["design_id"],
    )
    # A new picture: the turn answers with the job making it, and the design as it was.
    assert edited["design_id"] == first_design["design_id"] and edited["job_id"]
    assert edited["design"]["version"] == first_design["version"]
    design = finished_job(studio, edited["job_id"])["design"]
    assert design["version"] == first_design["version"] + 1
    assert design["brief"]["image"]["colors"] == ["#8e44ad"]
    new_art = next(layer for layer in design["layers"] if layer["id"] == "art")
    assert new_art["scale"] > art["scale"] and new_art["asset"] != art["asset"]
    assert design["mockups"]["back"] != first_design["mockups"]["back"]
    assert png_at(design["mockups"]["back"]).size == (1024, 1024)
    # The conversation remembers its design: the next edit needs no design_id; it draws no
    # new picture, so the design changes at once (no job).
    again = chat(shopper, "remove the text", conversation_id=first["conversation_id"])
    assert again["job_id"] is None
    assert again["design"]["version"] == design["version"] + 1
    assert again["design"]["brief"]["texts"] == []
    assert [layer["id"] for layer in again["design"]["layers"]] == ["art"]
    assert again["design"]["layers"][0]["asset"] == new_art["asset"]  # artwork reused


def finished_job(client: flask.testing.FlaskClient, job_id: str) -> dict:
    """The chat's image job, done, read through the generate_image function."""
    wait_for_jobs()
    answer = client.get(f"/api/generate-image/{job_id}")
    assert answer.status_code == 200, answer.get_json()
    finished = answer.get_json()
    assert finished["status"] == "done", finished
    return finished


def test_conversations_and_designs_belong_to_their_session(shopper) -> None:
    first = chat(shopper, "a white tee with a red rose")
    stranger = browser("chat")
    response = stranger.post(
        "/api/chat", json={"message": "bigger", "conversation_id": first["conversation_id"]}
    )
    # Someone else's conversation is never shown: the stranger starts one of their own.
    assert response.status_code == 200
    theirs = response.get_json()
    assert theirs["conversation_id"] != first["conversation_id"]
    assert theirs["brief"]["image"] is None
    assert "rose" not in theirs["reply"]
    forged = stranger.post("/api/chat", json={"message": "hi", "conversation_id": "conv_nope"})
    assert forged.status_code == 200
    assert forged.get_json()["conversation_id"] != "conv_nope"
    design = stranger.post("/api/chat", json={"message": "bigger", "design_id": "dsn_" + "x" * 24})
    assert design.status_code == 404


def test_invisible_characters_are_removed_and_long_text_refused(shopper) -> None:
    hidden = "a white tee with \u200b'Hi\u200d there'\u202e and a\u0007 rose" + " " * 50 + "x" * 400
    turn = chat(shopper, hidden)
    assert turn["brief"]["texts"][0]["text"] == "Hi there"
    stored = state.backend().get("conversations", turn["conversation_id"])
    assert stored is not None
    assert len(stored["messages"][0]["content"]) <= 500
    assert "\u200b" not in stored["messages"][0]["content"]
    empty = shopper.post("/api/chat", json={"message": "\u200b\u200b\u200b"})
    assert empty.status_code == 422
    assert shopper.post("/api/chat", json={"message": "x" * 501}).status_code == 422


def test_chat_is_rate_limited_per_client(shopper) -> None:
    statuses = [shopper.post("/api/chat", json={"message": "hi"}).status_code for _ in range(22)]
    assert statuses[:20] == [200] * 20
    assert statuses[20:] == [429, 429]
