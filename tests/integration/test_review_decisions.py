"""Officers' decisions on disputed and flagged sessions, and what a payout run does with them."""

from __future__ import annotations

import pytest

from marketplace.domain import errors
from marketplace.domain.models import SessionStatus, TrainingSession, Voucher, VoucherStatus
from marketplace.extensions import db
from marketplace.services import bookings, sessions


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
