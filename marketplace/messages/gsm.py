"""GSM-7: which characters fit, how many parts a message costs, and making user text fit."""

from __future__ import annotations

import unicodedata

_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENDED = "^{}\\[~]|€\f"
_BASIC_SET = frozenset(_BASIC)
_EXTENDED_SET = frozenset(_EXTENDED)
_REPLACEMENTS = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2026": "...",
    "\u00a0": " ",
    "\u2022": "-",
    "\f": " ",  # a page break in the extension table, not something to show
}


_ALL_SET = _BASIC_SET | _EXTENDED_SET
# What user text may keep as it is: every character of both tables but the escape and the page
# break, which are not text.
_KEEP_SET = _ALL_SET - {"\x1b", "\f"}


def is_gsm7(text: str) -> bool:
    return _ALL_SET.issuperset(text)


def gsm7_length(text: str) -> int:
    """Septets used: extended characters take two."""
    return len(text) + sum(text.count(ch) for ch in _EXTENDED)


def _parts(units: list[int], single: int, part: int) -> int:
    """Parts needed for characters of these sizes: one part holds `single` units; a longer
    message is split into parts of `part` units (the rest carries the joining header), and a
    character is never split between two parts."""
    if sum(units) <= single:
        return 1
    parts, used = 1, 0
    for n in units:
        if used + n > part:
            parts += 1
            used = 0
        used += n
    return parts


def segments(text: str) -> int:
    """How many SMS parts the gateway will bill for this text."""
    if is_gsm7(text):
        # An extended character is an escape septet and its own: the two stay in one part.
        return _parts([2 if ch in _EXTENDED_SET else 1 for ch in text], 160, 153)
    # UCS-2 counts UTF-16 units: a character beyond the first plane (an emoji) takes two.
    return _parts([2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67)


def cut(text: str, limit: int) -> str:
    """The longest start of a GSM-7 text that takes at most `limit` septets."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ch in _EXTENDED_SET else 1
        if used > limit:
            return text[:i]
    return text


def to_gsm7(text: str) -> str:
    """Transliterate user-supplied text (names, topics) so a screen or SMS stays GSM-7.

    Characters of the extension table (`[]{}~|^€\\`) are kept: they cost two septets each, which
    `gsm7_length`, `segments` and `cut` count."""
    out = []
    for ch in text:
        ch = _REPLACEMENTS.get(ch, ch)
        if all(c in _KEEP_SET for c in ch):
            out.append(ch)
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        kept = "".join(c for c in decomposed if c in _KEEP_SET and c != "\r")
        out.append(kept or "?")
    return "".join(out)
