"""Sizes and quantities of an order item, and the size assistant that edits them from text.

`interpret` is the deterministic, offline parser: it turns what a shopper types
("10 M, 5 L and 3 XL", "two more large", "no smalls", "double it") into the item's new
size -> quantity map, or into one clarifying question when the text is unclear.
`assistant` is what the `POST /api/orders/assistant` route calls: it asks OpenAI
(`common.providers.sizes_openai`) when `OPENAI_API_KEY` is set and falls back to `interpret`.
Whatever path produced a map, it went through `validate_sizes` before it is returned.

Semantics of a message (applied, in order, to the item's current map):

- Plain quantities SET the sizes they name and leave the other sizes unchanged:
  "10 M, 5 L" on {S: 4} gives {S: 4, M: 10, L: 5}. "make the mediums 8", "change L to 6",
  "M=10", "small x4" and "reduce M to 5" are all sets (but see whole orders, next).
- A whole-order phrasing right before the list states the whole order, so the list REPLACES
  the map: "make it 10 M, 5 L and 3 XL" on {S: 10} gives {M: 10, L: 5, XL: 3}. The phrasings
  are "make it/that/this", "change it/that to", "I/we need", "I/we want", "I'd/we'd like",
  "I/we would like", "I'll/we'll take", "I/we will take", "let's do", "let's go with", "the/our
  order is" and "put me/us down for"; the list must follow at once (a number, or a size then
  its number: "we need M: 10, L: 5"; "be", "is", "exactly" and ":" may come between), so "I
  want the mediums to be 8" and "I want to add 2 M" are not whole orders. Like "only", it
  applies to messages that only set sizes (and "N of each"): "we need 5 more L" still adds.
  "also", "too", "as well", "keep", "still", "besides", "additionally" and "in addition"
  keep the rest ("I want 5 L too" sets L alone). The reply names what the replacement removed:
  "Got it: 10 M, 5 L and 3 XL — 18 pieces. Removed: 10 S."
- "only", "just" or "instead" (with nothing after it) make the map exactly what the message
  names: "only 10 M" gives {M: 10}; "only the mediums" keeps M as it is and drops the rest.
  This applies to messages that only set sizes: "just add 2 M" still adds. "5 L instead of M"
  sets L and drops M, keeping the other sizes.
- "add", "more", "plus", "extra", "another", "+" increment ("add 2 more large",
  "2 more M"); "remove", "minus", "less", "fewer", "drop", "take away" with a number
  decrement ("remove 3 mediums"). Going below zero asks back. The mode carries over to the
  following clauses ("add 2 M and 3 L" adds both) until another mode word appears.
- "no X", "without X", "drop/remove/delete/cancel X" (no number) set X to 0.
- "N of each size" / "N each" / "N of every size" set every size the product offers to N (or
  only the sizes listed: "M and L, 5 each"); with "add"/"remove" they apply to the sizes
  already on the item.
- "double it", "twice as many", "triple", "half" scale every size (or the sizes named:
  "double the mediums"); a result that is not a whole number asks back.
- "clear all", "start over", "reset", "remove everything" empty the map; what follows in the
  same message is applied to the empty map ("start over: 5 M").
- "move the M to L" / "change the mediums to large" moves the quantity from one size to another.
- For a product with a single size (a tote: OS), a bare number is that size: "20", "20 totes",
  "twenty of them", "add 5 more". With several sizes, a bare number is a stated total that
  must match: "18 shirts: 10 M, 5 L and 3 XL" is accepted, "20 shirts: ..." asks back.
- Numbers may be digits ("1,000", "1k") or words up to the thousands ("twenty-five", "a
  hundred", "one hundred and twenty", "a dozen", "half a dozen"); "a"/"another" before a
  size is one.
- A glued "2xl"/"3xl" is the size 2XL/3XL, "4x small" and "4 x small" are 4 small, and
  "extra large"/"x-small"/"xx-large"/"double extra large" are the sizes XL/XS/2XL/2XL.

It asks back (sizes=None, one question, nothing changed) when the text has no quantity it
can place, uses vague amounts ("a few", "a couple", "some"), contradicts itself ("10 M and
12 M"), names a size the product does not offer (the question lists what it does offer),
uses negation ("not", "don't"), or would leave a size negative or above `MAX_PER_SIZE`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from common.core import errors
from common.core.text import normalize_text
from common.shop.lifecycle import MAX_PER_SIZE

SIZE_ORDER = ("XS", "S", "M", "L", "XL", "2XL", "3XL", "OS")


class SizeError(errors.Unprocessable, ValueError):
    """A size map that cannot be accepted; the message says why, in words for the shopper."""

    code = "invalid_sizes"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="sizes")


@dataclass(frozen=True)
class SizeUpdate:
    """The assistant's answer: the item's new complete size map, or a question back.

    `sizes` is the new map (canonical order, zero sizes omitted) when the message was
    understood, `None` when the assistant asks back; `reply` is the confirmation or the
    one clarifying question, in words for the shopper.
    """

    sizes: dict[str, int] | None
    reply: str


def validate_sizes(candidate: Mapping[str, int], available: Sequence[str]) -> dict[str, int]:
    """`candidate` checked against the product's sizes: zero quantities dropped, canonical order.

    Raises `SizeError` for a size that is not a canonical code, one the product does not
    offer, a quantity that is not an integer, negative, or above `MAX_PER_SIZE`.
    """
    offered = set(available)
    accepted: dict[str, int] = {}
    for size, quantity in candidate.items():
        if size not in SIZE_ORDER:
            raise SizeError(f"{size!r} is not a size we know; sizes are {_listing(SIZE_ORDER)}")
        if size not in offered:
            raise SizeError(f"this product doesn't come in {size}; {_offer_phrase(available)}")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise SizeError(f"the quantity for {size} must be a whole number")
        if quantity < 0:
            raise SizeError(f"the quantity for {size} can't be negative")
        if quantity > MAX_PER_SIZE:
            raise SizeError(f"the most we take per size is {MAX_PER_SIZE:,}, and {size} has more")
        if quantity:
            accepted[size] = quantity
    return {size: accepted[size] for size in SIZE_ORDER if size in accepted}


def format_sizes(sizes: Mapping[str, int]) -> str:
    """The sizes as words in canonical order, zero sizes left out: "10 M, 5 L and 3 XL"."""
    parts = [f"{sizes[size]:,} {size}" for size in SIZE_ORDER if sizes.get(size)]
    return _join(parts)


# --- size words -------------------------------------------------------------------------

_SPELLINGS: dict[str, tuple[str, ...]] = {
    "XS": ("xs", "xsm", "xsml", "xsmall", "x small", "extra small", "extrasmall", "xtra small"),
    "S": ("s", "sm", "sml", "small", "smal", "smll", "samll", "smalll"),
    "M": ("m", "md", "med", "medium", "meduim", "medim", "medum", "mediun", "midium", "mediam"),
    "L": ("l", "lg", "lrg", "lge", "large", "larg", "lagre", "lareg"),
    "XL": ("xl", "xlg", "xlrg", "xlarge", "x large", "extra large", "extralarge", "xtra large"),
    "2XL": (
        "2xl", "xxl", "xxlarge", "xx large", "2xlarge", "2x large",
        "double xl", "double x large", "double extra large",
    ),
    "3XL": (
        "3xl", "xxxl", "xxxlarge", "xxx large", "3xlarge", "3x large",
        "triple xl", "triple x large", "triple extra large",
    ),
    "OS": ("os", "one size", "onesize", "osfa", "one size fits all", "one size fits most"),
}  # fmt: skip
_SIZE_BY_SPELLING = {spelling: code for code, words in _SPELLINGS.items() for spelling in words}
_FOREIGN_SIZE = re.compile(r"^(?:([4-9])xl|(x{4,9})l|([2-9])xs|(x{2,9})s)s?$")


def _size_key(word: str) -> str:
    text = normalize_text(word).lower()
    text = re.sub("['\u2018\u2019`.]", "", text)
    return " ".join(re.sub(r"[-_/]", " ", text).split())


def normalize_size(word: str) -> str | None:
    """The canonical size code for a way of writing it, or None when it is not one of ours.

    Accepts codes, words, common abbreviations, light typos and plurals: "xxl", "2xl",
    "xx-large", "double extra large" -> "2XL"; "medium", "med", "mediums" -> "M";
    "smalls", "sm" -> "S"; "x-small" -> "XS"; "xl's" -> "XL"; "one size" -> "OS".
    Sizes other shops sell but Auren does not (4XL, XXS) give None.
    """
    return _lookup_size(_size_key(word))


def _lookup_size(key: str) -> str | None:
    if key in _SIZE_BY_SPELLING:
        return _SIZE_BY_SPELLING[key]
    for suffix in ("s", "es"):
        if key.endswith(suffix) and key[: -len(suffix)] in _SIZE_BY_SPELLING:
            return _SIZE_BY_SPELLING[key[: -len(suffix)]]
    return None


def _foreign_size(word: str) -> str | None:
    """The display name of a size word that is real apparel but not ours: "4xl" -> "4XL"."""
    found = _FOREIGN_SIZE.match(word)
    if not found:
        return None
    digit_xl, many_x_l, digit_xs, many_x_s = found.groups()
    if digit_xl:
        return f"{digit_xl}XL"
    if many_x_l:
        return f"{len(many_x_l)}XL"
    if digit_xs:
        return f"{digit_xs}XS"
    return f"{len(many_x_s)}XS"


# --- tokens -----------------------------------------------------------------------------

_GAP = r"[\s-]*"


def _count_x(suffix: str) -> Callable[[re.Match[str]], str]:
    return lambda found: f" {len(found.group(1))}{suffix} "


# Multi-word and hyphenated size names, rewritten to one size word before tokenizing.
# A bare "x" after a number is a multiplier ("4 x small" is 4 S), so "x large"/"x small"
# with a space are sizes only when no number comes right before them.
_SIZE_PHRASES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(rf"\b(?:double|dbl){_GAP}(?:extra{_GAP}larges?|x{_GAP}larges?|xls?)\b"), " 2xl "),
    (re.compile(rf"\b(?:triple|tpl){_GAP}(?:extra{_GAP}larges?|x{_GAP}larges?|xls?)\b"), " 3xl "),
    (re.compile(rf"\b(xx+){_GAP}larges?\b"), _count_x("xl")),
    (re.compile(rf"\b(xx+){_GAP}smalls?\b"), _count_x("xs")),
    (re.compile(r"\b([2-9])x-?larges?\b"), r" \1xl "),
    (re.compile(r"\b([2-9])x-?smalls?\b"), r" \1xs "),
    (
        re.compile(
            rf"\b(?:extra|xtra){_GAP}larges?\b|\bx-larges?\b|(?<!\d)(?<!\d\s)\bx\s+larges?\b"
        ),
        " xl ",
    ),
    (
        re.compile(
            rf"\b(?:extra|xtra){_GAP}smalls?\b|\bx-smalls?\b|(?<!\d)(?<!\d\s)\bx\s+smalls?\b"
        ),
        " xs ",
    ),
    (re.compile(rf"\bone{_GAP}size(?:{_GAP}fits{_GAP}(?:all|most))?\b"), " os "),
)


_TOKEN = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?)(?P<suffix>[^\W\d_]*)"
    r"|(?P<word>[^\W\d_]+)"
    "|(?P<sym>[:=+\u00d7*,;/&.!?|\\-])"
)
_SEPARATOR_SYMBOLS = frozenset(",;/&.!?|")
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th", "pc", "pcs"})

NUM, SIZE, FOREIGN, BADNUM, VAGUE, SEP, ASSIGN, MULT, WORD = (
    "num", "size", "foreign", "badnum", "vague", "sep", "assign", "mult", "word",
)  # fmt: skip


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    value: int = 0
    size: str = ""


def _number_token(digits: str, suffix: str) -> list[_Tok]:
    glued = digits + suffix
    code = _lookup_size(glued) if suffix else None
    if code in ("2XL", "3XL"):
        return [_Tok(SIZE, glued, size=code)]
    if suffix and (foreign := _foreign_size(glued)):
        return [_Tok(FOREIGN, glued, size=foreign)]
    amount = Fraction(digits.replace(",", ""))
    if suffix == "k":
        amount *= 1000
        suffix = ""
    number = (
        _Tok(NUM, digits, value=int(amount)) if amount.denominator == 1 else _Tok(BADNUM, digits)
    )
    if not suffix or suffix in _ORDINAL_SUFFIXES:
        return [number]
    if suffix == "x":
        return [number, _Tok(MULT, "x")]
    return [number, *_word_tokens(suffix)]


def _word_tokens(word: str) -> list[_Tok]:
    if word in ("x", "times"):
        return [_Tok(MULT, word)]
    code = _lookup_size(word)
    if code:
        return [_Tok(SIZE, word, size=code)]
    foreign = _foreign_size(word)
    if foreign:
        return [_Tok(FOREIGN, word, size=foreign)]
    if word in _VAGUE:
        return [_Tok(VAGUE, word)]
    return [_Tok(WORD, word)]


def _tokenize(message: str) -> list[_Tok]:
    text = re.sub("['\u2018\u2019`]", "", normalize_text(message).lower())
    for pattern, replacement in _SIZE_PHRASES:
        text = pattern.sub(replacement, text)
    text = re.sub(r"(?<![\w])-(?=\d)", " minus ", text)
    text = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", text)
    tokens: list[_Tok] = []
    for found in _TOKEN.finditer(text):
        if found.group("num"):
            tokens.extend(_number_token(found.group("num"), found.group("suffix")))
        elif found.group("word"):
            tokens.extend(_word_tokens(found.group("word")))
        else:
            symbol = found.group("sym")
            if symbol in _SEPARATOR_SYMBOLS:
                tokens.append(_Tok(SEP, symbol))
            elif symbol in ("\u00d7", "*"):
                tokens.append(_Tok(MULT, symbol))
            elif symbol == "+":
                tokens.append(_Tok(WORD, "plus"))
            else:
                tokens.append(_Tok(ASSIGN, symbol))
    return tokens


# --- numbers in words -------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_NUMBER_WORDS = frozenset(_UNITS.keys() | _TEENS.keys() | _TENS.keys())
_ARTICLES = frozenset({"a", "an"})


def _word_at(tokens: Sequence[_Tok], index: int) -> str:
    return tokens[index].text if index < len(tokens) and tokens[index].kind == WORD else ""


def _read_number(tokens: Sequence[_Tok], start: int) -> tuple[int, int] | None:
    """The number written from `tokens[start]` on ("one hundred and twenty", "half a dozen",
    "2 dozen", "a thousand") and the index after it, or None when no number starts there."""
    i = start
    if _word_at(tokens, i) == "half":
        after = i + 2 if _word_at(tokens, i + 1) in _ARTICLES else i + 1
        if _word_at(tokens, after) == "dozen":
            return 6, after + 1
        return None
    total, chunk, last = 0, 0, ""
    if _word_at(tokens, i) in _ARTICLES:
        if _word_at(tokens, i + 1) not in ("hundred", "thousand", "dozen"):
            return None
        chunk, last, i = 1, "unit", i + 1
    while i < len(tokens):
        token, word = tokens[i], _word_at(tokens, i)
        if token.kind == NUM and last == "":
            chunk, last = token.value, "digits"
        elif word in _UNITS and last in ("", "tens", "hundred", "thousand", "and"):
            if last == "tens" and chunk % 10:
                break
            chunk, last = chunk + _UNITS[word], "unit"
        elif word in _TEENS and last in ("", "hundred", "thousand", "and"):
            chunk, last = chunk + _TEENS[word], "teen"
        elif word in _TENS and last in ("", "hundred", "thousand", "and"):
            chunk, last = chunk + _TENS[word], "tens"
        elif word == "hundred" and last in ("", "unit", "teen", "digits") and chunk < 100:
            chunk, last = (chunk or 1) * 100, "hundred"
        elif word == "thousand" and last not in ("and", "thousand") and total == 0:
            total, chunk, last = (chunk or 1) * 1000, 0, "thousand"
        elif word == "dozen" and last in ("", "unit", "teen", "tens", "digits"):
            return total + (chunk or 1) * 12, i + 1
        elif (
            word == "and"
            and last in ("hundred", "thousand")
            and _word_at(tokens, i + 1) in _NUMBER_WORDS
        ):
            last = "and"
        else:
            break
        i += 1
    if i == start or last == "and":
        return None
    return total + chunk, i


def _compose_numbers(tokens: Sequence[_Tok]) -> list[_Tok]:
    """Number phrases folded into single NUM tokens; "a"/"an" before a size becomes 1."""
    composed: list[_Tok] = []
    i = 0
    while i < len(tokens):
        number = _read_number(tokens, i)
        if number is not None:
            value, end = number
            composed.append(_Tok(NUM, " ".join(t.text for t in tokens[i:end]), value=value))
            i = end
            continue
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.kind == WORD and token.text in _ARTICLES and following and following.kind == SIZE:
            composed.append(_Tok(NUM, token.text, value=1))
        elif token.kind == WORD and token.text == "another":
            composed.append(_Tok(WORD, "another"))
            amount_follows = following is not None and (
                following.kind in (NUM, VAGUE, BADNUM) or _read_number(tokens, i + 1) is not None
            )
            if not amount_follows:
                composed.append(_Tok(NUM, "another", value=1))
        else:
            composed.append(token)
        i += 1
    return composed


# --- clauses ----------------------------------------------------------------------------

_ADD = frozenset({"add", "more", "plus", "extra", "extras", "another", "additional"})
_REMOVE = frozenset({"remove", "minus", "less", "fewer", "subtract", "delete", "drop", "cancel"})
_ZEROING = frozenset({"remove", "delete", "drop", "cancel", "cut", "clear", "take"})
_INCREASE = frozenset({"increase", "raise", "bump"})
_DECREASE = frozenset({"decrease", "reduce", "lower", "cut"})
_ZERO = frozenset({"no", "none", "without", "skip", "exclude", "excluding", "nothing"})
_SET = frozenset({"make", "change", "set", "switch", "update", "to", "turn", "move", "swap"})
_MOVE = frozenset({"make", "change", "switch", "turn", "move", "swap"})
_ONLY = frozenset({"only", "just"})
_SCALE = {
    "double": Fraction(2), "twice": Fraction(2), "triple": Fraction(3), "treble": Fraction(3),
    "thrice": Fraction(3), "quadruple": Fraction(4), "half": Fraction(1, 2),
    "halve": Fraction(1, 2),
}  # fmt: skip
_CLEAR = frozenset({"clear", "reset", "restart", "empty", "wipe"})
_CLEAR_PAIRS = frozenset({("start", "over"), ("start", "again"), ("from", "scratch")})
_EVERYTHING = frozenset({"all", "everything"})
_EACH = frozenset({"each", "every", "apiece", "per"})
_NEGATION = frozenset(
    {"not", "dont", "doesnt", "didnt", "never", "nor", "wont", "cant", "shouldnt", "neither"}
)
_RESIZE = frozenset({"bigger", "smaller", "larger", "tighter", "looser"})
_VAGUE = frozenset(
    {
        "couple", "few", "several", "some", "bunch", "lots", "lot", "many", "handful", "plenty",
        "multiple", "dozens", "hundreds", "thousands", "various", "numerous", "enough",
    }
)  # fmt: skip
_CONJUNCTIONS = frozenset({"and", "then", "also", "but"})
# Phrasings that state the whole order when the list follows at once ("make it 10 M, 5 L"),
# as the words they tokenize to (apostrophes dropped: "I'd" is "id", "we'll" is "well").
_WHOLE_ORDER = tuple(
    tuple(phrase.split())
    for phrase in (
        "make it", "make that", "make this", "change it to", "change that to",
        "i need", "we need", "i want", "we want", "id like", "wed like", "i would like",
        "we would like", "ill take", "well take", "i will take", "we will take", "lets do",
        "lets go with", "the order is", "our order is", "put me down for", "put us down for",
    )
)  # fmt: skip
_WHOLE_ORDER_FILLER = frozenset({"be", "is", "exactly"})
_KEEP_REST = frozenset({"also", "too", "keep", "still", "besides", "additionally"})
_KEEP_REST_PAIRS = frozenset({("as", "well"), ("in", "addition")})
_SPLIT_BEFORE = _ADD | _REMOVE | _ZERO | _INCREASE | _DECREASE | (_SET - {"to"})


def _states_whole_order(tokens: Sequence[_Tok]) -> bool:
    """Whether the message says the list is the whole order: a whole-order phrasing followed
    at once by the list ("make it 10 M", "we need M: 10"), and no word that keeps the rest."""
    words = [t.text for t in tokens if t.kind == WORD]
    if set(words) & _KEEP_REST or set(itertools.pairwise(words)) & _KEEP_REST_PAIRS:
        return False
    for start in range(len(tokens)):
        for phrase in _WHOLE_ORDER:
            end = start + len(phrase)
            if tuple(_word_at(tokens, i) for i in range(start, end)) != phrase:
                continue
            while end < len(tokens) and (
                tokens[end].kind == ASSIGN or _word_at(tokens, end) in _WHOLE_ORDER_FILLER
            ):
                end += 1
            following = tokens[end + 1] if end + 1 < len(tokens) else None
            if end < len(tokens) and (
                tokens[end].kind == NUM
                or (
                    tokens[end].kind == SIZE
                    and following is not None
                    and following.kind in (NUM, ASSIGN)
                )
            ):
                return True
    return False


def _clauses(tokens: Sequence[_Tok]) -> list[list[_Tok]]:
    """Split on separators and conjunctions, and before a mode word that follows a whole
    size-and-number pair ("10 M plus 5 L", "add 2 M remove 1 L")."""
    clauses: list[list[_Tok]] = [[]]
    for token in tokens:
        current = clauses[-1]
        if token.kind == SEP or (token.kind == WORD and token.text in _CONJUNCTIONS):
            if current:
                clauses.append([])
            continue
        complete = any(t.kind == NUM for t in current) and any(t.kind == SIZE for t in current)
        if token.kind == WORD and token.text in _SPLIT_BEFORE and complete:
            clauses.append([])
        clauses[-1].append(token)
    return [clause for clause in clauses if clause]


class _Ask(Exception):
    """Stop interpreting and ask the shopper `question`."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


