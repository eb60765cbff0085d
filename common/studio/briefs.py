"""The brief: what the shopper asked for (product, colour, artwork, texts), validated.

The design chat produces it (`common.studio.chat`, through an `Assistant`), `generate-image`
makes it real (`common.studio.designs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
)

from common.core.model import Model
from common.core.text import normalize_text
from common.studio.layers import ASSET_KEY, MAX_TEXT_CHARS, Font, HexColor, Side, clean_text

# --- the brief: what the shopper asked for -------------------------------------------------

Style = Literal[
    "bold", "neon", "vintage", "minimal", "geometric", "watercolor", "retro", "grunge", "pixel"
]
Size = Literal["small", "medium", "large", "full"]
TextPosition = Literal["auto", "top", "middle", "bottom"]
IMAGE_SCALES: dict[str, float] = {"small": 0.4, "medium": 0.6, "large": 0.8, "full": 1.0}
TEXT_SIZES: dict[str, float] = {"small": 0.08, "medium": 0.12, "large": 0.17, "full": 0.24}
SIZE_ORDER: tuple[Size, ...] = ("small", "medium", "large", "full")


class ImageBrief(Model):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=300, description="what the artwork shows")
    style: Style = "bold"
    colors: list[HexColor] = Field(default_factory=list, max_length=4, description="its inks")
    area: Side = "front"
    size: Size = "large"
    upload: str | None = Field(
        default=None, pattern=ASSET_KEY, description="an uploaded image the artwork is made from"
    )

    @field_validator("prompt")
    @classmethod
    def _clean_prompt(cls, value: str) -> str:
        cleaned = normalize_text(value, max_chars=300)
        if not cleaned:
            raise ValueError("the prompt is empty once invisible characters are removed")
        return cleaned

    def artwork_key(self) -> tuple[str, str, tuple[str, ...], str | None]:
        """What decides the artwork: the same key means the same picture can be reused."""
        return self.prompt, self.style, tuple(self.colors), self.upload


class TextBrief(Model):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS * 4)
    area: Side = "front"
    font: Font = "Aileron Bold"
    color: HexColor | None = Field(default=None, description="none: chosen to stand out")
    size: Size = "medium"
    position: TextPosition = Field(
        default="auto", description="auto: under the artwork, or centred when there is none"
    )

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        return clean_text(value)


class Brief(Model):
    """A validated design request: the chat produces it, `generate-image` makes it real."""

    model_config = ConfigDict(extra="forbid")

    product_id: str | None = Field(default=None, max_length=64)
    color: str | None = Field(default=None, max_length=40, description="a color of the product")
    image: ImageBrief | None = None
    texts: list[TextBrief] = Field(default_factory=list, max_length=4)

    @property
    def empty(self) -> bool:
        return self.image is None and not self.texts


# --- the assistant that turns a message into a new brief ---------------------------------


@dataclass
class Turn:
    reply: str
    brief: Brief
    focus: str | None = None


class Assistant(Protocol):
    name: str

    def respond(
        self, history: list[dict[str, str]], message: str, brief: Brief, focus: str | None
    ) -> Turn: ...


def ready(brief: Brief) -> bool:
    return bool(brief.product_id and brief.color and not brief.empty)
