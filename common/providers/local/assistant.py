"""The local design assistant: deterministic rules that read what a shopper writes.

It stands in for the OpenAI assistant offline (no `OPENAI_API_KEY`), behind the same
`Assistant` port (`common.studio.briefs`): a message and the brief so far in, a reply and the
new brief out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import cast

from pydantic import ValidationError

from common.core import colors
from common.providers.local import artwork
from common.shop import catalog
from common.studio import layers, prompts
from common.studio.briefs import (
    SIZE_ORDER,
    Brief,
    ImageBrief,
    Size,
    Style,
    TextBrief,
    TextPosition,
    Turn,
)
from common.studio.layers import Font, Side

# --- reading a message ---------------------------------------------------------------

PRODUCT_WORDS: list[tuple[str, str]] = [
    (r"premium\s+(?:t-?shirts?|tees?|shirts?)|premium", "premium-tee"),
    (r"hood(?:ie|y|ies)|hooded\s+sweatshirts?", "hoodie"),
    (r"crew\s*necks?|sweatshirts?|jumpers?|sweaters?|pullovers?", "crewneck"),
    (r"totes?(?:\s+bags?)?|bags?", "tote"),
    (r"caps?|hats?", "cap"),
    (r"t-?shirts?|tees?|shirts?", "classic-tee"),
]
PRODUCT_PATTERN = "|".join(pattern for pattern, _ in PRODUCT_WORDS)
# Color names a shopper uses for garments, mapped to catalog color names, best first.
GARMENT_COLORS: dict[str, tuple[str, ...]] = {
    "heather grey": ("Heather Grey",),
    "heather gray": ("Heather Grey",),
    "royal blue": ("Royal Blue",),
    "forest green": ("Forest Green",),
    "dusty rose": ("Dusty Rose",),
    "light blue": ("Sky",),
    "sky blue": ("Sky",),
    "white": ("White",),
    "black": ("Black",),
    "grey": ("Heather Grey",),
    "gray": ("Heather Grey",),
    "navy": ("Navy",),
    "red": ("Red", "Burgundy", "Maroon"),
    "blue": ("Royal Blue", "Navy", "Sky"),
    "green": ("Forest Green", "Olive"),
    "sand": ("Sand", "Natural", "Khaki"),
    "beige": ("Sand", "Natural", "Khaki"),
    "natural": ("Natural", "Sand"),
    "cream": ("Natural", "Sand"),
    "khaki": ("Khaki", "Sand"),
    "tan": ("Khaki", "Sand"),
    "olive": ("Olive", "Forest Green"),
    "burgundy": ("Burgundy", "Maroon"),
    "maroon": ("Maroon", "Burgundy"),
    "wine": ("Burgundy", "Maroon"),
    "sky": ("Sky",),
    "pink": ("Dusty Rose",),
    "purple": (),
    "yellow": (),
    "orange": (),
    "gold": (),
}
COLOR_PATTERN = "|".join(
    [re.escape(name) for name in sorted(GARMENT_COLORS, key=len, reverse=True)] + ["#[0-9a-f]{6}"]
)
SIDES_SAID: list[tuple[str, str]] = [
    (r"\bsleeves?\b|\barms?\b", "sleeve"),
    (r"\bback\b|\brear\b|\bbehind\b", "back"),
    (r"\bfront\b|\bchest\b|\bpocket\b", "front"),
]
BIGGER = re.compile(r"\b(?:bigger|larger|enlarge|increase|grow|scale\s+up|more\s+space)\b")
SMALLER = re.compile(r"\b(?:smaller|shrink|reduce|scale\s+down|less\s+space)\b")
SIZES_SAID: list[tuple[str, str]] = [
    (r"\b(?:full|fill(?:s|ing)?|whole|entire|oversized|all\s+over)\b", "full"),
    (r"\b(?:big|large|huge|giant|massive)\b", "large"),
    (r"\b(?:medium|mid-?size[d]?|normal\s+size)\b", "medium"),
    (r"\b(?:small|tiny|little|subtle)\b", "small"),
]
POSITIONS_SAID: list[tuple[str, str]] = [
    (r"\b(?:above|over|on\s+top|at\s+the\s+top|top)\b", "top"),
    (r"\b(?:below|under(?:neath)?|beneath|at\s+the\s+bottom|bottom)\b", "bottom"),
    (r"\b(?:in\s+the\s+middle|middle|cent(?:er|re)d?)\b", "middle"),
]
FONTS_SAID: list[tuple[str, str]] = [
    (
        r"\b(?:extra\s*bold|heavy|heavier|thick|thicker|chunky|black\s+letters|ultra\s*bold)\b",
        "Aileron Black",
    ),
    (r"\b(?:bold|bolder|strong)\b", "Aileron Bold"),
    (r"\b(?:thin|thinner|light\s+font|regular|plain\s+font|lighter\s+font|elegant)\b", "Aileron"),
]
REMOVE = re.compile(
    r"\b(?:remove|delete|drop|erase|get\s+rid\s+of|take\s+(?:off|out|away)|without|lose)\b|"
    r"^no\s|\bno\s+(?:text|words|image|picture|art|artwork|graphic|logo)\b"
)
TEXT_WORDS = re.compile(
    r"\b(?:text|texts|words?|lettering|letters|title|caption|slogan|quote|font|writing|q\d+)\b"
)
IMAGE_WORDS = re.compile(
    r"\b(?:image|picture|pic|art|artwork|graphic|illustration|drawing|logo|icon|motif)\b"
)
EVERYTHING = re.compile(r"\b(?:everything|all\s+of\s+it|both)\b")
RESET = re.compile(r"\b(?:start\s+over|start\s+again|from\s+scratch|reset|new\s+design)\b")
SAYS = re.compile(
    r"\b(?:that\s+says|saying|says|that\s+reads|reads|reading|with\s+the\s+(?:text|words?)|"
    r"text\s+saying)\s*[:\-]?\s+(?P<text>[^,.;!?]+)",
    re.IGNORECASE,
)
QUOTED = re.compile(
    r"\"([^\"]{1,80})\"|\u201c([^\u201d]{1,80})\u201d|\u00ab([^\u00bb]{1,80})\u00bb"
    r"|(?<![\w])'([^']{1,80})'(?![\w])|\u2018([^\u2019]{1,80})\u2019"
)
CLAUSE_SPLIT = re.compile(
    r"(?<!\d)[,;.!?]+(?!\d)|\s+(?:and\s+then|then|but|also|plus)\s+"
    r"|\s+and\s+(?=(?:a|an|the|make|put|move|add|remove|change|q\d+|in|on|with|it)\b)",
    re.IGNORECASE,
)
# "instead of the tiger", "replace the tiger with": the words of what goes away.
REPLACED = re.compile(r"\binstead\s+of\s.*$|\breplace\s.*?(?=\bwith\b|$)")
OBJECT = re.compile(r"\b(?:a|an|with|add|put|draw|print|of|some)\b")
REPLACE = re.compile(r"\b(?:change|replace|instead|rename|swap)\b|\bmake\s+it\s+say\b")
# Words that say nothing about what to draw.
_FILLER_WORDS = """
a an the and with on in at to of for from by it its it's this that these those is are be
can could would should please i i'd id we me my our us you your want wants like love need
make made put place add show give get have has using use some any just also really very
let's lets let side print printed printing design shirt t-shirt tshirt tee tees hoodie
hoodies hoody crewneck sweatshirt tote bag cap hat front back chest sleeve arm one big
bigger small smaller large larger huge tiny little medium full giant massive style styled
color colour colored coloured into onto over under above below top bottom middle center
centre up down there here something cool nice awesome image picture graphic logo art
artwork illustration drawing text words lettering letters font bold thin heavy light
regular plain which what how now then again instead change turn move bolder thicker heavier
lighter thinner premium classic hooded dad baseball shopping new wanted looking look go so
too ok okay yes yeah sure thanks thank hey hi hello filling fills fill whole entire subtle
more less even rear behind pocket mid size heather royal forest dusty natural khaki sand
beige cream tan navy maroon burgundy olive wine sky drawing line of version kind sort vibe
vibes feel start again scratch reset not sure hmm maybe think idea unsure don't dont know
either whatever anything about try trying how's what's rather prefer actually instead
underneath beneath atop across around beside next left right our club team crew squad
"""
FILLER = frozenset(_FILLER_WORDS.split())


def _first(patterns: list[tuple[str, str]], text: str) -> str | None:
    for pattern, value in patterns:
        if re.search(pattern, text):
            return value
    return None


def _nearest(product: catalog.Product, hex_value: str) -> str:
    return min(product.colors, key=lambda color: colors.distance(color.hex, hex_value)).name


def garment_color(word: str, product: catalog.Product) -> str | None:
    """The product's catalog color for a color word (or #hex), if it comes in one like it."""
    if word.startswith("#"):
        return _nearest(product, word)
    exact = product.color(word)
    if exact is not None:
        return exact.name
    for candidate in GARMENT_COLORS.get(word, ()):
        found = product.color(candidate)
        if found is not None:
            return found.name
    return None


