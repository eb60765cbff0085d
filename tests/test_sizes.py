"""The local size assistant: a corpus of shopper phrasings, validation, and properties."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.core import errors
from common.core.text import normalize_text
from common.infra import config
from common.shop import size_assistant
from common.shop.sizes import (
    MAX_PER_SIZE,
    SIZE_ORDER,
    SizeError,
    format_sizes,
    interpret,
    normalize_size,
    validate_sizes,
)

TEE = ("XS", "S", "M", "L", "XL", "2XL", "3XL")
HOODIE = ("S", "M", "L", "XL", "2XL", "3XL")
TOTE = ("OS",)
ASK = None  # the assistant asks back and changes nothing

# (message, the product's sizes, the item's sizes now, the expected new sizes or ASK)
CORPUS: list[tuple[str, tuple[str, ...], dict[str, int], dict[str, int] | None]] = [
    # plain quantities: set the sizes named, keep the others
    ("10 M, 5 L and 3 XL", TEE, {}, {"M": 10, "L": 5, "XL": 3}),
    ("10 M", TEE, {"L": 5}, {"M": 10, "L": 5}),
    ("ten medium", TEE, {}, {"M": 10}),
    ("a dozen small", TEE, {}, {"S": 12}),
    ("half a dozen L", TEE, {}, {"L": 6}),
    ("two dozen XL", TEE, {}, {"XL": 24}),
    ("M:10 L:5", TEE, {}, {"M": 10, "L": 5}),
    ("M=10, L=5", TEE, {}, {"M": 10, "L": 5}),
    ("M10 L5", TEE, {}, {"M": 10, "L": 5}),
    ("M 10 L 5 XL 3", TEE, {}, {"M": 10, "L": 5, "XL": 3}),
    ("XS 2, S 4, M 6", TEE, {}, {"XS": 2, "S": 4, "M": 6}),
    ("medium: ten, large: five", TEE, {}, {"M": 10, "L": 5}),
    ("10 medium, 5 large, 3 x-large", TEE, {}, {"M": 10, "L": 5, "XL": 3}),
    ("12 in medium and 6 in large", TEE, {}, {"M": 12, "L": 6}),
    ("tee shirts: 12 medium and 6 large please", TEE, {}, {"M": 12, "L": 6}),
    ("Can I get 12 M?", TEE, {}, {"M": 12}),
    ("5 large please", TEE, {}, {"L": 5}),
    ("a medium and a large", TEE, {}, {"M": 1, "L": 1}),
    ("10 M, 5 XL", HOODIE, {}, {"M": 10, "XL": 5}),
    ("5 small 5 small", TEE, {}, {"S": 5}),
    ("I need 18 shirts: 10 M, 5 L and 3 XL", TEE, {}, {"M": 10, "L": 5, "XL": 3}),
    # multipliers and glued forms: "4x" is four, "4xl" is a size
    ("small x4", TEE, {}, {"S": 4}),
    ("4x small", TEE, {}, {"S": 4}),
    ("4 x small", TEE, {}, {"S": 4}),
    ("4 x large", TEE, {}, {"L": 4}),
    ("x-small: 4", TEE, {}, {"XS": 4}),
    ("x large 4", TEE, {}, {"XL": 4}),
    ("10m 5l 3xl", TEE, {}, {"M": 10, "L": 5, "XL": 3}),
    ("4xl", TEE, {}, ASK),
    ("6 xxs", TEE, {}, ASK),
    # the many names of 2XL and 3XL
    ("4 XXL", TEE, {}, {"2XL": 4}),
    ("4 2XL", TEE, {}, {"2XL": 4}),
    ("4 xx-large", TEE, {}, {"2XL": 4}),
    ("4 double extra large", TEE, {}, {"2XL": 4}),
    ("4 double xl", TEE, {}, {"2XL": 4}),
    ("3 xxxl", TEE, {}, {"3XL": 3}),
    ("2 3XL", TEE, {}, {"3XL": 2}),
    ("2 triple extra large", HOODIE, {}, {"3XL": 2}),
    ("2 extra large", TEE, {}, {"XL": 2}),
    # plurals, abbreviations, light typos
    ("10 mediums, 5 larges", TEE, {}, {"M": 10, "L": 5}),
    ("3 lg 2 sm", TEE, {}, {"S": 2, "L": 3}),
    ("4 xl's", TEE, {}, {"XL": 4}),
    ("4 XL\u2019s", TEE, {}, {"XL": 4}),
    ("6 meduim", TEE, {}, {"M": 6}),
    ("2 smalls and 2 meds", TEE, {}, {"S": 2, "M": 2}),
    # numbers in words and digits
    ("twenty-five M", TEE, {}, {"M": 25}),
    ("fifteen S", TEE, {}, {"S": 15}),
    ("a hundred L", TEE, {}, {"L": 100}),
    ("one hundred and twenty XL", TEE, {}, {"XL": 120}),
    ("two thousand five hundred small", TEE, {}, {"S": 2500}),
    ("a thousand M", TEE, {}, {"M": 1000}),
    ("1,000 S", TEE, {}, {"S": 1000}),
    ("1k M", TEE, {}, {"M": 1000}),
    ("\uff11\uff10 \uff2d", TEE, {}, {"M": 10}),  # full-width "10 M"
    ("10\u200b M", TEE, {}, {"M": 10}),  # zero-width space
    # increments and decrements
    ("add 2 more large", TEE, {"L": 3, "M": 1}, {"M": 1, "L": 5}),
    ("2 more M", TEE, {"M": 10}, {"M": 12}),
    ("another large", TEE, {"L": 1}, {"L": 2}),
    ("another five large", TEE, {"L": 1}, {"L": 6}),
    ("add 5 L", TEE, {}, {"L": 5}),
    ("plus 3 XL", TEE, {"XL": 1}, {"XL": 4}),
    ("+3 XL", TEE, {"XL": 1}, {"XL": 4}),
    ("add 2 extra mediums", TEE, {"M": 1}, {"M": 3}),
    ("add 2 M and 3 L", TEE, {"M": 1}, {"M": 3, "L": 3}),
    ("10 M plus 5 L", TEE, {"L": 1}, {"M": 10, "L": 6}),
    ("increase L by 2", TEE, {"L": 1}, {"L": 3}),
    ("remove 3 mediums", TEE, {"M": 10, "L": 2}, {"M": 7, "L": 2}),
    ("3 fewer small", TEE, {"S": 5}, {"S": 2}),
    ("take away 2 large", TEE, {"L": 5}, {"L": 3}),
    ("-2 M", TEE, {"M": 5}, {"M": 3}),
    ("remove 3 mediums", TEE, {"M": 2}, ASK),
    ("add 2 M", TEE, {"M": MAX_PER_SIZE - 1}, ASK),
    ("add large", TEE, {}, ASK),
    ("add 5 more", TEE, {"M": 1}, ASK),
    # setting to zero
    ("no smalls", TEE, {"S": 4, "M": 1}, {"M": 1}),
    ("drop the smalls", TEE, {"S": 4, "M": 1}, {"M": 1}),
    ("without the XL", TEE, {"XL": 2, "L": 1}, {"L": 1}),
    ("none in small", TEE, {"S": 3, "M": 1}, {"M": 1}),
    ("cancel the XL", TEE, {"XL": 2, "M": 1}, {"M": 1}),
    ("remove all mediums", TEE, {"M": 3, "L": 2}, {"L": 2}),
    ("no smalls or mediums", TEE, {"S": 1, "M": 2, "L": 3}, {"L": 3}),
    ("no smalls and mediums", TEE, {"S": 1, "M": 2, "L": 3}, {"L": 3}),
    ("10 M but no L", TEE, {"L": 3}, {"M": 10}),
    # explicit changes
    ("make the mediums 8", TEE, {"M": 2, "L": 1}, {"M": 8, "L": 1}),
    ("change L to 6", TEE, {"L": 2}, {"L": 6}),
    ("change L from 2 to 6", TEE, {"L": 2}, {"L": 6}),
    ("set M to 10 and L to 5", TEE, {"S": 1}, {"S": 1, "M": 10, "L": 5}),
    ("reduce M to 5", TEE, {"M": 9}, {"M": 5}),
    ("lower M to 3", TEE, {"M": 9, "L": 1}, {"M": 3, "L": 1}),
    ("move the mediums to large", TEE, {"M": 3, "L": 1}, {"L": 4}),
    ("move the smalls to large", TEE, {"M": 3}, ASK),
    # only / just / instead: the map becomes exactly what is named
    ("only 10 M", TEE, {"L": 5}, {"M": 10}),
    ("just 5 L", TEE, {"M": 5, "S": 1}, {"L": 5}),
    ("10 M instead", TEE, {"L": 5}, {"M": 10}),
    ("5 L instead of M", TEE, {"M": 5, "S": 2}, {"S": 2, "L": 5}),
    ("only the mediums", TEE, {"M": 3, "L": 2}, {"M": 3}),
    ("just add 2 M", TEE, {"M": 1, "L": 1}, {"M": 3, "L": 1}),
    # a whole-order phrasing ("make it", "we need", "I want", ...) before a list states the
    # whole order: it replaces the item's sizes; "add", "more", "also", "too" keep the rest
    ("make it 10 M, 5 L and 3 XL", TEE, {"S": 10}, {"M": 10, "L": 5, "XL": 3}),
    ("Make it 10 M, 5 L and 3 XL please", TEE, {"S": 10, "M": 2}, {"M": 10, "L": 5, "XL": 3}),
    ("we need 10 M and 5 L", TEE, {"S": 4, "XL": 1}, {"M": 10, "L": 5}),
    ("I need 18 shirts: 10 M, 5 L and 3 XL", TEE, {"S": 2}, {"M": 10, "L": 5, "XL": 3}),
    ("I want 12 S", TEE, {"M": 3}, {"S": 12}),
    ("I'd like 6 M and 6 L", TEE, {"XL": 2}, {"M": 6, "L": 6}),
    ("we would like M: 10, L: 5", TEE, {"S": 1}, {"M": 10, "L": 5}),
    ("make that 4 XL", TEE, {"L": 2}, {"XL": 4}),
    ("change it to 3 M and 3 L", TEE, {"S": 5}, {"M": 3, "L": 3}),
    ("actually, make it 8 M", TEE, {"S": 2, "M": 1}, {"M": 8}),
    ("ok so we need twenty medium and ten large", TEE, {"XS": 3}, {"M": 20, "L": 10}),
    ("we'll take 5 M and 5 L", TEE, {"S": 3}, {"M": 5, "L": 5}),
    ("we need 2 of each size", HOODIE, {"M": 7}, dict.fromkeys(HOODIE, 2)),
    ("we need 20", TOTE, {"OS": 5}, {"OS": 20}),
    ("add 10 M, 5 L and 3 XL", TEE, {"S": 10}, {"S": 10, "M": 10, "L": 5, "XL": 3}),
    ("also 5 L", TEE, {"S": 10}, {"S": 10, "L": 5}),
    ("we also need 5 L", TEE, {"S": 10}, {"S": 10, "L": 5}),
    ("I want 5 L too", TEE, {"S": 10}, {"S": 10, "L": 5}),
    ("make it 10 M as well", TEE, {"S": 10}, {"S": 10, "M": 10}),
    ("we need 5 more L", TEE, {"S": 10, "L": 1}, {"S": 10, "L": 6}),
    ("I want to add 2 M", TEE, {"S": 1}, {"S": 1, "M": 2}),
    ("I want the mediums to be 8", TEE, {"M": 2, "L": 1}, {"M": 8, "L": 1}),
    ("we need 10 M and 12 M", TEE, {"S": 1}, ASK),
    ("make it 5 XS", HOODIE, {"M": 1}, ASK),
    # each / every
    ("2 of each size", TEE, {}, dict.fromkeys(TEE, 2)),
    ("two of every size", HOODIE, {}, dict.fromkeys(HOODIE, 2)),
    ("3 each", HOODIE, {"M": 1}, dict.fromkeys(HOODIE, 3)),
    ("M and L, 5 each", TEE, {}, {"M": 5, "L": 5}),
    ("10 each of M, L and XL", TEE, {}, {"M": 10, "L": 10, "XL": 10}),
    ("add one more of each", TEE, {"M": 2, "L": 1}, {"M": 3, "L": 2}),
    # scaling
    ("same as before but double", TEE, {"M": 2, "L": 3}, {"M": 4, "L": 6}),
    ("double it", TEE, {"M": 2}, {"M": 4}),
    ("double everything", TEE, {"M": 2, "XL": 1}, {"M": 4, "XL": 2}),
    ("twice as many", TEE, {"M": 3, "L": 1}, {"M": 6, "L": 2}),
    ("double the mediums", TEE, {"M": 3, "L": 1}, {"M": 6, "L": 1}),
    ("x2", TEE, {"M": 3}, {"M": 6}),
    ("half", TEE, {"M": 4, "L": 2}, {"M": 2, "L": 1}),
    ("triple", TEE, {"M": 5}, {"M": 15}),
    ("half", TEE, {"M": 5}, ASK),
    ("double it", TEE, {}, ASK),
    ("double it", TEE, {"M": 6000}, ASK),
    # clearing
    ("clear all", TEE, {"M": 5}, {}),
    ("start over", TEE, {"M": 5, "L": 2}, {}),
    ("remove everything", TEE, {"M": 5}, {}),
    ("start over: 5 M and 5 L", TEE, {"XL": 3}, {"M": 5, "L": 5}),
    ("clear all and add 3 M", TEE, {"L": 2}, {"M": 3}),
    # one-size products: a bare number is that size
    ("20", TOTE, {}, {"OS": 20}),
    ("20 totes", TOTE, {}, {"OS": 20}),
    ("twenty of them", TOTE, {}, {"OS": 20}),
    ("a dozen", TOTE, {}, {"OS": 12}),
    ("1 OS", TOTE, {}, {"OS": 1}),
    ("one size x 50", TOTE, {}, {"OS": 50}),
    ("add 5 more", TOTE, {"OS": 10}, {"OS": 15}),
    ("double it", TOTE, {"OS": 10}, {"OS": 20}),
    ("2 of each", TOTE, {}, {"OS": 2}),
    ("5 M", TOTE, {}, ASK),
    ("a few", TOTE, {}, ASK),
    # ambiguous, vague, contradictory, impossible: ask back, change nothing
    ("a couple of M", TEE, {}, ASK),
    ("a few", TEE, {}, ASK),
    ("some shirts", TEE, {}, ASK),
    ("a few more larges", TEE, {"L": 2}, ASK),
    ("several XL", TEE, {}, ASK),
    ("10 M and 12 M", TEE, {}, ASK),
    ("make it bigger", TEE, {"M": 1}, ASK),
    ("5 XS", HOODIE, {}, ASK),
    ("3 XL, 2 XS", HOODIE, {}, ASK),
    ("20", TEE, {}, ASK),
    ("20000 M", TEE, {}, ASK),
    ("I need 20 shirts: 10 M, 5 L and 3 XL", TEE, {}, ASK),
    ("10 M, L and XL", TEE, {}, ASK),
    ("don't add any smalls", TEE, {"M": 1}, ASK),
    ("M=-3", TEE, {}, ASK),
    ("2.5 M", TEE, {}, ASK),
    ("M", TEE, {}, ASK),
    ("", TEE, {}, ASK),
    ("hello there", TEE, {}, ASK),
    ("what sizes do you have?", HOODIE, {}, ASK),
]


def interpreted(
    message: str, available: tuple[str, ...], current: Mapping[str, int]
) -> dict[str, int] | None:
    return interpret(message, available=available, current=current).sizes


def corpus_accuracy() -> float:
    """The share of the corpus the local parser gets exactly right."""
    right = sum(
        interpreted(message, available, current) == expected
        for message, available, current, expected in CORPUS
    )
    return right / len(CORPUS)


def test_the_corpus_is_large_and_fully_understood() -> None:
    assert len(CORPUS) >= 80
    assert corpus_accuracy() == 1.0


@pytest.mark.parametrize(("message", "available", "current", "expected"), CORPUS)
def test_corpus(
    message: str,
    available: tuple[str, ...],
    current: dict[str, int],
    expected: dict[str, int] | None,
) -> None:
    snapshot = dict(current)
    update = interpret(message, available=available, current=current)
    assert update.sizes == expected
    assert current == snapshot
    if expected is None:
        assert update.reply.endswith("?")
    else:
        assert list(update.sizes or {}) == [s for s in SIZE_ORDER if s in expected]
        assert update.reply.startswith("Got it")


def test_a_confirmation_says_what_the_item_now_has() -> None:
    update = interpret("10 M, 5 L and 3 XL", available=TEE, current={})
    assert update.reply == "Got it: 10 M, 5 L and 3 XL — 18 pieces."
    assert interpret("20", available=TOTE, current={}).reply == "Got it: 20 pieces."
    assert interpret("clear all", available=TEE, current={"M": 1}).reply.startswith("Got it")


@pytest.mark.parametrize(
    ("message", "current", "reply"),
    [
        (
            "make it 10 M, 5 L and 3 XL",
            {"S": 10},
            "Got it: 10 M, 5 L and 3 XL — 18 pieces. Removed: 10 S.",
        ),
        ("we need 4 M", {"S": 1, "XL": 2}, "Got it: 4 M — 4 pieces. Removed: 1 S and 2 XL."),
        ("only 10 M", {"L": 5, "M": 1}, "Got it: 10 M — 10 pieces. Removed: 5 L."),
        ("make it 10 M", {"M": 3}, "Got it: 10 M — 10 pieces."),
        ("10 M", {"S": 10}, "Got it: 10 S and 10 M — 20 pieces."),
    ],
)
def test_a_confirmation_says_which_sizes_a_replacement_removed(
    message: str, current: dict[str, int], reply: str
) -> None:
    assert interpret(message, available=TEE, current=current).reply == reply


def test_a_question_about_a_missing_size_lists_what_the_product_offers() -> None:
    update = interpret("5 XS", available=HOODIE, current={"M": 2})
    assert update.sizes is None
    assert "XS" in update.reply and "S, M, L, XL, 2XL and 3XL" in update.reply
    assert update.reply.endswith("?")


@pytest.mark.parametrize(
    "message", ["a few", "10 M and 12 M", "remove 3 M", "half", "20", "20000 M", "XS"]
)
def test_every_ask_back_is_one_question(message: str) -> None:
    update = interpret(message, available=HOODIE, current={"M": 1})
    assert update.sizes is None
    assert update.reply.endswith("?")


def test_sizes_on_the_item_that_the_product_no_longer_offers_ask_back() -> None:
    update = interpret("10 M", available=HOODIE, current={"XS": 2})
    assert update.sizes is None
    assert "XS" in update.reply
    assert interpret("clear all", available=HOODIE, current={"XS": 2}).sizes == {}


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("xs", "XS"), ("x-small", "XS"), ("extra small", "XS"), ("XSmall", "XS"),
        ("s", "S"), ("sm", "S"), ("small", "S"), ("smalls", "S"), ("Small", "S"),
        ("m", "M"), ("med", "M"), ("medium", "M"), ("mediums", "M"), ("meds", "M"),
        ("l", "L"), ("lg", "L"), ("large", "L"), ("larges", "L"), ("lrg", "L"),
        ("xl", "XL"), ("x-large", "XL"), ("extra large", "XL"), ("xl's", "XL"), ("XLs", "XL"),
        ("xxl", "2XL"), ("2xl", "2XL"), ("2XL", "2XL"), ("xx-large", "2XL"),
        ("double xl", "2XL"), ("double extra large", "2XL"), ("2x-large", "2XL"),
        ("xxxl", "3XL"), ("3xl", "3XL"), ("xxx-large", "3XL"), ("triple extra large", "3XL"),
        ("os", "OS"), ("one size", "OS"), ("one-size", "OS"), ("One Size Fits All", "OS"),
        ("4xl", None), ("xxs", None), ("medium-ish", None), ("", None), ("size", None),
    ],
)  # fmt: skip
def test_normalize_size(word: str, code: str | None) -> None:
    assert normalize_size(word) == code


def test_validate_sizes_drops_zeros_and_returns_canonical_order() -> None:
    assert validate_sizes({"L": 1, "S": 2, "M": 0}, TEE) == {"S": 2, "L": 1}
    assert list(validate_sizes({"3XL": 1, "XS": 1, "M": 0}, TEE)) == ["XS", "3XL"]
    assert validate_sizes({}, TEE) == {}
    assert validate_sizes({"M": MAX_PER_SIZE}, TEE) == {"M": MAX_PER_SIZE}


@pytest.mark.parametrize(
    ("candidate", "needle"),
    [
        ({"XXL": 1}, "XXL"),
        ({"m": 1}, "'m'"),
        ({"XS": 1}, "S, M, L, XL, 2XL and 3XL"),
        ({"OS": 1}, "OS"),
        ({"M": -1}, "negative"),
        ({"M": MAX_PER_SIZE + 1}, "10,000"),
        ({"M": 1.5}, "whole number"),
        ({"M": "5"}, "whole number"),
        ({"M": True}, "whole number"),
        ({"M": None}, "whole number"),
    ],
)
def test_validate_sizes_refuses(candidate: dict[str, object], needle: str) -> None:
    with pytest.raises(SizeError, match=needle) as raised:
        validate_sizes(candidate, HOODIE)  # type: ignore[arg-type]
    error = raised.value
    assert isinstance(error, ValueError) and isinstance(error, errors.ApiError)
    assert error.status == 422 and error.code == "invalid_sizes"
    assert error.body()["error"]["field"] == "sizes"


def test_format_sizes() -> None:
    assert format_sizes({"XL": 3, "M": 10, "L": 5, "S": 0}) == "10 M, 5 L and 3 XL"
    assert format_sizes({"M": 1200}) == "1,200 M"
    assert format_sizes({}) == ""


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  10   M,\n5\tL  ", "10 M, 5 L"),
        ("10\u200b M\u200d\ufeff", "10 M"),
        ("ten\x00 \x07medium\x1b[0m", "ten medium[0m"),
        ("\u202eM 01\u202c", "M 01"),
        ("\uff11\uff10\u3000\uff2d", "10 M"),
        ("caf\u0065\u0301", "caf\u00e9"),
    ],
)
def test_normalize_text(raw: str, clean: str) -> None:
    assert normalize_text(raw) == clean


def test_normalize_text_caps_the_length() -> None:
    assert len(normalize_text("x " * 1000)) <= 500
    assert normalize_text("abcdef", max_chars=3) == "abc"


@pytest.fixture
def no_openai(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("AUREN_DATA_DIR", str(tmp_path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def test_the_assistant_uses_the_local_parser_without_an_openai_key(no_openai: None) -> None:
    update = size_assistant.assistant("10 M, 5 L", available=TEE, current={"S": 1})
    assert update.sizes == {"S": 1, "M": 10, "L": 5}


size_maps = st.dictionaries(
    st.sampled_from(TEE), st.integers(min_value=1, max_value=MAX_PER_SIZE), min_size=1
)


@settings(max_examples=200, deadline=None)
@given(wanted=size_maps, style=st.sampled_from(["words", "colon", "code-first"]))
def test_written_maps_read_back(wanted: dict[str, int], style: str) -> None:
    if style == "words":
        message = format_sizes(wanted)
    elif style == "colon":
        message = " ".join(f"{size}:{quantity}" for size, quantity in wanted.items())
    else:
        message = ", ".join(f"{size} {quantity}" for size, quantity in wanted.items())
    assert interpret(message, available=TEE, current={}).sizes == validate_sizes(wanted, TEE)


@settings(max_examples=100, deadline=None)
@given(wanted=size_maps, current=size_maps)
def test_only_makes_the_map_exactly_what_is_written(
    wanted: dict[str, int], current: dict[str, int]
) -> None:
    update = interpret(f"only {format_sizes(wanted)}", available=TEE, current=current)
    assert update.sizes == validate_sizes(wanted, TEE)


@settings(max_examples=100, deadline=None)
@given(
    wanted=size_maps,
    current=size_maps,
    phrase=st.sampled_from(["make it", "we need", "I want", "I'd like", "we would like"]),
)
def test_a_whole_order_phrasing_states_the_whole_order(
    wanted: dict[str, int], current: dict[str, int], phrase: str
) -> None:
    update = interpret(f"{phrase} {format_sizes(wanted)}", available=TEE, current=current)
    assert update.sizes == validate_sizes(wanted, TEE)
    added = interpret(f"add {format_sizes(wanted)}", available=TEE, current=current)
    kept = {size: q for size, q in current.items() if size not in wanted}
    assert added.sizes is None or kept.items() <= added.sizes.items()
    also = interpret(f"{phrase} {format_sizes(wanted)} too", available=TEE, current=current)
    assert also.sizes == validate_sizes({**current, **wanted}, TEE)


@settings(max_examples=300, deadline=None)
@given(message=st.text(), current=size_maps)
def test_any_text_gives_a_valid_map_or_a_question(message: str, current: dict[str, int]) -> None:
    update = interpret(
        message, available=HOODIE, current={k: v for k, v in current.items() if k != "XS"}
    )
    assert update.reply
    if update.sizes is not None:
        assert validate_sizes(update.sizes, HOODIE) == update.sizes


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["10", "M", "L", "add", "remove", "no", "each", "double", "half", "x", "-", ":",
             "and", ",", "only", "instead", "of", "twenty", "hundred", "a", "dozen", "2xl",
             "4x", "1,000", "clear", "more", "to", "from", "0", "99999", "few"]
        ),
        max_size=12,
    )
)  # fmt: skip
def test_any_mix_of_size_words_gives_a_valid_map_or_a_question(words: list[str]) -> None:
    update = interpret(" ".join(words), available=TEE, current={"M": 4, "L": 1})
    assert update.reply
    if update.sizes is not None:
        assert validate_sizes(update.sizes, TEE) == update.sizes
