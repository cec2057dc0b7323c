"""Every state change is a method that refuses an illegal move with a named domain error."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from marketplace.domain import errors
from marketplace.domain.models import (
    Booking,
    BookingStatus,
    Payout,
    PayoutStatus,
    Provider,
    ProviderStatus,
    SessionStatus,
    Trade,
    TrainingSession,
    Voucher,
    VoucherStatus,
)

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def voucher(
    status: VoucherStatus = VoucherStatus.ISSUED,
    confirmed: int = 0,
    total: int = 4,
    value: int = 400_000,
) -> Voucher:
    return Voucher(
        code="1234567890",
        status=status,
        value_minor=value,
        currency="KES",
        sessions_total=total,
        sessions_confirmed=confirmed,
        issued_at=NOW - timedelta(days=10),
        expires_at=NOW + timedelta(days=80),
    )


def provider(
    status: ProviderStatus = ProviderStatus.APPROVED, capacity: int = 2, active: int = 0
) -> Provider:
    p = Provider(status=status, capacity=capacity, active_bookings=active, kind="craft_worker")
    p.trades = [Trade(code="tailoring", name_en="Tailoring", name_sw="Ushonaji")]
    return p


def session(status: SessionStatus = SessionStatus.RECORDED) -> TrainingSession:
    return TrainingSession(
        status=status,
        delivered_on=date(2027, 3, 1),
        duration_minutes=60,
        topic="Patterns",
        flags=[],
        review_note="",
    )


# --------------------------------------------------------------------------- vouchers


def test_an_issued_voucher_books_and_a_booked_one_cannot_book_again() -> None:
    v = voucher()
    v.book(NOW)
    assert (v.status, v.booked_at) == (VoucherStatus.BOOKED, NOW)
    with pytest.raises(errors.VoucherAlreadyBooked):
        v.book(NOW)


def test_a_booking_can_be_cancelled_before_the_first_session_only() -> None:
    v = voucher()
    v.book(NOW)
    v.cancel_booking(NOW)
    assert (v.status, v.booked_at) == (VoucherStatus.ISSUED, None)
    with pytest.raises(errors.CannotCancel):
        v.cancel_booking(NOW)
    v.book(NOW)
    v.confirm_session(NOW)
    with pytest.raises(errors.CannotCancel):
        v.cancel_booking(NOW)


def test_confirmed_sessions_take_a_voucher_through_in_progress_to_completed() -> None:
    v = voucher(VoucherStatus.BOOKED, total=3, value=100_000)
    assert [v.confirm_session(NOW) for _ in range(3)] == [1, 2, 3]
    assert (v.status, v.completed_at) == (VoucherStatus.COMPLETED, NOW)
    assert v.redeemed_minor == 100_000 and v.unspent_minor == 0
    with pytest.raises(errors.VoucherFullyUsed):
        v.confirm_session(NOW)


def test_an_unbooked_voucher_cannot_have_sessions() -> None:
    with pytest.raises(errors.IllegalTransition):
        voucher().confirm_session(NOW)
    with pytest.raises(errors.IllegalTransition):
        voucher().ensure_can_record_session(NOW)


def test_an_expired_voucher_cannot_be_booked_or_confirmed() -> None:
    late = NOW + timedelta(days=81)
    with pytest.raises(errors.VoucherExpired):
        voucher().book(late)
    with pytest.raises(errors.VoucherExpired):
        voucher(VoucherStatus.IN_PROGRESS, confirmed=1).confirm_session(late)


def test_a_voucher_expires_only_past_its_date_and_returns_what_is_unspent() -> None:
    v = voucher(VoucherStatus.IN_PROGRESS, confirmed=1)
    with pytest.raises(errors.IllegalTransition):
        v.expire(NOW)
    assert v.expire(NOW + timedelta(days=80)) == 300_000
    assert v.status == VoucherStatus.EXPIRED
    with pytest.raises(errors.IllegalTransition):
        v.expire(NOW + timedelta(days=81))
    with pytest.raises(errors.VoucherExpired):
        v.book(NOW)


@pytest.mark.parametrize(
    "status", [VoucherStatus.ISSUED, VoucherStatus.BOOKED, VoucherStatus.IN_PROGRESS]
)
def test_an_active_voucher_can_be_revoked_and_is_then_unusable(status: VoucherStatus) -> None:
    v = voucher(status, confirmed=1 if status == VoucherStatus.IN_PROGRESS else 0)
    returned = v.revoke(NOW)
    assert returned == v.value_minor - v.redeemed_minor
    assert (v.status, v.ended_at) == (VoucherStatus.REVOKED, NOW)
    with pytest.raises(errors.VoucherRevoked):
        v.confirm_session(NOW)
    with pytest.raises(errors.VoucherRevoked):
        v.book(NOW)


@pytest.mark.parametrize(
    "status", [VoucherStatus.COMPLETED, VoucherStatus.EXPIRED, VoucherStatus.REVOKED]
)
def test_an_ended_voucher_cannot_be_revoked(status: VoucherStatus) -> None:
    with pytest.raises(errors.IllegalTransition):
        voucher(status).revoke(NOW)


# --------------------------------------------------------------------------- sessions


def test_a_recorded_session_is_confirmed_once() -> None:
    s = session()
    s.confirm(NOW, "sms", 1, 100_000)
    assert (s.status, s.sequence, s.value_minor, s.answered_via) == (
        SessionStatus.CONFIRMED,
        1,
        100_000,
        "sms",
    )
    for move in (
        lambda: s.confirm(NOW, "ussd", 2, 1),
        lambda: s.dispute(NOW, "sms"),
        lambda: s.lapse(NOW),
    ):
        with pytest.raises(errors.IllegalTransition):
            move()


def test_a_disputed_session_is_reviewed_once_either_way() -> None:
    upheld = session()
    upheld.dispute(NOW, "sms")
    upheld.uphold_dispute(NOW, "no evidence")
    assert upheld.status == SessionStatus.DISPUTED and upheld.reviewed_at == NOW
    with pytest.raises(errors.IllegalTransition):
        upheld.overturn_dispute(NOW, 1, 100_000, "changed mind")

    overturned = session()
    overturned.dispute(NOW, "sms")
    overturned.overturn_dispute(NOW, 2, 100_000, "photos")
    assert (overturned.status, overturned.sequence) == (SessionStatus.CONFIRMED, 2)
    with pytest.raises(errors.IllegalTransition):
        overturned.uphold_dispute(NOW, "again")


def test_only_a_disputed_session_can_be_overturned() -> None:
    for s in (session(), session(SessionStatus.LAPSED)):
        with pytest.raises(errors.IllegalTransition):
            s.overturn_dispute(NOW, 1, 1, "x")


def test_a_lapsed_session_cannot_be_answered_later() -> None:
    s = session()
    s.lapse(NOW)
    assert (s.status, s.answered_via) == (SessionStatus.LAPSED, "system")
    with pytest.raises(errors.IllegalTransition):
        s.confirm(NOW, "sms", 1, 1)


# --------------------------------------------------------------------------- providers


def test_a_provider_is_approved_suspended_and_approved_again() -> None:
    p = provider(ProviderStatus.PENDING)
    with pytest.raises(errors.IllegalTransition):
        p.suspend()
    p.approve(NOW)
    assert (p.status, p.approved_at) == (ProviderStatus.APPROVED, NOW)
    with pytest.raises(errors.IllegalTransition):
        p.approve(NOW)
    p.suspend()
    assert p.status == ProviderStatus.SUSPENDED
    with pytest.raises(errors.IllegalTransition):
        p.suspend()
    p.approve(NOW + timedelta(days=1))
    assert p.approved_at == NOW  # first approval kept


def test_only_an_approved_provider_with_room_and_the_trade_is_bookable() -> None:
    provider().ensure_bookable("tailoring")
    with pytest.raises(errors.ProviderFull):
        provider(capacity=2, active=2).ensure_bookable("tailoring")
    for p, trade in (
        (provider(ProviderStatus.PENDING), "tailoring"),
        (provider(ProviderStatus.SUSPENDED), "tailoring"),
        (provider(), "carpentry"),
    ):
        with pytest.raises(errors.ProviderNotBookable):
            p.ensure_bookable(trade)


# --------------------------------------------------------------------------- bookings, payouts


@pytest.mark.parametrize(
    ("end", "status"),
    [
        ("cancel", BookingStatus.CANCELLED),
        ("complete", BookingStatus.COMPLETED),
        ("close", BookingStatus.CLOSED),
    ],
)
def test_an_active_booking_ends_once(end: str, status: BookingStatus) -> None:
    b = Booking(status=BookingStatus.ACTIVE)
    getattr(b, end)(NOW)
    assert (b.status, b.ended_at) == (status, NOW)
    for again in ("cancel", "complete", "close"):
        with pytest.raises(errors.IllegalTransition):
            getattr(b, again)(NOW)


def test_a_payout_is_marked_paid_once_and_needs_a_reference() -> None:
    p = Payout(status=PayoutStatus.PENDING)
    with pytest.raises(errors.InvalidInput):
        p.mark_paid("   ", NOW)
    p.mark_paid(" MPESA-QX12 ", NOW)
    assert (p.status, p.reference, p.paid_at) == (PayoutStatus.PAID, "MPESA-QX12", NOW)
    with pytest.raises(errors.IllegalTransition):
        p.mark_paid("again", NOW)
