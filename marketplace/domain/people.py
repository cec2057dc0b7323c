"""An entrepreneur's details as an officer gives them, and the rules they must meet."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from . import errors, text
from .models import Gender, Language
from .phones import check_country, normalise_phone

NAME_MAX = 120


class NewEntrepreneur(NamedTuple):
    phone: str
    name: str
    gender: str
    birth_year: int
    trade: str
    region: str
    language: str = "en"


class CleanEntrepreneur(NamedTuple):
    phone: str
    name: str
    gender: str
    birth_year: int
    trade: str
    region: str
    language: str


GENDERS = frozenset(Gender)
LANGUAGES = frozenset(Language)


def validate(
    person: NewEntrepreneur,
    now: datetime,
    *,
    trades: Collection[str],
    regions: Collection[str],
    phone_region: str,
) -> CleanEntrepreneur:
    """Every rule on an entrepreneur's details; InvalidInput names the first field that is wrong.
    `trades` and `regions` are the known codes, `phone_region` the phone numbers' default region
    (looked up once by a caller that validates thousands of rows)."""
    text.check_fields(person)
    phone = normalise_phone(person.phone, phone_region)
    check_country(phone, phone_region)
    name = " ".join((person.name or "").split())
    if not name:
        raise errors.InvalidInput("Name is required.", field="name")
    if len(name) > NAME_MAX:
        raise errors.InvalidInput(f"Name is longer than {NAME_MAX} characters.", field="name")
    gender = (person.gender or "").strip().lower()
    gender = {"f": "female", "m": "male", "o": "other", "woman": "female", "man": "male"}.get(
        gender, gender
    )
    if gender not in GENDERS:
        raise errors.InvalidInput("Gender must be female, male or other.", field="gender")
    year = person.birth_year
    if not isinstance(year, int) or not (now.year - 100 <= year <= now.year - 14):
        raise errors.InvalidInput("Birth year is not plausible.", field="birth_year")
    if person.trade not in trades:
        raise errors.InvalidInput(f"Unknown trade: {person.trade}", field="trade")
    if person.region not in regions:
        raise errors.InvalidInput(f"Unknown region: {person.region}", field="region")
    language = (person.language or "en").strip().lower()
    if language not in LANGUAGES:
        raise errors.InvalidInput("Language must be en or sw.", field="language")
    return CleanEntrepreneur(phone, name, gender, year, person.trade, person.region, language)
