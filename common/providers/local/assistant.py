"""The local design assistant: deterministic rules that read what a shopper writes.

It stands in for the OpenAI assistant offline (no `OPENAI_API_KEY`), behind the same
`Assistant` port (`common.studio.briefs`): a message and the brief so far in, a reply and the
new brief out.

It reads a message the way a person writes one, with small vocabularies and grammar rather
than memorised phrases: the texts first (`common.providers.local.wording` puts a marker where
each one was), then the product, then clause by clause what each colour, size and side word is
attached to: the garment ("a navy hoodie", "tote, natural"), a text ("q0 in pink", "white
letters") or the artwork ("a red rose"). What remains once filler is dropped is the artwork's
subject. Instructions to the assistant are never drawn, an ambiguous edit gets one short
question and no change, and the reply confirms each change once and offers a next step.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from pydantic import ValidationError

from common.core import colors
from common.providers.local import artwork, wording
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

TEE = r"t\s?-?\s?shirts?|tee\s?-?\s?shirts?|tees?|shirts?|tshirts?"
PRODUCT_WORDS: list[tuple[str, str]] = [
    (
        rf"premium\s+(?:\w+\s+)?(?:{TEE})|(?:heavyweight|nicer|better|softer|fitted)\s+(?:{TEE})",
        "premium-tee",
    ),
    (r"hood(?:ie|y|ies|ys|ed\s+(?:sweatshirts?|jumpers?|tops?))|hoodi?es?", "hoodie"),
    (
        r"crew\s*-?\s*necks?|crews|sweat\s?shirts?|jumpers?|sweaters?|pullovers?|sweats",
        "crewneck",
    ),
    (r"(?:tote|canvas|shopping|cloth|grocery|market|book)\s?bags?|totes?|bags?", "tote"),
    (r"(?:baseball|trucker|dad)\s+(?:caps?|hats?)|caps?|hats?|snapbacks?", "cap"),
    (rf"(?:classic|basic|plain|regular|cotton|normal)\s+(?:{TEE})|{TEE}", "classic-tee"),
    (r"premium", "premium-tee"),
]
PRODUCT_PATTERN = "|".join(pattern for pattern, _ in PRODUCT_WORDS)
# Product words that name a thing to draw: "a graduation cap", "a cat in a top hat".
DRAWN_PRODUCTS = (
    r"\b(?:graduation|grad|party|cowboy|top|sun|santa|witch|wizard|chef'?s?|bottle|thinking|"
    r"sleeping|tea|punching|ice|birthday|pirate|bowler|straw)\s+(?:caps?|hats?|bags?)\b"
    r"|\bwearing\s+(?:a|an|the|his|her|its)\s+(?:\w+\s+)?(?:caps?|hats?|hoodies?|sweaters?)\b"
)
# Things named with a colour word that are not that colour: "a wine glass", "an olive branch".
COLOR_COMPOUNDS = (
    r"\b(?:wine\s+(?:glass|glasses|bottle|bottles)|olive\s+(?:branch|branches|tree|trees|oil)|"
    r"sand\s+(?:castle|castles|dollar|dollars)|lime\s+(?:slice|slices|wedge)|"
    r"peach\s+(?:tree|trees)|rose\s+(?:bush|bushes)|sky\s+lanterns?)\b"
)
# Misspellings a shopper makes of product words (one letter off): matched by `_spelled`.
PRODUCT_SPELLINGS = (
    "hoodie",
    "hoodies",
    "tshirt",
    "tshirts",
    "shirt",
    "shirts",
    "sweater",
    "sweatshirt",
    "crewneck",
    "premium",
)
# Color names a shopper uses for garments, mapped to catalog color names, best first.
GARMENT_COLORS: dict[str, tuple[str, ...]] = {
    "heather grey": ("Heather Grey",),
    "heather gray": ("Heather Grey",),
    "royal blue": ("Royal Blue",),
    "royal": ("Royal Blue",),
    "forest green": ("Forest Green",),
    "dark green": ("Forest Green", "Olive"),
    "bottle green": ("Forest Green",),
    "dusty rose": ("Dusty Rose",),
    "dusty pink": ("Dusty Rose",),
    "light pink": ("Dusty Rose",),
    "light blue": ("Sky",),
    "baby blue": ("Sky",),
    "sky blue": ("Sky",),
    "navy blue": ("Navy",),
    "dark blue": ("Navy",),
    "light grey": ("Heather Grey",),
    "light gray": ("Heather Grey",),
    "white": ("White",),
    "black": ("Black",),
    "grey": ("Heather Grey",),
    "gray": ("Heather Grey",),
    "heather": ("Heather Grey",),
    "charcoal": ("Heather Grey",),
    "navy": ("Navy",),
    "red": ("Red",),
    "dark red": ("Burgundy", "Maroon"),
    "bright red": ("Red",),
    "blue": ("Royal Blue", "Navy", "Sky"),
    "green": ("Forest Green", "Olive"),
    "sand": ("Sand", "Natural", "Khaki"),
    "beige": ("Sand", "Natural", "Khaki"),
    "natural": ("Natural", "Sand"),
    "cream": ("Natural", "Sand"),
    "off-white": ("Natural", "Sand"),
    "ecru": ("Natural",),
    "khaki": ("Khaki", "Sand"),
    "tan": ("Khaki", "Sand"),
    "olive": ("Olive", "Forest Green"),
    "burgundy": ("Burgundy",),
    "maroon": ("Maroon",),
    "wine": ("Burgundy", "Maroon"),
    "sky": ("Sky",),
    "pink": ("Dusty Rose",),
    "purple": (),
    "yellow": (),
    "orange": (),
    "gold": (),
    "brown": (),
    "teal": (),
    "lavender": (),
    "mint": (),
    "silver": (),
}
COLOR_PATTERN = "|".join(
    [re.escape(name) for name in sorted(GARMENT_COLORS, key=len, reverse=True)] + ["#[0-9a-f]{6}"]
)
CATALOG_PAIRS = "|".join(re.escape(name) for name in GARMENT_COLORS if " " in name)
SIDES_SAID: list[tuple[str, str]] = [
    (r"\bsleeves?\b|\b(?:on|down)\s+the\s+arms?\b|\barm\s+print\b", "sleeve"),
    (r"\b(?:back|rear|backside|behind)\b", "back"),
    (r"\b(?:front|chest|pocket|breast)\b", "front"),
]
BIGGER = re.compile(
    r"\b(?:bigger|larger|enlarge|increase|grow|scale\s+up|more\s+space|blow\s+(?:it\s+)?up)\b"
)
SMALLER = re.compile(r"\b(?:smaller|shrink|reduce|scale\s+down|less\s+space|tone\s+it\s+down)\b")
SIZES_SAID: list[tuple[str, str]] = [
    (r"\b(?:full(?!\s+of\b)|fill(?:s|ing)?|whole|entire|oversized|all\s+over)\b", "full"),
    (r"\b(?:big|large|huge|giant|massive|bold\s+and\s+big)\b", "large"),
    (r"\b(?:medium|mid-?size[d]?|normal\s+size|regular\s+size)\b", "medium"),
    (r"\b(?:small|tiny|little|subtle|discreet|pocket)\b", "small"),
]
POSITIONS_SAID: list[tuple[str, str]] = [
    (r"\b(?:above|over|on\s+top|at\s+the\s+top|top)\b", "top"),
    (r"\b(?:below|under(?:neath)?|beneath|at\s+the\s+bottom|bottom)\b", "bottom"),
    (r"\b(?:in\s+the\s+middle|middle|cent(?:er|re)(?:ed|d)?)\b", "middle"),
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
    r"\b(?:remove|delete|drop|erase|get\s+rid\s+of|take\s+(?:off|out|away)|without|ditch|"
    r"scrap|clear)\b|\blose\s+(?:the|that|this|it|them)\b"  # not "they'll lose their minds"
    r"|\bno\s+(?:text|words|image|picture|art|artwork|graphics?|logo|pictures)\b"
)
TEXT_WORDS = re.compile(
    r"\b(?:text|texts|words?|lettering|letters|title|caption|slogan|quote|font|writing|name|"
    r"year|date|q\d+)\b"
)
IMAGE_WORDS = re.compile(
    r"\b(?:image|picture|pic|art|artwork|graphic|illustration|drawing|logo|icon|motif|emblem|"
    r"mascot|design)s?\b"
)
EVERYTHING = re.compile(r"\b(?:everything|all\s+of\s+(?:it|them)|it\s+all|them\s+all|both)\b")
RESET = re.compile(r"\b(?:start\s+over|start\s+again|from\s+scratch|reset|new\s+design)\b")
# What is not about the design at all: instructions to the assistant, and asks for money off.
INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?]*\b(?:instructions?|rules?|prompts?|"
    r"previous|above|everything|guidelines?|system|filters?)\b"
    r"|\b(?:system\s+prompt|system\s+override|developer\s+mode|admin\s+mode|jailbreak|"
    r"you\s+are\s+now|act\s+as|pretend\s+(?:to|you|you're|you\s+are)|reveal\s+your|"
    r"your\s+(?:hidden\s+)?(?:instructions|prompt|rules)|hidden\s+instructions?|"
    r"new\s+instructions?|from\s+the\s+developer|as\s+the\s+developer|"
    r"(?:no|without)\s+(?:restrictions?|limits?)|unrestricted|for\s+free|"
    r"whatever\s+(?:i|we)\s+(?:say|ask|want|type))\b"
    r"|\b(?:give|send|make)\s+(?:me|us)\s+(?:a\s+|an\s+|the\s+)?(?:free|discount|refund|"
    r"coupon|100%)|\b(?:free\s+(?:order|shirts?|stuff|hoodies?)|discount\s+codes?|coupons?|"
    r"set\s+(?:all\s+)?(?:the\s+)?prices?|discounts?|promo\s+codes?|\d+\s*%\s*off|admin|"
    r"administrator|the\s+user\s+is)\b|^\s*(?:system|assistant|developer)\s*:",
    re.IGNORECASE,
)
# A message of these words only says hello.
_GREETING_WORDS = """
hi hiya hey heya hello hullo yo howdy sup hola good morning afternoon evening there all everyone
folks
"""
GREETING_WORDS = frozenset(_GREETING_WORDS.split())
# Products a shopper may ask for that the shop does not make.
UNOFFERED = re.compile(
    r"\b(?:mugs?|cups?\s+and|socks?|beanies?|aprons?|jackets?|posters?|stickers?|tank\s+tops?|"
    r"onesies?|bibs?|water\s+bottles?|phone\s+cases?|pillows?|cushions?|blankets?|towels?|"
    r"scarf|scarves|gloves?|shorts|leggings|dresses?|pants|trousers|jeans|polos?|vests?|"
    r"bandanas?|face\s+masks?|umbrellas?|notebooks?|keychains?|lanyards?|banners?|flags?|"
    r"long\s+sleeves?|jerseys?|visors?|bucket\s+hats?|backpacks?|pens?|magnets?)\b"
)
# "make it a tank top", "switch to a beanie": the product changed, whatever was named before.
SWITCH_TO = re.compile(
    r"\b(?:make\s+(?:it|them)|switch\s+(?:it\s+|them\s+)?to|change\s+(?:it\s+|them\s+)?to|"
    r"go\s+with|do)\s+(?:an?\s+|some\s+)?\w+(?:\s+\w+)?$"
)
# Asking for the last change to be taken back, which the rules cannot look up.
UNDO = re.compile(
    r"^\s*(?:(?:please|pls|can\s+you|could\s+you|just)\s+)*(?:undo(?:\s+that|\s+it)?|go\s+back|"
    r"revert(?:\s+that|\s+it)?|put\s+it\s+back)\s*(?:please|pls)?\s*[.!?]*\s*$"
)
# Asking the assistant for ideas rather than giving one.
SUGGEST = re.compile(
    r"\b(?:suggest|suggestions?|ideas?|recommend|surprise\s+me|inspire\s+me|inspiration|"
    r"what\s+would\s+you\s+(?:do|put|make|choose))\b"
)
# A question about the shop, not a request ("can the print glow in the dark?", "what colours
# do the caps come in?"): one that names nothing to put on a design.
QUESTION = re.compile(
    r"^\s*(?:what|which|how|when|where|who|why|do|does|did|is|are|can|could|will|would|have|"
    r"has)\b[^?]*\?\s*$"
)
DESIGN_VERBS = re.compile(
    r"\b(?:put|add|make|change|move|remove|swap|draw|write|want|like|give|turn|use)\b"
    r"|\bprint\s+(?:a|an|my|our|it|this|that|some|the\s+words?|q\d+)\b"
)
CLAUSE_SPLIT = re.compile(
    r"(?<!\d)[,;.!?()\n]+(?!\d)|\s[+&/\u2014\u2013-]\s|\s+(?:and\s+then|then|but|also|plus)\s+"
    r"|\s+and\s+(?=(?:a|an|the|make|put|move|add|remove|change|q\d+|in|on|with|it|maybe|"
    r"can|could|please|i|we|let's|turn|have|give|use|switch|they|keep|two|some)\b)",
    re.IGNORECASE,
)
# "instead of the tiger", "replace the tiger with": the words of what goes away.
REPLACED = re.compile(
    r"\b(?:instead\s+of|rather\s+than|not\s+(?:a|an|the))\s.*?(?=\s(?:do|draw|use|put|make|"
    r"have|try|give|add|let's|maybe|how\s+about|go\s+with)\b|$)"
    r"|\b(?:replace|swap|switch|change|trade)\s+(?:out\s+)?(?:the\s+|that\s+|this\s+)?"
    r"(?!it\b|them\b)[\w\s-]*?\b(?:with|for|to|into)\b"
    r"|\b(?:make|turn)\s+(?:the|that|this)\s+[\w-]+(?:\s+[\w-]+)?\s+(?:into\s+)?(?=an?\s+\w)"
)
# What shows that a clause describes artwork, not the shopper's day ("I'm organising a walk").
ART_CUE = re.compile(
    r"\b(?:with|w)\s+(?:a|an|the|some|two|three|four|\d+|our|my|little|tiny|big|cute)\b"
    r"|\b(?:add|put|draw|featuring|showing|picture\s+of|drawing\s+of|image\s+of)\b"
    r"|\b(?:want|like|love|need|get|to\s+have|do|try|use|go\s+with)\s+(?:a|an|some)\s+"
    r"(?!few\b|bit\b|lot\b)"
    r"|\b(?:on|onto|across|at)\s+(?:the\s+)?(?:front|back|chest|pocket|sleeve|top|bottom)\b"
    r"|^(?:(?:and|plus|then|maybe|perhaps|also|just|or|ok|okay|so|actually|front|back|"
    r"(?:on\s+)?the\s+(?:front|back)|on\s+it|[a-z]+\s*:)\s*:?\s+)*"
    r"(?:a|an|some|two|three|four|one)\s"
    r"|\b(?:change|turn|make|swap|replace)\s+(?:it|that|this|the\s+\w+)\s+(?:to|into|for|with)?\s*"
    r"(?:a|an|some)\s"
)
# Someone telling, not asking: "I'm organising", "he's a huge gamer", "the kids voted".
NARRATIVE = re.compile(
    r"^(?:so\s+|and\s+|but\s+)?[a-z]+ing\b(?!\s+(?:cat|dog|bird|man|woman|girl|boy)|\s+[a-z]+\s*$)"
    r"|^(?:so\s+|and\s+|but\s+|right\s+so\s+|oh\s+|well\s+)?(?:i|i'm|im|i've|i'd|i\s+was|we|"
    r"we're|we've|he|he's|she|she's|they|it's|its|there's|that's|someone|somebody|everyone|"
    r"the\s+kids|my\s+\w+\s+(?:is|are|was|has|just|loves|wants)|our\s+\w+\s+(?:is|are|was|"
    r"has|have)|is|are|does|do|can|could|would|will|should|thanks|thank|hi|hello|"
    r"hey|morning|evening|ok|okay|yes|not|sure|happy|sorry|finished|done|got|just)\b"
    r"|\b(?:is|are|was|were|'s|looks?|sounds?|feels?)\s+(?:fine|ok|okay|good|great|nice|nicer|"
    r"better|doable|possible|fussy|simple|cheap|expensive|perfect)\b"
)
# "a jewelry shop in Portland", "a small bluegrass band": who the design is for.
GROUP_PHRASE = re.compile(
    rf"^(?:(?:we're|we\s+are|i'm|i\s+am|it's)\s+)?an?\s+(?:[\w&-]+\s+){{0,2}}(?:{wording.GROUPS})\b"
)
# "above the dog", "under it": where a text goes beside artwork already there.
RELATIVE_TO = re.compile(
    r"\b(?:above|below|under|underneath|beneath|over|beside|next\s+to|on\s+top\s+of)\s+"
    r"(?:the|it|that|this|him|her|them|my|our|his|its)\b"
)
# "because we're the Foxes", "so it needs to be simple": why, not what.
REASON = re.compile(
    r"\b(?:because|since|cause|cos|so\s+that|so\s+it|as\s+long\s+as|in\s+order\s+to|if)\b.*$"
    r"|\bto\s+(?:pack|give|wear|use|sell|carry|hand|take|keep|raise|celebrate|remember|match|"
    r"mark|support|promote|thank|welcome)\b.*$"
)
REPLACE = re.compile(
    r"\b(?:change|replace|instead|rename|renamed|swap|meant|oops|sorry)\b|\bmake\s+it\s+say\b"
    r"|\bmake\s+(?:it|that|this|them)\s+(?:say\s+|read\s+)?q\d+\b"
    r"|\bshould\s+(?:be|say|read)\b"
)
# "the front text", "the words on the back": which texts, not where they go.
WHICH_SIDE = re.compile(
    r"\b(?:the\s+)?(?P<side>front|back)\s+(?:text|texts|words|writing|lettering|name|line)\b"
)
# "just MRS then", "only the first one": what stays.
ONLY = re.compile(r"\b(?:just|only)\s+(?:the\s+)?q\d+(?:\s+(?:then|please|now))*\s*$")
# "swap them", "switch sides": the artwork and the text trade sides.
SWAP_SIDES = re.compile(
    r"\b(?:swap|switch|flip|reverse)\s+(?:them|the\s+sides|sides|it\s+around|them\s+around|"
    r"front\s+and\s+back|the\s+front\s+and\s+(?:the\s+)?back)\b"
)
# A correction of what was just said: "oops, I meant ...", "sorry, ...", "no, ...".
CORRECTION = re.compile(
    r"\b(?:meant|mean|oops|sorry|whoops|actually|on\s+second\s+thoughts?)\b|^\s*no\b"
)
# Words about the shopper's thinking, not the design: "on second thought", "come to think of it".
MUSING = re.compile(
    r"\b(?:on\s+second\s+thoughts?|second\s+thoughts?|come\s+to\s+think\s+of\s+it|"
    r"(?:now\s+that\s+i\s+)?think(?:ing)?\s+about\s+it|having\s+thought\s+about\s+it|"
    r"if\s+(?:that's\s+|it's\s+)?possible|if\s+you\s+can)\b",
    re.IGNORECASE,
)
# "change 2027 to 2028": part of a text swapped for other words.
CHANGE_TO = re.compile(
    r"^\s*(?:(?:please|can\s+you|could\s+you|and)\s+)?(?:change|replace|swap|switch|make)\s+"
    r"(?P<old>.+?)\s+(?:to|with|into|for)\s+(?P<new>.+?)\s*[.!]?\s*$",
    re.IGNORECASE,
)
# "no, silver, not gold", "black instead of white": one colour in place of another.
NOT_COLOR = re.compile(
    rf"\b(?:not|instead\s+of|rather\s+than)\s+(?:the\s+)?(?:{wording.SHADES}\s+)?"
    rf"(?P<old>{COLOR_PATTERN})\b"
)
# "for my grandma's 80th", "for our robotics team": who it is for, not what to draw.
PURPOSE = re.compile(
    r"\bfor\b.*?"
    rf"(?=\b(?:with|that|which|saying|says|featuring|showing)\b|\bq\d+\b|[:;]|\b(?:{PRODUCT_PATTERN})\b|$)"
)
# "nothing on the back": a side left empty, not one to print on.
NOTHING_THERE = re.compile(r"\bnothing\s+(?:else\s+)?(?:on|at|across)\s+the\s+\w+")
# What a removal names: "remove the hat" is the drawn hat, never a change of product.
REMOVED_THING = re.compile(
    r"\b(?:remove|delete|erase|get\s+rid\s+of|take\s+(?:off|out|away)|ditch|lose)\s+"
    r"(?:the|that|this|his|her|its)\s+\w+"
)
# Where things go and how big: said about a layer, never part of what it shows.
PLACEMENT = re.compile(
    r"\b(?:on|onto|at|to|across|in|over)\s+(?:the\s+|its\s+|my\s+)?(?:front|back|chest|pocket|"
    r"sleeves?|top|bottom|middle|cent(?:er|re)|left|right|side|rear|breast)\b"
    r"(?:\s+(?:side|of\s+(?:it|the\s+\w+)))?"
    r"|\bin\s+(?:the|a|one)\s+(?:(?:top|bottom|upper|lower)\s+)?(?:(?:left|right)\s+)?corner\b"
)
# Words that say nothing about what to draw.
_FILLER_WORDS = """
a an the and or with on in at to of for from by it its it's this that these those is are be
been being was were am do does did doing done  could would should will shall may might must
please pls plz i i'd id i'm im we we'd we're me my our us you your they them their he she his
her him want wants wanted like love loved need needs needed make made making put place add
show give get got have has had using use some any just also really very quite let's lets let
side print printed printing prints design designs designed shirt shirts t-shirt tshirt tee tees
hoodie hoodies hoody crewneck sweatshirt sweater jumper tote bag cap hat front back chest sleeve
one ones big bigger small smaller large larger huge tiny little medium full giant massive style
styled color colour colored coloured into onto over under above below top bottom middle center
centre up down there here something cool nice awesome image picture graphic logo art artwork
illustration drawing text words lettering letters font bold thin heavy light regular plain which
what how now then again instead change turn move bolder thicker heavier lighter thinner premium
classic hooded dad shopping new looking look go going so too ok okay yes yeah yep sure
thanks thank hey hi hello filling fills fill whole entire subtle more less even rear behind
pocket mid size heather royal forest dusty natural khaki sand beige cream tan navy maroon
burgundy olive wine sky line version kind sort vibe vibes feel start scratch reset not sure
hmm oh ah else take takes taking covering covers maybe think idea unsure don't dont know either
whatever anything about try trying how's
what's rather prefer actually underneath beneath atop across around beside next left right club
team crew squad no nope wait sorry oops meant mean hmmm um umm uh well great perfect lovely
good fine thing stuff something somewhere cute-ish ideally probably definitely super simple
only same different other another instead switch swap replace rename keep go canvas fabric
colorway base background shade tone looks looking good great would've should've cool-looking
minimalist graphics pic pics photo image images icon icons emblem motif print-on printed-on
prefer wanna gonna gotta lemme kinda sorta bit lot lots many much few each every all both
order orders ordering buy buying purchase customers customer people guys folks everyone
someone friend friends thing things stuff piece pieces item items merch apparel clothing
wear outfit uniform uniforms event events party birthday gift present lads guys
girls kids people staff walkers volunteers members players everyone adults children students
teachers coworkers colleagues employees parents numbers number digits here if as than
asap centered centred date nothing everything re ve ll lol haha best obviously honestly basically
literally totally definitely probably ideally preferably tho though first second third last
stay stays remain remains sup yo hiya heya howdy hola year years embroidered embroidery
stitched area spot draw drawn thats whats sponsor sponsors

