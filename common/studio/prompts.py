"""The words of an artwork prompt: the styles and ink colours a shopper names, and the request
an image provider gets (`ArtworkRequest`). The design studio and every image provider read
prompts with this one vocabulary."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from common.core.colors import NAMES as COLOR_WORDS

STYLE_WORDS: dict[str, str] = {
    "bold": "bold",
    "pop": "bold",
    "cartoon": "bold",
    "comic": "bold",
    "sticker": "bold",
    "neon": "neon",
    "glow": "neon",
    "glowing": "neon",
    "cyberpunk": "neon",
    "synthwave": "neon",
    "vintage": "vintage",
    "classic": "vintage",
    "badge": "vintage",
    "old-school": "vintage",
    "minimal": "minimal",
    "minimalist": "minimal",
    "simple": "minimal",
    "line": "minimal",
    "outline": "minimal",
    "geometric": "geometric",
    "low-poly": "geometric",
    "polygon": "geometric",
    "abstract": "geometric",
    "watercolor": "watercolor",
    "watercolour": "watercolor",
    "painted": "watercolor",
    "soft": "watercolor",
    "pastel": "watercolor",
    "retro": "retro",
    "70s": "retro",
    "80s": "retro",
    "grunge": "grunge",
    "distressed": "grunge",
    "punk": "grunge",
    "pixel": "pixel",
    "8-bit": "pixel",
    "pixelated": "pixel",
    "arcade": "pixel",
}


@dataclass(frozen=True)
class ArtworkRequest:
    """What to draw: the subject, a style from `STYLES`, the inks (hex), and an optional
    reference image (an upload) for providers that can work from one."""

    prompt: str
    style: str = "bold"
    colors: tuple[str, ...] = ()
    reference: bytes | None = field(default=None, repr=False)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower())


def style_in(text: str) -> str | None:
    """The first style named in `text`, if any."""
    for word in words(text):
        if word in STYLE_WORDS:
            return STYLE_WORDS[word]
    return None


def colors_in(text: str) -> list[str]:
    """The colors named in `text` (names and #hex), in order, without repeats."""
    found: list[str] = []
    for match in re.finditer(r"#[0-9a-fA-F]{6}\b|[a-zA-Z]+", text):
        token = match.group().lower()
        hex_value = token if token.startswith("#") else COLOR_WORDS.get(token)
        if hex_value and hex_value not in found:
            found.append(hex_value)
    return found
