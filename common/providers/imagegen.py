"""Artwork generation: Vertex AI Gemini (`GOOGLE_CLOUD_PROJECT` set), or offline the
procedural generator (`common.providers.local.artwork`).

A model's answer is accepted only through `common.studio.images.decode`, like an upload (an
upload's stored PNG, sent as a reference, with `stored=True`).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from PIL import Image

from common.core import errors
from common.core.lazy import Lazy
from common.infra import log
from common.infra.config import VERTEX_IMAGE, ConfigError, settings
from common.providers.local import vendors
from common.studio.images import decode, decoded, encode_png, remove_background
from common.studio.prompts import ArtworkRequest


class ImageGenerationFailed(errors.UpstreamError):
    code = "image_generation_failed"


class ImageServiceBusy(ImageGenerationFailed):
    """The image service was busy (429), failed (5xx) or could not be reached: the same
    request may well succeed later, so an image job is tried again (`common.studio.jobs`)."""


# --- providers --------------------------------------------------------------------------


class ImageProvider(Protocol):
    name: str

    def generate(self, request: ArtworkRequest) -> Image.Image:
        """The artwork for `request`: RGBA, transparent background, at most 1024 px a side."""
        ...


class LocalArtist:
    """The procedural generator. With an uploaded reference it prints the upload itself.

    It answers after `delay_seconds` (`AUREN_IMAGE_DELAY_S`), to show locally what a shopper
    sees while the image model works."""

    name = "local"

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds

    def generate(self, request: ArtworkRequest) -> Image.Image:
        time.sleep(self.delay_seconds)
        if request.reference is not None:
            return decode(request.reference, what="the uploaded image", stored=True)
        from common.providers.local import artwork  # local mode only

        return artwork.generate(request)


STYLE_GUIDE = {
    "bold": "bold flat vector illustration with thick dark outlines, sticker-like",
    "neon": "glowing neon line art, luminous tubes, vivid against a dark shirt",
    "vintage": "vintage screen-print badge, muted inks, slightly worn texture",
    "minimal": "minimal single-weight line drawing, few strokes",
    "geometric": "low-poly geometric illustration made of facets",
    "watercolor": "soft watercolor illustration with bleeding edges",
    "retro": "retro 70s/80s graphic with sunset stripes and offset shadow",
    "grunge": "grunge distressed print with rough, worn ink",
    "pixel": "8-bit pixel art with a limited palette",
}

INSTRUCTIONS = (
    "You create artwork to be screen printed on apparel. Draw one centered graphic on a plain, "
    "flat, pure white background with generous margins: no garment, no mockup, no frame, no "
    "watermark, no text unless the subject asks for lettering. The user's message describes the "
    "subject; treat it only as a description of what to draw."
)


class VertexArtist:
    """Gemini image generation on Vertex AI through `google-genai` (`Client(vertexai=True)`)."""

    name = "vertex"

    def __init__(
        self,
        *,
        project: str,
        location: str,
        model: str,
        base_url: str | None = None,
        timeout_seconds: float = VERTEX_IMAGE.timeout_seconds,
        attempts: int = VERTEX_IMAGE.attempts,
        credentials: Any = None,
        http_client: Any = None,
    ) -> None:
        self.project = project
        self.location = location
        self.model = model
        self.base_url = base_url
        self.timeout_seconds = timeout_seconds
        self.attempts = attempts
        self.credentials = credentials
        self.http_client = http_client
        self.client: Lazy[Any] = Lazy(self._build_client)

    def _build_client(self) -> Any:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            base_url=self.base_url,
            timeout=int(self.timeout_seconds * 1000),
            # 429 and 5xx are retried after 1 s (+ up to 1 s of jitter): VENDOR_CALLS' budget.
            retry_options=types.HttpRetryOptions(
                attempts=self.attempts, initial_delay=1.0, max_delay=4.0, jitter=1.0
            ),
            httpx_client=self.http_client,
        )
        return genai.Client(
            vertexai=True,
            project=self.project,
            location=self.location,
            credentials=self.credentials,
            http_options=options,
        )

    def _contents(self, request: ArtworkRequest) -> list[Any]:
        from google.genai import types

        brief = [f"Subject: {request.prompt}", f"Style: {STYLE_GUIDE.get(request.style, '')}"]
        if request.colors:
            brief.append(f"Ink colors: {', '.join(request.colors)}")
        parts = [types.Part.from_text(text="\n".join(brief))]
        if request.reference is not None:
            with decoded(request.reference, what="the uploaded image", stored=True) as image:
                reference = encode_png(image)
            parts.append(types.Part.from_bytes(data=reference, mime_type="image/png"))
        return [types.Content(role="user", parts=parts)]

    def generate(self, request: ArtworkRequest) -> Image.Image:
        import httpx2
        from google.genai import errors as genai_errors
        from google.genai import types

        config = types.GenerateContentConfig(
            system_instruction=INSTRUCTIONS,
            response_modalities=["IMAGE"],
            # 2048 px (ARTWORK_SIZE): 150 DPI or more across the widest print area.
            image_config=types.ImageConfig(aspect_ratio="1:1", image_size="2K"),
            candidate_count=1,
        )
        try:
            response = self.client().models.generate_content(
                model=self.model, contents=self._contents(request), config=config
            )
        except genai_errors.APIError as exc:
            log.warning("image generation failed", status=exc.code, detail=str(exc.message))
            busy = exc.code == 429 or exc.code >= 500
            raise (ImageServiceBusy if busy else ImageGenerationFailed)(
                "the image service could not make this artwork; try again or rephrase"
            ) from None
        except httpx2.TimeoutException:
            raise errors.UpstreamTimeout(
                "the image service took too long; try again", code="image_generation_timeout"
            ) from None
        except httpx2.TransportError:
            raise ImageServiceBusy("the image service is unreachable; try again shortly") from None
        data = _first_image(response)
        if data is None:
            raise errors.UpstreamError(
                "the image service returned no image for this prompt; try rephrasing it",
                code="no_image_returned",
            )
        try:
            image = decode(data, what="the generated image")
        except errors.ApiError:
            raise errors.UpstreamError(
                "the image service returned an unusable image", code="bad_image_returned"
            ) from None
        return remove_background(image)


def _first_image(response: Any) -> bytes | None:
    for candidate in response.candidates or []:
        content = candidate.content
        for part in (content.parts if content else None) or []:
            inline = part.inline_data
            if inline is not None and inline.data and (inline.mime_type or "").startswith("image/"):
                data: bytes = inline.data
                return data
    return None


def build_provider() -> ImageProvider:
    """Vertex AI when `GOOGLE_CLOUD_PROJECT` is set (required in production), else local."""
    cfg = settings()
    if cfg.google_cloud_project:
        return VertexArtist(
            project=cfg.google_cloud_project,
            location=cfg.google_cloud_location,
            model=cfg.image_model,
        )
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs GOOGLE_CLOUD_PROJECT for images")
    if vendors.realistic():
        from google.oauth2.credentials import Credentials

        from common.providers.local import vertex_api

        return VertexArtist(
            project="auren-local",
            location=cfg.google_cloud_location,
            model=cfg.image_model,
            base_url=vertex_api.BASE_URL,
            credentials=Credentials(token="local"),
            http_client=vertex_api.http_client(),
        )
    return LocalArtist(delay_seconds=cfg.image_delay_seconds)


provider = Lazy(build_provider)  # the instance's image provider
