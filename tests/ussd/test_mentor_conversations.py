"""A mentor with a basic phone, pressing keys: a whole week by USSD alone, in English and Kiswahili."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain.models import Booking, OutboxMessage, SessionStatus, TrainingSession
from marketplace.extensions import db
from marketplace.services import providers
from tests.builders import today
from tests.sms.conftest import post_sms

WORDS = {
    "en": {
        "menu": "Ujuzi mentor: hello Zawadi",
        "trainees": "Trainees (done/all, ends):",
        "recorded": "Recorded, ref",
        "confirmed": "Confirmed: session",
        "sessions": "Waiting 0, confirmed 2, disputed 1, lapsed 0",
        "earned": "Earned KES 2,000",
        "held": "Held for checks",
        "today": "1 Today",
        "no_payment": "No payment yet.",
    },
    "sw": {
        "menu": "Ujuzi mwalimu: habari Zawadi",
        "trainees": "Wanafunzi (vipindi/jumla, mwisho):",
        "recorded": "Imerekodiwa, kumb.",
        "confirmed": "Imethibitishwa: kipindi",
        "sessions": "Vinasubiri 0, vimethibitishwa 2, vimekataliwa 1, vimepitwa 0",
        "earned": "Umepata KES 2,000",
        "held": "Imezuiliwa",
        "today": "1 Leo",
        "no_payment": "Bado hujalipwa.",
    },
}


def sessions_of(booking: Booking) -> list[TrainingSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(TrainingSession)
            .where(TrainingSession.booking_id == booking.id)
            .order_by(TrainingSession.id)
        )
    )


def outbox(phone: str, kind: str) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.body).where(
                OutboxMessage.to_phone == phone, OutboxMessage.kind == kind
            )
        )
    )


@pytest.fixture
def week(build):
    """A craft worker with three trainees booked (Amina, Baraka, Chebet), each voucher 4 x 1,000."""

    def make(lang: str) -> tuple:
        provider = build.provider(
            name="Zawadi Tailors", contact_name="Zawadi Achieng", language=lang
        )
        people = []
        for name in ("Amina Wanjiru", "Baraka Otieno", "Chebet Kiprop"):
            voucher = build.voucher(name=name)
            people.append((voucher, build.booking(voucher, provider)))
        return provider, people

    return make


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_a_mentors_week_by_ussd_alone(week, dialer, client, lang):
    w = WORDS[lang]
    provider, people = week(lang)
    (amina_v, amina), (baraka_v, baraka), (chebet_v, chebet) = people
    mentor = dialer(provider.phone)

    # Monday: the mentor dials and sees the menu, then the trainees by their short numbers.
    assert mentor.dial().startswith(w["menu"])
    screen = mentor.press("1")
    assert screen.startswith(w["trainees"])
    assert "#1 Amina" in screen and "#2 Baraka" in screen and "#3 Chebet" in screen
    assert "0/4" in screen
    # Amina's details, then record from there: today, 60 minutes, the first topic offered.
    assert "Amina" in mentor.press("1")
    assert w["today"] in mentor.press("1")
    mentor.press("1")  # today
    mentor.press("2")  # 60 minutes
    confirm = mentor.press("1")  # the trade's first topic
    assert "#1 Amina" in confirm and "60" in confirm
    done = mentor.press("1")
    assert mentor.ended and done.startswith(w["recorded"])
    # The gateway sends the last hop again, and the mentor, unsure, does it all again: once.
    assert mentor.repeat() == done
    mentor.dial("2*1*1*2*1")
    assert mentor.press("1").startswith(w["recorded"])
    (amina_session,) = sessions_of(amina)
    assert amina_session.duration_minutes == 60 and amina_session.staff_id is not None
    assert len(outbox(amina_v.entrepreneur.phone, "session_recorded")) == 1

    # Tuesday: Baraka's session of yesterday, 90 minutes, the topic typed.
    mentor.dial()
    mentor.press("2")  # record a session
    mentor.press("2")  # Baraka
    mentor.press("2")  # yesterday
    mentor.press("3")  # 90 minutes
    mentor.press("5")  # type the topic
    assert "Pricing school uniforms" in mentor.press("Pricing school uniforms")
    assert mentor.press("1").startswith(w["recorded"])
    (baraka_session,) = sessions_of(baraka)
    assert baraka_session.delivered_on == today() - timedelta(days=1)
    assert baraka_session.topic == "Pricing school uniforms"

    # Chebet's session on a date typed as four digits (two days ago).
    day = today() - timedelta(days=2)
    mentor.dial("2*3*3")
    assert "0512" in mentor.screen
    assert "1/0" not in mentor.press("99")  # not a date: asked again
    mentor.press(day.strftime("%d%m"))
    mentor.press("1")  # 30 minutes
    mentor.press("2")
    assert mentor.press("1").startswith(w["recorded"])
    (chebet_session,) = sessions_of(chebet)
    assert chebet_session.delivered_on == day and chebet_session.duration_minutes == 30

    # Wednesday: Amina shows her code on her own phone; the mentor types it in menu 3.
    trainee = dialer(amina_v.entrepreneur.phone)
    trainee.dial("3")
    code = re.search(r"\b(\d{6})\b", trainee.press("1")).group(1)  # type: ignore[union-attr]
    codes = mentor.dial("3")
    assert "#1 Amina" in codes and "#2 Baraka" in codes and "#3 Chebet" in codes
    assert "Amina" in mentor.press("1")
    confirmed = mentor.press(code)
    assert mentor.ended and confirmed.startswith(w["confirmed"]) and "KES 1,000" in confirmed

    # Baraka answers YES by SMS; Chebet says NO.
    post_sms(client, baraka_v.entrepreneur.phone, f"YES {baraka_session.ref}")
    post_sms(client, chebet_v.entrepreneur.phone, f"NO {chebet_session.ref}")
    assert [s.status for s in sessions_of(amina) + sessions_of(baraka) + sessions_of(chebet)] == [
        SessionStatus.CONFIRMED,
        SessionStatus.CONFIRMED,
        SessionStatus.DISPUTED,
    ]

    # Friday: my sessions and my money, a session held for an officer's check among them.
    assert mentor.dial("4").startswith(w["sessions"])
    money = mentor.dial("5")
    assert money.startswith(w["earned"])
    held = [s for s in sessions_of(amina) + sessions_of(baraka) if s.flags]
    assert held, "a confirmation seconds after recording is held for a check"
    assert w["held"] in money
    assert w["no_payment"] in money
    # Every screen a gateway showed fits, and the trainee numbers never were phone numbers.
    assert all(amina_v.entrepreneur.phone[-9:] not in body for body in mentor.history)


def test_a_phone_that_is_both_a_mentor_and_a_trainee_chooses_first(build, dialer):
    voucher = build.voucher(name="Juma Mwangi")
    provider = build.provider(name="Juma Welding")
    providers.add_staff(provider.id, "Juma Mwangi", voucher.entrepreneur.phone, "test")
    phone = dialer(voucher.entrepreneur.phone)
    first = phone.dial()
    assert "1 Trainee menu" in first and "2 Mentor menu" in first
    assert phone.press("2").startswith("Ujuzi mentor: hello Juma")
    assert phone.press("00").startswith("Ujuzi: this phone")
    assert phone.press("1").startswith("Ujuzi: hello Juma")


def test_another_providers_trainee_is_never_listed_nor_recorded(build, dialer):
    mine = build.provider(name="Mine")
    theirs = build.provider(name="Theirs")
    build.booking(build.voucher(name="Amina Wanjiru"), mine)
    other = build.booking(build.voucher(name="Zuhura Hassan"), theirs)
    phone = dialer(mine.phone)
    phone.dial("1")
    assert "Amina" in phone.screen and "Zuhura" not in phone.screen
    phone.dial("2")
    assert "Zuhura" not in phone.screen
    assert "Zuhura" not in phone.dial("3") and sessions_of(other) == []


def test_today_just_after_midnight_in_nairobi_is_the_new_local_day(build, dialer, monkeypatch):
    """At 00:30 in Nairobi (21:30 UTC the day before), the mentor's 'Today' and 'Yesterday' are
    Nairobi's days, the ones the service judges the session by."""
    from sms.ussd import engine

    moment = (datetime.now(UTC) - timedelta(days=1)).replace(hour=21, minute=30)
    monkeypatch.setattr(engine, "utcnow", lambda: moment)
    local_today = moment.date() + timedelta(days=1)
    provider = build.provider(name="Zawadi Tailors")
    bookings = [
        build.booking(build.voucher(name=name, now=moment - timedelta(days=7)), provider)
        for name in ("Amina Wanjiru", "Baraka Otieno")
    ]
    mentor = dialer(provider.phone)
    mentor.dial("2*1*1*2*1")  # record, Amina, today, 60 minutes, the first topic
    assert local_today.strftime("%d/%m") in mentor.screen
    mentor.press("1")
    mentor.dial("2*2*2*2*1")  # record, Baraka, yesterday, 60 minutes, the first topic
    mentor.press("1")
    (amina,), (baraka,) = (sessions_of(b) for b in bookings)
    assert amina.delivered_on == local_today
    assert baraka.delivered_on == local_today - timedelta(days=1)


@pytest.mark.parametrize(
    ("lang", "wrong", "locked"),
    [
        ("en", "The code comes from the trainee's phone", "Too many wrong codes"),
        ("sw", "Nambari inatoka kwenye simu ya mwanafunzi", "Nambari zisizo sahihi nyingi"),
    ],
)
def test_a_wrong_code_says_where_the_code_comes_from_and_counts(
    build, dialer, app, lang, wrong, locked
):
    provider = build.provider(name="Zawadi Tailors", language=lang)
    booking = build.booking(build.voucher(name="Amina Wanjiru"), provider)
    build.recorded_session(booking)
    attempts = int(app.config.get("CONFIRMATION_CODE_MAX_ATTEMPTS", 5))
    mentor = dialer(provider.phone)
    for _ in range(attempts - 1):
        mentor.dial("3*1")
        ending = mentor.press("000000")
        assert mentor.ended and wrong in ending, ending
    mentor.dial("3*1")
    assert locked in mentor.press("000000")
    (session,) = sessions_of(booking)
    assert session.status == SessionStatus.RECORDED and session.code_attempts == attempts