def _step(size: str, up: bool) -> Size:
    index = SIZE_ORDER.index(cast(Size, size))
    return SIZE_ORDER[min(len(SIZE_ORDER) - 1, index + 1) if up else max(0, index - 1)]


def _quotes(message: str) -> tuple[str, list[str]]:
    """The message with each quoted text replaced by a marker (q0, q1, ...), and the texts."""
    found: list[str] = []

    def mark(match: re.Match[str]) -> str:
        found.append(next(group for group in match.groups() if group is not None).strip())
        return f" q{len(found) - 1} "

    return QUOTED.sub(mark, message), found


@dataclass
class _Clause:
    """What one clause of a message says, before deciding what it applies to."""

    words: str
    original: str
    markers: list[int]
    side: str | None
    size: str | None
    up: bool
    down: bool
    position: str | None
    font: str | None
    style: str | None
    colors: list[str]
    garment_word: str | None
    removing: bool
    about_text: bool
    about_image: bool
    subject: str

    @classmethod
    def read(cls, original: str, quote_count: int, image_prompt: str | None) -> _Clause:
        clause = original.lower()
        markers = [int(m) for m in re.findall(r"\bq(\d+)\b", clause) if int(m) < quote_count]
        garment_word = None
        garment = re.search(
            rf"\b(?P<c>{COLOR_PATTERN})\s+(?:\w+\s+)?(?:{PRODUCT_PATTERN})\b"
            rf"|\b(?:{PRODUCT_PATTERN})\b(?:\s+\w+)?\s+(?:in\s+|to\s+|into\s+)?(?P<d>{COLOR_PATTERN})\b"
            rf"|^\s*(?:in\s+)?(?P<e>{COLOR_PATTERN})\s*$",
            clause,
        )
        rest = clause
        if garment:
            group = next(name for name in ("c", "d", "e") if garment.group(name))
            garment_word = garment.group(group)
            start, end = garment.span(group)
            rest = clause[:start] + " " + clause[end:]
        colors = prompts.colors_in(rest)
        rest = REPLACED.sub(" ", rest)
        subject = " ".join(
            word
            for word in prompts.words(rest)
            if word not in FILLER
            and word not in prompts.COLOR_WORDS
            and word not in prompts.STYLE_WORDS
            and len(word) > 1
            and not re.fullmatch(r"q\d+|\d+|[0-9a-f]{6}", word)
        )
        image_words = set(prompts.words(image_prompt or ""))
        return cls(
            words=clause,
            original=original,
            markers=markers,
            side=_first(SIDES_SAID, clause),
            size=_first(SIZES_SAID, clause),
            up=BIGGER.search(clause) is not None,
            down=SMALLER.search(clause) is not None,
            position=_first(POSITIONS_SAID, clause),
            font=_first(FONTS_SAID, clause),
            style=prompts.style_in(clause),
            colors=colors,
            garment_word=garment_word,
            removing=REMOVE.search(clause) is not None,
            about_text=TEXT_WORDS.search(clause) is not None,
            about_image=IMAGE_WORDS.search(clause) is not None
            or bool(image_words & set(prompts.words(clause))),
            subject=subject,
        )


