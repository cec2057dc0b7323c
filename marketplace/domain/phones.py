"""Phone numbers are normalised at the edge to E.164 and stored only that way."""

from __future__ import annotations

import phonenumbers

from .errors import InvalidInput

MAX_RAW_LENGTH = 32


def normalise_phone(raw: str | None, region: str = "KE") -> str:
    """'0711 000111', '254711000111', '+254711000111' -> '+254711000111'; InvalidInput otherwise."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_RAW_LENGTH:
        raise InvalidInput("Enter a valid phone number.", field="phone")
    # Some gateways drop the '+': a bare international number starts with a country code.
    if text.isdigit() and len(text) > 10 and not text.startswith("0"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("Enter a valid phone number.", field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("Enter a valid phone number.", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalise(raw: str | None, region: str = "KE") -> str | None:
    try:
        return normalise_phone(raw, region)
    except InvalidInput:
        return None


def mask_phone(e164: str) -> str:
    """'+254711000111' -> '+2547*****111': enough for a mentor to recognise, not to copy."""
    if len(e164) < 8:
        return "*" * len(e164)
    return e164[:5] + "*" * (len(e164) - 8) + e164[-3:]
