"""Officers' decisions on disputed and flagged sessions, and what a payout run does with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain import errors
from marketplace.domain.models import SessionStatus, TrainingSession, Voucher, VoucherStatus
from marketplace.extensions import db
from marketplace.queries import admin
from marketplace.services import bookings, payouts, sessions


def _run_now():
    return payouts.run_payout("KES", datetime.now(UTC) + timedelta(seconds=1), "officer")


def test_a_dispute_is_not_overturned_after_the_trainee_switched_to_another_mentor(build):
    left_behind = build.provider(name="Left Behind")
    chosen = build.provider(name="Chosen Next")
    voucher = build.voucher()
    disputed = build.recorded_session(build.booking(voucher, left_behind))
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms")
    bookings.cancel_booking(voucher.entrepreneur_id, voucher.id)
    bookings.book_provider(voucher.entrepreneur_id, chosen.id, voucher.id)

    with pytest.raises(errors.BookingNotActive):
        sessions.review_session(disputed.id, "overturn", "Called both", "officer")

    db.session.expire_all()
    session = db.session.get(TrainingSession, disputed.id)
    assert session is not None and session.status == SessionStatus.DISPUTED
    assert session.value_minor == 0
    again = db.session.get(Voucher, voucher.id)
    assert again is not None and again.status == VoucherStatus.BOOKED
    assert again.sessions_confirmed == 0
    # The trainee may still change their mind about the mentor they chose next.
    bookings.cancel_booking(voucher.entrepreneur_id, voucher.id)


def test_a_flagged_session_is_not_paid_until_an_officer_cleared_its_flags(build):
    provider = build.provider(name="Same Phone Tailors")
    # The trainee's phone is the mentor's own: the session is flagged when recorded.
    booking = build.booking(build.voucher(phone=provider.phone), provider)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    flagged = build.confirmed_session(booking, now=an_hour_ago)
    assert flagged.flags == ["shared_phone"]
    build.confirmed_session(build.booking(provider=provider), now=an_hour_ago)

    first = _run_now()
    assert first is not None and [p.sessions_count for p in first.payouts] == [1]
    db.session.expire_all()
    assert db.session.get(TrainingSession, flagged.id).payout_id is None  # type: ignore[union-attr]
    assert _run_now() is None  # still held

    sessions.review_session(flagged.id, "clear", "Her sister's phone, checked", "officer")
    second = _run_now()
    assert second is not None and second.total_minor == flagged.value_minor
    db.session.expire_all()
    paid = db.session.get(TrainingSession, flagged.id)
    assert paid is not None and paid.payout_id == second.payouts[0].id


def test_clearing_the_flags_of_a_disputed_session_leaves_the_dispute_to_decide(build):
    booking = build.booking()
    recorded = build.recorded_session(booking)
    db.session.execute(
        sa.update(TrainingSession)
        .where(TrainingSession.id == recorded.id)
        .values(flags=["too_many_in_a_day"], held=True)
    )
    db.session.commit()
    sessions.answer_session(recorded.entrepreneur_id, recorded.ref, False, "sms")

    sessions.review_session(recorded.id, "clear", "A long workshop day", "officer")

    assert [row.ref for row in admin.review_queue()] == [recorded.ref]
    overturned = sessions.review_session(recorded.id, "overturn", "Called both", "officer")
    assert overturned.status == SessionStatus.CONFIRMED and overturned.reviewed_at is not None
    assert admin.review_queue() == []


def test_overturning_a_session_that_is_not_disputed_says_so_whatever_its_voucher_or_booking(build):
    voucher = build.voucher()
    booking = build.booking(voucher)
    confirmed = [build.confirmed_session(booking) for _ in range(voucher.sessions_total)]
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == VoucherStatus.COMPLETED  # type: ignore[union-attr]
    # The voucher is used up and the booking completed: still, the reason is the session's own.
    with pytest.raises(errors.IllegalTransition):
        sessions.review_session(confirmed[0].id, "overturn", "By mistake", "officer")
    db.session.rollback()
    assert db.session.get(Voucher, voucher.id).sessions_confirmed == voucher.sessions_total  # type: ignore[union-attr]
