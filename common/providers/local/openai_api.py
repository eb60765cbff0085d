"""A local OpenAI Chat Completions endpoint, for `AUREN_VENDORS=realistic`.

The real `openai` SDK (and so our adapters, `common.providers.assistant` and
`common.providers.sizes_openai`, with their timeouts and retries) talks to it through an
in-process transport instead of the network. It answers with the offline engines: the
rule-based design assistant for the `AssistantAnswer` schema, the size parser for
`SizeChange`, as structured output; after the vendor's latency, and sometimes with a 429 or
500 in OpenAI's error format (`common.providers.local.vendors`).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from common.providers.local import vendors
from common.providers.local.assistant import LocalAssistant
from common.shop.sizes import SIZE_ORDER, interpret
from common.studio.briefs import Brief

if TYPE_CHECKING:
    import httpx2

BASE_URL = "https://openai.local/v1"  # never resolved: the transport answers every request
ERRORS = {
    429: ("Rate limit reached for requests (local stand-in)", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
}
WIRE_IMAGE = ("prompt", "style", "colors", "area", "size")
WIRE_TEXT = ("text", "area", "font", "color", "size", "position")


def http_client() -> httpx2.Client:
    """An httpx client whose every request this endpoint answers (for `OpenAI(http_client=)`)."""
    import httpx2

    return httpx2.Client(transport=httpx2.MockTransport(_answer))


def _answer(request: httpx2.Request) -> httpx2.Response:
    import httpx2

    status = vendors.answer("openai")
    if status is not None:
        message, kind, code = ERRORS[status]
        error = {"message": message, "type": kind, "param": None, "code": code}
        return httpx2.Response(status, json={"error": error})
    body = json.loads(request.content)
    schema = body["response_format"]["json_schema"]["name"]
    messages = body["messages"]
    content = _design(messages) if schema == "AssistantAnswer" else _sizes(messages)
    return httpx2.Response(200, json=_completion(body["model"], content))


def _completion(model: str, content: dict[str, Any]) -> dict[str, Any]:
    message = {"role": "assistant", "content": json.dumps(content), "refusal": None}
    return {
        "id": f"chatcmpl-local-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _design(messages: list[dict[str, str]]) -> dict[str, Any]:
    """The design assistant's turn, in the wire brief the adapter's schema asks for."""
    data = json.loads(messages[-1]["content"])
    brief = Brief.model_validate(data["current_brief"])
    turn = LocalAssistant().respond(messages[1:-1], data["shopper_message"], brief, None)
    wire = turn.brief.model_dump(mode="json")
    if wire["image"] is not None:
        wire["image"] = {key: wire["image"][key] for key in WIRE_IMAGE}
    wire["texts"] = [{key: text[key] for key in WIRE_TEXT} for text in wire["texts"]]
    return {"reply": turn.reply, "brief": wire}


def _sizes(messages: list[dict[str, str]]) -> dict[str, Any]:
    """The size parser's reading, as one `SizeChange` operation."""
    data = json.loads(messages[1]["content"])
    update = interpret(
        messages[-1]["content"], available=data["available_sizes"], current=data["current_sizes"]
    )
    change: dict[str, Any] = {code: None for code in SIZE_ORDER}
    change.update(operation="ask", factor=None, question=None)
    if update.sizes is None:
        change["question"] = update.reply
    elif not update.sizes:
        change["operation"] = "clear"
    else:
        change["operation"] = "replace_all"
        change.update(update.sizes)
    return change
