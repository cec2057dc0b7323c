"""The one rule for control characters (`domain.text`), over every code point it could meet."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from marketplace.domain import text

LINE_BREAKS = {"\t", "\n", "\r"}


def _control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs")


@pytest.mark.parametrize("multiline", [False, True])
def test_exactly_the_control_characters_and_lone_surrogates_are_refused(multiline: bool) -> None:
    # Every point of the first planes' blocks that hold controls, the surrogates, and a stride
    # through the rest (the rule is ranges; the stride catches a range drawn too wide).
    points = [*range(0x3000), *range(0xD700, 0xE100), *range(0x3000, sys.maxunicode + 1, 97)]
    for point in points:
        ch = chr(point)
        expected = _control(ch) and not (multiline and ch in LINE_BREAKS)
        assert text.has_control_characters(f"a{ch}b", multiline=multiline) is expected, hex(point)
        # The documented pattern says the same as the rule.
        pattern = text.LINES_PATTERN if multiline else text.LINE_PATTERN
        if unicodedata.category(ch) != "Cs":  # no document can carry a lone surrogate
            assert (re.fullmatch(pattern, f"a{ch}b") is None) is expected, hex(point)


def test_cleaning_removes_them_and_keeps_everything_else() -> None:
    assert text.clean("BAL\x00 \x1bJuma\x85\n") == "BAL Juma"
    assert text.clean("line one\r\nline\ttwo\x00", multiline=True) == "line one\r\nline\ttwo"
    assert text.clean("Wanjirũ · Nairobi ✓") == "Wanjirũ · Nairobi ✓"


def test_a_command_names_the_first_field_that_carries_one() -> None:
    from marketplace.services.providers import NewProvider
    from marketplace.web.errors import status_of

    command = NewProvider("craft_worker", "Juma", "+254711000111", ["tailoring", "x\x00"], "n")
    with pytest.raises(text.ControlCharacters) as refused:
        text.check_fields(command)
    assert refused.value.context["field"] == "trades" and status_of(refused.value) == 422
