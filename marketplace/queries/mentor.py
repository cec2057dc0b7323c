"""What a mentor sees: their provider's bookings, sessions and statement, on the web page and on a
basic phone (USSD and SMS).

Every function takes the mentor's provider id and filters by it, so nothing of another provider
can be read through these functions; a foreign id (or trainee number) simply finds nothing. The
phone's reads go through `reading.connection()` (the USSD hop's autocommit connection on
PostgreSQL, else the database session's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..db import reading
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
    Provider,
    ProviderStaff,
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
    trainee_no: int  # the short number the mentor types for this trainee (per provider)
    first_name: str
    masked_phone: str
    trade: str
    trade_code: str
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
    time_zone: str = "Africa/Nairobi"  # the programme's: whose day "today" is

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.time_zone)).date()

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
            Booking.trainee_no,
            Entrepreneur.name,
            Entrepreneur.phone,
            _trade_column(language),
            Entrepreneur.trade_code,
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
            Programme.time_zone,
        )
        .select_from(Booking)
        .join(Voucher, Voucher.id == Booking.voucher_id)
        .join(Programme, Programme.id == Voucher.programme_id)
        .join(Entrepreneur, Entrepreneur.id == Voucher.entrepreneur_id)
        .join(Trade, Trade.code == Entrepreneur.trade_code)
        .where(Booking.provider_id == provider_id)
    )


def _booking_row(row: Any) -> BookingRow:
    (bid, number, name, phone, trade, trade_code, status, total, confirmed) = row[:9]
    waiting, expires, created, share, currency, share_recorded, share_required, zone = row[9:]
    return BookingRow(
        id=bid,
        trainee_no=int(number),
        first_name=first_name(str(name)),
        masked_phone=mask_phone(str(phone)),
        trade=str(trade),
        trade_code=str(trade_code),
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
        time_zone=str(zone),
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


# Confirmed and in no payout, yet not payable: flagged, waiting for an officer's check.
_HELD = sa.and_(TrainingSession.payout_id.is_(None), sa.not_(TrainingSession.payable()))


def _totals(conn: sa.Connection | Any, provider_id: int) -> list[Totals]:
    held = _HELD
    earned = conn.execute(
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
    return totals


def statement(provider_id: int) -> Statement:
    totals = _totals(db.session, provider_id)
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


# --------------------------------------------------------------------------- on a basic phone

PHONE_LIST = 40  # trainees a phone lists (paged on USSD, cut to one SMS part)
PHONE_SESSIONS = 12  # sessions a phone lists


@dataclass(frozen=True)
class MentorCaller:
    """A mentor's phone: the staff member it signs in as (a craft worker's own number, or an
    institute's staff member), read once per USSD hop or SMS."""

    id: int
    provider_id: int
    first_name: str
    language: str
    answers_provider_phone: bool = True  # the provider's own number (its SMS come here)


MENTOR_CALLER = sa.select(
    ProviderStaff.id,
    ProviderStaff.provider_id,
    ProviderStaff.name,
    ProviderStaff.language,
).where(ProviderStaff.phone == sa.bindparam("phone"), ProviderStaff.active)
_PROVIDER_PHONE = (
    sa.select(Provider.phone).where(Provider.id == ProviderStaff.provider_id).scalar_subquery()
)


def caller(phone: str) -> MentorCaller | None:
    """The active mentor account of this phone, or None."""
    stmt = MENTOR_CALLER.add_columns((ProviderStaff.phone == _PROVIDER_PHONE).label("own"))
    row = reading.connection().execute(stmt, {"phone": phone}).first()
    if row is None:
        return None
    return MentorCaller(row.id, row.provider_id, first_name(row.name), row.language, bool(row.own))


def trainees(provider_id: int, language: str = "en") -> list[BookingRow]:
    """The provider's trainees now (active bookings), by their short number."""
    rows = (
        reading.connection()
        .execute(
            _bookings_query(provider_id, language)
            .where(Booking.status == BookingStatus.ACTIVE)
            .order_by(Booking.trainee_no)
            .limit(PHONE_LIST)
        )
        .all()
    )
    return [_booking_row(r) for r in rows]


def trainee(provider_id: int, trainee_no: int, language: str = "en") -> BookingRow | None:
    """The provider's booking with this short number (another provider's number finds nothing)."""
    row = (
        reading.connection()
        .execute(_bookings_query(provider_id, language).where(Booking.trainee_no == trainee_no))
        .first()
    )
    return _booking_row(row) if row is not None else None


@dataclass(frozen=True)
class PhoneSession:
    id: int
    ref: str
    trainee_no: int
    first_name: str
    delivered_on: date
    status: str


def _phone_sessions(provider_id: int) -> Any:
    return (
        sa.select(
            TrainingSession.id,
            TrainingSession.ref,
            Booking.trainee_no,
            Entrepreneur.name,
            TrainingSession.delivered_on,
            TrainingSession.status,
        )
        .join(Booking, Booking.id == TrainingSession.booking_id)
        .join(Entrepreneur, Entrepreneur.id == TrainingSession.entrepreneur_id)
        .where(TrainingSession.provider_id == provider_id)
    )


def _phone_session(r: Any) -> PhoneSession:
    return PhoneSession(r.id, r.ref, r.trainee_no, first_name(r.name), r.delivered_on, r.status)


