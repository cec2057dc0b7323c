"""A mentor records by USSD that a trainee paid their co-payment: on the trainee's screen, a
choice with the amount, a yes, and the trainee told by SMS (the service the web page uses). A
programme that takes the co-payment first: recording a session says so, with the amount and how,
until the co-payment is recorded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.domain.models import OutboxMessage, TrainingSession, Voucher
from marketplace.extensions import db
from marketplace.messages.ussd import t
from marketplace.services import bookings as booking_service
from marketplace.services import co_payments
from sms.ussd.screens import render_end
from tests.sms.conftest import post_sms

WORDS = {
    "en": {
        "paid_choice": "2 Co-payment KES 400 received",
        "ask": "paid you the co-payment, KES 400?",
        "recorded_line": "Co-payment KES 400 received",
        "first": "Record the co-payment first.",
        "record": "1 Record a session",
    },
    "sw": {
        "paid_choice": "2 Amelipa KES 400",
        "ask": "amekulipa sehemu yake, KES 400?",
        "recorded_line": "Sehemu KES 400 imelipwa",
        "first": "Rekodi malipo ya sehemu kwanza.",
        "record": "1 Rekodi kipindi",
    },
}


def told(phone: str) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.body).where(
                OutboxMessage.to_phone == phone, OutboxMessage.kind == "co_payment_recorded"
            )
        )
    )


def recorded(voucher_id: int) -> bool:
    db.session.expire_all()
    found = db.session.get(Voucher, voucher_id)
    assert found is not None
    return found.co_payment_recorded_at is not None


def sessions_count(booking_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count()).where(TrainingSession.booking_id == booking_id)
    )


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_mentor_records_the_co_payment_from_the_trainee_screen(build, dialer, lang):
    w = WORDS[lang]
    provider = build.provider(name="Zawadi Tailors", language=lang)
    voucher = build.voucher(build.programme(co_payment_percent=10), name="Amina Wanjiru")
    build.booking(voucher, provider)
    mentor = dialer(provider.phone)

    mentor.dial()
    mentor.press("1")  # my trainees
    screen = mentor.press("1")  # Amina
    assert w["record"] in screen and w["paid_choice"] in screen.splitlines()
    ask = mentor.press("2")  # the co-payment received
    assert "Amina" in ask and w["ask"] in ask
    done = mentor.press("1")  # yes
    assert mentor.ended
    assert done == render_end("mentor.copay.done", lang, {"name": "Amina", "share": "KES 400"})
    assert recorded(voucher.id)
    (sms,) = told(voucher.entrepreneur.phone)
    assert "Zawadi Tailors" in sms and "KES 400" in sms
    assert mentor.repeat() == done  # the gateway sends the last hop again: recorded once
    assert len(told(voucher.entrepreneur.phone)) == 1

    # The trainee's screen says it was received, and offers it no more.
    mentor.dial("1*1")
    assert w["recorded_line"] in mentor.screen.splitlines()
    assert w["paid_choice"] not in mentor.screen
    assert w["recorded_line"] in mentor.press("2")  # 2 is no choice now: the screen again
    assert len(told(voucher.entrepreneur.phone)) == 1


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_recorded_meanwhile_on_the_web_is_said_in_the_mentors_words(build, dialer, lang):
    provider = build.provider(language=lang)
    voucher = build.voucher()
    booking = build.booking(voucher, provider)
    mentor = dialer(provider.phone)
    mentor.dial("1*1*2")  # the question asked ...
    co_payments.record_co_payment(provider.staff[0].id, booking.id)  # ... recorded elsewhere
    assert mentor.press("1") == t("mentor.copay.already", lang)
    assert mentor.ended and len(told(voucher.entrepreneur.phone)) == 1


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_a_booking_cancelled_meanwhile_is_said_in_the_mentors_words(build, dialer, lang):
    provider = build.provider(language=lang)
    voucher = build.voucher()
    build.booking(voucher, provider)
    mentor = dialer(provider.phone)
    mentor.dial("1*1*2")
    booking_service.cancel_booking(voucher.entrepreneur.id, voucher.id)
    assert mentor.press("1") == t("mentor.booking_ended", lang)
    assert not recorded(voucher.id) and told(voucher.entrepreneur.phone) == []


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_no_co_payment_no_choice(build, dialer, lang):
    provider = build.provider(language=lang)
    build.booking(build.voucher(build.programme(co_payment_percent=0)), provider)
    mentor = dialer(provider.phone)
    mentor.dial("1*1")
    assert "KES" not in mentor.screen and WORDS[lang]["record"] in mentor.screen
    assert not mentor.press("2").startswith(t("mentor.copay.confirm.yes", lang))


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_a_programme_that_takes_the_co_payment_first(build, dialer, client, lang):
    w = WORDS[lang]
    provider = build.provider(language=lang)
    programme = build.programme(co_payment_percent=10, co_payment_required=True)
    voucher = build.voucher(programme, name="Baraka Otieno")
    booking = build.booking(voucher, provider)
    mentor = dialer(provider.phone)

    # Record a session: Baraka is listed; picking him says the co-payment comes first.
    mentor.dial()
    mentor.press("2")  # record a session
    screen = mentor.press("1")  # Baraka
    assert w["first"] in screen.splitlines() and w["paid_choice"] in screen.splitlines()
    assert w["record"] not in screen

    # REC by SMS: refused, with the amount and how.
    post_sms(client, provider.phone, f"REC {booking.trainee_no} 60 cutting")
    db.session.rollback()
    refused = db.session.scalars(
        sa.select(OutboxMessage.body)
        .where(OutboxMessage.to_phone == provider.phone, OutboxMessage.kind == "reply")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert refused is not None and "KES 400" in refused and sessions_count(booking.id) == 0

    # The co-payment received, from the screen that said it comes first.
    ask = mentor.press("2")
    assert w["ask"] in ask
    assert mentor.press("1") == render_end(
        "mentor.copay.done", lang, {"name": "Baraka", "share": "KES 400"}
    )
    assert recorded(voucher.id) and len(told(voucher.entrepreneur.phone)) == 1

    # Now the session records.
    mentor.dial("2*1")
    assert t("mentor.rec.day.title", lang, name="Baraka").splitlines()[0] in mentor.screen
    mentor.press("1")  # today
    mentor.press("2")  # 60 minutes
    mentor.press("1")  # the first topic
    done = mentor.press("1")
    assert done.startswith(t("mentor.rec.done", lang, ref="", name="")[:10])
    assert sessions_count(booking.id) == 1


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_session_confirm_screen_refused_when_the_co_payment_fell_due(build, dialer, lang):
    """A programme that starts taking the co-payment first while the mentor is on the last step:
    the refusal says the amount and how to record it, and nothing is recorded."""
    provider = build.provider(language=lang)
    programme = build.programme(co_payment_percent=10)
    voucher = build.voucher(programme)
    booking = build.booking(voucher, provider)
    mentor = dialer(provider.phone)
    mentor.dial("2*1*1*2*1")  # record, the trainee, today, 60 minutes, first topic
    programme.co_payment_required = True
    db.session.commit()
    assert mentor.press("1") == render_end("mentor.copay.due", lang, {"share": "KES 400"})
    assert mentor.ended and sessions_count(booking.id) == 0
