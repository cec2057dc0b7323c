"""Phone numbers are normalised at the edge to E.164 and stored only that way."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import geocoder

from .errors import ForeignNumber, InvalidInput

MAX_RAW_LENGTH = 32


def normalise_phone(raw: str | None, region: str = "KE") -> str:
    """'0711 000111', '254711000111', '+254711000111' -> '+254711000111'; InvalidInput otherwise."""
    text = (raw or "").strip()
    # Letters are a typing slip here, not a vanity number to spell out.
    if not text or len(text) > MAX_RAW_LENGTH or any(ch.isalpha() for ch in text):
        raise InvalidInput("Enter a valid phone number.", field="phone")
    # Some gateways drop the '+': a bare international number starts with a country code.
    if text.isdigit() and len(text) > 10 and not text.startswith("0"):
        text = "+" + text
    return _plain_digits_e164(text, region) or _parsed_e164(text, region)


def _parsed_e164(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("Enter a valid phone number.", field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("Enter a valid phone number.", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=32)
def _simple_region(region: str) -> tuple[str, str] | None:
    """(country code, national prefix) when the region's numbers need no parsing rules beyond
    dropping a plain national prefix; None otherwise."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code = phonenumbers.country_code_for_region(region)
    if metadata is None or not code or metadata.national_prefix_transform_rule:
        return None
    if phonenumbers.region_codes_for_country_code(code) != (region,):
        return None
    prefix = metadata.national_prefix
    if not prefix or metadata.national_prefix_for_parsing != prefix:
        return None
    return str(code), prefix


def _plain_digits_e164(text: str, region: str) -> str | None:
    """The common shapes ('0711000111', '+254711000111') without the full parser, which is slow
    for bulk imports. None means: not one of those shapes, or not valid; the parser decides."""
    simple = _simple_region(region)
    if simple is None or not text.isascii():
        return None
    code, prefix = simple
    if text.startswith("+" + code) and text[1:].isdigit():
        national = text[1 + len(code) :]
    elif text.startswith(prefix) and text.isdigit():
        national = text[len(prefix) :]
    else:
        return None
    if not national or national.startswith("0") or len(national) > 14:
        return None
    return f"+{code}{national}" if _national_validator(region)(national) else None


# Most numbers here are mobile: their type is tried first (the order does not change the answer).
_TYPE_DESCS = (
    "mobile",
    "fixed_line",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@lru_cache(maxsize=32)
def _national_validator(region: str) -> Callable[[str], bool]:
    """The region's validity rule compiled once: the number fits the general description and the
    description of at least one number type (patterns and possible lengths), as the library's
    `is_valid_number` decides — the same answer, checked by a property test, a tenth of the cost."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None

    def matcher(desc: Any) -> Callable[[str], bool] | None:
        if desc is None or desc.national_number_pattern is None:
            return None
        pattern = re.compile(desc.national_number_pattern)
        lengths = frozenset(desc.possible_length or ())
        if lengths == {-1}:
            return None  # the library's marker for "no numbers of this type"
        return lambda n: (not lengths or len(n) in lengths) and pattern.fullmatch(n) is not None

    general = matcher(metadata.general_desc)
    types = [m for m in (matcher(getattr(metadata, name)) for name in _TYPE_DESCS) if m]
    if general is None:
        return lambda n: False
    return lambda n: general(n) and any(m(n) for m in types)


def country_of(e164: str) -> str:
    """The two-letter country a normalised number belongs to ('+255712000111' -> 'TZ')."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""


def country_name(region: str, language: str = "en") -> str:
    """A country's name in English or Kiswahili ('TZ' -> 'Tanzania'); the code when unknown."""
    example = phonenumbers.example_number(region)
    if example is None:
        return region
    return geocoder.country_name_for_number(example, language) or region


def check_country(e164: str, region: str) -> None:
    """Refuse a number of another country than `region`'s: the service's SMS and USSD reach the
    numbers of its own country."""
    simple = _simple_region(region)  # a country code of this country alone: the quick answer
    if simple is not None and e164.startswith("+" + simple[0]):
        return
    country = country_of(e164)
    if country != region:
        raise ForeignNumber(
            f"{e164} is a number of {country_name(country) if country else 'another country'},"
            f" and this programme reaches numbers of {country_name(region)} only (its SMS and"
            " USSD)",
            field="phone",
            country=country,
        )


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


@lru_cache(maxsize=32)
def mobile_number_pattern(region: str) -> str:
    """A pattern (ECMA-262 and Python alike) that every mobile number of `region` matches, written
    `+<country code><number>`, `<country code><number>` or `<national prefix><number>`, and that
    nothing else matches: what the API documents and accepts, so that a client generated from its
    document only sends numbers `normalise_phone` takes (fixed lines cannot get SMS anyway)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None and metadata.mobile is not None
    assert metadata.mobile.national_number_pattern is not None
    code = phonenumbers.country_code_for_region(region)
    national = metadata.mobile.national_number_pattern.replace(r"\d", "[0-9]")
    lengths = [n for n in metadata.mobile.possible_length or () if n > 0]
    starts = [rf"\+{code}", str(code)]
    if metadata.national_prefix:
        starts.append(re.escape(metadata.national_prefix))
    # The lengths as a look-ahead would not be ECMA and Python alike; the pattern's own lengths
    # must then be the possible ones (true of the regions we serve; checked by a test).
    assert lengths, region
    return f"^(?:{'|'.join(starts)})(?:{national})$"


def example_mobile_number(region: str) -> str:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert number is not None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


MPESA_REGION = "KE"


def kenyan_mobile(raw: str | None) -> str:
    """A number M-Pesa can pay, in E.164: a valid Kenyan mobile number ('0711 000111',
    '254711000111', '+254 711 000111' -> '+254711000111'); InvalidInput for anything else (a
    landline, another country's number)."""
    try:
        e164 = normalise_phone(raw, MPESA_REGION)
    except InvalidInput as exc:
        raise InvalidInput("Enter a Kenyan mobile number.", field="msisdn") from exc
    number = phonenumbers.parse(e164, MPESA_REGION)
    kind = phonenumbers.number_type(number)
    if phonenumbers.region_code_for_number(number) != MPESA_REGION or kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput("Enter a Kenyan mobile number.", field="msisdn")
    return e164
