"""The marshmallow fields every input schema uses for text (API bodies and queries, the funder's
filters): text without control characters (`domain.text`), refused with a 422 naming the field
and documented as a pattern in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from ..domain import text


class _NoControlCharacters(validate.Regexp):
    """A `Regexp` so apispec writes its pattern into the document; it checks with the one rule in
    `domain.text` (a pattern's `$` would let a final line feed through)."""

    def __init__(self, *, multiline: bool) -> None:
        super().__init__(text.LINES_PATTERN if multiline else text.LINE_PATTERN, error=text.MESSAGE)
        self.multiline = multiline

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and text.has_control_characters(value, multiline=self.multiline):
            raise ValidationError(self.error)
        return value


class Line(fields.String):
    """Text of one line: no control characters at all."""

    multiline = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        rule = _NoControlCharacters(multiline=self.multiline)
        if any(isinstance(v, validate.Regexp) for v in self.validators):
            # A narrower pattern is documented already; this one still checks, unlisted.
            self.validators.append(_Unlisted(rule))
        else:
            self.validators.insert(0, rule)


class _Unlisted:
    """A validator apispec does not take for the field's pattern."""

    def __init__(self, rule: _NoControlCharacters) -> None:
        self.rule = rule

    def __call__(self, value: Any) -> Any:
        return self.rule(value)


class Lines(Line):
    """Text of several lines (a note, a reason): tab, line feed and carriage return are kept."""

    multiline = True