says saying say said reads written write writing word name named called spelling spell
"""
FILLER = frozenset(_FILLER_WORDS.split()) | frozenset(
    word for word in wording.GROUPS.split("|") if word.isalpha()
)
# Occasions and outings: what a design is for, never what it shows.
OCCASIONS = re.compile(
    rf"\b(?:{wording.GROUPS}|week|weekend|trip|do|party|wedding|reunion|shower|festival|"
    r"tournament|season|meeting|anniversary|birthday|holiday|vacation|conference|offsite|retreat|"
    r"marathon|race|walk|game|match|appreciation|fundraiser|gala|stag|hen|bachelorette|season)\b"
)
# Small words kept inside a subject: "a wolf howling at the moon", "a sloth hanging from a tree",
# "a sunrise over hills".
CONNECTIVES = ("of", "and", "with", "on", "in", "at", "from", "over", "under", "behind", "doing")
# Trailing words a subject never ends on ("a robot arm logo" -> "robot arm").
EDGE_FILLER = FILLER | frozenset({"of", "and", "with", "reading", "holding", "on", "in"})
# Words a subject never starts with, though it may end with them ("a watering can").
LEADING_FILLER = EDGE_FILLER | frozenset({"can"})
QUESTION_WORDS = re.compile(r"^\s*(?:what|which|how|can\s+you|do\s+you|is\s+there|are\s+there)\b")


def _first(patterns: list[tuple[str, str]], text: str) -> str | None:
    for pattern, value in patterns:
        if re.search(pattern, text):
            return value
    return None


def _nearest(product: catalog.Product, hex_value: str) -> str:
    return min(product.colors, key=lambda color: colors.distance(color.hex, hex_value)).name


def _readings(word: str, product: catalog.Product) -> list[str]:
    """The product's catalog colors a color word (or #hex) can mean, best first: "blue" on a
    classic tee is Royal Blue or Navy."""
    if word.startswith("#"):
        return [_nearest(product, word)]
    exact = product.color(word)
    if exact is not None:
        return [exact.name]
    return [
        found.name
        for candidate in GARMENT_COLORS.get(word, ())
        if (found := product.color(candidate)) is not None
    ]


def garment_color(word: str, product: catalog.Product) -> str | None:
    """The product's catalog color for a color word (or #hex), when it means exactly one."""
    readings = _readings(word, product)
    return readings[0] if len(readings) == 1 else None