@dataclass
class _Clause:
    words: list[str]
    mode: str | None = None  # "set" | "add" | "sub" | "zero", None = carried over
    zeroing: bool = False  # a remove-word that means "to zero" when no number follows
    pairs: list[tuple[_Tok, _Tok]] = field(default_factory=list)
    lone_sizes: list[_Tok] = field(default_factory=list)
    lone_amounts: list[_Tok] = field(default_factory=list)
    instead_of: list[_Tok] = field(default_factory=list)
    scale: Fraction | None = None
    clear: bool = False
    each: bool = False
    only: bool = False
    replace_all: bool = False
    multiply: bool = False
    negative: bool = False

    @property
    def sizes(self) -> list[_Tok]:
        return [size for size, _ in self.pairs] + self.lone_sizes + self.instead_of

    @property
    def amounts(self) -> list[_Tok]:
        return [amount for _, amount in self.pairs] + self.lone_amounts


def _mode(words: Sequence[str], bigrams: set[tuple[str, str]]) -> tuple[str | None, bool]:
    present = set(words)
    found: set[str] = set()
    zeroing = False
    if present & _ADD:
        found.add("add")
    if present & _REMOVE or any(b in bigrams for b in (("take", "away"), ("take", "off"))):
        found.add("sub")
        zeroing = bool(present & _ZEROING)
    if present & _INCREASE:
        found.add("set" if "to" in present else "add")
    if present & _DECREASE:
        found.add("set" if "to" in present else "sub")
        zeroing = zeroing or "cut" in present
    if present & _ZERO:
        found.add("zero")
    if present & {"clear", "empty", "wipe"}:
        found.add("zero")
    if len(found - {"set"}) > 1:
        raise _Ask(
            "I'm not sure whether you want to add, remove or set those — "
            "could you say it again, one change at a time?"
        )
    for mode in ("add", "sub", "zero", "set"):
        if mode in found:
            return mode, zeroing
    if present & _SET:
        return "set", zeroing
    return None, zeroing


