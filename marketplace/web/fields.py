"""The marshmallow fields every input schema uses for text (API bodies and queries, the funder's
filters): text without control characters (`domain.text`), refused with a 422 naming the field
and documented as a pattern in the OpenAPI document.

Fields whose accepted values depend on the country served or on today (phone numbers, trade and
region codes, birth years) check them when a request is loaded and say them in the document when it
is built (`document`), from the same configuration and reference data: what the document allows,
the API accepts, and what it refuses, the API refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from ..domain import text
from ..domain.limits import Bounds
from ..domain.phones import example_mobile_number, mobile_number_pattern
from ..services import reference, settings


class _NoControlCharacters(validate.Regexp):
    """A `Regexp` so apispec writes its pattern into the document; it checks with the one rule in
    `domain.text` (a pattern's `$` would let a final line feed through)."""

    def __init__(self, *, multiline: bool, nonblank: bool = False) -> None:
        if multiline:
            pattern = text.LINES_PATTERN
        else:
            pattern = text.NONBLANK_LINE_PATTERN if nonblank else text.LINE_PATTERN
        super().__init__(pattern, error=text.MESSAGE)
        self.multiline = multiline
        self.nonblank = nonblank

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if text.has_control_characters(value, multiline=self.multiline):
            raise ValidationError(self.error)
        if self.nonblank and not value.split():
            raise ValidationError(text.BLANK_MESSAGE)
        return value


class _Unlisted:
    """A validator apispec does not take for the field's pattern."""

    def __init__(self, rule: _NoControlCharacters) -> None:
        self.rule = rule

    def __call__(self, value: Any) -> Any:
        return self.rule(value)


class Line(fields.String):
    """Text of one line: no control characters at all; `nonblank`: not only spaces either."""

    multiline = False

    def __init__(self, *, nonblank: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        rule = _NoControlCharacters(multiline=self.multiline, nonblank=nonblank)
        if any(isinstance(v, validate.Regexp) for v in self.validators):
            # A narrower pattern is documented already; this one still checks, unlisted.
            self.validators.append(_Unlisted(rule))
        else:
            self.validators.insert(0, rule)

    def document(self) -> dict[str, Any]:
        """What the OpenAPI document says of this field beyond its declared validators, as the
        app is configured now."""
        return {}


class Lines(Line):
    """Text of several lines (a note, a reason): tab, line feed and carriage return are kept."""

    multiline = True


class Phone(Line):
    """A mobile number of the country served (`DEFAULT_PHONE_REGION`), with or without its
    country code: `+254712123456`, `254712123456` or `0712123456` in Kenya."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if re.fullmatch(mobile_number_pattern(settings.phone_region()), raw) is None:
            example = example_mobile_number(settings.phone_region())
            raise ValidationError(f"Enter a mobile number such as {example}.")
        return raw

    def document(self) -> dict[str, Any]:
        region = settings.phone_region()
        return {
            "pattern": mobile_number_pattern(region),
            "example": example_mobile_number(region),
            "description": "A mobile number, with or without the country code.",
        }


class MpesaNumber(Line):
    """A Kenyan mobile number M-Pesa can pay, with or without the country code, whatever country
    the app serves otherwise: `+254712123456`, `254712123456` or `0712123456`."""

    REGION = "KE"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if re.fullmatch(mobile_number_pattern(self.REGION), raw) is None:
            example = example_mobile_number(self.REGION)
            raise ValidationError(f"Enter a Kenyan mobile number such as {example}.")
        return raw

    def document(self) -> dict[str, Any]:
        return {
            "pattern": mobile_number_pattern(self.REGION),
            "example": example_mobile_number(self.REGION),
            "description": "A Kenyan mobile number, with or without the country code.",
        }


class _Code(Line):
    """One of the reference data's codes (loaded with `flask load-reference-data`)."""

    what: str
    codes: Callable[[], set[str]]  # where the current codes come from

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        if code not in self.codes():
            raise ValidationError(f"Unknown {self.what}: give one of the codes listed.")
        return code

    def document(self) -> dict[str, Any]:
        return {"enum": sorted(self.codes())}


class TradeCode(_Code):
    what = "trade"
    codes = staticmethod(reference.trade_codes)


class RegionCode(_Code):
    what = "region"
    codes = staticmethod(reference.region_codes)


# The ages the service registers (`domain.people.validate`), in years.
YOUNGEST, OLDEST = 14, 100


def _birth_years() -> tuple[int, int]:
    year = datetime.now(UTC).year
    return year - OLDEST, year - YOUNGEST


class BirthYear(fields.Integer):
    """A year of birth for someone aged 14 to 100 this year."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        year = super()._deserialize(value, attr, data, **kwargs)
        low, high = _birth_years()
        if not low <= year <= high:
            raise ValidationError(f"Give a birth year from {low} to {high}.")
        return year

    def document(self) -> dict[str, Any]:
        low, high = _birth_years()
        return {"minimum": low, "maximum": high, "example": high - 16}


def within(bounds: Bounds, error: str | None = None) -> validate.Range:
    """A whole number within the domain's bounds (`domain/limits.py`), said in the document."""
    return validate.Range(min=bounds.low, max=bounds.high, error=error)
