"""Colours as `#rrggbb` strings: their RGB values and how light they look."""

from __future__ import annotations

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