def _step(size: str, up: bool) -> Size:
    index = SIZE_ORDER.index(cast(Size, size))
    return SIZE_ORDER[min(len(SIZE_ORDER) - 1, index + 1) if up else max(0, index - 1)]


def _one_off(word: str, target: str) -> int | None:
    """How `word` is a misspelling of `target`: 1 for two letters swapped, 2 for a letter
    added or dropped, 3 for one vowel in place of another in a long word ("burgandy") or one
    letter changed in a long product word ("premiun"), None for none of these. Another changed
    letter is too often another word ("stork", "hoop") to count as a misspelling."""
    if word == target or abs(len(word) - len(target)) > 1 or word[0] != target[0]:
        return None  # a typo keeps the first letter: "range" is not "orange"
    if len(word) == len(target):
        diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        swapped = (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and word[diffs[0]] == target[diffs[1]]
            and word[diffs[1]] == target[diffs[0]]
        )
        vowel = (
            len(diffs) == 1
            and len(word) >= 6
            and (
                (word[diffs[0]] in "aeiouy" and target[diffs[0]] in "aeiouy")
                or target in PRODUCT_SPELLINGS
            )
        )
        return 1 if swapped else 3 if vowel else None
    if min(len(word), len(target)) < 4 and target not in SHORT_TARGETS:
        return None  # "bee" is not "been", "hop" is not "shop"
    short, long = sorted((word, target), key=len)
    return 2 if any(long[:i] + long[i + 1 :] == short for i in range(len(long))) else None


# Short words a misspelling ("bak", "wit", "bagg") is still read as: the ones that carry the
# structure of a request. Other short words are too close to each other to guess.
SHORT_TARGETS = frozenset({"the", "bag", "cap", "hat", "tee", "with", "back", "text"})
# Shorthand a shopper types, spelt out.
SHORTHAND = {
    "w": "with",
    "w/": "with",
    "n": "and",
    "lil": "little",
    "plz": "please",
    "pls": "please",
    "u": "you",
    "ur": "your",
    "thx": "thanks",
    "bc": "because",
    "b/c": "because",
    "abt": "about",
    "smol": "small",
    "txt": "text",
    "sez": "says",
    "blk": "black",
    "wht": "white",
    "gry": "grey",
    "grn": "green",
    "rd": "red",
}


NUMBER_WORDS = "one two three four five six seven eight nine ten eleven twelve twenty hundred"


def _vocabulary() -> frozenset[str]:
    """The words the assistant knows: a misspelling is one letter off one of them."""
    known = set(FILLER) | set(prompts.COLOR_WORDS) | set(prompts.STYLE_WORDS)
    known |= set(artwork.MOTIFS) | set(artwork.SYNONYMS) | set(PRODUCT_SPELLINGS)
    known |= {word for name in GARMENT_COLORS for word in name.split()}
    for pattern, _ in [*PRODUCT_WORDS, *SIDES_SAID, *SIZES_SAID, *POSITIONS_SAID]:
        known |= set(re.findall(r"[a-z]{3,}", pattern))
    known |= set(
        ["the", "with", "white", "write", "letters", "little", "front", "back", "chest", "please"]
    )
    known |= set(re.findall(r"[a-z]{3,}", wording.GROUPS))
    known |= set(NUMBER_WORDS.split())  # "three ducks" is not "tree ducks"
    return frozenset(known)


VOCABULARY = _vocabulary()
# What a misspelling is read as: the words that carry meaning here, and the few small ones that
# carry a request's structure. A misspelt filler word ("lotus" is one letter from "lots") is
# better left as it is.
SPELLING_TARGETS = (
    (VOCABULARY - FILLER)
    | frozenset(PRODUCT_SPELLINGS)
    | {word for name in GARMENT_COLORS for word in name.split()}
    | {w for p, _ in PRODUCT_WORDS for w in re.findall(r"[a-z]{3,}", p)}
    | SHORT_TARGETS
    | frozenset(
        [
            "the",
            "with",
            "and",
            "write",
            "letters",
            "little",
            "front",
            "back",
            "chest",
            "please",
            "text",
            "words",
            "name",
            "color",
            "colour",
            "small",
            "large",
            "little",
            "tiny",
        ]
    )
)


# Things people ask to have drawn, read as the spelling of a long word one letter off them
# ("sunflowr", "pinapple"). Only long words: a short one is too often another word.
_DRAWN_THINGS = """
sunflower sunflowers pineapple pineapples strawberry strawberries watermelon avocado
cupcake cupcakes croissant pretzel donut doughnut hamburger burrito lemonade cherries
blossom blossoms tulips daisy daisies lavender dandelion cactus succulent monstera
mountain mountains volcano lighthouse sailboat anchor compass rainbow lightning snowflake
butterfly dragonfly ladybug hummingbird flamingo penguin octopus jellyfish dolphin seahorse
turtle tortoise giraffe elephant kangaroo koala raccoon squirrel hedgehog unicorn dinosaur
triceratops pterodactyl dragon phoenix griffin mermaid astronaut spaceship satellite
skeleton pumpkin lantern bicycle motorcycle skateboard surfboard guitar trumpet saxophone
drumsticks microphone headphones basketball football baseball volleyball hockey trophy
hourglass umbrella telescope tractor airplane helicopter campfire cassette polaroid camera
"""
DRAWN_THINGS = frozenset(_DRAWN_THINGS.split())


def _spelled(message: str) -> str:
    """`message` with shorthand spelt out ("w/", "lil") and misspelt words ("wiht", "hodie",
    "teh") corrected to the one known word they are a letter away from."""

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        if word in SHORTHAND:
            return SHORTHAND[word]
        known = word in VOCABULARY or word in DRAWN_THINGS
        if known or len(word) < 3 or not word.isalpha():
            return word
        for tail in ("it", "them", "the", "me"):  # "makeit": a word run into the next
            if word.endswith(tail) and word[: -len(tail)] in VOCABULARY:
                return f"{word[: -len(tail)]} {tail}"
        if word.endswith(("ing", "ed")) or (
            word.endswith("s") and (word[:-1] in VOCABULARY or word[:-1] in DRAWN_THINGS)
        ):
            return word  # "selling", "books": another form of a word, not a misspelling
        ranked = sorted(
            (rank, known)
            for known in SPELLING_TARGETS | (DRAWN_THINGS if len(word) >= 6 else frozenset())
            if len(known) >= 3 and (rank := _one_off(word, known)) is not None
        )
        if ranked and (len(ranked) == 1 or ranked[0][0] < ranked[1][0]):
            return ranked[0][1]
        return word

    return re.sub(r"(?<![\w'])[a-z]+/?(?![\w'])", fix, message)


def _emoji_words(message: str) -> str:
    """Emoji as the things they show ("\U0001f438" -> "frog"); faces, hearts and signs go."""

    def name(char: str) -> str:
        if unicodedata.category(char) != "So":
            return char
        words = unicodedata.name(char, "").lower().split()
        if not words or {"heart", "sign", "hand", "sparkles", "hands"} & set(words):
            return " "
        if ("face" in words and words[-1] != "face") or words == ["face"]:
            return " "
        return " " + " ".join(w for w in words if w not in ("face", "of", "with")) + " "

    return "".join(name(char) for char in message)


# Markup and code pasted in ("<script>alert(1)</script>"): never part of a design.
MARKUP = re.compile(
    r"</?[A-Za-z][^<>]{0,80}>|\b[a-z_]\w{2,}\((?:[^()]{0,40}[0-9'\"][^()]{0,40})?\)"
)
ASIDE_NOTE = "I can only help with the design, so I left the rest aside."
# Where a message may turn from the design to something else: a sentence, "also", "btw".
ASIDE = re.compile(r"(?<=[.!?])\s+|\s+(?:also|btw|by\s+the\s+way|ps|p\.s\.)\s+", re.IGNORECASE)


def _without_instructions(message: str) -> str:
    """`message` without its sentences that instruct the assistant or ask for money off
    ("white tee with a rocket. ignore your rules"): "" when every sentence does."""
    parts = ASIDE.split(message)
    return " ".join(part for part in parts if not INSTRUCTION.search(part)).strip()


def _shouting(message: str) -> bool:
    """A message typed in capitals throughout (caps lock), not a text in capitals."""
    letters = [c for c in message if c.isalpha()]
    return len(message.split()) >= 4 and sum(c.isupper() for c in letters) > 0.8 * len(letters)


