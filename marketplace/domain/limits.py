"""What a programme and a provider may be, each bound declared once.

The models' check constraints, the service that refuses a programme or a provider, the API's
schemas (and so its document) and the officers' forms all read the bounds here, so they cannot
drift apart. Beyond these, a value would overflow its column (a name, an amount past a 64-bit
integer) or a later use (an expiry date past the calendar's end at issuance).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """The least and the most a whole number may be, both allowed."""

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high

    def between(self, column: str) -> str:
        """The condition of a check constraint holding `column` within the bounds."""
        return f"{column} BETWEEN {self.low} AND {self.high}"


NAME_MAX = 120  # a programme's name and its funder's: the length of their columns

VOUCHER_VALUE_MINOR = Bounds(1, 10**12)
BUDGET_MINOR = Bounds(1, 10**15)
SESSIONS_PER_VOUCHER = Bounds(1, 100)
CO_PAYMENT_PERCENT = Bounds(0, 100)
VALIDITY_DAYS = Bounds(1, 3650)  # ten years
CONFIRMATION_WINDOW_HOURS = Bounds(1, 24 * 60)  # sixty days

# Why an officer revoked a voucher, as the audit event keeps it.
REASON_MAX = 200

# A provider's town, as its column holds it.
TOWN_MAX = 80

# Places: bookings a provider takes at once (the database's constraint holds the least).
PROVIDER_CAPACITY = Bounds(1, 1000)
