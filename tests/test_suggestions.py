"""`GET /api/suggestions` through the `chat` function: a product's design ideas, made by the
local design assistant and artwork generator once per product and day, then read from the
state backend; bad input is a 422, and the route has a rate limit."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import flask.testing
import pytest
from PIL import Image

from common.infra import state
from common.infra.config import settings
from common.studio import suggestions
from tests.conftest import function_app


@pytest.fixture
def visitor(database_url: str) -> flask.testing.FlaskClient:
    client = function_app("chat").test_client()
    client.environ_base["REMOTE_ADDR"] = f"198.19.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client


def stored_file(url: str) -> Path:
    assert url.startswith("/storage/")
    return Path(settings().data_dir) / "storage" / url.removeprefix("/storage/")


def test_a_product_gets_three_ideas_each_ready_for_the_studio(visitor) -> None:
    answer = visitor.get("/api/suggestions?product_id=tote")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"].startswith("public")
    body = answer.get_json()
    assert body["product_id"] == "tote"
    ideas = body["suggestions"]
    assert len(ideas) == suggestions.IDEAS_PER_PRODUCT
    themes = suggestions.themes_of("tote", date.fromisoformat(body["day"]))
    for idea, theme in zip(ideas, themes, strict=True):
        brief = idea["brief"]
        assert idea["title"].lower() == theme.lower()
        assert brief["product_id"] == "tote" and brief["color"] in ("Natural", "Black", "Navy")
        assert brief["image"] or brief["texts"]
        for quoted in theme.split("'")[1::2]:  # the theme's texts are the brief's
            assert quoted in [t["text"] for t in brief["texts"]]
        with Image.open(stored_file(idea["mockup"])) as mockup:
            assert mockup.format == "PNG" and mockup.size == (1024, 1024)
    assert len({idea["brief"]["color"] for idea in ideas}) > 1


def test_the_days_ideas_are_made_once_and_then_read(visitor) -> None:
    first = visitor.get("/api/suggestions?product_id=hoodie").get_json()
    key = f"hoodie:{first['day']}"
    stored = state.backend().get(suggestions.COLLECTION, key)
    assert stored is not None and stored["suggestions"] == first["suggestions"]
    state.backend().put(
        suggestions.COLLECTION, key, {**stored, "suggestions": stored["suggestions"][:1]}
    )
    again = visitor.get("/api/suggestions?product_id=hoodie").get_json()
    assert again["suggestions"] == first["suggestions"][:1]  # read, not made again


def test_another_day_brings_other_ideas() -> None:
    days = [date(2026, 12, day) for day in range(1, 8)]
    picks = {tuple(suggestions.themes_of("classic-tee", day)) for day in days}
    assert len(picks) > 1
    assert suggestions.themes_of("cap", days[0]) == suggestions.themes_of("cap", days[0])


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("product_id=mug", "unknown_product"),
        ("product_id=../etc", "validation_error"),
        ("product_id=" + "a" * 65, "validation_error"),
        ("", "validation_error"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(visitor, query: str, code: str) -> None:
    refused = visitor.get(f"/api/suggestions?{query}")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == code
    assert "product_id" in (error.get("field") or error["message"])


def test_reads_are_rate_limited(visitor) -> None:
    statuses = [
        visitor.get("/api/suggestions?product_id=cap").status_code
        for _ in range(suggestions_per_minute() + 1)
    ]
    assert statuses[:-1] == [200] * suggestions_per_minute() and statuses[-1] == 429


def suggestions_per_minute() -> int:
    from functions.chat.main import SUGGESTION_READS_PER_MINUTE

    return SUGGESTION_READS_PER_MINUTE