def _read_clause(tokens: Sequence[_Tok]) -> _Clause:
    words = [t.text for t in tokens if t.kind == WORD]
    bigrams = set(itertools.pairwise(words))
    clause = _Clause(words=words)
    clause.mode, clause.zeroing = _mode(words, bigrams)
    present = set(words)
    clause.scale = next((_SCALE[w] for w in words if w in _SCALE), None)
    clause.each = bool(present & _EACH) or ("all" in present and bool({"sizes", "size"} & present))
    clause.only = bool(present & _ONLY)
    clause.multiply = any(t.kind == MULT for t in tokens)
    removes_everything = bool(present & (_ZEROING | {"remove"})) and bool(present & _EVERYTHING)
    clause.clear = bool(
        present & {"reset", "restart", "wipe"}
        or (present & {"clear", "empty"} and not any(t.kind == SIZE for t in tokens))
        or bigrams & _CLEAR_PAIRS
        or (removes_everything and not any(t.kind == SIZE for t in tokens))
    )
    _pair(tokens, clause)
    if not clause.lone_amounts and any(_GLUED_XL.match(t.text) for t in clause.lone_sizes):
        # "10m 5l 3xl": a glued "3xl" left without a number was "3 XL", not the size 3XL.
        split = [part for t in tokens for part in _split_glued_xl(t)]
        retry = _Clause(words=words)
        _pair(split, retry)
        if not retry.lone_sizes and not retry.lone_amounts:
            clause.pairs, clause.lone_sizes, clause.instead_of = retry.pairs, [], retry.instead_of
    if "instead" in present and not clause.instead_of:
        clause.replace_all = True
    if clause.each and len(clause.amounts) == 1:
        clause.lone_amounts = clause.amounts
        clause.lone_sizes = [size for size, _ in clause.pairs] + clause.lone_sizes
        clause.pairs = []
    return clause


