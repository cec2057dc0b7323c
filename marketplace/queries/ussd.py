"""What the USSD screens read: small indexed selects returning plain, JSON-ready dicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ..db import reading
from ..db.prepared import Prepared
from ..domain.codes import format_voucher_code
from ..domain.models import (
    ACTIVE_VOUCHER_STATUSES,
    Booking,
    BookingStatus,
    Entrepreneur,
    Provider,
    ProviderStaff,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
    provider_trades,
)
from ..domain.money import format_minor
from ..services import reference

LIST_LIMIT = 12  # a basic phone list is never longer than this

# The entrepreneur dialling, and whether the phone is also a mentor's (one index probe).
CALLER = sa.select(
    Entrepreneur.id,
    Entrepreneur.name,
    Entrepreneur.language,
    Entrepreneur.trade_code,
    Entrepreneur.region_code,
    sa.exists()
    .where(ProviderStaff.phone == Entrepreneur.phone, ProviderStaff.active)
    .label("is_mentor"),
).where(Entrepreneur.phone == sa.bindparam("phone"))


def day(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


# The provider each voucher is (was) booked with: its latest booking that was not cancelled.
_BOOKED_WITH = (
    sa.select(Provider.name)
    .join(Booking, Booking.provider_id == Provider.id)
    .where(Booking.voucher_id == Voucher.id, Booking.status != BookingStatus.CANCELLED)
    .order_by(Booking.id.desc())
    .limit(1)
    .correlate(Voucher)
    .scalar_subquery()
)
_VOUCHERS = Prepared(
    sa.select(
        Voucher.code,
        Voucher.status,
        Voucher.value_minor,
        Voucher.currency,
        Voucher.sessions_total,
        Voucher.sessions_confirmed,
        Voucher.expires_at,
        Voucher.ended_at,
        _BOOKED_WITH.label("provider"),
        Voucher.co_payment_minor,
        Voucher.co_payment_recorded_at,
    )
    .where(Voucher.entrepreneur_id == sa.bindparam("entrepreneur_id"))
    .order_by(
        sa.case({status: 0 for status in ACTIVE_VOUCHER_STATUSES}, value=Voucher.status, else_=1),
        Voucher.issued_at.desc(),
        Voucher.id.desc(),
    )
    .limit(LIST_LIMIT)
)


_CANNOT_BE_USED = (VoucherStatus.EXPIRED, VoucherStatus.REVOKED)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def vouchers_of(entrepreneur_id: int, now: datetime) -> list[dict[str, Any]]:
    """The entrepreneur's vouchers, usable ones first, with the provider each is (was) booked with:
    one select. A voucher past its date is expired, with no sessions left, from that moment (not
    only once the scheduled expiry has marked it), and so is a revoked one."""
    rows = _VOUCHERS.rows(reading.connection(), {"entrepreneur_id": entrepreneur_id})
    vouchers = []
    for r in rows:
        status, ended = r.status, r.ended_at
        if status in ACTIVE_VOUCHER_STATUSES and _utc(r.expires_at) <= now:
            status, ended = VoucherStatus.EXPIRED, r.expires_at
        vouchers.append(
            {
                "code": format_voucher_code(r.code),
                "status": status,
                "value": format_minor(r.value_minor, r.currency),
                "used": r.sessions_confirmed,
                "total": r.sessions_total,
                "left": 0 if status in _CANNOT_BE_USED else r.sessions_total - r.sessions_confirmed,
                "expires": day(r.expires_at),
                "ended": day(ended),
                "provider": r.provider or "",
                # The entrepreneur's share ("" when none is asked) and whether it was recorded paid.
                "share": format_minor(r.co_payment_minor, r.currency) if r.co_payment_minor else "",
                "share_paid": r.co_payment_recorded_at is not None,
            }
        )
    return vouchers


def provider_details(provider_id: int) -> dict[str, Any] | None:
    conn = reading.connection()
    p = conn.execute(
        sa.select(
            Provider.id,
            Provider.name,
            Provider.kind,
            Provider.number,
            Provider.town,
            Provider.region_code,
            Provider.rating_sum,
            Provider.rating_count,
            Provider.capacity,
            Provider.active_bookings,
            Provider.status,
        ).where(Provider.id == provider_id)
    ).first()
    if p is None:
        return None
    trades = list(
        conn.scalars(
            sa.select(provider_trades.c.trade_code).where(provider_trades.c.provider_id == p.id)
        )
    )
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "number": p.number,
        "town": p.town,
        "region": reference.region_name(p.region_code),
        "region_code": p.region_code,
        "rating": round(p.rating_sum / p.rating_count, 1) if p.rating_count else None,
        "rating_count": p.rating_count,
        "has_room": p.active_bookings < p.capacity,
        "approved": p.status == "approved",
        "trades": trades,
    }


def cancellable_bookings(entrepreneur_id: int) -> list[dict[str, Any]]:
    """Active bookings whose voucher has no confirmed session yet, each with its id: what a
    cancellation answered later must still find."""
    rows = (
        reading.connection()
        .execute(
            sa.select(Booking.id, Booking.voucher_id, Voucher.code, Provider.name)
            .join(Voucher, Voucher.id == Booking.voucher_id)
            .join(Provider, Provider.id == Booking.provider_id)
            .where(
                Voucher.entrepreneur_id == entrepreneur_id,
                Booking.status == BookingStatus.ACTIVE,
                Voucher.status == VoucherStatus.BOOKED,
                Voucher.sessions_confirmed == 0,
            )
            .order_by(Booking.created_at)
            .limit(LIST_LIMIT)
        )
        .all()
    )
    return [
        {
            "booking_id": r.id,
            "voucher_id": r.voucher_id,
            "code": format_voucher_code(r.code),
            "name": r.name,
        }
        for r in rows
    ]


def _waiting(entrepreneur_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        TrainingSession.entrepreneur_id == entrepreneur_id,
        TrainingSession.status == SessionStatus.RECORDED,
    )


def sessions_to_answer(entrepreneur_id: int, ref: str | None = None) -> list[dict[str, Any]]:
    """Sessions the mentor recorded that wait for the entrepreneur's yes or no, oldest first (only
    the one with `ref`, when given: still waiting, or none)."""
    waiting = _waiting(entrepreneur_id)
    if ref is not None:
        waiting = sa.and_(waiting, TrainingSession.ref == ref)
    rows = (
        reading.connection()
        .execute(
            sa.select(
                TrainingSession.ref,
                TrainingSession.delivered_on,
                TrainingSession.duration_minutes,
                TrainingSession.topic,
                Provider.name,
            )
            .join(Provider, Provider.id == TrainingSession.provider_id)
            .where(waiting)
            .order_by(TrainingSession.recorded_at, TrainingSession.id)
            .limit(LIST_LIMIT)
        )
        .all()
    )
    return [
        {
            "ref": r.ref,
            "date": r.delivered_on.strftime("%d/%m"),
            "minutes": r.duration_minutes,
            "topic": r.topic,
            "provider": r.name,
        }
        for r in rows
    ]


def confirm_menu(entrepreneur_id: int) -> dict[str, Any]:
    """What the "Confirm a session" menu shows: how many sessions wait for an answer, and whether
    the person has a mentor booked (a code for the mentor is of use only then): one select."""
    booked = sa.exists().where(
        Booking.voucher_id == Voucher.id,
        Booking.status == BookingStatus.ACTIVE,
        Voucher.entrepreneur_id == entrepreneur_id,
        Voucher.status.in_(ACTIVE_VOUCHER_STATUSES),
    )
    waiting = (
        sa.select(sa.func.count())
        .select_from(TrainingSession)
        .where(_waiting(entrepreneur_id))
        .scalar_subquery()
    )
    row = reading.connection().execute(sa.select(waiting, booked)).one()
    return {"count": row[0] or 0, "booked": bool(row[1])}
