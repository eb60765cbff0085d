"""The OpenAI design assistant on the design-chat corpus, scored by the same evaluator as the
local one (`tests/corpus_eval.py`), so a change of model or prompt is measured.

- Live, when `OPENAI_API_KEY` is set: both splits against the real API (the model of
  `CHAT_MODEL`), the table printed (`pytest -s -k live`), held to the issue's bar.
- Offline, always: the real `openai` SDK against a local stand-in of the Chat Completions
  API that replays recorded structured answers (`tests/corpus/openai_recorded.json`) to five
  train conversations. Each request is checked for what the model needs (the instructions
  with the catalog, the conversation so far, the current brief and the message as data), and
  the parsed briefs are scored like the local assistant's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from common.infra.config import DEFAULT_CHAT_MODEL, settings
from common.providers.assistant import AssistantAnswer, OpenAIAssistant, accept
from common.shop import catalog
from common.studio.briefs import Brief
from tests import corpus_eval
from tests.test_chat_openai import completion

RECORDED = json.loads((Path(__file__).parent / "corpus" / "openai_recorded.json").read_text())


@pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="OPENAI_API_KEY is not set")
def test_live_openai_on_the_corpus(database_url: str) -> None:
    cfg = settings()
    assert cfg.openai_api_key is not None

    def make() -> OpenAIAssistant:
        return OpenAIAssistant(
            api_key=cfg.openai_api_key or "", model=cfg.chat_model, base_url=cfg.openai_base_url
        )

    scores = {split: corpus_eval.evaluate(make, split) for split in corpus_eval.SPLITS}
    print(f"\nOpenAI {cfg.chat_model}\n" + corpus_eval.table(scores))
    # The bar, on the blind splits: the ones no prompt was tuned on.
    assert [split for split in corpus_eval.BLIND if scores[split].fully_right_rate < 0.9] == []


def recorded_cases() -> list[dict[str, Any]]:
    by_id = {case["id"]: case for case in corpus_eval.cases("train")}
    return [by_id[case_id] for case_id in RECORDED["cases"]]


def test_recorded_answers_are_requested_as_the_model_needs_and_scored_alike(
    httpserver: HTTPServer, database_url: str
) -> None:
    asked: list[dict[str, Any]] = []

    def answer(request: Request) -> Response:
        body = json.loads(request.data)
        asked.append(body)
        said = json.loads(body["messages"][-1]["content"])["shopper_message"]
        recorded = json.dumps(RECORDED["answers"][said])
        return Response(json.dumps(completion(recorded)), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(answer)

    def make() -> OpenAIAssistant:
        return OpenAIAssistant(
            api_key="sk-test",
            model=DEFAULT_CHAT_MODEL,
            base_url=httpserver.url_for("/v1"),
            timeout_seconds=5,
            max_retries=0,
        )

    cases = recorded_cases()
    score = corpus_eval.evaluate(make, "train", only=cases)

    # What each request carried: the catalog, the conversation so far, the brief and the
    # message as data, and the structured-output schema.
    products = [f"- {p.id} ({p.name}): colors" for p in catalog.catalog().products]
    turns = [(case, index) for case in cases for index in range(len(case["turns"]))]
    assert len(asked) == len(turns) == score.turns == 11
    for body, (case, index) in zip(asked, turns, strict=True):
        assert body["model"] == DEFAULT_CHAT_MODEL
        assert body["response_format"]["json_schema"]["name"] == "AssistantAnswer"
        assert body["response_format"]["json_schema"]["strict"] is True
        system, *history, last = body["messages"]
        assert all(line in system["content"] for line in products)
        before = case["turns"][:index]
        assert [m["content"] for m in history if m["role"] == "user"] == [t["say"] for t in before]
        assert [m["content"] for m in history if m["role"] == "assistant"] == [
            RECORDED["answers"][t["say"]]["reply"] for t in before
        ]
        data = json.loads(last["content"])
        assert data["shopper_message"] == case["turns"][index]["say"]
        previous = RECORDED["answers"][before[-1]["say"]] if before else None
        expected = accept(AssistantAnswer.model_validate(previous)).brief if previous else Brief()
        assert data["current_brief"] == expected.model_dump(mode="json")

    # Scored as the local assistant is: the two recorded mistakes, and nothing else, are wrong.
    assert score.fully_right == 9
    assert {name: score.checked[name] - score.right[name] for name in score.checked} == {
        "product": 0,
        "color": 0,
        "texts": 0,
        "text_color": 1,  # neon green sent as #39ff14, which reads as lime
        "subject": 0,
        "text_area": 0,
        "placement": 0,
        "text_position": 0,
        "image_size": 0,
        "ask": 1,  # "make it blue" answered with Royal Blue, not a question
    }
    print("\nrecorded OpenAI answers\n" + corpus_eval.table({"recorded": score}))
