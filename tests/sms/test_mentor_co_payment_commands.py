"""A mentor records by SMS that a trainee paid their co-payment (PAID / AMELIPA <trainee no.>),
through the service the web page uses: the trainee hears of it by SMS; a programme that takes
the co-payment before the first session refuses REC until it is recorded, and says how."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.domain.models import TrainingSession, Voucher
from marketplace.extensions import db
from marketplace.messages import outbound as texts
from marketplace.messages.gsm import segments
from marketplace.services import bookings as booking_service
from sms.commands.keywords import parse
from tests.sms.conftest import outbox_to

WORDS = {
    "en": {"PAID": "paid", "REC": "REC", "HELP": "HELP"},
    "sw": {"PAID": "Amelipa", "REC": "rekodi", "HELP": "MSAADA"},
}


def _sessions(booking_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count()).where(TrainingSession.booking_id == booking_id)
    )


def _recorded(voucher_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Voucher, voucher_id).co_payment_recorded_at is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_paid_records_the_co_payment_and_the_trainee_hears_of_it(build, sms, lang):
    w = WORDS[lang]
    provider = build.provider(name="Zawadi Tailors", language=lang)
    voucher = build.voucher(build.programme(co_payment_percent=10), name="Amina Wanjiru")
    booking = build.booking(voucher, provider)
    trainee = voucher.entrepreneur.phone

    (reply,) = sms(provider.phone, f"{w['PAID']} {booking.trainee_no}")
    assert reply == texts.reply(
        "paid_recorded", lang, number=booking.trainee_no, name="Amina", share="KES 400"
    )
    assert segments(reply) == 1
    assert _recorded(voucher.id)
    (told,) = outbox_to(trainee, "co_payment_recorded")
    assert "KES 400" in told and "Zawadi Tailors" in told

    (again,) = sms(provider.phone, f"{w['PAID']} {booking.trainee_no}")
    assert again == texts.reply("paid_already", lang)
    assert len(outbox_to(trainee, "co_payment_recorded")) == 1  # recorded once, told once


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_paid_without_a_number_another_providers_trainee_or_no_co_payment(build, sms, lang):
    w = WORDS[lang]
    provider = build.provider(language=lang)
    other = build.provider()
    theirs = build.booking(build.voucher(), other)
    free = build.booking(build.voucher(build.programme(co_payment_percent=0)), provider)

    assert sms(provider.phone, w["PAID"]) == [texts.reply("paid_usage", lang)]
    missing = theirs.trainee_no + 50
    assert sms(provider.phone, f"{w['PAID']} {missing}") == [
        texts.reply("unknown_trainee", lang, number=missing)
    ]
    assert sms(provider.phone, f"{w['PAID']} {free.trainee_no}") == [texts.reply("paid_none", lang)]
    assert not _recorded(theirs.voucher_id)


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_paid_for_a_cancelled_booking_says_it_ended(build, sms, lang):
    w = WORDS[lang]
    provider = build.provider(language=lang)
    voucher = build.voucher()
    booking = build.booking(voucher, provider)
    booking_service.cancel_booking(voucher.entrepreneur.id, voucher.id)

    (reply,) = sms(provider.phone, f"{w['PAID']} {booking.trainee_no}")
    assert reply == texts.reply("mentor_booking_not_active", lang)
    assert not _recorded(voucher.id)


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_a_programme_that_takes_the_co_payment_first(build, sms, lang):
    w = WORDS[lang]
    provider = build.provider(language=lang)
    programme = build.programme(co_payment_percent=25, co_payment_required=True)
    voucher = build.voucher(programme, name="Baraka Otieno")
    booking = build.booking(voucher, provider)
    no = booking.trainee_no

    # REC first: refused, with the amount and how to record it.
    (refused,) = sms(provider.phone, f"{w['REC']} {no} 60 cutting")
    assert refused == texts.reply("rec_co_payment_due", lang, share="KES 1,000")
    assert w["PAID"].upper() in refused and segments(refused) == 1
    assert _sessions(booking.id) == 0

    (paid,) = sms(provider.phone, f"{w['PAID']} {no}")
    assert paid == texts.reply("paid_recorded", lang, number=no, name="Baraka", share="KES 1,000")

    (rec,) = [r for r in sms(provider.phone, f"{w['REC']} {no} 60 cutting") if "#" in r]
    assert f"#{no} Baraka" in rec
    assert _sessions(booking.id) == 1


def test_paid_is_read_forgivingly_but_never_from_everyday_words():
    assert parse("PAID 3").name == "paid"
    assert parse("amelipa 3").name == "paid" and parse("amelipa 3").swahili
    assert parse("AMELIP 3").name == "paid"  # one letter missing
    assert parse("PIAD 3").name == "paid"  # two swapped
    assert parse("PIAD cash").name == "unsure"  # a misspelt change followed by words
    assert parse("SAID 3").name == "unknown"
    assert parse("PAY").name == "pay"


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_mentor_help_names_paid_in_one_part(build, sms, lang):
    provider = build.provider(language=lang)
    (help_text,) = sms(provider.phone, WORDS[lang]["HELP"])
    assert WORDS[lang]["PAID"].upper() in help_text
    assert segments(help_text) == 1, (len(help_text), help_text)


def test_a_trainee_sending_paid_is_not_taken_for_a_mentor(build, sms):
    voucher = build.voucher()
    (reply,) = sms(voucher.entrepreneur.phone, "PAID 1")
    assert not _recorded(voucher.id)
    assert reply != texts.reply("paid_usage", "en") and "recorded" not in reply
