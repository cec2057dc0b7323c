"""Phone numbers: the quick path for plain digit strings agrees with the full parser, always."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.domain.errors import InvalidInput
from marketplace.domain.phones import _parsed_e164, mask_phone, normalise_phone

REGIONS = ("KE", "UG", "TZ", "NG", "US", "GB")

digits = st.text(alphabet="0123456789", min_size=0, max_size=16)
shaped = st.one_of(
    st.builds(lambda d: "0" + d, digits),
    st.builds(lambda d: "07" + d, st.text(alphabet="0123456789", min_size=8, max_size=8)),
    st.builds(lambda d: "+254" + d, digits),
    st.builds(lambda d: "+2547" + d, st.text(alphabet="0123456789", min_size=8, max_size=8)),
    st.builds(lambda d: "254" + d, digits),
    st.builds(lambda d: "+256" + d, digits),
    st.builds(lambda d: "+1" + d, digits),
    digits,
    st.text(max_size=20),
)


def _full_parser(raw: str, region: str) -> str | None:
    text = raw.strip()
    if not text or len(text) > 32 or any(ch.isalpha() for ch in text):
        return None
    if text.isdigit() and len(text) > 10 and not text.startswith("0"):
        text = "+" + text
    try:
        return _parsed_e164(text, region)
    except InvalidInput:
        return None


def _normalised(raw: str, region: str) -> str | None:
    try:
        return normalise_phone(raw, region)
    except InvalidInput:
        return None


@settings(max_examples=1500, deadline=None)
@given(raw=shaped, region=st.sampled_from(REGIONS))
def test_normalising_gives_what_the_full_parser_gives(raw: str, region: str) -> None:
    assert _normalised(raw, region) == _full_parser(raw, region)


@pytest.mark.parametrize(
    "raw",
    [
        "0711 000111",
        "0711000111",
        "254711000111",
        "+254711000111",
        "+254 711 000 111",
        "(0711) 000-111",
    ],
)
def test_the_ways_people_write_a_kenyan_mobile_number_all_normalise_alike(raw: str) -> None:
    assert normalise_phone(raw, "KE") == "+254711000111"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "0711",
        "07110001119999",
        "not a phone",
        "0" * 40,
        "0711 ABC 111",
        "+254711000ONE",
        "\u0660\u0667\u0661",
    ],
)
def test_malformed_phone_numbers_are_refused_with_the_phone_field_named(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_phone(raw, "KE")
    assert caught.value.context["field"] == "phone"


def test_a_masked_phone_keeps_only_its_ends() -> None:
    assert mask_phone("+254711000111") == "+2547*****111"
