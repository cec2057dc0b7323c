"""What a mentor sees: their provider's bookings, sessions and statement.

Every function takes the signed-in mentor's provider id and filters by it, so nothing of another
provider can be read through these functions; a foreign id simply finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ..domain.models import (
    Booking,
    BookingStatus,
    Entrepreneur,
    Payment,
    PaymentState,
    Payout,
    PayoutRun,
    PayoutStatus,
    Programme,
    SessionStatus,
    Trade,
    TrainingSession,
    Voucher,
    first_name,
)
from ..domain.phones import mask_phone
from ..extensions import db

RECENT_SESSIONS = 40  # a page small enough for 2G; older sessions count in the statement


@dataclass(frozen=True)
class BookingRow:
    id: int
    first_name: str
    masked_phone: str
    trade: str
    status: str
    sessions_total: int
    sessions_confirmed: int
    sessions_waiting: int  # recorded, not yet answered
    expires_on: date
    booked_on: date
    # The trainee's co-payment (0: none asked), whether it was recorded received, and whether the
    # programme takes it before the first session.
    co_payment_minor: int = 0
    currency: str = ""
    co_payment_recorded: bool = False
    co_payment_required: bool = False

    @property
    def sessions_left(self) -> int:
        return self.sessions_total - self.sessions_confirmed

    @property
    def co_payment_due(self) -> bool:
        """No session can be recorded until the co-payment is."""
        return (
            self.co_payment_required and self.co_payment_minor > 0 and not self.co_payment_recorded
        )

    @property
    def can_record_co_payment(self) -> bool:
        return (
            self.co_payment_minor > 0
            and not self.co_payment_recorded
            and self.status in (BookingStatus.ACTIVE, BookingStatus.COMPLETED)
        )

    @property
    def can_record(self) -> bool:
        return (
            self.status == BookingStatus.ACTIVE
            and not self.co_payment_due
            and self.sessions_confirmed + self.sessions_waiting < self.sessions_total
        )


@dataclass(frozen=True)
class SessionRow:
    id: int
    ref: str
    booking_id: int
    first_name: str
    delivered_on: date
    duration_minutes: int
    topic: str
    outcomes: str
    action_points: str
    status: str
    value_minor: int
    currency: str
    recorded_at: datetime
    paid: bool


@dataclass(frozen=True)
class Totals:
    currency: str
    earned_minor: int  # every confirmed session
    paid_minor: int  # in statements marked paid
    pending_minor: int  # confirmed, not yet paid (in an open statement or due in the next one)
    held_minor: int = 0  # confirmed, held from payouts until an officer checked its flags


@dataclass(frozen=True)
class PayoutRow:
    id: int
    period_end: datetime
    amount_minor: int
    currency: str
    sessions_count: int
    status: str
    reference: str | None
    paid_at: datetime | None
    receipt: str | None = None  # the M-Pesa receipt, when it was paid by M-Pesa


@dataclass(frozen=True)
class Statement:
    totals: list[Totals]
    payouts: list[PayoutRow]


def _trade_column(language: str) -> Any:
    return Trade.name_sw if language == "sw" else Trade.name_en


def _bookings_query(provider_id: int, language: str) -> Any:
    waiting = (
        sa.select(sa.func.count())
        .where(
            TrainingSession.booking_id == Booking.id,
            TrainingSession.status == SessionStatus.RECORDED,
        )
        .correlate(Booking)
        .scalar_subquery()
    )
    return (
        sa.select(
            Booking.id,
            Entrepreneur.name,
            Entrepreneur.phone,
            _trade_column(language),
            Booking.status,
            Voucher.sessions_total,
            Voucher.sessions_confirmed,
            waiting,
            Voucher.expires_at,
            Booking.created_at,
            Voucher.co_payment_minor,
            Voucher.currency,
            Voucher.co_payment_recorded_at.is_not(None),
            Programme.co_payment_required,
        )
        .select_from(Booking)
        .join(Voucher, Voucher.id == Booking.voucher_id)
        .join(Programme, Programme.id == Voucher.programme_id)
        .join(Entrepreneur, Entrepreneur.id == Voucher.entrepreneur_id)
        .join(Trade, Trade.code == Entrepreneur.trade_code)
        .where(Booking.provider_id == provider_id)
    )


def _booking_row(row: Any) -> BookingRow:
    (bid, name, phone, trade, status, total, confirmed, waiting, expires, created) = row[:10]
    share, currency, share_recorded, share_required = row[10:]
    return BookingRow(
        id=bid,
        first_name=first_name(str(name)),
        masked_phone=mask_phone(str(phone)),
        trade=str(trade),
        status=str(status),
        sessions_total=int(total),
        sessions_confirmed=int(confirmed),
        sessions_waiting=int(waiting or 0),
        expires_on=expires.date(),
        booked_on=created.date(),
        co_payment_minor=int(share or 0),
        currency=str(currency),
        co_payment_recorded=bool(share_recorded),
        co_payment_required=bool(share_required),
    )


def bookings(provider_id: int, language: str = "en") -> list[BookingRow]:
    """Active bookings first (soonest expiry first), then the last finished ones."""
    active = db.session.execute(
        _bookings_query(provider_id, language)
        .where(Booking.status == BookingStatus.ACTIVE)
        .order_by(Voucher.expires_at, Booking.id)
    ).all()
    finished = db.session.execute(
        _bookings_query(provider_id, language)
        .where(Booking.status.in_([BookingStatus.COMPLETED, BookingStatus.CLOSED]))
        .order_by(Booking.ended_at.desc(), Booking.id.desc())
        .limit(20)
    ).all()
    return [_booking_row(r) for r in [*active, *finished]]


def booking(provider_id: int, booking_id: int, language: str = "en") -> BookingRow | None:
    row = db.session.execute(
        _bookings_query(provider_id, language).where(Booking.id == booking_id)
    ).first()
    return _booking_row(row) if row is not None else None


def _sessions_query(provider_id: int) -> Any:
    return (
        sa.select(TrainingSession, Entrepreneur.name, Payout.status)
        .join(Entrepreneur, Entrepreneur.id == TrainingSession.entrepreneur_id)
        .outerjoin(Payout, Payout.id == TrainingSession.payout_id)
        .where(TrainingSession.provider_id == provider_id)
    )


def _session_row(s: TrainingSession, name: str, payout_status: str | None) -> SessionRow:
    return SessionRow(
        id=s.id,
        ref=s.ref,
        booking_id=s.booking_id,
        first_name=first_name(name),
        delivered_on=s.delivered_on,
        duration_minutes=s.duration_minutes,
        topic=s.topic,
        outcomes=s.outcomes,
        action_points=s.action_points,
        status=s.status,
        value_minor=s.value_minor,
        currency=s.currency,
        recorded_at=s.recorded_at,
        paid=payout_status == PayoutStatus.PAID,
    )


def sessions(provider_id: int, limit: int = RECENT_SESSIONS) -> list[SessionRow]:
    """Sessions waiting for an answer first, then the most recent."""
    waiting_first = sa.case((TrainingSession.status == SessionStatus.RECORDED, 0), else_=1)
    rows = db.session.execute(
        _sessions_query(provider_id)
        .order_by(waiting_first, TrainingSession.recorded_at.desc(), TrainingSession.id.desc())
        .limit(limit)
    ).all()
    return [_session_row(s, name, status) for s, name, status in rows]


def session(provider_id: int, session_id: int) -> SessionRow | None:
    row = db.session.execute(
        _sessions_query(provider_id).where(TrainingSession.id == session_id)
    ).first()
    return _session_row(row[0], row[1], row[2]) if row is not None else None


def statement(provider_id: int) -> Statement:
    # Confirmed and in no payout, yet not payable: flagged, waiting for an officer's check.
    held = sa.and_(TrainingSession.payout_id.is_(None), sa.not_(TrainingSession.payable()))
    earned = db.session.execute(
        sa.select(
            TrainingSession.currency,
            sa.func.sum(TrainingSession.value_minor),
            sa.func.sum(
                sa.case((Payout.status == PayoutStatus.PAID, TrainingSession.value_minor), else_=0)
            ),
            sa.func.sum(sa.case((held, TrainingSession.value_minor), else_=0)),
        )
        .outerjoin(Payout, Payout.id == TrainingSession.payout_id)
        .where(
            TrainingSession.provider_id == provider_id,
            TrainingSession.status == SessionStatus.CONFIRMED,
        )
        .group_by(TrainingSession.currency)
        .order_by(TrainingSession.currency)
    ).all()
    totals = [
        Totals(
            currency=currency,
            earned_minor=int(total or 0),
            paid_minor=int(paid or 0),
            pending_minor=int(total or 0) - int(paid or 0) - int(on_hold or 0),
            held_minor=int(on_hold or 0),
        )
        for currency, total, paid, on_hold in earned
    ]
    payouts = [
        PayoutRow(
            id=p.id,
            period_end=period_end,
            amount_minor=p.amount_minor,
            currency=p.currency,
            sessions_count=p.sessions_count,
            status=p.status,
            reference=p.reference,
            paid_at=p.paid_at,
            receipt=receipt,
        )
        for p, period_end, receipt in db.session.execute(
            sa.select(Payout, PayoutRun.period_end, Payment.receipt)
            .join(PayoutRun, PayoutRun.id == Payout.run_id)
            .outerjoin(
                Payment,
                sa.and_(
                    Payment.payout_id == Payout.id,
                    Payment.state == PaymentState.SUCCEEDED,
                    Payment.channel != "csv",
                ),
            )
            .where(Payout.provider_id == provider_id)
            .order_by(Payout.id.desc())
            .limit(50)
        ).all()
    ]
    return Statement(totals=totals, payouts=payouts)