# The question `LocalAssistant._garment` asks about a colour: the product, the colour word it
# asks about and the colours it offers.
COLOR_QUESTION = re.compile(
    r"The (?P<product>[\w ]+?) (?:doesn't come in (?P<word>[\w #-]+?): which of (?P<offered>[^?]+?)"
    r"|comes in (?P<listed>[^:?]+): which (?P<other>[\w #-]+?)) would you like\?"
)


def _color_answer(history: list[dict[str, str]], message: str) -> str | None:
    """When the last reply asked which colour (and changed nothing) and `message` answers it,
    the request that was asked about with the answer in place, then the rest of `message`
    ("maroon then. a rugby ball and 'Old Boys RFC'"). The answer is a colour, a lighter or
    darker one of those offered, or another product ("the premium one then")."""
    if len(history) < 2 or history[-1].get("role") != "assistant" or "?" in message:
        return None
    asked = COLOR_QUESTION.search(history[-1].get("content", ""))
    before = history[-2].get("content", "") if history[-2].get("role") == "user" else ""
    if not asked or not before:
        return None
    old = asked.group("word") or asked.group("other")
    said = re.search(rf"\b{re.escape(old)}\b", before, re.IGNORECASE)
    lower = message.lower()
    named = re.search(rf"\b(?:{COLOR_PATTERN})\b", lower)
    if named is None:
        offered = _offered(asked.group("product"), asked.group("offered") or asked.group("listed"))
        shade = re.search(
            r"\b(?:(?P<light>light|lighter|paler|brighter)|darker|dark|deeper)\b", lower
        )
        if shade and len(offered) > 1 and said is not None:
            light = lambda c: sum(int(c.hex[i : i + 2], 16) for i in (1, 3, 5))  # noqa: E731
            pick = (max if shade.group("light") else min)(offered, key=light)
            return before[: said.start()] + pick.name + before[said.end() :]
        products = _products_in(lower)
        if not products:
            return None
        named_product = catalog.catalog().product(products[0])
        word = re.search(rf"\b(?:{PRODUCT_PATTERN})\b", before, re.IGNORECASE)
        if named_product is None or word is None:
            return None
        # "the premium one then": the request asked about, on that product
        return before[: word.start()] + named_product.name.lower() + before[word.end() :]
    if said is None:
        return None
    rest = lower[: named.start()] + lower[named.end() :]
    answer = before[: said.start()] + named.group() + before[said.end() :]
    products = _products_in(rest)
    word = re.search(rf"\b(?:{PRODUCT_PATTERN})\b", answer, re.IGNORECASE)
    if products and word and (chosen := catalog.catalog().product(products[0])) is not None:
        # "ok maroon hoodie then": the request asked about, on that product in that colour
        answer = answer[: word.start()] + chosen.name.lower() + answer[word.end() :]
    more = _words_of(rest) or re.search(r"['\"\u201c]", rest)
    return f"{answer}. {message}" if more else answer


def _offered(product_name: str, listed: str) -> list[catalog.Color]:
    """The colours of the product named `product_name` that a question listed ("Navy or Sky")."""
    product = next((p for p in catalog.catalog().products if p.name == product_name), None)
    found = (product.color(name) if product else None for name in re.split(r",|\bor\b", listed))
    return [color for color in found if color is not None]


# "coach says ...", "my wife thinks ...": who wants it, said before what they want.
SPEAKER = re.compile(
    r"(?:^|(?<=[.!?,;]))\s*(?:(?:so|and|but|oh|ok|okay|well)\s+)?(?:(?:my|our|the|his|her|their)\s+)?"
    r"(?!(?:it|that|this|which|text|shirt|tee|front|back|hoodie|cap|hat|tote|bag|sign|design|"
    r"one|print|logo|caption|banner|slogan|line|top|bottom|words?|tag|label|motto|quote|title|"
    r"lettering|writing|chest|pocket|sleeve|sweater|sweatshirt|crewneck)\b)"
    r"[A-Za-z]+\s+(?:says|said|thinks|reckons|prefers|suggests|suggested|"
    r"wants|voted\s+for)\b(?:\s+(?:that|we\s+should\s+(?:do|go\s+with|have|use)|to\s+go\s+with))?",
    re.IGNORECASE,
)


def _quoting_texts(message: str, draft_texts: list[TextBrief]) -> str:
    """`message` with the words of a text already on the design put in quotes ("put the
    xX_VOID_Xx on the back"): said as written, they name that text."""
    for text in sorted(draft_texts, key=lambda t: -len(t.text)):
        if text.text.islower() and " " not in text.text:
            continue  # "love": a word they may say for other reasons
        quoted = '"' + text.text.replace("\\", "\\\\") + '"'
        message = re.sub(
            rf"(?<![\w'\"\u201c])(?:the\s+)?{re.escape(text.text)}"
            r"(?![\w'\"\u201d]|\s+(?:[A-Z0-9&]|of\s|and\s))",  # "I meant Surf Club Malibu"
            quoted,
            message,
        )
    return message


def _as_typed(text: str, typed: str) -> str:
    """`text` as the shopper typed it: read from a message in capitals throughout, it was
    lowercased to be read ("A TOTE WITH THE WORDS TEACHER OF THE YEAR")."""
    found = re.search(re.escape(text), typed, re.IGNORECASE)
    return found.group() if found and text.islower() else text


def _products_in(text: str) -> list[str]:
    """The products `text` asks for, first named first, leaving out what they replace ("a
    hoodie not a tshirt") and putting first one said "instead" ("the tshirts ... a tote
    instead"); "premium" alone counts only when no other product is named."""
    kept = re.sub(
        rf"\b(?:all|in|block|capital)\s+caps\b|\bcaps\s+lock\b|{DRAWN_PRODUCTS}",
        " ",
        REPLACED.sub(" ", text),
    )
    found: list[tuple[int, int, str]] = []
    for order, (pattern, product_id) in enumerate(PRODUCT_WORDS):
        instead = re.search(rf"\b(?:{pattern})\s+instead\b", text)
        for match in re.finditer(rf"\b(?:{pattern})\b", kept):
            found.append((-1 if instead else match.start(), order, product_id))
    named = [f for f in found if f[1] != len(PRODUCT_WORDS) - 1] or found
    ordered: list[str] = []
    for _, _, product_id in sorted(named):
        if product_id not in ordered:
            ordered.append(product_id)
    if "premium-tee" in ordered and "classic-tee" in ordered:
        ordered.remove("classic-tee")  # "premium white tees": one product, said twice
    return ordered


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
    art_cue: bool  # "with a", "on the back", a motif: words that introduce artwork
    names_product: bool
    narrative: bool
    soft_garment: bool = False  # "make it grey": the garment if it comes in that colour
    join_to: str | None = None  # "a taco and a burrito": drawn together with this subject
    which_side: str | None = None  # "the front text": the texts on that side, not a move

    @property
    def is_only_placement(self) -> bool:
        """A clause that only says where ("on the back", "sponsors on the back"): it places
        what follows it."""
        return not (self.markers or self.subject or self.colors or self.garment_word) and bool(
            re.fullmatch(
                r"(?:(?!(?:it|them|this|that|move|put|place|make|switch|swap|shift)\b)[a-z']+\s+)?"
                r"(?:on|at|to|in)?\s*(?:the\s+)?(?:front|back|chest)\s*:?",
                self.words,
            )
        )

    def drawing(self, image_words: set[str]) -> str | None:
        """Whether the clause asks for new artwork: "strong" when its words say so (a motif,
        "with a", "on the back", a product), "weak" when it is only a short noun phrase
        ("cupcake", "crossed paddles"), which a strong one elsewhere in the message outranks."""
        if not self.subject or _stems(self.subject.split()) <= _stems(image_words | EDGE_FILLER):
            return None
        if self.narrative and not ART_CUE.search(self.words):
            return None  # "I'm organising a charity walk", "we're off to the mountains"
        drawn = bool(artwork.subjects_in(self.subject)) or IMAGE_WORDS.search(self.words)
        with_article = (  # "q0 above a tent", "q0 with the eiffel tower": drawn
            re.search(
                r"(?:^|\b(?:with|of|above|below|under|over|beside))\s*(?:a|an)\b"
                r"|\bwith\s+(?:the|some)\b",
                self.words,
            )
            is not None
        )
        if self.markers and not (drawn or with_article):
            return None  # words about a text: "lyric from our song: 'we were never here'"
        if OCCASIONS.fullmatch(self.subject.split()[-1]):
            return None  # "spooky season", "our fishing trip": when it is worn, not what it shows
        if GROUP_PHRASE.search(self.words):
            return None  # "we're Stone & Sparrow, a jewelry shop in Portland": who, not what
        if image_words and (self.markers or self.about_text) and RELATIVE_TO.search(self.words):
            return None  # "put his name above the dog": the dog drawn already, by another name
        if self.art_cue or self.names_product or drawn:
            return "strong"
        short = (
            len(self.words.split()) <= 4
            and not re.search(r"\b(?:i|my|our|we|me|us|you|your)\b", self.words)
            and not OCCASIONS.search(self.words)
        )
        return "weak" if short and not self.about_text else None

    @classmethod
    def read(cls, original: str, quote_count: int, image_prompt: str | None) -> _Clause:
        clause = original.lower()
        markers = [int(m) for m in re.findall(r"\bq(\d+)\b", clause) if int(m) < quote_count]
        garment_word = None
        garment = re.search(
            rf"\b(?P<c>{COLOR_PATTERN})(?:\s+colou?r(?:ed)?)?\s+(?:\w+\s+)?(?:{PRODUCT_PATTERN})\b"
            rf"|\b(?:{PRODUCT_PATTERN})\b:?(?:\s+(?:that's|thats|that\s+is|which\s+is|\w+))?\s+"
            rf"(?:in\s+(?:a\s+)?|to\s+|into\s+|as\s+)?"
            rf"(?P<d>{COLOR_PATTERN})\b(?!\s+(?:q\d|text|letters|lettering|writing|font|ink))"
            rf"|^\s*(?:(?:in|and|or|maybe|colou?r:?|base|actually|no|nope|wait|ok|okay|then|oh|"
            rf"they\s+are|they're|theyre|they\s+should\s+be|it\s+should\s+be|"
            rf"hmm|sorry|so|let's\s+(?:go|do)(?:\s+with)?|go\s+with|how\s+about|what\s+about)\s+)*"
            rf"(?:an?\s+|the\s+)?(?P<e>{COLOR_PATTERN})(?:\s+(?:ones?|colou?r|colou?red|canvas|fabric|"
            rf"base|background|shade|version|option))?(?:\s+(?:please|then|instead|would\s+(?:be|go|look|work)\b.*|"
            rf"(?:if|when)\b.*|for\s+(?:the|all|everyone)\b.*|is\s+\w+))*\s*$"
            rf"|^\s*(?:(?:in|and|maybe|probably|ideally|just|so|then|ok|okay|it\s+should\s+be|"
            rf"they\s+should\s+be|it's|it\s+is)\s+)*(?:an?\s+)?"
            rf"(?P<g>{COLOR_PATTERN})(?:\s+(?:one|ones))?\s+(?:with|w)\s"
            rf"|^\s*(?:(?:and|actually|no|ok|so|then|please)\s+)*"
            rf"(?:(?:can|could|would|will)\s+(?:we|you|i)\s+|i'd\s+|i\s+would\s+|let's\s+)?"
            rf"(?:make|turn|do|change|have|get|like|want|go\s+with)\s+(?:it|them|this|that|"
            rf"the\s+whole\s+thing)\s+(?:in\s+|to\s+|into\s+|as\s+)?(?P<f>{COLOR_PATTERN})"
            rf"(?:\s+(?:please|then|instead))*\s*$",
            clause,
        )
        rest = clause
        if garment:
            group = next(name for name in "cdefg" if garment.group(name))
            garment_word = garment.group(group)
            start, end = garment.span(group)
            rest = clause[:start] + " " + clause[end:]
        else:
            # A two-word catalog colour ("dusty rose") alone in a clause is the garment's.
            named = re.search(
                rf"\b(?:{CATALOG_PAIRS})\b(?!\s+(?:q\d|text|letters|lettering|"
                r"writing|font|ink|\w+ing\b))",
                clause,
            )
            if named and not re.search(r"\bq\d+\b", clause) and not IMAGE_WORDS.search(clause):
                garment_word = named.group()
                rest = clause[: named.start()] + " " + clause[named.end() :]
        # "the name in dusty rose", "in sand": a catalog colour said of ink is a colour word
        rest = re.sub(rf"\b(?:{CATALOG_PAIRS})\b", lambda m: _plain_color(m.group()), rest)
        rest = re.sub(
            rf"\bin\s+(?P<c>{'|'.join(GARMENT_INKS)})\b",
            lambda m: f"in {GARMENT_INKS[m.group('c')]}",
            rest,
        )
        found_colors = prompts.colors_in(rest)
        rest = REPLACED.sub(" ", rest)
        return cls(
            words=clause,
            original=original,
            markers=markers,
            side=_first(SIDES_SAID, NOTHING_THERE.sub(" ", WHICH_SIDE.sub(" ", clause))),
            which_side=which.group("side") if (which := WHICH_SIDE.search(clause)) else None,
            size=_first(SIZES_SAID, clause),
            up=BIGGER.search(clause) is not None,
            down=SMALLER.search(clause) is not None,
            position=_first(POSITIONS_SAID, clause),
            font=_first(FONTS_SAID, clause),
            style=prompts.style_in(clause),
            colors=found_colors,
            garment_word=garment_word,
            removing=REMOVE.search(clause) is not None,
            about_text=TEXT_WORDS.search(clause) is not None,
            about_image=IMAGE_WORDS.search(clause) is not None
            or bool(_stems(prompts.words(image_prompt or "")) & _stems(prompts.words(clause))),
            subject=_subject(rest),
            art_cue=ART_CUE.search(clause) is not None or bool(artwork.subjects_in(rest)),
            names_product=re.search(rf"\b(?:{PRODUCT_PATTERN})\b", clause) is not None,
            narrative=NARRATIVE.search(clause) is not None,
            soft_garment=bool(garment and garment.group("f")),
        )


