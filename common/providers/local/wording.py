"""How the local design assistant finds what a shopper wants printed as words.

A message names its texts in many ways: in quotes, after "says", "reads", "the words",
"text:" or "write", as a run of capitals or a title ("ROME 2027 on the back", "Best Buds in
red at the top"), or as the name of the team, band or shop it is for ("we're the Riverside
Foxes" ... "the name on the back"). `mark_texts` finds them and puts a marker (`q0`, `q1`,
...) in their place, so the rest of the message reads as placement and colour words around a
marker ("q0 in pink on the back").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from common.core import colors
from common.providers.local import artwork

COLOR_NAMES = "|".join(sorted(colors.NAMES, key=len, reverse=True))
SHADES = r"(?:hot|bright|light|dark|pale|deep|neon|baby|royal|navy|sky|forest|dusty|heather)"
# Words a shopper groups under: the name of one is what they call "our name".
GROUPS = (
    r"team|band|club|crew|squad|shop|store|bakery|cafe|café|company|business|brand|school|"
    r"class|family|choir|league|gym|studio|startup|group|charity|restaurant|bar|pub|brewery|"
    r"podcast|channel|troop|society|organi[sz]ation|firm|salon|garage|farm|kitchen|label|"
    r"orchestra|ensemble|clan|gang|guild|department|office|lab|practice|duo|trio|quartet|"
    r"bookstore|bookshop|shop|boutique|clinic|agency|academy|college|university|church|"
    r"camp|program|programme|association|collective|crossfit|dojo|barbershop|barber|unit|ward|"
    r"chapter|troupe|sorority|fraternity|"
    r"coffee\s+shop|book\s+club|run\s+club|event|reunion|festival|tournament|league|nonprofit|"
    r"non-profit|foundation|initiative|project|network|community|collective|co-op|coop"
)
PLACES = (
    r"front|back|chest|top|bottom|sleeves?|left|right|pocket|middle|center|centre|it|them|"
    r"this|that|image|picture|logo|design|art|artwork|graphic|drawing|hat|cap|bag|tote|shirt|"
    r"tee|hoodie|sweater|crewneck|sweatshirt|side|corner"
)
# A full stop after one of these shortens a word ("St. Anne's Choir"): it ends no text.
ABBREVIATIONS = ("Mrs", "Mr", "Ms", "Dr", "St", "Jr", "Sr", "Mt", "Ft", "Co", "Vol", "Est")
_NOT_ABBREVIATED = "".join(rf"(?<!\b{word})" for word in ABBREVIATIONS)
# What ends an unquoted text: punctuation, or where the words about it start.
TEXT_END = re.compile(
    rf"\s*(?:[,;!?()\n]|{_NOT_ABBREVIATED}\.(?:\s+(?![0-9])|$)|\s[-\u2013\u2014+]\s|$)"
    rf"|\s+in\s+(?:(?:big|small|large|huge|tiny|bold|thick|thin|heavy|block|capital|all|"
    rf"chunky|fat|cursive|script|nice|simple|plain|white|black|{SHADES})\s+)*"
    rf"(?:{COLOR_NAMES}|letters?|lettering|font|type|text|caps|capitals|capital|bold|"
    r"uppercase|lowercase|cursive|script|print|numbers?)\b"
    r"|\s+in\s+(?:the\s+)?(?:middle|centre|center|corner)\b|\s+next\s+to\b"
    r"|\s+(?-i:under|underneath|beneath|below|above|over|beside)\s+(?-i:an?)\s"
    r"|\s+(?-i:on|onto|at|across|along|over|under|underneath|beneath|below|above|near|around|"
    rf"beside|by|to)\s+(?:(?:the|my|our|its|his|her|a|an)\s+)?(?:\w+\s+)?(?:{PLACES})\b"
    r"|\s+(?:under|underneath|beneath|below|above|on\s+top|at\s+the\s+top|at\s+the\s+bottom)"
    r"(?=\s*$|\s*[,.;!?]|\s+(?:in|on|at|it|that|the|and|with|please)\b)"
    r"|\s+(?:with|and|plus|then|but|also|so)\s+(?:a|an|the|some|my|our|his|her|make|put|add|"
    r"move|change|maybe|please|it|then|i|we|i'd|i'm|can|could)\b"
    r"|\s+(?:please|pls|plz|thanks|thank\s+you|thx|too|as\s+well|instead|tho|though|written|"
    r"printed|somewhere|anywhere)\b"
    r"|\s+for\s+(?:my|our|the|a|an|his|her|their|me|us)\b"
    r"|\s+(?:small|big|large|huge|tiny|bold|smaller|bigger)\s+(?:on|in|at|across|please)\b"
    r"|\s+(?:that|which)\s+(?:is|are|looks?)\b|\s+if\s",
    re.IGNORECASE,
)
# What says that the words after it are printed. Weak triggers ("text", "says") need the
# words to look like a text (a capital, a digit, a colon) rather than an edit ("text bigger")
# or someone speaking ("Linda says dusty rose is nicer").
STRONG_TRIGGERS = (
    r"(?:that|which|it|and|to|should)\s+(?:says|reads|said|read|say)|saying|the\s+words?|"
    r"the\s+phrase|the\s+slogan|slogan|the\s+caption|caption|writing|written|write|writ|"
    r"spelling\s+out|spells?(?:\s+out)?|the\s+letters|letters|the\s+tagline|tagline|"
    r"the\s+motto|motto|the\s+quote|quote|lettering|text\s+saying|words?\s+saying|"
    r"(?:text|words|wording|caption|slogan|lettering|tagline)(?:\s+(?:underneath|below|above|"
    r"on\s+top|on\s+the\s+\w+|at\s+the\s+\w+|in\s+\w+(?:\s+\w+)?|only|please))*\s*:"
)
WEAK_TRIGGERS = (
    r"says|reads|reading|read|say|text|the\s+text|words|word|letter|initials|the\s+initials|"
    r"the\s+number|number|numbers|name|the\s+name|title|headline|the\s+date|date|the\s+year|"
    r"with|add|and|just"
)
TRIGGER = re.compile(
    rf"\b(?:(?P<strong>{STRONG_TRIGGERS})|(?P<weak>{WEAK_TRIGGERS}))(?!\w)"
    r"(?:(?P<colon>\s*[:=]|\s+-)|\s+(?:to|as|into|of)\b)?\s*",  # "text: TO THE MOON" keeps "TO"
    re.IGNORECASE,
)
MARKER = re.compile(r"\bq(\d+)\b")
CAPS_TRIGGER = re.compile(
    r"\b([A-Z][A-Z' ]*?\b(?:SAYS|SAYING|READS|READING|WITH THE WORDS))(?=\s+[A-Z0-9])"
)
# A web address, an email address or a handle: printed as written.
ADDRESS = re.compile(
    r"(?<![\w@.])(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|co|io|uk|us|ca|"
    r"shop|store|art|app|dev|me)(?:/[\w/-]*)?(?![\w.])|(?<![\w])[\w.+-]+@[\w-]+\.[\w.]+|(?<![\w])@\w{2,}"
)
# Words that describe a text rather than being one: "the text bigger", "write it in red".
_EDIT_WORDS = """
bigger smaller larger big small large huge tiny medium full bold bolder thin thinner heavy
heavier thick thicker lighter light regular plain red blue green it them this that these those
on in at to the a an and or of with up down top bottom middle center centre left right front
back chest sleeve font color colour size style something anything nothing there here please
more less again too instead now also just only same different other whole entire all caps
capitals uppercase lowercase cursive script is are be should would could can will off out away
remove delete below above under over underneath beneath across around next it's its i my our
your we you me us what which how where why when who some any no not name names team band text
words letters lettering writing
"""
EDIT_WORDS = frozenset(_EDIT_WORDS.split()) | frozenset(colors.NAMES)
# A title or a run of capitals: "Camp Pinewood 2027", "FAST & LOUD", "Mrs. Patel's Class".
_CAP = (
    r"(?:(?:Mrs|Mr|Ms|Dr|St|Jr|Sr|Est|EST|Co|No|Vol|Mt|Ft)\.|[#@]?[A-Z](?:[\w'\u2019&!-]|\.(?=\w))*"
    r"|[#@]?[0-9](?:[\w'!-]|\.(?=\w))*)"
)
_SMALL = r"(?:of|on|to|the|a|an|is|my|for|and|&|in|at|with|me|i'm|de|la|or|no|by|your|our)"
# A word ending "!" or "?" ends the title: "Hoodie! Maroon! Big gold letters" is three.
TITLE_RUN = re.compile(rf"(?<![\w'])(?:'?{_CAP})(?:(?<![!?])\s+(?:{_SMALL}\s+)*(?:'?{_CAP}))*")
# After a title, what shows it is printed: where it goes, its colour, or the end of a clause.
PRINTED_AFTER = re.compile(
    rf"^(?:\s*(?:[,;!?]|\.(?:\s|$)|$|\s[-\u2013\u2014]\s)|\s+(?:in|on|onto|at|across|along|"
    rf"under|underneath|beneath|below|above|over|around|centered|centred|small|big|large|"
    rf"huge|tiny|bold|written|printed|as|too|now)\b|\s+(?:{COLOR_NAMES})\b)"
)
# Before a title, what shows it is printed: "add", "and", "with", a colon, a side label.
PRINTED_BEFORE = re.compile(
    r"(?:\b(?:add|and|n|with|w|plus|put|print|just|then|also|have|want|saying|or|maybe|meant|"
    r"front|back)|[:,+\u2014\u2013-])\s*$",
    re.IGNORECASE,
)
# Before a title, a word that makes it a place: "at Maple Elementary", "a party in Nashville",
# "a picture of Big Ben".
PLACE_BEFORE = re.compile(
    r"\b(?:at|from|near|of|in|(?:trip|moving|move|going|headed|heading|flying|off|travel\w*)"
    r"\s+to|visit\w*)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# Before a title, who it names: "my best friend Sarah in Ibiza", "our coach Mr Lee".
PERSON_BEFORE = re.compile(
    r"\b(?:my|our|his|her|their)\s+(?:\w+\s+)?(?:friend|sister|brother|mum|mom|mother|dad|"
    r"father|son|daughter|wife|husband|partner|boyfriend|girlfriend|bf|gf|boss|coach|teacher|"
    r"nephew|niece|cousin|aunt|uncle|grandma|grandpa|granny|nan|kid|baby|dog|cat|puppy)\s+$",
    re.IGNORECASE,
)
# After a title, a noun it describes ("4 West nurses"), not a word that goes on.
NOUN_AFTER = re.compile(r"\s+(?!(?:and|with|plus|or|then|please|pls|w|n)\b)[a-z]")
# A capitalised verb opening a sentence, before the title it puts somewhere.
LEADING_VERB = re.compile(r"(?:Put|Add|Print|Write|Place|Make|Use|Have|Include|Stick)\s+(?=\S)")
ADD_VERB = re.compile(r"\b(?:add|put|print|write)\s+$", re.IGNORECASE)
_PRONOUNS_WORDS = """
i i'm i'd i've we we're we've our my you your he she they it's its the a an this that on in at
for and so if hi hey hello morning right ok okay also
"""
PRONOUNS = frozenset(_PRONOUNS_WORDS.split())
GREETINGS = frozenset({"hi", "hey", "hello", "morning"})
NAME_INTRO = re.compile(
    r"\b(?i:called|named|known\s+as|name\s+is|name's|names\s+are|we're|we\s+are|i'm\s+in|"
    r"it's\s+for|(?:his|her|their|its)\s+name|call\s+(?:ourselves|us|it)|go\s+by|goes\s+by)\s+(?i:just\s+)?(?=(?P<called>\S[^\n]*))"
    r"|\bfor\s+(?:the|team)\s+(?P<for>[A-Z][\w'&-]*(?:\s+[A-Z0-9][\w'&-]*)*)"
    r"(?=\s*(?:[,.;:!?]|\s-\s|$))"
    rf"|\b(?:{GROUPS})\b(?:\s+(?:name|shirts?|tees?|t-shirts?|hoodies?|merch)"
    r"|\s+[a-z]+(?=\s*[,:(\-\u2014]\s*[Tt]he\s+[A-Z]))?\s*[,:(\-\u2014]\s*"
    r"(?P<apposed>(?:[Tt]he\s+)?[A-Z0-9][\w'&.-]*(?:\s+(?:[A-Z0-9][\w'&.-]*|of|and|&|de|la|"
    r"du|the|on|in))*)"
    rf"|\b(?:{GROUPS})\s+(?P<after>(?:[Tt]he\s+)?[A-Z0-9][\w'&.-]*(?:\s+(?:[A-Z0-9][\w'&.-]*|"
    r"of|and|&|the|on|in))*)"
    rf"|(?P<before>(?:[Tt]he\s+)?[A-Z][\w'&-]*(?:\s+(?:&\s+)?[A-Z][\w'&-]*)*)(?=\s+(?:[a-z]+\s+)?"
    rf"(?:{GROUPS}|merch|swag)\b)",
)
NAME_REF = re.compile(
    rf"\b(?:(?:the|our|my|their|his|her|your|just\s+the|just\s+our)\s+)?(?:(?:{GROUPS})(?:'s)?\s+)?"
    rf"names?\b(?:\s+of\s+(?:the|our|my)\s+(?:{GROUPS}))?",
    re.IGNORECASE,
)

# "the band name, The Blue Notes": the name said where it is asked for.
NAMED_AS = re.compile(
    NAME_REF.pattern + rf"\s*[,:\-\u2014]\s*(?P<name>(?:The\s+)?{_CAP}(?:\s+{_CAP})*)"
)


@dataclass
class Marked:
    """A message with its texts replaced by markers, the texts, and the names it introduced."""

    message: str
    texts: list[str]
    names: list[str]


def _text_span(rest: str) -> str:
    """The unquoted text at the start of `rest`: up to where the words about it begin."""
    end = TEXT_END.search(" " + rest)
    span = rest[: max(0, end.start() - 1)] if end else rest
    span = span.strip().lstrip('"\u201c\u2018').rstrip('"\u201d').strip()
    return span[1:-1] if len(span) > 1 and span[0] == span[-1] == "'" else span.lstrip("'")


def _plausible(span: str, *, weak: bool, colon: bool) -> bool:
    """Whether `span` reads as words to print rather than words about the design."""
    words = re.findall(r"[\w'&-]+", span)
    if not words or MARKER.fullmatch(span.strip()):
        return False
    if all(word.lower() in EDIT_WORDS for word in words):
        return False
    if weak and not colon:
        first = words[0]
        return first[0].isupper() or first[0].isdigit() or (len(first) > 1 and first.isupper())
    return True


def _is_title(span: str, *, greeting: bool = False) -> bool:
    """A printed title: two words or more with a capital (or a number), or a word in capitals.
    With `greeting` (it follows "and", "with", ...), it may open with a greeting ("and Hello
    Sunshine": not said to us) or a capital "A", "The" or "I" ("with A Place For Books")."""
    words = span.split()
    if not words:
        return False
    first = words[0].lower()
    opener = first in GREETINGS or (
        words[0] in ("A", "The", "I") and sum(w[:1].isupper() for w in words[1:]) >= 2
    )
    if first in PRONOUNS and not span.isupper() and not (greeting and opener):
        return False
    bare = [w.lstrip("#@") or w for w in words]  # "#1 Dad", "@maple.bakes"
    capitals = [w for w in bare if w[0].isupper() or w[0].isdigit() or w[0] == "'"]
    if len(words) == 1:
        letters = re.sub(r"[^A-Za-z]", "", words[0])
        if not letters:
            return len(re.sub(r"\D", "", words[0])) >= 2  # "26.2", "1999"
        if words[0][0] in "#@":
            return len(letters) >= 2 and not re.fullmatch(r"#[0-9a-fA-F]{6}", words[0])
        return len(letters) >= 2 and letters.isupper() and letters not in ("OK", "ASAP", "XL")
    return len(capitals) >= 2 and any(re.search(r"[A-Za-z]", w) for w in capitals)


def find_names(message: str) -> list[str]:
    """The names `message` introduces: "a team called Night Owls", "our band, The Loud
    Neighbours", "we're the Riverside Foxes", "the Ice Wolves hockey team"."""
    found: list[tuple[int, str]] = []
    for match in NAME_INTRO.finditer(message):
        raw = next(
            (
                match.group(g)
                for g in ("called", "for", "apposed", "after", "before")
                if match.group(g)
            ),
            "",
        )
        raw = _text_span(raw)
        title = TITLE_RUN.match(re.sub(r"^the\s+", "", raw.strip()))
        if title is None:
            continue
        name = title.group().strip(" .")
        first = name.split()[0] if name else ""
        if not re.search(r"[A-Za-z]", name):
            continue  # "reunion 2027": a year, not a name
        if not name or (first.lower() in PRONOUNS and first != "The") or len(name) > 40:
            continue
        if match.group("before") and " " not in name:
            opening = message[: match.start()].rstrip()
            if not opening or opening[-1] in ".!?":
                continue  # "Softball team shirts": a sentence's first word, not a name
        strength = 1 if match.group("before") else 0
        if name not in [n for _, n in found]:
            found.append((strength, name))
    return [name for _, name in sorted(found, key=lambda f: f[0])]


def _bare_titles(text: str, names: list[str], marker: MarkerFn) -> str:
    """`text` with each title printed without a trigger ("IRON TEMPLE in red across the
    back", "and Mama To Be across the top", a name: "Comets on the back") replaced by a
    marker."""
    out, position = [], 0
    for match in TITLE_RUN.finditer(text):
        start, span = match.start(), match.group().strip().rstrip(".")
        verb = LEADING_VERB.match(span)
        if verb:  # "Put Page Turners on top": the sentence's verb, then the title
            start, span = start + verb.end(), span[verb.end() :]
        before, after = text[:start], text[start + len(span) :]
        # "add Breathe on the back": one capitalised word put somewhere is a word to print.
        put = (
            (ADD_VERB.search(before) or span in names)
            and PRINTED_AFTER.match(after)
            and span.isalpha()
            and not artwork.subjects_in(span.lower())  # "put Tiger on the front": a tiger
        )
        if (
            MARKER.fullmatch(span)
            or not (_is_title(span, greeting=bool(PRINTED_BEFORE.search(before))) or put)
            or not re.search(r"[A-Za-z]", span)
        ):
            continue
        if PLACE_BEFORE.search(before) or PERSON_BEFORE.search(before):
            continue  # "the staff at Oakwood Primary", "my best friend Sarah": not printed
        cue = PRINTED_BEFORE.search(before)
        if cue and cue.group().strip() == "," and NOUN_AFTER.match(after):
            cue = None  # "our unit, 4 West nurses": the title names the nurses
        if not (PRINTED_AFTER.match(after) or cue):
            continue
        out.append(text[position:start])
        out.append(marker(span))
        position = start + len(span)
    out.append(text[position:])
    return "".join(out)


class MarkerFn:
    """Hands out markers: the same text twice gets the same one."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def __call__(self, text: str) -> str:
        if text in self.texts:
            return f" q{self.texts.index(text)} "
        self.texts.append(text)
        return f" q{len(self.texts) - 1} "


QUOTED = re.compile(
    r"(?P<neg>\bno\s+|\bnot\s+|\bwithout\s+)?(?:\"([^\"]{1,80})\"|\u201c([^\u201d]{1,80})\u201d"
    r"|\u00ab([^\u00bb]{1,80})\u00bb|(?<![\w])'((?:[^']|(?<=\w)'(?=\w)){1,80})'(?![\w])"
    r"|\u2018([^\u2019]{1,80})\u2019)"
)


def mark_texts(message: str, known_names: list[str], respell: Callable[[str], str] = str) -> Marked:
    """`message` with every text it names replaced by a marker, in order of appearance;
    `respell` corrects the words around the quoted texts before the rest is read."""
    texts: list[str] = []
    marker = MarkerFn(texts)

    def quoted(match: re.Match[str]) -> str:
        if match.group("neg"):
            return " "  # "no 'the'": a word they do not want
        return marker(next(g for g in match.groups()[1:] if g is not None).strip())

    # "TEXT ON BACK SAYS NO FEAR": capitals up to "says" are words about the text.
    message = CAPS_TRIGGER.sub(lambda m: m.group(1).lower(), message)
    marked = respell(QUOTED.sub(quoted, message))
    marked = ADDRESS.sub(lambda m: marker(m.group()), marked)
    names = [n for n in find_names(marked) if not MARKER.search(n)]
    intros = [m.span() for m in NAME_INTRO.finditer(marked)]
    out, position = [], 0
    for match in TRIGGER.finditer(marked):
        if match.start() < position:
            continue
        rest = marked[match.end() :]
        if MARKER.match(rest.strip()) and rest.strip().startswith("q"):
            continue
        span = _text_span(rest)
        weak = match.group("weak") is not None
        if weak and not match.group("weak")[0].islower():
            continue  # "HELLO MY NAME IS": the word is part of a text
        if TRIGGER.match(span):
            continue  # "writing that says ...": the nearer trigger says where it starts
        loose = weak and match.group("weak").lower() in ("with", "add", "and", "just")
        if loose and not _is_title(span, greeting=True):
            continue
        # "and the text hop to it": a text introduced, not one edited ("make the text pop")
        introduced = re.fullmatch(r"(?:the\s+)?(?:text|words?)", match.group().strip(), re.I) and (
            re.search(r"\b(?:and|with|plus|w)\s+$", marked[: match.start()], re.IGNORECASE)
        )
        colon = match.group("colon") is not None or bool(introduced)
        if not _plausible(span, weak=weak, colon=colon):
            continue
        start = match.end() + rest.index(span)
        if any(a <= start < b for a, b in intros) and span in " ".join(names):
            continue
        out.append(marked[position:start])
        out.append(marker(span))
        position = start + len(span)
    out.append(marked[position:])
    marked = "".join(out)
    marked = NAMED_AS.sub(lambda m: marker(m.group("name").strip()), marked)
    everyone = [*names, *reversed(known_names)]
    marked = _without_names(marked, names, lambda part: _bare_titles(part, everyone, marker))
    if everyone:
        name = everyone[0]

        def use_name(match: re.Match[str]) -> str:
            before = marked[: match.start()].rstrip().lower()
            after = marked[match.end() :].lstrip()
            if before.endswith(("called", "named", "a", "new", "different")):
                return match.group()
            if re.match(r"(?:is|'s|are)\b|[,:\-]\s*(?:the\s+)?[A-Z]|q\d+\b", after):
                return match.group()  # "the name is ...", "the band name, The Blue Notes"
            return marker(name)

        marked = NAME_REF.sub(use_name, marked)
    return Marked(message=marked, texts=texts, names=names)


def _without_names(text: str, names: list[str], change: Callable[[str], str]) -> str:
    """`change` applied to the parts of `text` that are not a name's introduction: its first
    occurrence. Said again ("Crumb & Co bakery tees, Crumb & Co in sand letters"), it may be
    printed."""
    spans = sorted(
        (found.start(), found.end())
        for name in names
        if (found := re.search(re.escape(name), text)) is not None
    )
    out, position = [], 0
    for start, end in spans:
        if start < position:
            continue
        out.append(change(text[position:start]))
        out.append(text[start:end])
        position = end
    out.append(change(text[position:]))
    return "".join(out)