_GLUED_XL = re.compile(r"^[23]xls?$")


def _split_glued_xl(token: _Tok) -> list[_Tok]:
    if token.kind == SIZE and _GLUED_XL.match(token.text):
        return [_Tok(NUM, token.text[0], value=int(token.text[0])), _Tok(SIZE, "xl", size="XL")]
    return [token]


def _pair(tokens: Sequence[_Tok], clause: _Clause) -> None:
    """Pair each size with the amount next to it, before or after ("10 M", "M: 10", "M x 10")."""
    pending_size: _Tok | None = None
    pending_amount: _Tok | None = None
    skip_next_amount = False
    replacing = False
    previous: _Tok | None = None
    for token in tokens:
        if token.kind == WORD:
            if token.text == "from":
                skip_next_amount = True
            elif token.text == "instead":
                replacing = True
            elif token.text == "minus" and previous is not None and previous.kind == ASSIGN:
                clause.negative = True
            elif token.text not in ("of", "the"):
                replacing = False
        elif token.kind in (SIZE, FOREIGN):
            if replacing:
                clause.instead_of.append(token)
            elif pending_amount is not None:
                clause.pairs.append((token, pending_amount))
                pending_amount = None
            else:
                if pending_size is not None:
                    clause.lone_sizes.append(pending_size)
                pending_size = token
        elif token.kind in (NUM, BADNUM, VAGUE):
            replacing = False
            if skip_next_amount:
                skip_next_amount = False
            elif pending_size is not None:
                clause.pairs.append((pending_size, token))
                pending_size = None
            else:
                if pending_amount is not None:
                    clause.lone_amounts.append(pending_amount)
                pending_amount = token
        previous = token
    if pending_size is not None:
        clause.lone_sizes.append(pending_size)
    if pending_amount is not None:
        clause.lone_amounts.append(pending_amount)