def _drawn_product_words(lower: str, brief: Brief) -> str:
    """`lower` with "the cap" said of a graduation cap drawn on the design read as the
    artwork ("make the cap gold"), not as the product."""
    if brief.image is None:
        return lower
    drawn = {word.rstrip("s") for word in prompts.words(brief.image.prompt)}
    removed = [m.span() for m in REMOVED_THING.finditer(lower)]  # "remove the hat": that part

    def artwork_named(match: re.Match[str]) -> str:
        said = {word.rstrip("s") for word in prompts.words(match.group("word"))}
        if not said <= drawn or any(a <= match.start() < b for a, b in removed):
            return match.group()
        return f"{match.group('the')} artwork"

    return re.sub(
        rf"\b(?P<the>the|that|this)\s+(?P<word>{PRODUCT_PATTERN})\b", artwork_named, lower
    )


# Garment colour words that are no ink's name, and the ink they mean: "'Soul Shala' in sand".
GARMENT_INKS = {
    "sand": "beige",
    "khaki": "tan",
    "natural": "cream",
    "ecru": "cream",
    "charcoal": "grey",
    "heather": "grey",
}


def _plain_color(pair: str) -> str:
    """The plain colour word of a two-word colour name: "forest green" -> "green"."""
    last = pair.split()[-1]
    return {"rose": "pink"}.get(last, last)


def _stems(words: Iterable[str]) -> set[str]:
    """Words without a plural's s, to tell "the mountains" is "a mountain"."""
    return {word.rstrip("s") for word in words if word not in FILLER}


def _subject(clause: str) -> str:
    """What a clause asks to be drawn: its words without who it is for, where it goes,
    colours, styles, sizes and filler ("with a big red robot arm logo" -> "robot arm")."""
    clause = REASON.sub(" ", PURPOSE.sub(" ", clause))
    clause = re.sub(r"\bbear\s+with\s+(?:me|us)\b", " ", clause)
    clause = re.sub(DRAWN_PRODUCTS, lambda m: m.group().replace(" ", "_"), clause)
    clause = re.sub(COLOR_COMPOUNDS, lambda m: m.group().replace(" ", "_"), clause)
    # A colour word after a verb is a thing: "a skeleton drinking wine".
    clause = re.sub(
        rf"\b(?!(?:every|no|some|any)thing\b)[a-z]{{3,}}ing\s+(?:{COLOR_PATTERN})\b",
        lambda m: m.group().replace(" ", "_"),
        clause,
    )
    named = list(re.finditer(rf"\b(?:{PRODUCT_PATTERN})\b", clause))
    if named:
        before, after = clause[: named[-1].start()], clause[named[-1].end() :]
        before = re.sub(rf"\b(?:{PRODUCT_PATTERN})\b", " ", before)
        drawn_before = (
            artwork.subjects_in(before)
            or IMAGE_WORDS.search(before)
            or re.search(
                r"\b(?:add|put|draw|print)\b|\b(?:on|onto)\s+(?:a|an|the|my|our)?\s*$", before
            )
        )
        clause = after if _words_of(after) or not drawn_before else before
    clause = PLACEMENT.sub(" ", clause)
    kept = [
        word.replace("_", " ")
        for word in re.findall(r"[a-z0-9_]+(?:-[a-z0-9_]+)*", clause)
        if word not in prompts.COLOR_WORDS
        and word not in prompts.STYLE_WORDS
        and word not in GARMENT_COLORS
        and not re.fullmatch(r"q\d+|\d+(?:st|nd|rd|th|s|x)?|x\d+|[0-9a-f]{6}", word)
        and (word not in FILLER or word in (*CONNECTIVES, "a", "an", "the"))
    ]
    while kept and kept[0] in LEADING_FILLER:
        kept.pop(0)
    while kept and kept[-1] in EDGE_FILLER:
        kept.pop()
    # Inner articles stay ("a cat reading a book"), doubled connectives do not.
    words: list[str] = []
    for word in kept:
        if word in CONNECTIVES and words and words[-1] in EDGE_FILLER:
            continue
        words.append(word)
    return " ".join(word for word in words if len(word) > 1 or word == "a")


def _words_of(text: str) -> list[str]:
    """The words of `text` that could be drawn."""
    return [
        w
        for w in prompts.words(PLACEMENT.sub(" ", text))
        if w not in FILLER
        and w not in prompts.COLOR_WORDS
        and w not in prompts.STYLE_WORDS
        and not re.fullmatch(r"q\d+|\d+", w)
    ]


@dataclass
class _Reading:
    """What the local assistant understood of one message, for its reply."""

    notes: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    understood: bool = False
    ambiguous: bool = False  # a question was asked instead of guessing: nothing changes
    editing: bool = False  # there was a product before this message: an ask changes nothing
    name: str | None = None  # the team, band or shop the design is for, once introduced
    strong_subject: bool = False  # some clause of the message clearly asks for artwork
    correcting: bool = False  # the message corrects the last change ("no, Tea Addict")
    awaiting_color: bool = False  # the last reply asked which color the product should be
    alone: bool = False  # the message is one clause: "make it red" says nothing else
    garment_note: int | None = None  # where the notes say the garment's colour
    edited_last: bool = False  # the last reply changed a layer: "no, make it red" is that one
    it_bound: bool = False  # "move it to the back and make it white": "it" is a layer already

    added: dict[int, int] = field(default_factory=dict)  # a layer added now -> its note

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
        self.understood = True

    def note_added(self, layer: ImageBrief | TextBrief, text: str) -> None:
        """The one note of a layer added by this message: later words about it ("... small,
        in white") change the note rather than adding one."""
        if id(layer) in self.added:
            self.notes[self.added[id(layer)]] = text
        else:
            self.added[id(layer)] = len(self.notes)
            self.notes.append(text)
        self.understood = True

    def ask(self, question: str) -> None:
        if question not in self.questions:
            self.questions.append(question)


