"""Shopper text made safe to parse and to hand to a model as data.

Every free-text field a shopper types (chat, size assistant, contact) goes through
`normalize_text` before it is parsed or sent to an LLM: invisible characters are how
hidden instructions and look-alike spellings get in, and a length cap keeps cost bounded.
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_MAX_CHARS = 500

# Cc: control characters; Cf: format characters (zero-width space/joiners, BOM, bidi
# overrides and isolates, soft hyphen); Cs: lone surrogates; Cn: unassigned code points.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn"})


def normalize_text(
    text: str, *, max_chars: int = DEFAULT_MAX_CHARS, keep_lines: bool = False
) -> str:
    """`text` in NFKC form with invisible characters removed, whitespace collapsed to single
    spaces, trimmed and capped at `max_chars` characters.

    NFKC folds compatibility forms (full-width digits and letters, ligatures, non-breaking
    spaces) into their plain equivalents, so a full-width "10 M" reads as a plain one. Tabs
    and line breaks become spaces rather than vanishing, so words on either side stay apart;
    with `keep_lines` (a message), line breaks stay, and at most one blank line in a row.
    """
    if keep_lines:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        joined = "\n".join(normalize_text(line, max_chars=max_chars) for line in lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()[:max_chars].rstrip()
    text = unicodedata.normalize("NFKC", text)
    kept = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    return " ".join(kept.split())[:max_chars].rstrip()
