"""The local artwork generator: deterministic, transparent, and visibly following the prompt's
subject, colors and style."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageStat

from common.providers.local import artwork
from common.studio import prompts
from common.studio.prompts import ArtworkRequest

SIZE = 256  # the generator draws the same picture at any size; small keeps the tests fast


def draw(prompt: str, style: str = "bold", colors: tuple[str, ...] = ()) -> Image.Image:
    return artwork.generate(ArtworkRequest(prompt, style, colors), size=SIZE)


def ink(image: Image.Image) -> tuple[float, float, float]:
    """The mean color of the opaque pixels."""
    alpha = image.getchannel("A").point(lambda v: 255 if v > 200 else 0)
    red, green, blue = ImageStat.Stat(image.convert("RGB"), mask=alpha).mean
    return red, green, blue


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def count_alpha(image: Image.Image, low: int, high: int) -> int:
    """How many pixels have an alpha in low..high."""
    return sum(image.getchannel("A").histogram()[low : high + 1])


def differs(a: Image.Image, b: Image.Image) -> float:
    """Mean per-pixel difference, 0..255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 4


def test_the_same_request_gives_the_same_image() -> None:
    assert draw("a neon tiger", "neon").tobytes() == draw("a neon tiger", "neon").tobytes()


def test_the_background_is_transparent_and_the_subject_is_not() -> None:
    image = draw("tiger")
    assert image.mode == "RGBA" and image.size == (SIZE, SIZE)
    for corner in ((0, 0), (SIZE - 1, 0), (0, SIZE - 1), (SIZE - 1, SIZE - 1)):
        assert pixel(image, corner)[3] == 0
    assert pixel(image, (SIZE // 2, SIZE // 2))[3] == 255


def test_different_subjects_draw_different_motifs() -> None:
    shapes = {name: draw(name).getchannel("A") for name in ("tiger", "skull", "rocket", "heart")}
    names = list(shapes)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert differs(shapes[first].convert("RGBA"), shapes[second].convert("RGBA")) > 10


def test_synonyms_and_plurals_find_the_motif() -> None:
    assert artwork.subjects_in("two flaming skulls and roses") == ["skull", "rose"]
    assert artwork.subjects_in("a husky howling at the crescent") == ["wolf", "moon"]


def test_an_unknown_subject_is_spelled_on_an_emblem() -> None:
    assert artwork.subjects_in("Quokka Club") == []
    assert artwork.subject_words("a purple Quokka Club logo") == ["quokka", "club"]
    emblem = draw("Quokka Club")
    assert pixel(emblem, (SIZE // 2, SIZE // 2))[3] > 0
    assert differs(emblem, draw("Wombat Gang")) > 1


@pytest.mark.parametrize(
    ("colors", "channel"),
    [(("#e63946",), 0), (("#2a9d52",), 1), (("#1e6bd6",), 2)],
)
def test_the_requested_color_is_the_main_ink(colors: tuple[str, ...], channel: int) -> None:
    mean = ink(draw("heart", "bold", colors))
    assert mean[channel] == max(mean)


def test_color_words_and_hex_codes_are_read_from_text() -> None:
    assert prompts.colors_in("a Purple tiger with #00FF88 eyes and gold") == [
        "#8e44ad",
        "#00ff88",
        "#e0b030",
    ]


@pytest.mark.parametrize("style", artwork.STYLES)
def test_every_style_renders_and_differs_from_bold(style: str) -> None:
    image = draw("tiger", style)
    assert image.getchannel("A").getextrema()[1] == 255
    if style != "bold":
        assert differs(image, draw("tiger", "bold")) > 2


def test_style_words_are_read_from_text() -> None:
    assert prompts.style_in("an 8-bit skull") == "pixel"
    assert prompts.style_in("a glowing cyberpunk cat") == "neon"
    assert prompts.style_in("just a cat") is None


def test_neon_glows_and_minimal_is_line_art() -> None:
    neon, minimal, bold = draw("star", "neon"), draw("star", "minimal"), draw("star", "bold")
    opaque = [count_alpha(image, 201, 255) for image in (neon, minimal, bold)]
    assert opaque[1] < opaque[2] / 3  # outlines, not a filled shape
    assert count_alpha(neon, 11, 119) > count_alpha(bold, 11, 119)  # a glow, not a hard edge
