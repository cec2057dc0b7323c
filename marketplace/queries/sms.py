"""What the SMS commands read: the inbound messages of a number (its hourly count, the lists
FIND sent it), the vouchers and bookings of a person, the sessions waiting for their answer.

Reads only: each returns plain values or small frozen dataclasses, never a model to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..domain.models import (
    ACTIVE_VOUCHER_STATUSES,
    Booking,
    BookingStatus,
    Impression,
    InboundSms,
    Provider,
    ProviderStaff,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from ..extensions import db

FIND_PREFIX = "find:"  # an inbound row's reply_kind when its reply listed mentors: find:<listing>


def inbound_since(phone: str, since: datetime) -> int:
    """How many SMS this number sent since `since` (the one being answered included)."""
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(InboundSms)
        .where(InboundSms.from_phone == phone, InboundSms.received_at > since)
    )
    return count or 0


def is_provider_phone(phone: str) -> bool:
    """The number is a provider's, or one of its staff's (a mentor, not a trainee)."""
    found = db.session.scalar(
        sa.select(sa.literal(1)).where(
            sa.or_(
                sa.exists().where(Provider.phone == phone),
                sa.exists().where(ProviderStaff.phone == phone),
            )
        )
    )
    return bool(found)


@dataclass(frozen=True)
class HeldVoucher:
    code: str
    sessions_left: int
    sessions_total: int
    expires_at: datetime
    free: bool  # not booked with anyone
    provider: str | None  # the mentor it is booked with
    co_payment_minor: int = 0  # the entrepreneur's share, paid to the mentor (0: none asked)
    currency: str = ""
    co_payment_recorded: bool = False  # the mentor recorded it received


def vouchers_held(entrepreneur_id: int, now: datetime) -> list[HeldVoucher]:
    """The person's usable vouchers, the one expiring first first, each with its mentor."""
    rows = db.session.execute(
        sa.select(Voucher, Provider.name)
        .outerjoin(
            Booking,
            sa.and_(Booking.voucher_id == Voucher.id, Booking.status == BookingStatus.ACTIVE),
        )
        .outerjoin(Provider, Provider.id == Booking.provider_id)
        .where(
            Voucher.entrepreneur_id == entrepreneur_id,
            Voucher.status.in_(ACTIVE_VOUCHER_STATUSES),
            Voucher.expires_at > now,
        )
        .order_by(Voucher.expires_at, Voucher.id)
    ).all()
    return [
        HeldVoucher(
            code=v.code,
            sessions_left=v.sessions_left,
            sessions_total=v.sessions_total,
            expires_at=v.expires_at,
            free=v.status == VoucherStatus.ISSUED,
            provider=name,
            co_payment_minor=v.co_payment_minor,
            currency=v.currency,
            co_payment_recorded=v.co_payment_recorded,
        )
        for v, name in rows
    ]


def own_voucher_id(entrepreneur_id: int, code: str) -> int | None:
    """The id of the voucher with this (normalised) code, when it is this person's."""
    return db.session.scalar(
        sa.select(Voucher.id).where(
            Voucher.code == code, Voucher.entrepreneur_id == entrepreneur_id
        )
    )


@dataclass(frozen=True)
class ActiveBooking:
    id: int
    voucher_id: int
    code: str  # the voucher's
    started: bool  # sessions have started on it (the voucher is in use, not just booked)
    number: str  # the provider's
    name: str  # the provider's


def active_bookings(entrepreneur_id: int) -> list[ActiveBooking]:
    """The person's active bookings, oldest first."""
    rows = db.session.execute(
        sa.select(
            Booking.id,
            Booking.voucher_id,
            Voucher.code,
            Voucher.status,
            Provider.number,
            Provider.name,
        )
        .join(Voucher, Voucher.id == Booking.voucher_id)
        .join(Provider, Provider.id == Booking.provider_id)
        .where(Voucher.entrepreneur_id == entrepreneur_id, Booking.status == BookingStatus.ACTIVE)
        .order_by(Booking.created_at, Booking.id)
    ).all()
    return [
        ActiveBooking(
            r.id, r.voucher_id, r.code, r.status != VoucherStatus.BOOKED, r.number, r.name
        )
        for r in rows
    ]


def only_waiting_ref(entrepreneur_id: int) -> str | None:
    """The ref of the person's one session waiting for their answer; None for none or several."""
    waiting = db.session.scalars(
        sa.select(TrainingSession.ref)
        .where(
            TrainingSession.entrepreneur_id == entrepreneur_id,
            TrainingSession.status == SessionStatus.RECORDED,
        )
        .limit(2)
    ).all()
    return waiting[0] if len(waiting) == 1 else None


def recent_listings(phone: str, since: datetime) -> list[str]:
    """The lists sent to this number by FIND (or MORE) since `since`, the latest first."""
    kinds = db.session.scalars(
        sa.select(InboundSms.reply_kind)
        .where(
            InboundSms.from_phone == phone,
            InboundSms.reply_kind.like(f"{FIND_PREFIX}%"),
            InboundSms.received_at > since,
        )
        .order_by(InboundSms.id.desc())
        .limit(10)
    ).all()
    return list(dict.fromkeys(k.removeprefix(FIND_PREFIX) for k in kinds if k))


def latest_listing(phone: str, since: datetime, listed_nobody: tuple[str, ...]) -> str | None:
    """The list the number's latest FIND (or MORE) sent; None when that one listed nobody (its
    reply was one of `listed_nobody`) or there was none since `since`."""
    kind = db.session.scalar(
        sa.select(InboundSms.reply_kind)
        .where(
            InboundSms.from_phone == phone,
            sa.or_(
                InboundSms.reply_kind.like(f"{FIND_PREFIX}%"),
                InboundSms.reply_kind.in_(listed_nobody),
            ),
            InboundSms.received_at > since,
        )
        .order_by(InboundSms.id.desc())
        .limit(1)
    )
    if kind is None or not kind.startswith(FIND_PREFIX):
        return None
    return kind.removeprefix(FIND_PREFIX)


@dataclass(frozen=True)
class ListingEnd:
    trade: str
    region: str | None
    last_position: int


def listing_end(listing_id: str) -> ListingEnd | None:
    """What a list was of, and how far it went."""
    row = db.session.execute(
        sa.select(Impression.trade_code, Impression.region_code, sa.func.max(Impression.position))
        .where(Impression.listing_id == listing_id)
        .group_by(Impression.trade_code, Impression.region_code)
    ).first()
    return ListingEnd(row[0], row[1], row[2]) if row is not None else None


def listing_showing(phone: str, provider_id: int, since: datetime) -> str | None:
    """The most recent list sent to this number since `since` that showed this provider."""
    for listing_id in recent_listings(phone, since):
        shown = db.session.scalar(
            sa.select(Impression.id)
            .where(Impression.listing_id == listing_id, Impression.provider_id == provider_id)
            .limit(1)
        )
        if shown is not None:
            return listing_id
    return None


def provider_name(provider_id: int) -> str:
    return db.session.scalar(sa.select(Provider.name).where(Provider.id == provider_id)) or ""