class LocalAssistant:
    """A deterministic, rule-based design assistant. It understands products (with plurals,
    synonyms and typos), garment colors (names and #hex), texts quoted or not, the names of
    teams and bands, placement (front/back; sleeves are not offered), sizes, styles and edits
    ("bigger", "make it purple", "remove the text", "actually, a tote instead"), and asks
    when it cannot tell what is wanted."""

    name = "local"

    def respond(
        self, history: list[dict[str, str]], message: str, brief: Brief, focus: str | None
    ) -> Turn:
        shop = catalog.catalog()
        product = shop.product(brief.product_id) if brief.product_id else None
        answered = _color_answer(history, message)
        if answered is not None:
            # The answer to "which colour?": the request it was asked about, in that colour.
            return self.respond(history[:-2], answered, brief, focus)
        design = _without_instructions(message)
        question = self._not_a_design(design or message, product, brief)
        if question:
            return Turn(reply=question, brief=brief, focus=focus)
        last_reply = history[-1].get("content", "") if history else ""
        reading = _Reading(
            awaiting_color=bool(brief.product_id) and brief.color is None,
            editing=brief.product_id is not None,
            edited_last=re.match(r"Made (?:the |\u201c)", last_reply) is not None,
        )
        if design != message:
            reading.notes.append(ASIDE_NOTE)
            message = design
        message = MARKUP.sub(" ", message)
        typed = message
        message = _emoji_words(message.lower() if _shouting(message) else message)
        message = _quoting_texts(SPEAKER.sub(" ", message), draft_texts=brief.texts)
        known_names = [
            name
            for said in history
            if said.get("role") == "user"
            for name in wording.find_names(said.get("content", ""))
        ]
        draft = brief.model_copy(deep=True)
        if self._change_words(message, draft, reading):
            return Turn(reply=self._reply(draft, product, reading), brief=draft, focus="text")
        if SWAP_SIDES.search(message.lower()) and self._swap_sides(draft, reading):
            return Turn(reply=self._reply(draft, product, reading), brief=draft, focus=focus)
        reading.correcting = CORRECTION.search(message.lower()) is not None
        message = MUSING.sub(" ", message)
        marked = wording.mark_texts(message, known_names, respell=_spelled)
        quotes = [_as_typed(text, typed) for text in marked.texts]
        reading.name = next(iter([*marked.names, *reversed(known_names)]), None)
        unnamed = marked.message
        for name in [*known_names, *marked.names]:
            unnamed = re.sub(rf"(?:\bthe\s+)?\b{re.escape(name)}\b", " ", unnamed)
        lower = re.sub(r"\bq(\d+)\b", r"q\1", unnamed, flags=re.IGNORECASE).lower()
        if RESET.search(lower):
            draft, focus = Brief(), None
            reading.note("Starting over with a blank design.")
        lower = _drawn_product_words(lower, brief)
        products = _products_in(REMOVED_THING.sub(" ", lower))  # "remove the hat": not a cap
        if len(products) > 1 and re.search(r"\bor\b|not\s+sure|either", lower):
            names = " or ".join(shop.product(p).name for p in products)  # type: ignore[union-attr]
            return Turn(reply=f"Which shall we make: {names}?", brief=brief, focus=focus)
        plainly = not re.search(r"\b(?:classic|basic|regular|normal|cheaper)\b", lower)
        if products == ["classic-tee"] and draft.product_id == "premium-tee" and plainly:
            products = []  # "black tees not white": the premium tee they have, said plainly
        if products and products[0] != draft.product_id:
            had_product = draft.product_id is not None
            draft.product_id = products[0]
            reading.understood = True
            if had_product:
                reading.note(f"Switched to the {shop.product(products[0]).name}.")  # type: ignore[union-attr]
        product = shop.product(draft.product_id) if draft.product_id else None
        lower = self._recolor(lower, draft, product, reading)
        pieces = re.split(f"({CLAUSE_SPLIT.pattern})", lower, flags=re.IGNORECASE)
        image_words = set(prompts.words(draft.image.prompt)) if draft.image else set()
        reading.alone = sum(1 for piece in pieces[::2] if piece.strip()) == 1
        reading.strong_subject = any(
            _Clause.read(piece.strip(), len(quotes), None).drawing(image_words) == "strong"
            for piece in pieces[::2]
            if piece.strip()
        )
        carried_side: str | None = None
        ink: list[str] = []
        after_text = about_text_before = False
        joined = False
        for index in range(0, len(pieces), 2):
            clause = pieces[index].strip()
            if not clause or reading.ambiguous:
                joined = joined or (index > 0 and pieces[index - 1].strip() == "and")
                continue
            facts = _Clause.read(clause, len(quotes), draft.image.prompt if draft.image else None)
            if facts.side and facts.is_only_placement and index + 2 < len(pieces):
                carried_side = facts.side  # "on the back, in big letters: ..."
                continue
            if carried_side and not facts.side:
                facts.side = carried_side
            carried_side = None
            lead = (
                r"(?:in\s+|colou?r:?\s*)?" if draft.color else r"in\s+"
            )  # "..., white" once it has one
            attribute = False  # the clause only says more of the text before it
            if after_text and re.fullmatch(rf"{lead}(?:{COLOR_PATTERN})", clause):
                facts.garment_word, facts.about_text = None, True  # "'Anna', in navy"
                facts.colors = prompts.colors_in(clause)
                attribute = True
            image_words = set(prompts.words(draft.image.prompt)) if draft.image else set()
            texted = after_text or about_text_before
            if texted and RELATIVE_TO.search(clause) and facts.drawing(image_words) is None:
                facts.about_text = attribute = True  # "'TO THE MOON' (yellow, under the rocket)"
            if joined and facts.subject and draft.image and id(draft.image) in reading.added:
                facts.join_to = draft.image.prompt  # "a taco and a burrito": drawn together
            about_text_before = facts.about_text and not facts.about_image
            # "Words: Be The Change. Font: bold. Colour: black.": fields of the text go on
            after_text = bool(facts.markers) or (
                after_text and (attribute or bool(facts.font or facts.size)) and not facts.subject
            )
            if facts.about_text and facts.colors and not (facts.markers or draft.texts):
                ink = facts.colors  # "black text ok? it should say ...": for the text to come
                if facts.garment_word:  # "navy with the letters in white"
                    self._garment(facts.garment_word, draft, product, reading)
                continue
            if facts.markers and ink and not facts.colors:
                facts.colors, ink = ink, []
            if (
                re.match(r"or\b", clause)
                and draft.image is not None
                and id(draft.image) in reading.added
                and facts.drawing(set()) == "strong"
            ):  # "a dog, or maybe a cat": which one is the question
                reading.ask(f"Which shall I draw: the {draft.image.prompt} or the {facts.subject}?")
                reading.ambiguous = True
                continue
            focus = self._apply(facts, quotes, draft, product, focus, reading)
            if re.search(r"\b(?:move|put|shrink|flip|place)\s+it\b", clause) and focus:
                reading.it_bound = True
            following = pieces[index + 1] if index + 1 < len(pieces) else ""
            joined = following.strip() == "and"
        unchanged = draft == brief and not reading.questions
        if product and unchanged and (not reading.understood or STAND_OUT.search(lower)):
            missing = _missing_detail(lower, draft, product)
            if missing:
                reading.ask(missing)
                reading.ambiguous = True
        if reading.ambiguous:
            reading.notes = [n for n in reading.notes if n == ASIDE_NOTE]  # nothing changed
            return Turn(reply=self._reply(brief, product, reading), brief=brief, focus=focus)
        added = {type(layer) for layer in (draft.image, *draft.texts) if id(layer) in reading.added}
        if len(added) > 1:
            focus = None  # a text and artwork came together: "it" could be either
        if product is not None and draft.color and product.color(draft.color) is None:
            reading.ask(
                f"The {product.name} doesn't come in {draft.color}: which of "
                f"{', '.join(c.name for c in product.colors)} would you like?"
            )
            draft.color = None
        if product is not None and draft.color is None and not reading.questions:
            draft.color = product.colors[0].name
            reading.notes.append(f"I've started it in {draft.color}; name a color to change it.")
        return Turn(reply=self._reply(draft, product, reading), brief=draft, focus=focus)

    @staticmethod
    def _not_a_design(message: str, product: catalog.Product | None, brief: Brief) -> str | None:
        """The one question to answer a message that asks for no design with, if it is one:
        instructions to the assistant, a product the shop does not make, a question about the
        shop rather than a request."""
        if INSTRUCTION.search(message):
            return "I can only help with your design. What would you like on it?"
        said = set(re.findall(r"[a-z']+", _emoji_words(message).lower()))
        if said and said <= GREETING_WORDS:
            if product is None:
                return (
                    "Hi! What shall we make: a classic tee, premium tee, hoodie, crewneck, tote"
                    " or cap?"
                )
            return f"Hi! What would you like to change on the {product.name}?"
        lower = message.lower()
        unoffered = UNOFFERED.search(lower)
        drawn = _stems(prompts.words(brief.image.prompt)) if brief.image else set()
        if unoffered and _stems(unoffered.group().split()) <= drawn:
            unoffered = None  # "make the mug smaller": the mug drawn on it
        if unoffered and not (
            _products_in(REPLACED.sub(" ", lower))
            and not SWITCH_TO.search(lower[: unoffered.end()])
        ):
            asked = unoffered.group()
            things = asked if asked.endswith(("s", "f")) else f"{asked}s"  # "tank tops"
            return (
                f"We don't make {things} (yet): we print tees, hoodies, crewnecks, totes and"
                " caps. Which would you like?"
            )
        if UNDO.search(lower):
            return (
                "I can't step back from here: what should it be instead? For example"
                " \u201ca daisy instead\u201d or \u201cmake the text white again\u201d."
            )
        if SUGGEST.search(lower) and not ART_CUE.search(lower):
            made = f"the {product.name}" if product else "a tee or a hoodie"
            return (
                f"Some ideas for {made}: \u201ca retro sunset on the front\u201d, \u201cyour"
                " team name in bold on the back\u201d or \u201ca small minimal mountain on the"
                " chest\u201d. Which would you like, or what's yours?"
            )
        asking = QUESTION.search(lower) and not (
            DESIGN_VERBS.search(lower)
            or ART_CUE.search(lower)
            or re.search(rf"\b(?:{COLOR_PATTERN})\b|['\"\u201c]", lower)
            or TEXT_WORDS.search(lower)
            or IMAGE_WORDS.search(lower)
        )
        if not asking:
            return None
        named = _products_in(lower)
        about = catalog.catalog().product(named[0]) if named else product
        if about is not None and re.search(r"\bcolou?rs?\b", lower):
            listed = ", ".join(c.name for c in about.colors)
            return f"The {about.name} comes in {listed}. Which would you like?"
        if about is not None and re.search(r"\bsizes?\b|\bfit\b", lower):
            sizes = ", ".join(about.sizes)
            return f"The {about.name} comes in {sizes}; you pick sizes at checkout. What's next?"
        if about is not None and re.search(r"\bhow\s+much\b|\bprice\b|\bcost\b", lower):
            price = f"${about.base_price_cents / 100:.2f}"
            return f"The {about.name} is {price} each, less from 12. What's next on the design?"
        if about is not None and re.search(r"\bby\b|\bwhen\b|\bhow\s+long\b|\bship", lower):
            days = about.production_days
            return (
                f"The {about.name} takes {days} business days to make, then it ships;"
                " checkout shows the dates. What's next on the design?"
            )
        return (
            "I can't promise that one, but I can design the print with you: a tee, hoodie,"
            " crewneck, tote or cap. What would you like to make?"
        )

    @staticmethod
    def _change_words(message: str, draft: Brief, reading: _Reading) -> bool:
        """ "change 2027 to 2028": words of one text swapped for others, when exactly one text
        has them. Whether the message was that."""
        found = CHANGE_TO.match(message)
        if not found or not draft.texts:
            return False
        old = found.group("old").strip().strip("\"'\u201c\u201d")
        new = found.group("new").strip().strip("\"'\u201c\u201d")
        holding = [t for t in draft.texts if old.lower() in t.text.lower() and old]
        if len(holding) != 1 or old.lower() in ("the text", "it", "the words", "the name"):
            return False
        target = holding[0]
        start = target.text.lower().index(old.lower())
        replaced = target.text[start : start + len(old)]
        if new.islower() and replaced.isupper() and len(replaced) > 1:
            new = new.upper()  # "change cafe to bistro" in "CAFE LUNA": BISTRO
        elif new.islower() and replaced[:1].isupper():
            new = new[:1].upper() + new[1:]  # "change coffee to tea" in "Coffee First": Tea
        try:
            target.text = layers.clean_text(
                target.text[:start] + new + target.text[start + len(old) :]
            )
        except ValueError:
            reading.ask(
                f"Texts hold up to {layers.MAX_TEXT_CHARS} characters; could you shorten it?"
            )
            return True
        reading.note(f"The text now reads \u201c{target.text}\u201d.")
        return True

    @staticmethod
    def _swap_sides(draft: Brief, reading: _Reading) -> bool:
        """ "swap them": the artwork and the texts trade sides, when they are on different
        ones. Whether they did."""
        sides = {t.area for t in draft.texts}
        if draft.image is None or len(sides) != 1 or draft.image.area in sides:
            return False
        other: Side = draft.image.area
        draft.image.area = cast(Side, sides.pop())
        for text in draft.texts:
            text.area = other
        reading.note(
            f"Swapped sides: the {draft.image.prompt} is on the {draft.image.area} now, the"
            f" text on the {other}."
        )
        return True

    def _recolor(
        self, lower: str, draft: Brief, product: catalog.Product | None, reading: _Reading
    ) -> str:
        """ "no, silver, not gold": the new colour goes where the old one was (the garment, a
        text or the artwork). The message without the colours it placed."""
        found = NOT_COLOR.search(lower)
        if not found:
            return lower
        old = found.group("old")
        rest = lower[: found.start()] + " " + lower[found.end() :]
        new = re.search(rf"\b(?:{COLOR_PATTERN})\b", rest)
        if not new:
            return lower
        word, hex_old = new.group(), colors.named(old)
        if product and draft.color and garment_color(old, product) == draft.color:
            self._garment(word, draft, product, reading)
        elif hex_old and any(t.color == hex_old for t in draft.texts):
            for text in draft.texts:
                if text.color == hex_old:
                    text.color = colors.named(word) or text.color
                    reading.note(f"Made \u201c{text.text}\u201d {word}.")
        elif hex_old and draft.image and hex_old in draft.image.colors:
            draft.image.colors = [
                colors.named(word) or c if c == hex_old else c for c in draft.image.colors
            ]
            reading.note(f"Made the {draft.image.prompt} {word}.")
        else:
            return lower
        return rest[: new.start()] + " " + rest[new.end() :]

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
        going_on = re.fullmatch(
            rf"(?:and|also|then|plus|actually|no|nope|or|hmm|wait)\s+(?:in\s+)?"
            rf"(?:{COLOR_PATTERN})(?:\s+(?:too|please|instead|then))*",
            facts.words,
        )
        edit_again = (facts.soft_garment and (reading.correcting or reading.it_bound)) or going_on
        again = reading.edited_last or reading.it_bound
        if facts.garment_word and edit_again and again and focus in ("image", "text"):
            # "no, make it red", "and green": the layer the last reply changed, again
            facts.garment_word = None
            facts.colors = prompts.colors_in(facts.words)
        if self._garment_or_design(facts, draft, product, reading):
            return focus
        if (
            facts.soft_garment
            and product is not None
            and facts.garment_word
            and not _readings(facts.garment_word, product)
        ):
            facts.garment_word = None  # "make it purple": not a colour it comes in, an ink
            facts.colors = prompts.colors_in(facts.words)
        if facts.garment_word:
            self._garment(facts.garment_word, draft, product, reading)
            if not (facts.markers or facts.subject or facts.colors or facts.up or facts.down):
                return focus
        new_texts = [quotes[m] for m in facts.markers]
        image_words = set(prompts.words(draft.image.prompt)) if draft.image else set()
        drawing = facts.drawing(image_words)
        new_subject = drawing == "strong" or (drawing == "weak" and not reading.strong_subject)
        if new_texts:
            text_colors, image_colors = _share_colors(facts, new_subject)
            focus = self._texts(facts, new_texts, quotes, draft, reading, text_colors)
            if not new_subject:
                return focus
            facts.position = facts.font = None
            facts.colors = image_colors
        given = _given_to_drawn(facts, draft.image)
        if given and draft.image is not None:
            draft.image.prompt = given[:120]  # "make the bulldog wear a crown"
            reading.note(f"Now it's {_with_article(draft.image.prompt, draft.image.prompt)}.")
            return "image"
        beside = _beside_drawn(facts, draft.image)
        if (
            new_subject
            and beside
            and draft.image is not None
            and id(draft.image) not in reading.added
        ):
            # "add stars around the moon": the moon stays, with stars
            draft.image.prompt = f"{draft.image.prompt} and {beside}"[:120]
            first = draft.image.prompt.split(" and ")[0]
            reading.note(f"Added {_with_article(beside, beside)} beside the {first}.")
            return "image"
        if new_subject and facts.join_to:
            assert draft.image is not None
            draft.image.prompt = f"{facts.join_to} and {facts.subject}"[:120]
            swapped = reading.notes[reading.added[id(draft.image)]].startswith("Swapped")
            reading.note_added(draft.image, _image_note(draft.image, swapped=swapped))
            return "image"
        if new_subject:
            return self._new_image(facts, draft, reading)
        return self._edit(facts, draft, focus, reading)

    @staticmethod
    def _garment_or_design(
        facts: _Clause, draft: Brief, product: catalog.Product | None, reading: _Reading
    ) -> bool:
        """ "and in navy", all a message says of a design made earlier, or "make it red" of
        one the garment does not come in red: the garment or the design could be meant, so
        ask which. Whether it asked."""
        only_color = re.fullmatch(
            rf"(?:\w+\s+)*?in\s+(?:{COLOR_PATTERN})(?:\s+(?:please|then|instead))*", facts.words
        )
        layers_before = bool(draft.texts or draft.image) and not reading.understood
        if not (facts.garment_word and layers_before and product is not None):
            return False
        readings = _readings(facts.garment_word, product)
        if len(readings) > 1:
            return False  # "make it blue": which blue is the question
        if not only_color and not (facts.soft_garment and reading.alone and not readings):
            return False
        thing = draft.image.prompt if draft.image else f"text \u201c{draft.texts[0].text}\u201d"
        if readings:
            reading.ask(f"Should the {product.name} be {readings[0]}, or the {thing}?")
        else:
            word = facts.garment_word
            reading.ask(f"The {product.name} doesn't come in {word}: should the {thing} be {word}?")
        reading.ambiguous = True
        return True

    def _garment(
        self, word: str, draft: Brief, product: catalog.Product | None, reading: _Reading
    ) -> None:
        if product is None:
            reading.ask(f"Which product should be {word}?")
            return
        readings = _readings(word, product)
        if len(readings) != 1:
            choices = readings or [c.name for c in product.colors]
            listed = ", ".join(choices[:-1]) + " or " + choices[-1]
            reading.ask(
                f"The {product.name} comes in {listed}: which {word} would you like?"
                if readings
                else f"The {product.name} doesn't come in {word}: which of {listed} would you like?"
            )
            reading.ambiguous = True
        elif readings[0] != draft.color:
            draft.color = readings[0]
            said = (
                f"The {product.name} is {readings[0]} now."
                if reading.editing
                else f"{readings[0]} {product.name} it is."
            )
            if reading.garment_note is None:  # said twice in one message: the last one holds
                reading.garment_note = len(reading.notes)
                reading.notes.append(said)
            reading.notes[reading.garment_note] = said
            reading.understood = True
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
            kept = [t for t in draft.texts if t.text not in named]
            if len(kept) != len(draft.texts):
                draft.texts = kept
                reading.note(f"Removed \u201c{named[0]}\u201d.")
                return "text"
        target = "text" if facts.about_text else "image" if facts.about_image else focus
        if target is None and draft.texts and draft.image and not everything:
            reading.ask("What should I remove: the image or the text?")
            reading.ambiguous = True
            return focus
        if (target == "text" or everything) and draft.texts:
            draft.texts = []
            reading.note("Removed the text.")
        if (
            target == "image" or everything or (target is None and not draft.texts)
        ) and draft.image:
            parts = re.split(r"\s+(?:and|with|wearing|holding)\s+(?:an?\s+)?", draft.image.prompt)
            said = {w.rstrip("s") for w in prompts.words(facts.words)} - set(CONNECTIVES)
            gone = [p for p in parts if {w.rstrip("s") for w in p.split()} & said - {"the", "a"}]
            if not everything and len(parts) > 1 and len(gone) == 1:
                # "a moon and stars", "remove the stars": the rest of the artwork stays
                draft.image.prompt = " and ".join(p for p in parts if p not in gone)
                reading.note(f"Removed the {gone[0]}.")
                return "image"
            reading.note(f"Removed the {draft.image.prompt}.")
            draft.image = None
        if not reading.understood:
            reading.ask("What should I remove: the image or the text?")
        return None if everything else target

    def _texts(
        self,
        facts: _Clause,
        new_texts: list[str],
        quotes: list[str],
        draft: Brief,
        reading: _Reading,
        colors: list[str],
    ) -> str:
        replacing = REPLACE.search(facts.words) or (
            reading.correcting and not re.search(r"\b(?:add|also|too|another|plus)\b", facts.words)
        )
        if new_texts == [t.text for t in draft.texts if t.text == new_texts[0]]:
            replacing = False  # "the name should be on the back": that text, moved
        if ONLY.search(facts.words) and len(draft.texts) > len(new_texts) and not replacing:
            kept = [t for t in draft.texts if t.text in new_texts]
            if kept:  # "just MRS then": the others go
                draft.texts = kept
                reading.note(f"Kept only {' and '.join(f'“{t.text}”' for t in kept)}.")
        if replacing and draft.texts:
            old = next((t for t in draft.texts if t.text == new_texts[0]), None)
            if old is None and (CORRECTION.search(facts.words) or reading.correcting):
                old, new_texts = draft.texts[-1], [draft.texts[-1].text, *new_texts]
            if old is None and len(draft.texts) > 1 and not facts.about_image:
                listed = " or ".join(f"\u201c{t.text}\u201d" for t in draft.texts)
                reading.ask(f"Which text should read \u201c{new_texts[0]}\u201d: {listed}?")
                reading.ambiguous = True
                return "text"
            target, text = (
                (old, new_texts[-1])
                if old and len(new_texts) > 1
                else (draft.texts[0], new_texts[0])
            )
            try:
                target.text = layers.clean_text(text)
            except ValueError:
                reading.ask(f"Texts hold up to {layers.MAX_TEXT_CHARS} characters.")
                return "text"
            self._style_text(target, facts, colors)
            reading.note(f"The text now reads \u201c{target.text}\u201d.")
            return "text"
        anchors = _texts_placed_beside(facts, quotes, draft.texts)
        for text in [t for t in new_texts if t not in [a.text for a in anchors]]:
            existing = next((t for t in draft.texts if t.text.lower() == text.lower()), None)
            if existing is None:
                if len(draft.texts) >= 4:
                    reading.ask("A design holds four texts at most.")
                    continue
                try:
                    existing = TextBrief(text=text)
                except ValidationError:
                    reading.ask(
                        f"Texts hold up to {layers.MAX_TEXT_CHARS} characters; could you"
                        " shorten it?"
                    )
                    continue
                beside = next(iter(anchors), None) or (
                    _last_added(draft, reading) if RELATIVE_TO.search(facts.words) else None
                )
                if facts.side is None and (beside or draft.image) is not None:
                    existing.area = (beside or draft.image).area  # type: ignore[union-attr]
                if facts.side in ("front", "back"):
                    existing.area = cast(Side, facts.side)
                if draft.image is None or draft.image.area != existing.area:
                    existing.size = "large"  # alone on its side: it is the design
                draft.texts.append(existing)
                self._style_text(existing, facts, colors)
                reading.note_added(existing, _text_note(existing))
            else:
                before = existing.model_copy()
                self._style_text(existing, facts, colors)
                self._describe_text_change(before, existing, reading, draft.image is not None)
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

    @staticmethod
    def _describe_text_change(
        before: TextBrief, after: TextBrief, reading: _Reading, with_art: bool
    ) -> None:
        """One confirmation per change of a text: what changed, said once."""
        if id(after) in reading.added:
            reading.note_added(after, _text_note(after))
            return
        name = f"\u201c{after.text}\u201d"
        changes = []
        if after.size != before.size:
            bigger = SIZE_ORDER.index(after.size) > SIZE_ORDER.index(before.size)
            changes.append("bigger" if bigger else "smaller")
        if after.color != before.color and after.color is not None:
            changes.append(_color_name(after.color))
        if after.font != before.font:
            changes.append(
                {"Aileron": "lighter", "Aileron Bold": "bold"}.get(after.font, "heavier")
            )
        if changes:
            reading.note(f"Made {name} {' and '.join(changes)}.")
        if after.area != before.area:
            reading.note(f"Moved {name} to the {after.area}.")
        if after.position != before.position:
            where = (
                {"top": "above the art", "bottom": "below the art", "middle": "centred"}
                if with_art
                else {"top": "at the top", "bottom": "at the bottom", "middle": "centred"}
            )
            reading.note(f"Put {name} {where.get(after.position, 'in place')}.")

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
        if base is not None and id(base) in reading.added:
            # drawn twice in one message: the last one is what it asks for, said once
            reading.added[id(draft.image)] = reading.added.pop(id(base))
            swapped = reading.notes[reading.added[id(draft.image)]].startswith("Swapped")
        else:
            swapped = base is not None
        reading.note_added(draft.image, _image_note(draft.image, swapped=swapped))
        return "image"

    def _edit(
        self, facts: _Clause, draft: Brief, focus: str | None, reading: _Reading
    ) -> str | None:
        asks = bool(
            facts.up or facts.down or facts.colors or facts.size or facts.font or facts.style
        ) or facts.side in ("front", "back")
        target = focus
        if facts.about_text and (not facts.about_image or RELATIVE_TO.search(facts.words)):
            target = "text"  # "the text above the controller": the text moves
        elif facts.about_image:
            target = "image"
        if target == "image" and draft.image is None:
            target = "text" if draft.texts else None
        if target == "text" and not draft.texts:
            target = "image" if draft.image else None
        if target is None:
            if asks and draft.image and draft.texts and not EVERYTHING.search(facts.words):
                reading.ask(
                    f"Should I change the {draft.image.prompt} or \u201c{draft.texts[0].text}"
                    "\u201d?"
                )
                reading.ambiguous = True
                return focus
            target = "image" if draft.image else "text" if draft.texts else None
        changed = False
        everything = EVERYTHING.search(facts.words) is not None  # "make everything white"
        if (target == "image" or everything) and draft.image is not None:
            changed = self._edit_image(facts, draft.image, reading)
        if (target == "text" or everything) and draft.texts:
            for text in [t for t in draft.texts if facts.which_side in (None, t.area)]:
                before = text.model_copy()
                self._style_text(text, facts, facts.colors)
                if before != text:
                    changed = True
                    self._describe_text_change(before, text, reading, draft.image is not None)
        if asks:
            reading.understood = True
        named = facts.about_text or facts.about_image  # "the shoe huge, whole front": still it
        return target if changed or named else focus

    @staticmethod
    def _edit_image(facts: _Clause, image: ImageBrief, reading: _Reading) -> bool:
        if id(image) in reading.added:  # added by this message: its one note says it all
            before = image.model_copy()
            _edit_quietly(facts, image)
            swapped = reading.notes[reading.added[id(image)]].startswith("Swapped")
            reading.note_added(image, _image_note(image, swapped=swapped))
            return image != before
        changes: list[str] = []
        if facts.colors and facts.colors != image.colors:
            image.colors = facts.colors[:4]
            changes.append(" and ".join(_color_name(c) for c in image.colors))
        if facts.style and facts.style != image.style:
            image.style = cast(Style, facts.style)
            changes.append(f"{facts.style} style")
        size = _step(image.size, facts.up) if facts.up or facts.down else facts.size
        if size and size != image.size:
            bigger = SIZE_ORDER.index(cast(Size, size)) > SIZE_ORDER.index(image.size)
            changes.append("bigger" if bigger else "smaller")
            image.size = cast(Size, size)
        if changes:
            reading.note(f"Made the {image.prompt} {' and '.join(changes)}.")
        moved = facts.side in ("front", "back") and facts.side != image.area
        if moved:
            image.area = cast(Side, facts.side)
            reading.note(f"Moved the {image.prompt} to the {facts.side}.")
        return bool(changes) or moved

    @staticmethod
    def _reply(after: Brief, product: catalog.Product | None, reading: _Reading) -> str:
        parts: list[str] = list(reading.notes)
        if reading.questions:
            parts.append(reading.questions[0])
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
                "I didn't catch a change: what should I change? For example \u201cmake the"
                " tiger bigger\u201d, \u201cmake the text purple\u201d, \u201cmove the text to the"
                " back\u201d or \u201cremove the text\u201d."
            )
        else:
            parts.append(next_step(after, reading.name))
        return " ".join(dict.fromkeys(parts))