def waiting_sessions(provider_id: int, trainee_no: int | None = None) -> list[PhoneSession]:
    """Sessions waiting for the trainee's yes (oldest first): what a code typed confirms."""
    stmt = _phone_sessions(provider_id).where(TrainingSession.status == SessionStatus.RECORDED)
    if trainee_no is not None:
        stmt = stmt.where(Booking.trainee_no == trainee_no)
    rows = (
        reading.connection()
        .execute(stmt.order_by(TrainingSession.recorded_at, TrainingSession.id).limit(PHONE_LIST))
        .all()
    )
    return [_phone_session(r) for r in rows]


@dataclass(frozen=True)
class SessionCounts:
    waiting: int
    confirmed: int
    disputed: int
    lapsed: int
    recent: list[PhoneSession]  # the latest few, newest first


def session_counts(provider_id: int) -> SessionCounts:
    """How many of the provider's sessions are in each state, and the latest few."""
    conn = reading.connection()
    by_status = dict(
        conn.execute(
            sa.select(TrainingSession.status, sa.func.count())
            .where(TrainingSession.provider_id == provider_id)
            .group_by(TrainingSession.status)
        ).all()
    )
    recent = conn.execute(
        _phone_sessions(provider_id)
        .order_by(TrainingSession.recorded_at.desc(), TrainingSession.id.desc())
        .limit(PHONE_SESSIONS)
    ).all()
    return SessionCounts(
        waiting=int(by_status.get(SessionStatus.RECORDED, 0)),
        confirmed=int(by_status.get(SessionStatus.CONFIRMED, 0)),
        disputed=int(by_status.get(SessionStatus.DISPUTED, 0)),
        lapsed=int(by_status.get(SessionStatus.LAPSED, 0)),
        recent=[_phone_session(r) for r in recent],
    )


@dataclass(frozen=True)
class Money:
    """A mentor's money on one screen: earned, held for review (and why), paid, the last
    payment and its reference."""

    currency: str
    earned_minor: int
    held_minor: int
    held_why: list[str]  # the flags of the sessions held, most frequent first
    paid_minor: int
    pending_minor: int
    last_paid_minor: int | None
    last_paid_at: datetime | None
    last_reference: str | None


def money(provider_id: int) -> Money:
    """The provider's money in its (first) currency; zeros, in its trainees' vouchers' currency,
    before the first confirmed session."""
    conn = reading.connection()
    totals = _totals(conn, provider_id)
    if totals:
        total = totals[0]
    else:
        currency = conn.scalar(
            sa.select(Voucher.currency)
            .join(Booking, Booking.voucher_id == Voucher.id)
            .where(Booking.provider_id == provider_id)
            .limit(1)
        )
        total = Totals(str(currency or ""), 0, 0, 0, 0)
    reasons: dict[str, int] = {}
    if total.held_minor:
        for (flags,) in conn.execute(
            sa.select(TrainingSession.flags)
            .where(
                TrainingSession.provider_id == provider_id,
                TrainingSession.status == SessionStatus.CONFIRMED,
                _HELD,
            )
            .limit(PHONE_LIST)
        ):
            for flag in flags or []:
                reasons[str(flag)] = reasons.get(str(flag), 0) + 1
    last = conn.execute(
        sa.select(Payout.amount_minor, Payout.paid_at, Payout.reference)
        .where(
            Payout.provider_id == provider_id,
            Payout.status == PayoutStatus.PAID,
            Payout.currency == total.currency,
        )
        .order_by(Payout.paid_at.desc(), Payout.id.desc())
        .limit(1)
    ).first()
    return Money(
        currency=total.currency,
        earned_minor=total.earned_minor,
        held_minor=total.held_minor,
        held_why=sorted(reasons, key=lambda f: (-reasons[f], f)),
        paid_minor=total.paid_minor,
        pending_minor=total.pending_minor,
        last_paid_minor=int(last.amount_minor) if last is not None else None,
        last_paid_at=last.paid_at if last is not None else None,
        last_reference=last.reference if last is not None else None,
    )


@dataclass(frozen=True)
class DemoPair:
    """A mentor to play in the phone simulator, and one of their trainees now."""

    mentor_phone: str
    mentor_name: str
    trainee_phone: str
    trainee_name: str


def demo_pair() -> DemoPair | None:
    """The approved provider with a trainee now and the most sessions recorded (so its menus show
    trainees, sessions in several states and money), by its own phone, and its first trainee."""
    conn = reading.connection()
    active = sa.select(Booking.provider_id).where(Booking.status == BookingStatus.ACTIVE)
    provider = conn.execute(
        sa.select(Provider.id, Provider.phone, Provider.name)
        .join(TrainingSession, TrainingSession.provider_id == Provider.id)
        .where(Provider.status == "approved", Provider.id.in_(active))
        .group_by(Provider.id, Provider.phone, Provider.name)
        .order_by(sa.func.count(TrainingSession.id).desc(), Provider.id)
        .limit(1)
    ).first()
    if provider is None:
        return None
    trainee = conn.execute(
        sa.select(Entrepreneur.phone, Entrepreneur.name)
        .join(Voucher, Voucher.entrepreneur_id == Entrepreneur.id)
        .join(Booking, Booking.voucher_id == Voucher.id)
        .where(Booking.provider_id == provider.id, Booking.status == BookingStatus.ACTIVE)
        .order_by(Booking.trainee_no)
        .limit(1)
    ).first()
    if trainee is None:
        return None
    return DemoPair(provider.phone, provider.name, trainee.phone, first_name(trainee.name))
