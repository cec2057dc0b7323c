"""Which characters text from outside may carry: the one definition every edge uses.

Control characters (C0 and C1, DEL) and lone surrogates are never data a person meant to write;
PostgreSQL refuses NUL outright and a surrogate cannot be encoded. Every edge either refuses text
that carries them, with its channel's own answer (the API's and the pages' schemas and services,
through `check`), or cleans them away where refusing would lose a message (what the gateway
sends, through `clean`). Multi-line text (notes, SMS) may keep tab, line feed and carriage return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import InvalidInput

# The same ranges as patterns a JSON Schema (ECMA-262) and Python's `re` both read: the characters
# themselves (a JSON document escapes them), which every regex engine takes in a class alike.
# Lone surrogates are refused too, but are left out of the patterns: a document cannot carry one
# (it is not UTF-8), and no client that writes UTF-8 can send one.
_CONTROLS = "\x00-\x1f\x7f-\x9f"
_CONTROLS_BUT_LINES = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_SURROGATES = "\ud800-\udfff"

# What an edge's document promises: text of one line, and text of several lines.
LINE_PATTERN = f"^[^{_CONTROLS}]*$"
LINES_PATTERN = f"^[^{_CONTROLS_BUT_LINES}]*$"
# A line that says something: at least one character that is not a space.
NONBLANK_LINE_PATTERN = f"^[^{_CONTROLS}]*[^\\s{_CONTROLS}][^{_CONTROLS}]*$"

_LINE = re.compile(f"[{_CONTROLS}{_SURROGATES}]")
_LINES = re.compile(f"[{_CONTROLS_BUT_LINES}{_SURROGATES}]")

MESSAGE = "Remove the control characters (such as NUL) from this text."
BLANK_MESSAGE = "Write something other than spaces."


class ControlCharacters(InvalidInput):
    """The text carries control characters, which are never stored."""

    code = "control_characters"

    def __init__(self, field: str | None = None) -> None:
        if field is None:
            super().__init__(MESSAGE)
        else:
            super().__init__(MESSAGE, field=field)


def _rule(multiline: bool) -> re.Pattern[str]:
    return _LINES if multiline else _LINE


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    return _rule(multiline).search(value) is not None


def clean(value: str, *, multiline: bool = False) -> str:
    """The text without its control characters (what the gateway sends is kept, cleaned)."""
    return _rule(multiline).sub("", value)


def check(value: Any, field: str | None = None, *, multiline: bool = False) -> None:
    """Refuse a text, or any text in a list, that carries control characters."""
    values: Iterable[Any] = value if isinstance(value, list | tuple) else (value,)
    for item in values:
        if isinstance(item, list | tuple):
            check(item, field, multiline=multiline)
        elif isinstance(item, str) and has_control_characters(item, multiline=multiline):
            raise ControlCharacters(field)


def check_fields(command: Any, *, multiline: Iterable[str] = ()) -> None:
    """Refuse a command (a dataclass or named tuple from a channel) whose text carries control
    characters, naming the first field that does; `multiline` names the fields that may keep
    line breaks and tabs."""
    several = set(multiline)
    items = command._asdict().items() if hasattr(command, "_asdict") else vars(command).items()
    for name, value in items:
        check(value, name, multiline=name in several)