# "make it pop": a wish with no change named in it, answered with the changes there are.
STAND_OUT = re.compile(
    r"\bpop\b|\bstand\s+out\b|\b(?:cool|nic|bett|bold|brav)er\b|\bjazz\b|\beye.?catching\b"
)


def _missing_detail(lower: str, brief: Brief, product: catalog.Product) -> str | None:
    """The one question for an edit that leaves out what it needs: "change the colour" (which
    colour?), "can you move it" (where?), "make it pop" (how?)."""
    layers = [f"the {brief.image.prompt}"] if brief.image else []
    layers += [f"\u201c{t.text}\u201d" for t in brief.texts]
    if re.search(r"\bcolou?rs?\b|\bshade\b", lower):
        *first, last = [f"the {product.name}", *layers[:2]]
        return f"Which colour would you like, and for what: {', '.join(first)} or {last}?"
    if STAND_OUT.search(lower) and layers:
        picture = ", or a picture with it" if brief.image is None else ""
        return (
            f"What would make it stand out for you: a brighter colour or a bigger size for "
            f"{layers[0]}{picture}?"
        )
    if re.search(r"\b(?:move|put|place|shift)\b", lower) and layers:
        sides = {t.area for t in brief.texts} | ({brief.image.area} if brief.image else set())
        other = "front" if sides == {"back"} else "back"
        named = " or ".join(layers[:2])
        return (
            f"Should {named} go on the {other}?"
            if len(layers) == 1
            else (f"Which should move to the {other}: {named}?")
        )
    return None


