"""A screen answered after the world changed acts only on what it showed, or on nothing.

Each test shows a confirming screen, changes what it showed by SMS (as a person with two channels,
or a slow network, would), then answers the screen: the answer is refused with a clear END in the
person's language, and nothing changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain.models import (
    Booking,
    BookingStatus,
    OutboxMessage,
    Rating,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from marketplace.extensions import db
from tests.sms.conftest import post_sms


def _world() -> dict[str, object]:
    """Everything an answer could change."""
    db.session.expire_all()
    return {
        "bookings": sorted(
            db.session.execute(sa.select(Booking.id, Booking.provider_id, Booking.status)).all()
        ),
        "vouchers": sorted(
            db.session.execute(
                sa.select(Voucher.id, Voucher.status, Voucher.sessions_confirmed)
            ).all()
        ),
        "sessions": sorted(
            db.session.execute(sa.select(TrainingSession.id, TrainingSession.status))
        ),
        "ratings": db.session.scalar(sa.select(sa.func.count()).select_from(Rating)),
        "outbox": db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)),
    }


def _two_hours_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=2)


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("en", "That booking was already cancelled or has ended, so nothing more was done."),
        ("sw", "Nafasi hiyo ilikuwa imeshaghairiwa au kuisha, hivyo hakuna zaidi "
         "kilichofanyika."),
    ],
)  # fmt: skip
def test_a_cancel_screen_answered_after_its_booking_was_switched_by_sms_cancels_nothing(
    build, client, dialer, phone_of, language, refusal
):
    mentor_a = build.provider(name="Mentor Alpha")
    mentor_b = build.provider(name="Mentor Beta")
    voucher = build.voucher(language=language)
    build.booking(voucher, mentor_a)
    phone = dialer(phone_of(voucher))
    phone.dial("5*1")
    assert "Mentor Alpha" in phone.screen  # "Cancel your booking with Mentor Alpha?"

    post_sms(client, phone.phone, "CANCEL")
    post_sms(client, phone.phone, f"BOOK {mentor_b.number}")
    switched = _world()
    (booked,) = [b for b in switched["bookings"] if b.status == BookingStatus.ACTIVE]
    assert booked.provider_id == mentor_b.id

    screen = phone.press("1")
    assert phone.ended and screen.startswith(refusal), screen
    assert "Mentor" not in screen  # neither the mentor shown nor the one booked since
    assert _world() == switched  # Mentor Beta's booking stands; nobody was told anything


def test_a_cancel_screen_answered_while_its_booking_still_stands_cancels_it(
    build, dialer, phone_of
):
    mentor = build.provider(name="Mentor Alpha")
    voucher = build.voucher()
    build.booking(voucher, mentor)
    phone = dialer(phone_of(voucher))
    phone.dial("5*1")
    assert phone.press("1").startswith("Your booking with Mentor Alpha is cancelled.")
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == VoucherStatus.ISSUED


def test_a_booking_screen_answered_after_the_voucher_was_booked_by_sms_books_nothing(
    build, client, dialer, phone_of
):
    shown = build.provider(name="Mentor Alpha")
    other = build.provider(name="Mentor Beta")
    voucher = build.voucher()
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    number = next(line.split()[0] for line in phone.screen.splitlines() if "Alpha" in line)
    phone.press(number)
    assert "Mentor Alpha" in phone.press("1")  # "Book Mentor Alpha with voucher ...?"

    post_sms(client, phone.phone, f"BOOK {other.number}")
    booked = _world()

    screen = phone.press("1")
    assert phone.ended and screen.startswith("This voucher is already booked."), screen
    assert _world() == booked
    assert shown.id not in {b.provider_id for b in booked["bookings"]}


def test_a_booking_screen_answered_after_the_same_mentor_was_booked_by_sms_says_so(
    build, client, dialer, phone_of
):
    mentor = build.provider(name="Mentor Alpha")
    voucher = build.voucher(language="sw")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1*1*1")
    assert "Mentor Alpha" in phone.screen

    post_sms(client, phone.phone, f"BOOK {mentor.number}")
    booked = _world()

    screen = phone.press("1")
    assert phone.ended and screen == "Tayari umemchagua mwalimu huyu kwa vocha yako. Angalia " \
        "Vocha zangu.", screen  # fmt: skip
    assert _world() == booked


@pytest.mark.parametrize(
    ("sms", "key", "status"),
    [
        pytest.param("NO", "1", SessionStatus.DISPUTED, id="yes-after-an-sms-no"),
        pytest.param("YES", "2", SessionStatus.CONFIRMED, id="no-after-an-sms-yes"),
    ],
)
def test_a_session_question_answered_after_an_sms_answer_changes_nothing(
    build, client, dialer, phone_of, sms, key, status
):
    recorded = build.recorded_session(now=_two_hours_ago(), topic="Cutting patterns")
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("3*2*1")
    assert "Cutting patterns" in phone.screen and "Did it happen?" in phone.screen

    post_sms(client, phone.phone, f"{sms} {recorded.ref}")
    answered = _world()
    assert (recorded.id, status) in answered["sessions"]

    screen = phone.press(key)
    assert phone.ended and screen == (
        "This session was already answered, so nothing changed. See Confirm a session (menu 3)."
    )
    assert _world() == answered


def test_a_session_question_answered_after_the_booking_was_cancelled_confirms_nothing(
    build, dialer, phone_of
):
    recorded = build.recorded_session(now=_two_hours_ago())
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("3*2*1")
    db.session.execute(
        sa.update(Booking).where(Booking.id == recorded.booking_id).values(status="cancelled")
    )
    db.session.commit()
    cancelled = _world()

    screen = phone.press("1")
    assert phone.ended and screen.startswith("This session's booking was cancelled")
    assert _world() == cancelled


def test_a_rating_screen_answered_after_an_sms_rating_rates_nothing(
    build, client, dialer, phone_of
):
    mentor = build.provider(name="Mentor Alpha")
    voucher = build.voucher()
    session = build.confirmed_session(build.booking(voucher, mentor), now=_two_hours_ago())
    phone = dialer(phone_of(voucher))
    phone.dial("4*1")
    assert phone.screen.startswith("How good was Mentor Alpha?")

    post_sms(client, phone.phone, f"RATE {session.ref} 2")
    rated = _world()
    assert rated["ratings"] == 1

    screen = phone.press("5")
    assert phone.ended and screen == "You already did that. Thank you."
    assert _world() == rated
    assert db.session.scalar(sa.select(Rating.stars)) == 2