# --- from clauses to operations ---------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    kind: str  # set | add | sub | zero | keep | scale | clear | move | each
    size: str = ""
    amount: int = 0
    factor: Fraction = Fraction(1)
    sizes: tuple[str, ...] = ()
    mode: str = "set"


def _codes(tokens: Iterable[_Tok]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.size for t in tokens))


def _check_words(clauses: Sequence[_Clause], offered: tuple[str, ...]) -> None:
    """Questions that do not depend on how the clauses combine."""
    words = {w for clause in clauses for w in clause.words}
    if words & _NEGATION:
        raise _Ask(
            "I want to get this right — could you tell me the quantities you do want per size, "
            'for example "10 M, 5 L"?'
        )
    named = [t for clause in clauses for t in clause.sizes]
    missing = _codes(t for t in named if t.size not in offered)
    if missing:
        follow_up = (
            "How many would you like?"
            if len(offered) == 1
            else "Which size would you like instead?"
        )
        raise _Ask(
            f"This item doesn't come in {_join(list(missing), 'or')} — {_offer_phrase(offered)}. "
            f"{follow_up}"
        )
    amounts = [t for clause in clauses for t in clause.amounts]
    if any(t.kind == BADNUM for t in amounts):
        raise _Ask("Quantities are whole pieces — how many would you like of each size?")
    if any(clause.negative for clause in clauses):
        raise _Ask("Quantities can't be negative — how many would you like of each size?")
    for clause in clauses:
        for size, amount in clause.pairs:
            if amount.kind == VAGUE:
                raise _Ask(f"How many {size.size} would you like exactly?")
    bigrams = {pair for c in clauses for pair in itertools.pairwise(c.words)}
    if words & _RESIZE or bigrams & {("size", "up"), ("size", "down")}:
        raise _Ask("Which size should they be instead, and how many of it?")


