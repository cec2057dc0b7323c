"""Money as integer minor units with a currency; never floats."""

from __future__ import annotations

from dataclasses import dataclass

# ISO 4217 exponents for the currencies programmes use; anything else defaults to 2.
_EXPONENTS = {
    "KES": 2,
    "UGX": 0,
    "TZS": 2,
    "RWF": 0,
    "NGN": 2,
    "GHS": 2,
    "ETB": 2,
    "USD": 2,
    "EUR": 2,
    "ZMW": 2,
    "MWK": 2,
    "XOF": 0,
    "XAF": 0,
}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money.minor must be an int of minor units")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"bad currency {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def split(self, parts: int) -> list[Money]:
        """Split into `parts` shares that add up exactly; the remainder goes to the last share."""
        if parts < 1:
            raise ValueError("parts must be at least 1")
        share, rest = divmod(self.minor, parts)
        shares = [share] * parts
        shares[-1] += rest
        return [Money(s, self.currency) for s in shares]

    def format(self) -> str:
        """'KES 1,250' or 'KES 1,250.50' — GSM-7 safe, no symbols."""
        return format_minor(self.minor, self.currency)


def format_minor(minor: int, currency: str) -> str:
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp) if exp else (abs(minor), 0)
    text = f"{whole:,}"
    if exp and frac:
        text += f".{frac:0{exp}d}"
    return f"{currency} {sign}{text}"


def session_share(value_minor: int, sessions: int, sequence: int) -> int:
    """Value released by confirmed session number `sequence` (1-based) of a voucher."""
    share, rest = divmod(value_minor, sessions)
    return share + (rest if sequence == sessions else 0)


def co_payment_share(value_minor: int, percent: int) -> int:
    """The entrepreneur's share of a voucher's value, paid to the provider directly: `percent` of
    it in whole minor units, rounded down (never asks a cent more than the percentage)."""
    return value_minor * percent // 100
