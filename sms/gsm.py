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
}


_ALL_SET = _BASIC_SET | _EXTENDED_SET


def is_gsm7(text: str) -> bool:
    return _ALL_SET.issuperset(text)


def gsm7_length(text: str) -> int:
    """Septets used: extended characters take two."""
    return len(text) + sum(text.count(ch) for ch in _EXTENDED)


def segments(text: str) -> int:
    """How many SMS parts the gateway will bill for this text."""
    if is_gsm7(text):
        n = gsm7_length(text)
        return 1 if n <= 160 else -(-n // 153)
    n = len(text)
    return 1 if n <= 70 else -(-n // 67)


def to_gsm7(text: str) -> str:
    """Transliterate user-supplied text (names, topics) so a screen or SMS stays GSM-7."""
    out = []
    for ch in text:
        ch = _REPLACEMENTS.get(ch, ch)
        if all(c in _BASIC_SET for c in ch):
            out.append(ch)
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        ascii_only = "".join(c for c in decomposed if c in _BASIC_SET and c not in "\r\x1b")
        out.append(ascii_only or "?")
    return "".join(out)
