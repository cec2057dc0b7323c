"""A day as a person types it on a keypad or in an SMS: `0512` (5 December), `5/12`, `05.12.2026`."""

from __future__ import annotations

import re
from datetime import date

_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")


def typed_day(text: str, today: date) -> date | None:
    """DDMM or DDMMYYYY digits, or D/M[/Y] with `/`, `.` or `-`. Without a year: the latest such
    day that is not after today. None when it is no date."""
    text = text.strip()
    if not text.isascii():
        return None
    year: int | None = None
    if text.isdigit() and len(text) in (4, 8):
        day, month = int(text[:2]), int(text[2:4])
        year = int(text[4:]) if len(text) == 8 else None
    else:
        found = _DAY.match(text)
        if found is None:
            return None
        day, month = int(found.group(1)), int(found.group(2))
        if found.group(3):
            year = int(found.group(3))
            year += 2000 if year < 100 else 0
    try:
        if year is not None:
            return date(year, month, day)
        typed = date(today.year, month, day)
        return typed if typed <= today else typed.replace(year=today.year - 1)
    except ValueError:
        return None