def _given_to_drawn(facts: _Clause, image: ImageBrief | None) -> str | None:
    """The artwork with what "make the bulldog wear a crown" or "give the cat a hat" adds to
    it, when the clause names the artwork already there."""
    if image is None:
        return None
    drawn = {w.rstrip("s") for w in prompts.words(image.prompt)}
    made = re.search(
        r"\b(?:make|have|let)\s+(?:the\s+(?P<who>[\w-]+)|it|him|her)\s+"
        r"(?P<verb>wear|hold|ride|eat|drink|play|read)\s+(?P<what>.+)$"
        r"|\bgive\s+(?:the\s+(?P<who2>[\w-]+)|it|him|her)\s+(?P<what2>(?:an?\s+)?.+)$",
        facts.words,
    )
    if made is None:
        return None
    who = made.group("who") or made.group("who2")
    if who and who.rstrip("s") not in drawn:
        return None
    thing = _subject(made.group("what") or made.group("what2"))
    if not thing:
        return None
    verb = made.group("verb")
    joined = {"ride": "riding"}.get(verb, f"{verb}ing") if verb else "with"
    return f"{image.prompt} {joined} {_with_article(thing, thing)}"


def _beside_drawn(facts: _Clause, image: ImageBrief | None) -> str | None:
    """What "add stars around the moon" adds to artwork already there: the words of its
    subject that are not the artwork's, when it names the artwork after a word of place."""
    if image is None or not re.search(r"\b(?:add|put|draw|include)\b", facts.words):
        return None
    drawn = {w.rstrip("s") for w in prompts.words(image.prompt)}
    place = re.search(
        r"\b(?:around|beside|next\s+to|behind|above|below|under|over|with|near|on)\s+(?:the|it)\b",
        facts.words,
    )
    words = facts.subject.split()
    if place is None:
        return None
    if not (place.group().endswith("it") or any(w.rstrip("s") in drawn for w in words)):
        return None
    head = [w for w in words if w.rstrip("s") not in drawn and w not in ("the", *CONNECTIVES)]
    return " ".join(head) or None


def _texts_placed_beside(
    facts: _Clause, quotes: list[str], texts: list[TextBrief]
) -> list[TextBrief]:
    """The texts a clause places something beside ("the date under the Groom Squad text"):
    named after "under", "above", ... they stay as they are."""
    relative = RELATIVE_TO.search(facts.words)
    if relative is None:
        return []
    after = facts.words[relative.start() :]
    named = {quotes[int(m)] for m in re.findall(r"\bq(\d+)\b", after) if int(m) < len(quotes)}
    return [t for t in texts if t.text in named or t.text.lower() in after]


def _last_added(draft: Brief, reading: _Reading) -> ImageBrief | TextBrief | None:
    """The layer this message added last: what "under that" is under."""
    added = [layer for layer in (draft.image, *draft.texts) if id(layer) in reading.added]
    return max(added, key=lambda layer: reading.added[id(layer)], default=None)


def _share_colors(facts: _Clause, new_subject: bool) -> tuple[list[str], list[str]]:
    """The colours of a clause with a text in it, split between the text and the artwork it
    also asks for: "q0 in red" is the text's; in "a red rose, the words q0 in black" the
    words before the text are the artwork's and those after it the text's."""
    if not new_subject:
        return facts.colors, []
    marker = re.search(r"\bq\d+\b", facts.words)
    head = facts.subject.split()[0] if facts.subject else ""
    if marker and head and re.search(rf"\b{re.escape(head)}", facts.words[: marker.start()]):
        after = prompts.colors_in(facts.words[marker.end() :])
        return after, [c for c in facts.colors if c not in after]
    if re.search(r"\bq\d+\s+in\s+", facts.words):
        return facts.colors, []
    return [], facts.colors


def _edit_quietly(facts: _Clause, image: ImageBrief) -> None:
    """The changes a clause asks of the artwork, without notes."""
    if facts.colors:
        image.colors = facts.colors[:4]
    if facts.style:
        image.style = cast(Style, facts.style)
    size = _step(image.size, facts.up) if facts.up or facts.down else facts.size
    if size:
        image.size = cast(Size, size)
    if facts.side in ("front", "back"):
        image.area = cast(Side, facts.side)


def _image_note(image: ImageBrief, *, swapped: bool) -> str:
    """The note of artwork added: "Added a small neon pink paw on the front."."""
    counted = re.match(r"(?:two|three|four|five|some|\d+)\s+", image.prompt)
    words = [
        counted.group().strip() if counted else "",
        {"small": "small", "full": "full-size"}.get(image.size, ""),
        "" if image.style == "bold" else image.style,
        " and ".join(_color_name(c) for c in image.colors),
        image.prompt[counted.end() :] if counted else image.prompt,
    ]
    described = " ".join(word for word in words if word)
    said = described if counted else _with_article(described, image.prompt)
    return f"{'Swapped in' if swapped else 'Added'} {said} on the {image.area}."


def _with_article(described: str, thing: str) -> str:
    """`described` ("small red rose") with the article its thing takes: "a small red rose",
    "flamingos and palms", "an owl", "a unicorn"."""
    head = re.split(r"\s+(?:and|with|of|on|in|over|under|wearing|holding)\s+", thing)[0]
    if re.search(r"[a-z-]*[^siu]s$", head):  # a plural, not "cactus", "iris"
        return described
    vowel = described[:1] in "aeiou" and not re.match(r"u(?:ni|s[eu])|eu|one\b", described)
    return f"{'an' if vowel else 'a'} {described}"


def _text_note(text: TextBrief) -> str:
    """The note of a text added: "Added “Hens on Tour” in pink on the back."."""
    ink = f" in {_color_name(text.color)}" if text.color else ""
    where = {"top": ", at the top", "bottom": ", at the bottom", "middle": ", centred"}
    return f"Added \u201c{text.text}\u201d{ink} on the {text.area}{where.get(text.position, '')}."


def _color_name(hex_value: str) -> str:
    """The first colour word of `hex_value` ("gold", not "golden"), or the hex itself."""
    return next(
        (name for name, value in prompts.COLOR_WORDS.items() if value == hex_value), hex_value
    )


def next_step(brief: Brief, name: str | None = None) -> str:
    """One suggestion of what to do next with a design that has something on it: the name of
    the team or shop it is for first, when it is not on it yet."""
    sides = {t.area for t in brief.texts} | ({brief.image.area} if brief.image else set())
    if name and all(t.text.lower() != name.lower() for t in brief.texts):
        free = "back" if "back" not in sides else "front"
        return f"Want \u201c{name}\u201d on the {free} too?"
    if not brief.texts:
        return "Want to add a name or a slogan to it?"
    if brief.image is None and sides == {"front"}:
        return "Want a picture with it, or something on the back too?"
    if "back" not in sides:
        return f"Want \u201c{brief.texts[0].text}\u201d on the back too?"
    if "front" not in sides:
        return "Want something small on the front too?"
    return "Happy with it? You can fine-tune every layer on the canvas."