def _each_targets(clauses: list[_Clause]) -> tuple[int, tuple[str, ...]] | None:
    """The clause that says "N each" and the sizes listed without numbers elsewhere."""
    each = [i for i, c in enumerate(clauses) if c.each and c.lone_amounts and not c.pairs]
    if len(each) != 1:
        return None
    index = each[0]
    listed: list[_Tok] = list(clauses[index].lone_sizes)
    for i, clause in enumerate(clauses):
        if i != index and clause.lone_sizes and not clause.amounts and clause.mode != "zero":
            listed.extend(clause.lone_sizes)
            clause.lone_sizes = []
    return index, _codes(listed)


def _operations(
    clauses: list[_Clause], offered: tuple[str, ...], whole_order: bool = False
) -> tuple[list[_Op], bool]:
    """The operations the clauses ask for, and whether the map becomes exactly what they name
    (`whole_order`: the message said the list is the whole order)."""
    each = _each_targets(clauses)
    ops: list[_Op] = []
    replace_all = False
    stated_totals: list[int] = []
    unplaced: list[str] = []
    carried: tuple[str | None, bool] = (None, False)
    single = offered[0] if len(offered) == 1 else None
    for index, clause in enumerate(clauses):
        mode, zeroing = clause.mode, clause.zeroing
        if mode is None and carried[0] in ("add", "sub", "zero"):
            mode, zeroing = carried
        if mode == "zero" and clause.amounts and clause.mode is None:
            mode = "set"
        mode = mode or "set"
        carried = (mode, zeroing)
        if clause.clear:
            ops.append(_Op("clear"))
        replace_all = replace_all or clause.replace_all
        ops.extend(_Op("zero", size=code) for code in _codes(clause.instead_of))

        if each is not None and each[0] == index:
            if len(clause.lone_amounts) != 1:
                raise _Ask("How many of each size would you like?")
            ops.append(_Op("each", amount=clause.lone_amounts[0].value, sizes=each[1], mode=mode))
            continue

        if clause.scale is not None or (
            clause.multiply and clause.lone_amounts and not clause.pairs and not single
        ):
            factor = clause.scale
            if factor is None:
                if len(clause.lone_amounts) != 1 or clause.lone_amounts[0].value < 1:
                    raise _Ask("How many times as many would you like?")
                factor = Fraction(clause.lone_amounts[0].value)
            elif any(amount.kind != VAGUE for amount in clause.amounts):
                raise _Ask(
                    "Do you want to multiply what's on the item, or set new quantities per size?"
                )
            ops.append(_Op("scale", factor=factor, sizes=_codes(clause.lone_sizes)))
            continue

        if _is_move(clause):
            source, target = clause.lone_sizes
            ops.append(_Op("move", size=source.size, sizes=(target.size,)))
            continue

        for size, amount in clause.pairs:
            if mode == "zero":
                raise _Ask(f"How many {size.size} would you like?")
            ops.append(_Op(mode, size=size.size, amount=amount.value))

        for amount in clause.lone_amounts:
            if amount.kind == VAGUE:
                if single:
                    raise _Ask("How many would you like exactly?")
                continue
            if single:
                if mode == "zero":
                    raise _Ask("How many would you like?")
                ops.append(_Op(mode, size=single, amount=amount.value))
            elif mode == "set":
                stated_totals.append(amount.value)
            else:
                verb = "more" if mode == "add" else "fewer"
                raise _Ask(
                    f"{_offer_phrase(offered, 'This item')} — which size should get "
                    f"{_amount(amount.value)} {verb}?"
                )

        lone = _codes(clause.lone_sizes)
        if not lone:
            continue
        if mode == "zero" or (mode == "sub" and zeroing):
            ops.extend(_Op("zero", size=code) for code in lone)
        elif mode == "set" and clause.only:
            ops.extend(_Op("keep", size=code) for code in lone)
        elif mode == "add":
            raise _Ask(f"How many more {_join(list(lone))} would you like?")
        elif mode == "sub":
            raise _Ask(f"How many fewer {_join(list(lone))} would you like?")
        else:
            unplaced.extend(lone)

    if unplaced:
        raise _Ask(f"How many {_join(list(dict.fromkeys(unplaced)))} would you like?")
    if any(c.only for c in clauses) and all(op.kind in ("set", "keep", "zero") for op in ops):
        replace_all = True
    if whole_order and all(
        op.kind in ("set", "keep", "zero", "clear") or (op.kind == "each" and op.mode == "set")
        for op in ops
    ):
        replace_all = True
    _check_totals(stated_totals, ops, offered)
    return ops, replace_all


