"""Every SMS template, in both languages, with the longest values it can get: GSM-7, one part."""

from __future__ import annotations

import string

import pytest

from marketplace.messages import catalogue
from marketplace.messages import outbound as texts
from marketplace.messages.gsm import gsm7_length, is_gsm7, segments, to_gsm7
from marketplace.services import bookings
from sms import commands

# The longest value each placeholder can take in practice (names are cut by texts.PARAM_LIMITS).
LONG = {
    "code": "123 456 7890",
    "value": "KES 1,000,000.00",
    "sessions": "12",
    "expiry": "31/12/2030",
    "ussd": "*384*12345#",
    "short": "20880",
    "provider": "Chuo cha Mafunzo ya Ufundi Wa Kati wa Nairobi Magharibi",
    "number": "40217",
    "phone": "+254712345678",
    "name": "Wanjiru-Kamau Nyambura Akinyi",
    "trade": "Phone and electronics repair",
    "date": "31/12",
    "topic": "Cutting, fitting and finishing a three-piece suit for a wedding",
    "ref": "123456",
    "left": "12",
    "total": "12",
    "reference": "MPESA-QWERTY12345",
    "receipt": "SG632NMUAB",  # M-Pesa receipts are 10 characters
    "minutes": "15",
    "text": "please can you tell me what this service is about",
    "area": "Elgeyo Marakwet",
    "status": "kimepitwa na muda",
    "reason": "vipindi vimekwisha",
    "stars": "5",
    "count": "12",
    "keyword": "UNSUBSCRIBE",
    "example": "CHAGUA 40217 1234567890 PLEASE HELP ME",
    "kind": "institute",
    "rating": ", 4.5*",
    "tcode": "motor-mechanics",
    "account": "Kenya Commercial Bank Lim ...1234",
    "share": "KES 1,000,000.00",
    # A mentor's replies (their lists and statements are also built long in test_mentor_commands)
    "waiting": "9999",
    "confirmed": "9999",
    "disputed": "9999",
    "lapsed": "9999",
    "done": "12",
    "currency": "KES",
    "earned": "1,000,000.00",
    "paid": "1,000,000.00",
    "pending": "1,000,000.00",
    "held": "1,000,000.00",
    "amount": "1,000,000.00",
    "why": "same phone as trainee",
    "no": "9999",  # a trainee's short number
    "page": "ujuzi.example.go.ke/mentor",  # PUBLIC_BASE_URL's host and /mentor
}
# Templates that may take more than one part, and how many at most.
MULTIPART: dict[str, int] = {}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("kind", sorted(texts.templates()))
@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_every_notification_fits_one_gsm7_part_in_both_languages(kind, language):
    template = catalogue.t(f"sms.{kind}", language)
    body = texts.render(kind, language, **{k: LONG[k] for k in placeholders(template)})
    assert is_gsm7(body), body
    assert segments(body) <= MULTIPART.get(kind, 1), (len(body), body)


@pytest.mark.parametrize("key", sorted(texts.replies()))
@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_every_reply_fits_one_gsm7_part_in_both_languages(key, language):
    template = catalogue.t(f"sms_reply.{key}", language)
    body = texts.reply(key, language, **{k: LONG[k] for k in placeholders(template)})
    assert is_gsm7(body), body
    assert segments(body) == 1, (len(body), body)
    assert to_gsm7(body) == body  # what the outbox stores is what was written


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_help_shows_the_optional_area_in_brackets(language):
    body = to_gsm7(texts.reply("help", language))
    assert ("[area]" if language == "en" else "[eneo]") in body
    assert "?" not in body


def test_every_template_exists_in_english_and_kiswahili_with_the_same_placeholders():
    english, kiswahili = catalogue.own_texts("en"), catalogue.own_texts("sw")
    sms_keys = [k for k in english if k.split(".")[0] in ("sms", "sms_reply", "sms_word")]
    assert len(sms_keys) > 50
    for key in sms_keys:
        assert kiswahili.get(key), key
        assert placeholders(english[key]) == placeholders(kiswahili[key]), key


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_a_full_list_of_mentors_fits_one_part_under_the_longest_trade_and_area(language):
    card = bookings.ProviderCard(
        1, "40217", "Chuo cha Mafunzo ya Ufundi", "institute", "Town", "x", 4.5, 2, "+254", True
    )
    body = commands.listing_text(
        language,
        "Food processing and catering",
        "Elgeyo-Marakwet",
        [card] * bookings.PAGE_SIZE,
        more=True,
    )
    assert body.startswith("Food processing and catering, Elgeyo-Marakwet:\n")
    assert is_gsm7(body) and segments(body) == 1, (len(body), body)
    assert "40217 Chuo cha" in body  # names are cut shorter, still readable


def test_a_list_under_a_short_trade_keeps_names_whole():
    card = bookings.ProviderCard(
        1, "40217", "Mama Njeri Tailors", "craft_worker", "Town", "x", None, 0, "+254", True
    )
    body = commands.listing_text("en", "Tailoring", "Nairobi", [card] * 3, more=True)
    assert body.count("40217 Mama Njeri Tailors (fundi)") == 3 and segments(body) == 1


def test_names_people_typed_are_made_gsm7_and_cut():
    body = texts.render("booking_cancelled_provider", "en", name="Zoë “Wanjirũ” " + "A" * 50)
    assert is_gsm7(body) and "Zoe" in body and "A" * 30 not in body


def test_names_with_extension_characters_survive_and_are_cut_by_septets():
    body = texts.render("booking_cancelled_provider", "en", name="Njeri {Tailor}")
    assert body.startswith("Ujuzi: Njeri {Tailor} cancelled")
    long_name = "[" * 30
    body = texts.render("booking_cancelled_provider", "en", name=long_name)
    name = body.removeprefix("Ujuzi: ").split(" cancelled")[0]
    assert gsm7_length(name) == texts.PARAM_LIMITS["name"]