@dataclass
class _Reading:
    """What the local assistant understood of one message, for its reply."""

    notes: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    understood: bool = False
    awaiting_color: bool = False  # the last reply asked which color the product should be

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.understood = True


class LocalAssistant:
    """A deterministic, rule-based design assistant. It understands products, garment colors
    (names and #hex), quoted text, placement (front/back; sleeves are not offered), sizes,
    styles and edits ("bigger", "make it purple", "remove the text"), and asks when it cannot
    tell what is wanted."""

    name = "local"

    def respond(
        self, history: list[dict[str, str]], message: str, brief: Brief, focus: str | None
    ) -> Turn:
        shop = catalog.catalog()
        marked, quotes = _quotes(message)
        marked = re.sub(r"\bQ(\d+)\b", r"q\1", marked)
        lower = marked.lower()
        reading = _Reading(awaiting_color=bool(brief.product_id) and brief.color is None)
        draft = brief.model_copy(deep=True)
        if RESET.search(lower):
            draft, focus = Brief(), None
            reading.note("Starting over with a blank design.")
        for pattern, product_id in PRODUCT_WORDS:
            if re.search(rf"\b(?:{pattern})\b", lower):
                if product_id != draft.product_id:
                    draft.product_id = product_id
                    reading.understood = True
                break
        product = shop.product(draft.product_id) if draft.product_id else None
        for clause in (c.strip() for c in CLAUSE_SPLIT.split(marked)):
            if clause:
                facts = _Clause.read(
                    clause, len(quotes), draft.image.prompt if draft.image else None
                )
                focus = self._apply(facts, quotes, draft, product, focus, reading)
        if product is not None and draft.color and product.color(draft.color) is None:
            reading.questions.append(
                f"The {product.name} doesn't come in {draft.color}: which of "
                f"{', '.join(c.name for c in product.colors)} would you like?"
            )
            draft.color = None
        if product is not None and draft.color is None and not reading.questions:
            draft.color = product.colors[0].name
            reading.notes.append(f"I've started it in {draft.color}; name a color to change it.")
        return Turn(reply=self._reply(draft, product, reading), brief=draft, focus=focus)

    def _apply(
        self,
        facts: _Clause,
        quotes: list[str],
        draft: Brief,
        product: catalog.Product | None,
        focus: str | None,
        reading: _Reading,
    ) -> str | None:
        if facts.side == "sleeve":
            reading.note(
                "Sleeve prints aren't offered yet, only front and back, so I used the front."
            )
            facts.side = "front"
        if facts.removing:
            return self._remove(facts, quotes, draft, focus, reading)
        if reading.awaiting_color and product is not None and facts.garment_word is None:
            # We asked which color: a color the product comes in answers it.
            named = re.search(rf"\b(?:{COLOR_PATTERN})\b", facts.words)
            if named and garment_color(named.group(), product):
                facts.garment_word = named.group()
                ink = prompts.COLOR_WORDS.get(named.group())
                facts.colors = [c for c in facts.colors if c != ink]
        if facts.garment_word:
            self._garment(facts.garment_word, draft, product, reading)
            if not (facts.markers or facts.subject or facts.colors or facts.up or facts.down):
                return focus
        new_texts = [quotes[m] for m in facts.markers]
        if not new_texts:
            said = SAYS.search(facts.original)
            if said and not REPLACE.search(facts.words):
                new_texts = [said.group("text").strip()]
                facts.subject = ""
        image_words = set(prompts.words(draft.image.prompt)) if draft.image else set()
        new_subject = (
            bool(facts.subject)
            and not set(facts.subject.split()) <= image_words
            and (
                bool(artwork.subjects_in(facts.subject))
                or OBJECT.search(facts.words) is not None
                or IMAGE_WORDS.search(facts.words) is not None
            )
        )
        if new_texts:
            focus = self._texts(
                facts, new_texts, quotes, draft, reading, share_colors=not new_subject
            )
            if not new_subject:
                return focus
            facts.position = facts.font = None
            facts.colors = [
                c for c in facts.colors if not re.search(r"\bq\d+\s+in\s+", facts.words)
            ]
        if new_subject:
            return self._new_image(facts, draft, reading)
        return self._edit(facts, draft, focus, reading)

    def _garment(
        self, word: str, draft: Brief, product: catalog.Product | None, reading: _Reading
    ) -> None:
        if product is None:
            reading.questions.append(f"Which product should be {word}?")
            return
        color = garment_color(word, product)
        if color is None:
            reading.questions.append(
                f"The {product.name} doesn't come in {word}: which of "
                f"{', '.join(c.name for c in product.colors)} would you like?"
            )
            draft.color = None
            reading.understood = True
        elif color != draft.color:
            draft.color = color
            reading.note(f"The {product.name} is {color}.")
        else:
            reading.understood = True

    def _remove(
        self,
        facts: _Clause,
        quotes: list[str],
        draft: Brief,
        focus: str | None,
        reading: _Reading,
    ) -> str | None:
        everything = EVERYTHING.search(facts.words) is not None
        named = [quotes[m] for m in facts.markers]
        if named and draft.texts:
            draft.texts = [t for t in draft.texts if t.text not in named]
            reading.note("Removed that text.")
            return "text"
        target = "text" if facts.about_text else "image" if facts.about_image else focus
        if (target == "text" or everything) and draft.texts:
            draft.texts = []
            reading.note("Removed the text.")
        if (
            target == "image" or everything or (target is None and not draft.texts)
        ) and draft.image:
            reading.note(f"Removed the {draft.image.prompt}.")
            draft.image = None
        if not reading.understood:
            reading.questions.append("What should I remove: the image or the text?")
        return None if everything else target

    def _texts(
        self,
        facts: _Clause,
        new_texts: list[str],
        quotes: list[str],
        draft: Brief,
        reading: _Reading,
        *,
        share_colors: bool,
    ) -> str:
        colors = facts.colors if share_colors or re.search(r"\bq\d+\s+in\s+", facts.words) else []
        if REPLACE.search(facts.words) and draft.texts:
            old = next((t for t in draft.texts if t.text == new_texts[0]), None)
            target, text = (
                (old, new_texts[-1])
                if old and len(new_texts) > 1
                else (draft.texts[0], new_texts[0])
            )
            try:
                target.text = layers.clean_text(text)
            except ValueError:
                reading.questions.append(f"Texts hold up to {layers.MAX_TEXT_CHARS} characters.")
                return "text"
            self._style_text(target, facts, colors)
            reading.note(f"The text now reads \u201c{target.text}\u201d.")
            return "text"
        for text in new_texts:
            existing = next((t for t in draft.texts if t.text == text), None)
            if existing is None:
                if len(draft.texts) >= 4:
                    reading.questions.append("A design holds four texts at most.")
                    continue
                try:
                    existing = TextBrief(text=text)
                except ValidationError:
                    reading.questions.append(
                        f"Texts hold up to {layers.MAX_TEXT_CHARS} characters; could you"
                        " shorten it?"
                    )
                    continue
                if draft.image is not None and facts.side is None:
                    existing.area = draft.image.area
                if facts.side in ("front", "back"):
                    existing.area = cast(Side, facts.side)
                if draft.image is None or draft.image.area != existing.area:
                    existing.size = "large"  # alone on its side: it is the design
                draft.texts.append(existing)
                reading.note(f"Added \u201c{existing.text}\u201d.")
            self._style_text(existing, facts, colors)
            reading.understood = True
        return "text"

    @staticmethod
    def _style_text(text: TextBrief, facts: _Clause, colors: list[str]) -> None:
        if facts.side in ("front", "back"):
            text.area = cast(Side, facts.side)
        if facts.font:
            text.font = cast(Font, facts.font)
        if colors:
            text.color = colors[0]
        if facts.up or facts.down:
            text.size = _step(text.size, facts.up)
        elif facts.size:
            text.size = cast(Size, facts.size)
        if facts.position:
            text.position = cast(TextPosition, facts.position)

    def _new_image(self, facts: _Clause, draft: Brief, reading: _Reading) -> str:
        base = draft.image
        draft.image = ImageBrief(
            prompt=facts.subject[:120],
            style=cast(Style, facts.style or (base.style if base else "bold")),
            colors=facts.colors[:4],
            area=cast(Side, facts.side or (base.area if base else "front")),
            size=cast(Size, facts.size or (base.size if base else "large")),
        )
        if facts.up or facts.down:
            draft.image.size = _step(draft.image.size, facts.up)
        image = draft.image
        reading.note(
            f"{'Swapped in' if base else 'Added'} a {image.style} {image.prompt}"
            f" on the {image.area}."
        )
        return "image"

    def _edit(
        self, facts: _Clause, draft: Brief, focus: str | None, reading: _Reading
    ) -> str | None:
        target = focus
        if facts.about_text and not facts.about_image:
            target = "text"
        elif facts.about_image:
            target = "image"
        if target == "image" and draft.image is None:
            target = "text" if draft.texts else None
        if target == "text" and not draft.texts:
            target = "image" if draft.image else None
        if target is None:
            target = "image" if draft.image else "text" if draft.texts else None
        changes: list[str] = []
        if target == "image" and draft.image is not None:
            image = draft.image
            if facts.colors and facts.colors != image.colors:
                image.colors = facts.colors[:4]
                names = {hex_value: name for name, hex_value in prompts.COLOR_WORDS.items()}
                changes.append(" and ".join(names.get(c, c) for c in image.colors))
            if facts.style and facts.style != image.style:
                image.style = cast(Style, facts.style)
                changes.append(f"{facts.style} style")
            size = _step(image.size, facts.up) if facts.up or facts.down else facts.size
            if size and size != image.size:
                changes.append(
                    "bigger"
                    if SIZE_ORDER.index(cast(Size, size)) > SIZE_ORDER.index(image.size)
                    else "smaller"
                )
                image.size = cast(Size, size)
            if changes:
                reading.note(f"Made the {image.prompt} {' and '.join(changes)}.")
            if facts.side in ("front", "back") and facts.side != image.area:
                image.area = cast(Side, facts.side)
                changes.append(facts.side)
                reading.note(f"Moved the {image.prompt} to the {facts.side}.")
        elif target == "text" and draft.texts:
            before = [t.model_copy() for t in draft.texts]
            for text in draft.texts:
                self._style_text(text, facts, facts.colors)
            if before != draft.texts:
                reading.note("Updated the text.")
                changes.append("text")
        if facts.up or facts.down or facts.colors or facts.size or facts.font or facts.style:
            reading.understood = True
        return target if changes else focus

    @staticmethod
    def _reply(after: Brief, product: catalog.Product | None, reading: _Reading) -> str:
        parts: list[str] = list(reading.notes)
        if reading.questions:
            parts.extend(reading.questions)
        elif product is None:
            parts.append(
                "Which product shall we design: a classic tee, premium tee, hoodie, crewneck,"
                " tote or cap?"
            )
        elif after.empty:
            parts.append(
                f"What should go on the {product.name}? Describe an image (like \u201ca neon"
                " tiger on the back\u201d) or put text in quotes (like \u201c'Night Shift' on"
                " the front\u201d)."
            )
        elif not reading.understood:
            parts.append(
                "I didn't catch a change. Try \u201cmake the tiger bigger\u201d, \u201cmake the"
                " text purple\u201d, \u201cmove the text to the back\u201d or \u201cremove the"
                " text\u201d."
            )
        else:
            parts.append(summary(after, product))
        return " ".join(parts)


def summary(brief: Brief, product: catalog.Product | None) -> str:
    what = f"{brief.color} {product.name}" if product and brief.color else "design"
    pieces = []
    if brief.image:
        image = brief.image
        pieces.append(f"a {image.size} {image.style} {image.prompt} on the {image.area}")
    weights = {"Aileron": "", "Aileron Bold": " in bold", "Aileron Black": " in heavy type"}
    for text in brief.texts:
        pieces.append(f"\u201c{text.text}\u201d{weights[text.font]} on the {text.area}")
    return f"Your {what}: {', '.join(pieces) or 'nothing on it yet'}."