def _is_move(clause: _Clause) -> bool:
    return (
        len(clause.lone_sizes) == 2
        and not clause.amounts
        and bool(set(clause.words) & _MOVE)
        and bool({"to", "into"} & set(clause.words))
    )


def _check_totals(stated: list[int], ops: list[_Op], offered: tuple[str, ...]) -> None:
    if not stated:
        return
    named = sum({op.size: op.amount for op in ops if op.kind == "set"}.values())
    if not any(op.kind == "set" for op in ops):
        raise _Ask(
            f"{_offer_phrase(offered, 'This item')} — which size are the {_amount(stated[0])} for?"
        )
    if any(total != named for total in stated):
        raise _Ask(
            f"You mentioned {_amount(stated[0])} in total, but the sizes add up to "
            f"{_amount(named)} — how many would you like of each size?"
        )


def _apply(
    ops: Sequence[_Op], replace_all: bool, offered: tuple[str, ...], current: Mapping[str, int]
) -> dict[str, int]:
    result = dict(current)
    fixed: dict[str, int] = {}
    named: set[str] = set()

    def settle(size: str, quantity: int) -> None:
        if fixed.get(size, quantity) != quantity:
            raise _Ask(
                f"You gave two different amounts for {size} ({_amount(fixed[size])} and "
                f"{_amount(quantity)}) — "
                f"how many {size} would you like?"
            )
        fixed[size] = quantity

    def change(size: str, quantity: int) -> None:
        if quantity < 0:
            have = result.get(size, 0)
            raise _Ask(
                f"There {'is' if have == 1 else 'are'} only {have:,} {size} on this item, "
                f"so I can't take off {_amount(have - quantity)} — how many {size} should it have?"
            )
        if quantity > MAX_PER_SIZE:
            raise _Ask(
                f"That would be {_amount(quantity)} {size}, and the most per size is "
                f"{MAX_PER_SIZE:,} — how many {size} would you like?"
            )
        result[size] = quantity
        named.add(size)

    for op in ops:
        if op.kind == "clear":
            result.clear()
            fixed.clear()
        elif op.kind == "set":
            settle(op.size, op.amount)
            change(op.size, op.amount)
        elif op.kind == "zero":
            settle(op.size, 0)
            change(op.size, 0)
        elif op.kind == "keep":
            if not result.get(op.size):
                raise _Ask(f"How many {op.size} would you like?")
            named.add(op.size)
        elif op.kind == "add":
            change(op.size, result.get(op.size, 0) + op.amount)
        elif op.kind == "sub":
            change(op.size, result.get(op.size, 0) - op.amount)
        elif op.kind == "move":
            (target,) = op.sizes
            moved = result.get(op.size, 0)
            if not moved:
                raise _Ask(
                    f"There are no {op.size} on this item yet — how many {target} would you like?"
                )
            change(op.size, 0)
            change(target, result.get(target, 0) + moved)
        elif op.kind == "each":
            if op.mode == "set":
                targets = op.sizes or offered
            else:
                targets = op.sizes or tuple(s for s in offered if result.get(s))
            if not targets:
                raise _Ask(_help(offered))
            for size in targets:
                have = result.get(size, 0)
                if op.mode == "set":
                    settle(size, op.amount)
                    change(size, op.amount)
                elif op.mode == "add":
                    change(size, have + op.amount)
                elif op.mode == "sub":
                    change(size, have - op.amount)
                else:
                    raise _Ask("How many of each size would you like?")
        elif op.kind == "scale":
            targets = op.sizes or tuple(s for s in SIZE_ORDER if result.get(s))
            if not any(result.get(s) for s in targets):
                raise _Ask(
                    "There's nothing on this item to multiply yet — how many of each size "
                    "would you like?"
                )
            for size in targets:
                scaled = result.get(size, 0) * op.factor
                if scaled.denominator != 1:
                    raise _Ask(
                        f"{result[size]:,} {size} doesn't divide evenly — "
                        f"how many {size} would you like?"
                    )
                change(size, int(scaled))
    if replace_all:
        return {size: result[size] for size in named if result.get(size)}
    return {size: quantity for size, quantity in result.items() if quantity}


