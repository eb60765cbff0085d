"""The words of an artwork prompt: the styles and ink colours a shopper names, and the request
an image provider gets (`ArtworkRequest`). The design studio and every image provider read
prompts with this one vocabulary."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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

COLOR_WORDS: dict[str, str] = {
    "red": "#e63946",
    "crimson": "#b3132b",
    "scarlet": "#ff2400",
    "orange": "#f77f00",
    "amber": "#ffb000",
    "yellow": "#ffd60a",
    "gold": "#e0b030",
    "golden": "#e0b030",
    "lime": "#a7f432",
    "green": "#2a9d52",
    "mint": "#8ee4af",
    "olive": "#6b7a2a",
    "teal": "#168aad",
    "turquoise": "#30d5c8",
    "cyan": "#00e5ff",
    "aqua": "#00e5ff",
    "blue": "#1e6bd6",
    "sky": "#7cc4ff",
    "navy": "#1b2a59",
    "indigo": "#4b3bbd",
    "purple": "#8e44ad",
    "violet": "#9b5de5",
    "lavender": "#c3a6f0",
    "magenta": "#ff00a8",
    "pink": "#ff6fae",
    "coral": "#ff7f6a",
    "peach": "#ffb38a",
    "brown": "#8b5a2b",
    "tan": "#d2b48c",
    "beige": "#e8d9b5",
    "cream": "#f3e9d2",
    "white": "#ffffff",
    "silver": "#c0c7cf",
    "grey": "#8d939b",
    "gray": "#8d939b",
    "black": "#151515",
    "maroon": "#7a1f2b",
    "burgundy": "#6d1a2b",
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
