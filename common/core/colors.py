"""Colours as `#rrggbb` strings: the names shoppers give them, their RGB values and how light
they look."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

HexColor = Annotated[
    str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$", to_lower=True, strip_whitespace=True)
]


def rgb(hex_value: str) -> tuple[int, int, int]:
    """`#1f2a3b` (or `1f2a3b`) as its red, green and blue, 0-255."""
    value = hex_value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luma(hex_value: str) -> float:
    """How light the colour looks, 0 (black) to 1 (white): Rec. 601 luma."""
    red, green, blue = rgb(hex_value)
    return (0.299 * red + 0.587 * green + 0.114 * blue) / 255


def distance(first: str, second: str) -> int:
    """The squared RGB distance between two colours (0: the same)."""
    return sum((a - b) ** 2 for a, b in zip(rgb(first), rgb(second), strict=True))


# The colour words shoppers use for inks and texts, as hex. Garment colours are the catalog's own
# names; these are for what is printed.
NAMES: dict[str, str] = {
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


def named(word: str) -> str | None:
    """The hex of a colour word (`"pink"`, `"Navy"`), or a `#rrggbb` itself, lower-cased."""
    word = word.strip().lower()
    if re.fullmatch(r"#[0-9a-f]{6}", word):
        return word
    return NAMES.get(word)


def nearest(hex_value: str) -> str:
    """The hex of the named colour closest to `hex_value` (what a person would call it)."""
    return min(NAMES.values(), key=lambda named_hex: distance(named_hex, hex_value.lower()))