# --- the parser -------------------------------------------------------------------------


def interpret(message: str, *, available: Sequence[str], current: Mapping[str, int]) -> SizeUpdate:
    """The item's new sizes from a shopper's message, without any network call.

    `available` are the product's size codes, `current` the item's sizes now. Returns the
    new complete map and a short confirmation, or `sizes=None` and one question when the
    message is unclear (see the module docstring for the exact rules). Never raises for
    any text.
    """
    offered = tuple(size for size in SIZE_ORDER if size in set(available))
    try:
        before = validate_sizes(current, SIZE_ORDER)
    except SizeError as exc:
        return SizeUpdate(None, f"This item's sizes look wrong ({exc.message}). {_help(offered)}")
    try:
        tokens = _compose_numbers(_tokenize(message))
        clauses = [_read_clause(c) for c in _clauses(tokens)]
        _check_words(clauses, offered)
        ops, replace_all = _operations(clauses, offered, _states_whole_order(tokens))
        if not ops:
            raise _Ask(_vague_help(offered) if _has_vague(clauses) else _help(offered))
        sizes = validate_sizes(_apply(ops, replace_all, offered, before), offered)
    except _Ask as ask:
        return SizeUpdate(None, ask.question)
    except SizeError as exc:
        return SizeUpdate(None, f"{_capital(exc.message)}. {_help(offered)}")
    # A replacement drops what the message did not name: the reply says so.
    removed = {size: q for size, q in before.items() if size not in sizes} if replace_all else {}
    return SizeUpdate(sizes, confirmation(sizes, removed))


def _has_vague(clauses: Sequence[_Clause]) -> bool:
    return any(t.kind == VAGUE for c in clauses for t in c.amounts)


# --- words for the shopper --------------------------------------------------------------


def confirmation(sizes: Mapping[str, int], removed: Mapping[str, int] | None = None) -> str:
    """The confirmation for a new map: "Got it: 10 M, 5 L and 3 XL — 18 pieces.", and what a
    replacement `removed` from the item: "... — 18 pieces. Removed: 10 S." """
    total = sum(sizes.values())
    pieces = f"{total:,} piece{'s' if total != 1 else ''}"
    if not total:
        text = "Got it: no pieces on this item now."
    elif set(sizes) == {"OS"}:
        text = f"Got it: {pieces}."
    else:
        text = f"Got it: {format_sizes(sizes)} — {pieces}."
    if removed and format_sizes(removed):
        text += f" Removed: {format_sizes(removed)}."
    return text


def _join(parts: Sequence[str], last: str = "and") -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {last} {parts[-1]}"


def _listing(sizes: Iterable[str]) -> str:
    return _join(list(sizes))


def _offer_phrase(offered: Sequence[str], subject: str = "it") -> str:
    codes = [size for size in SIZE_ORDER if size in set(offered)]
    if codes == ["OS"]:
        return f"{subject} comes in one size only"
    if not codes:
        return f"{subject} has no sizes to choose from"
    return f"{subject} comes in {_listing(codes)}"


def _amount(quantity: int) -> str:
    """A quantity for a reply; absurd ones are not echoed back digit by digit."""
    return f"{quantity:,}" if quantity <= 1000 * MAX_PER_SIZE else "that many"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _help(offered: Sequence[str]) -> str:
    if len(offered) == 1:
        return 'How many would you like (for example "20")?'
    first, second = ("M", "L") if {"M", "L"} <= set(offered) else [*offered, "M", "L"][:2]
    return (
        f"{_offer_phrase(offered, 'This item')} — how many of each size would you like "
        f'(for example "10 {first}, 5 {second}")?'
    )


def _vague_help(offered: Sequence[str]) -> str:
    if len(offered) == 1:
        return "How many would you like exactly?"
    return f"{_offer_phrase(offered, 'This item')} — how many of each size would you like, exactly?"
