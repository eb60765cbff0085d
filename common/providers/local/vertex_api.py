"""A local Vertex AI `generateContent` endpoint for images, for `AUREN_VENDORS=realistic`.

The real `google-genai` SDK (and so our adapter, `common.providers.imagegen.VertexArtist`, with
its timeout and retries) talks to it through an in-process transport instead of the network.
It draws with the procedural generator (`common.providers.local.artwork`) from the prompt the
adapter writes, or answers an uploaded reference with that image, as a PNG in `inlineData`;
after the vendor's latency, and sometimes with a 429 or 500 in Google's error format
(`common.providers.local.vendors`).
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
from typing import TYPE_CHECKING

from PIL import Image

from common.providers.local import artwork, vendors
from common.studio import prompts

if TYPE_CHECKING:
    import httpx2

BASE_URL = "https://vertex.local/"  # never resolved: the transport answers every request
ERRORS = {
    429: ("RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later."),
    500: ("INTERNAL", "Internal error encountered."),
}


def http_client() -> httpx2.Client:
    """An httpx client whose every request this endpoint answers (`HttpOptions(httpx_client=)`)."""
    import httpx2

    return httpx2.Client(transport=httpx2.MockTransport(_answer))


def _answer(request: httpx2.Request) -> httpx2.Response:
    import httpx2

    started = time.monotonic()
    parts = json.loads(request.content)["contents"][0]["parts"]
    sent = next((part["inlineData"]["data"] for part in parts if "inlineData" in part), None)
    if sent is None:
        png = _draw(parts[0]["text"])
    else:  # the reference, which the SDK sends as unpadded URL-safe base64
        png = base64.urlsafe_b64decode(sent + "=" * (-len(sent) % 4))
    # The drawing is part of the vendor's time, not added to it.
    status = vendors.answer("vertex", spent_seconds=time.monotonic() - started)
    if status is not None:
        code, message = ERRORS[status]
        return httpx2.Response(
            status, json={"error": {"code": status, "message": message, "status": code}}
        )
    inline = {"mimeType": "image/png", "data": base64.b64encode(png).decode()}
    candidate = {"content": {"role": "model", "parts": [{"inlineData": inline}]}}
    return httpx2.Response(200, json={"candidates": [{**candidate, "finishReason": "STOP"}]})


def _draw(brief: str) -> bytes:
    """The procedural artwork for the adapter's brief (`Subject:`, `Style:`, `Ink colors:`)."""
    lines = dict(line.split(": ", 1) for line in brief.splitlines() if ": " in line)
    style = prompts.style_in(lines.get("Style", "")) or "bold"  # read as a model would
    colors = tuple(re.findall(r"#[0-9a-fA-F]{6}", lines.get("Ink colors", "")))
    image: Image.Image = artwork.generate(
        prompts.ArtworkRequest(lines.get("Subject", ""), style, colors)
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
