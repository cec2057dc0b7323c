"""GSM-7: what survives, what a message costs."""

from __future__ import annotations

import pytest

from marketplace.messages.gsm import cut, gsm7_length, is_gsm7, segments, to_gsm7

EXTENSION = "[]{}~|^€\\"


def test_extension_characters_survive_and_count_two_septets_each():
    assert to_gsm7(EXTENSION) == EXTENSION
    assert gsm7_length(EXTENSION) == 2 * len(EXTENSION)
    assert to_gsm7("FIND <trade> [area]") == "FIND <trade> [area]"


def test_what_gsm7_cannot_carry_is_transliterated_or_replaced():
    assert to_gsm7("Zoë “Wanjirũ” \u2014 \uff3bLtd\uff3d") == 'Zoe "Wanjiru" - [Ltd]'
    assert to_gsm7("tea \u2615") == "tea ?"
    assert to_gsm7("a\x1bb\fc") == "a?b c"  # control characters of the table are not text


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 159 + "[", 2),  # 161 septets
        ("a" * 158 + "[", 1),  # 160 septets
        ("a" * 306, 2),
        ("a" * 307, 3),
        # 306 septets, but an escape and its character are never split between two parts: the
        # [ after 152 septets does not fit the first part of 153, so it starts the second.
        ("a" * 152 + "[" + "a" * 152, 3),
        ("a" * 151 + "[" + "a" * 152, 2),
    ],
)
def test_gsm7_parts_count_septets_and_never_split_an_escape(text, parts):
    assert is_gsm7(text)
    assert segments(text) == parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("ũ" * 70, 1),
        ("ũ" * 71, 2),
        ("ũ" * 134, 2),
        ("ũ" * 135, 3),
        ("\U0001f600" * 35, 1),  # an emoji is two UTF-16 units
        ("\U0001f600" * 36, 2),
        # An emoji is never split between two parts: 66 + 2 units do not fit the first 67.
        ("ũ" * 66 + "\U0001f600" + "ũ" * 66, 3),
    ],
)
def test_unicode_parts_count_utf16_units(text, parts):
    assert not is_gsm7(text)
    assert segments(text) == parts


def test_cut_counts_septets_and_never_splits_an_escape():
    assert cut("abc", 5) == "abc"
    assert cut("ab[cd", 3) == "ab"
    assert cut("ab[cd", 4) == "ab["
    assert gsm7_length(cut("{" * 40, 28)) == 28
