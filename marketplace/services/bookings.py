"""Choosing a provider: listings (recorded as impressions), booking, cancelling and switching."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from ..db import reading
from ..db.prepared import Prepared
from ..domain import errors
from ..domain.base import utcnow
from ..domain.codes import format_voucher_code
from ..domain.models import (
    Booking,
    BookingStatus,
    Channel,
    Entrepreneur,
    Impression,
    Provider,
    ProviderStatus,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
    provider_trades,
)
from ..extensions import db
from . import lookups, outbox, reference, stats_log, unit

PAGE_SIZE = 3


@dataclass(frozen=True)
class ProviderCard:
    id: int
    number: str
    name: str
    kind: str
    town: str
    region_code: str
    rating: float | None
    rating_count: int
    phone: str
    has_room: bool


@dataclass(frozen=True)
class Listing:
    listing_id: str
    trade: str
    region: str | None
    page: int
    providers: list[ProviderCard]
    has_more: bool
    programme_id: int | None = None  # the programme its impressions count towards
    offset: int = 0  # the place in the whole list of the first provider on this page


_IMPRESSIONS: sa.Table = Impression.__table__  # type: ignore[assignment]
_RECORD_IMPRESSION = sa.insert(_IMPRESSIONS)  # one row per parameter set (compiled once)
_CARD_COLUMNS = (
    Provider.id,
    Provider.number,
    Provider.name,
    Provider.kind,
    Provider.town,
    Provider.region_code,
    Provider.rating_sum,
    Provider.rating_count,
    Provider.phone,
    Provider.active_bookings,
    Provider.capacity,
)


_PROGRAMME_OF = (
    sa.select(Voucher.programme_id)
    .where(
        Voucher.entrepreneur_id == sa.bindparam("entrepreneur_id"),
        Voucher.status == VoucherStatus.ISSUED,
    )
    .order_by(Voucher.expires_at)
    .limit(1)
)


@lru_cache(maxsize=4)
def _listing(with_region: bool, with_programme: bool) -> Prepared:
    """A page of bookable providers as plain columns (no entities, no trades loaded); with the
    programme of the entrepreneur's first voucher to expire when the caller does not know it."""
    columns: list[Any] = list(_CARD_COLUMNS)
    if with_programme:
        columns.append(_PROGRAMME_OF.scalar_subquery().label("programme_id"))
    teaches = sa.exists().where(
        provider_trades.c.provider_id == Provider.id,
        provider_trades.c.trade_code == sa.bindparam("trade"),
    )
    stmt = sa.select(*columns).where(
        Provider.status == ProviderStatus.APPROVED,
        Provider.active_bookings < Provider.capacity,
        teaches,
    )
    if with_region:
        stmt = stmt.where(Provider.region_code == sa.bindparam("region"))
    # The order of the listing indexes (domain/models/providers.py): a page reads a few rows, not the whole trade.
    return Prepared(
        stmt.order_by(Provider.rating_rank.desc(), Provider.id)
        .offset(sa.bindparam("offset"))
        .limit(sa.bindparam("limit"))
    )


def find_providers(
    entrepreneur_id: int,
    trade: str,
    region: str | None,
    *,
    page: int = 0,
    page_size: int = PAGE_SIZE,
    channel: str = Channel.USSD,
    listing_id: str | None = None,
    programme_id: int | None = None,
    now: datetime | None = None,
    record: bool = True,
) -> Listing:
    """A page of bookable providers for a trade (and region), best rated first.

    Every provider shown is recorded as an impression: the denominator of the preference index.
    Without `programme_id` the impressions count towards the programme of the entrepreneur's
    first voucher to expire (read with the page, returned on the listing so the next pages can
    pass it). With `record=False` nothing is written: the caller records `impressions(...)` of
    the listing itself (a USSD hop stores them with its screen state, in one statement).
    """
    now = now or utcnow()
    if trade not in reference.trade_codes():
        raise errors.InvalidInput("Unknown trade.", field="trade")
    params = {
        "trade": trade,
        "region": region,
        "offset": page * page_size,
        "limit": page_size + 1,
        "entrepreneur_id": entrepreneur_id,
    }
    rows = _listing(bool(region), programme_id is None).rows(reading.connection(), params)
    if programme_id is None and rows:
        programme_id = rows[0].programme_id
    cards = [
        ProviderCard(
            r.id,
            r.number,
            r.name,
            r.kind,
            r.town,
            r.region_code,
            round(r.rating_sum / r.rating_count, 1) if r.rating_count else None,
            r.rating_count,
            r.phone,
            r.active_bookings < r.capacity,
        )
        for r in rows[:page_size]
    ]
    listing = Listing(
        listing_id or str(uuid.uuid4()),
        trade,
        region,
        page,
        cards,
        len(rows) > page_size,
        programme_id,
        page * page_size,
    )
    if record and cards:
        with unit.of_work(f"entrepreneur:{entrepreneur_id}", now):
            record_impressions(impressions(listing, entrepreneur_id, channel, now))
    return listing


def impressions(
    listing: Listing, entrepreneur_id: int, channel: str, now: datetime
) -> list[dict[str, Any]]:
    """The impression rows of a listing: one per provider shown, with its place in the list."""
    return [
        {
            "listing_id": listing.listing_id,
            "entrepreneur_id": entrepreneur_id,
            "programme_id": listing.programme_id,
            "provider_id": c.id,
            "provider_kind": c.kind,
            "trade_code": listing.trade,
            "region_code": listing.region,
            "position": listing.offset + i,
            "channel": channel,
            "shown_at": now,
        }
        for i, c in enumerate(listing.providers)
    ]


def record_impressions(rows: list[dict[str, Any]]) -> None:
    """Write impression rows (see `impressions`) in the current transaction, with the cells of
    the funder statistics they move."""
    if rows:
        db.session.connection().execute(_RECORD_IMPRESSION, rows)
        stats_log.mark_people(
            db.session(),
            ((r["programme_id"], r["entrepreneur_id"]) for r in rows if r["programme_id"]),
            max(r["shown_at"] for r in rows),
        )


def provider_by_number(number: str) -> Provider:
    provider = db.session.scalar(sa.select(Provider).where(Provider.number == number.strip()))
    if provider is None:
        raise errors.NotFound("No provider has that number.")
    return provider


def bookable_vouchers(entrepreneur_id: int, now: datetime | None = None) -> list[Voucher]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Voucher)
            .where(
                Voucher.entrepreneur_id == entrepreneur_id,
                Voucher.status == VoucherStatus.ISSUED,
                Voucher.expires_at > now,
            )
            .order_by(Voucher.expires_at, Voucher.id)
        )
    )


def book_provider(
    entrepreneur_id: int,
    provider_id: int,
    voucher_id: int | None = None,
    *,
    channel: str = Channel.USSD,
    listing_id: str | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book a provider with a voucher (the one expiring first when none is named).

    Safe under concurrency: the voucher row is locked, the provider's place is taken with a
    conditional UPDATE, and a partial unique index allows one active booking per voucher.
    """
    with unit.of_work(f"entrepreneur:{entrepreneur_id}", now) as uow:
        person = lookups.entrepreneur(entrepreneur_id)
        voucher = _voucher_to_book(person, voucher_id, provider_id, uow.now)
        provider = _provider_to_book(person, voucher, provider_id)
        before = {"status": voucher.status}
        voucher.book(uow.now)
        if not lookups.take_place(provider.id):
            raise errors.ProviderFull(provider=provider.name)
        booking = _new_booking(voucher, provider, channel, listing_id, uow.now)
        uow.flush_or(errors.VoucherAlreadyBooked())
        uow.audit(
            "voucher.booked",
            voucher,
            before,
            {
                "status": voucher.status,
                "provider_id": provider.id,
                "booking_id": booking.id,
                "switched_from": booking.switched_from_id,
            },
        )
        _tell_booked(uow, person, provider, voucher, booking.trainee_no)
    return booking


def _voucher_to_book(
    person: Entrepreneur, voucher_id: int | None, provider_id: int, now: datetime
) -> Voucher:
    """The person's voucher, locked: the one named, else the first to expire."""
    if voucher_id is None:
        candidates = bookable_vouchers(person.id, now)
        if not candidates:
            raise errors.VoucherNotUsable("You have no voucher free to book with.")
        voucher_id = candidates[0].id
    voucher = lookups.lock_voucher(voucher_id)
    if voucher.entrepreneur_id != person.id:
        raise errors.NotFound("No such voucher.")
    if voucher.status == VoucherStatus.BOOKED and _booked_with(voucher.id) == provider_id:
        # Booked with this very provider meanwhile (another channel, or this answer's first run).
        raise errors.AlreadyBookedWithProvider()
    return voucher


def _provider_to_book(person: Entrepreneur, voucher: Voucher, provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise errors.NotFound("No such provider.")
    provider.ensure_bookable(person.trade_code)
    if not voucher.programme.accepts(person.trade_code, provider.region_code):
        raise errors.ProviderNotBookable(
            "This provider is not part of your voucher's programme.", provider=provider.name
        )
    return provider


def _new_booking(
    voucher: Voucher, provider: Provider, channel: str, listing_id: str | None, now: datetime
) -> Booking:
    """The voucher's new booking, which names the booking it replaces (a switch)."""
    switched_from = db.session.scalar(
        sa.select(Booking.id)
        .where(Booking.voucher_id == voucher.id, Booking.status == BookingStatus.CANCELLED)
        .order_by(Booking.id.desc())
        .limit(1)
    )
    booking = Booking(
        voucher_id=voucher.id,
        provider_id=provider.id,
        programme_id=voucher.programme_id,
        provider_kind=provider.kind,
        status=BookingStatus.ACTIVE,
        channel=channel,
        listing_id=listing_id,
        switched_from_id=switched_from,
        trainee_no=_next_trainee_no(provider.id),
        created_at=now,
    )
    db.session.add(booking)
    return booking


def _next_trainee_no(provider_id: int) -> int:
    """The provider's next short trainee number (`REC 3 60`). Read after the provider's place was
    taken (`take_place` updated its row): concurrent bookings of one provider wait for each
    other's commit here, and the unique (provider, number) backs it."""
    last = db.session.scalar(
        sa.select(sa.func.max(Booking.trainee_no)).where(Booking.provider_id == provider_id)
    )
    return int(last or 0) + 1


def _tell_booked(
    uow: unit.UnitOfWork,
    person: Entrepreneur,
    provider: Provider,
    voucher: Voucher,
    trainee_no: int,
) -> None:
    uow.sms(
        person.phone,
        "booking_made_entrepreneur",
        person.language,
        provider=provider.name,
        number=provider.number,
        phone=provider.phone,
        code=format_voucher_code(voucher.code),
    )
    language = outbox.provider_language(provider)
    uow.sms(
        provider.phone,
        "booking_made_provider",
        language,
        name=person.first_name,
        phone=person.phone,
        trade=reference.trade_name(person.trade_code, language),
        sessions=voucher.sessions_total,
        no=trainee_no,  # the number the mentor's USSD menu and REC name the trainee by
    )


def active_booking(entrepreneur_id: int) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking)
        .join(Voucher, Voucher.id == Booking.voucher_id)
        .where(
            Voucher.entrepreneur_id == entrepreneur_id,
            Booking.status == BookingStatus.ACTIVE,
            Voucher.status == VoucherStatus.BOOKED,
        )
        .order_by(Booking.created_at.desc())
        .limit(1)
    )


def _booked_with(voucher_id: int) -> int | None:
    """The provider of the voucher's active booking."""
    return db.session.scalar(
        sa.select(Booking.provider_id).where(
            Booking.voucher_id == voucher_id, Booking.status == BookingStatus.ACTIVE
        )
    )


def cancel_booking(
    entrepreneur_id: int,
    voucher_id: int | None = None,
    *,
    booking_id: int | None = None,
    channel: str = Channel.USSD,
    now: datetime | None = None,
) -> Booking:
    """Cancel before the first confirmed session, so the entrepreneur may choose again.

    `booking_id`: the booking the person was shown and said yes to. When the voucher's active
    booking is no longer that one (cancelled meanwhile, and perhaps another mentor booked since),
    nothing is cancelled (`BookingChanged`): an answer never acts on a booking it did not show.
    """
    with unit.of_work(f"entrepreneur:{entrepreneur_id}", now) as uow:
        if voucher_id is None:
            current = active_booking(entrepreneur_id)
            if current is None:
                raise errors.CannotCancel("You have no booking that can be cancelled.")
            voucher_id = current.voucher_id
        voucher = lookups.lock_voucher(voucher_id)
        if voucher.entrepreneur_id != entrepreneur_id:
            raise errors.NotFound("No such voucher.")
        booking = _active_booking_locked(voucher)
        if booking_id is not None and (booking is None or booking.id != booking_id):
            raise errors.BookingChanged(booking_id=booking_id)
        if booking is None:
            raise errors.CannotCancel("This voucher has no booking.")
        # A session the mentor recorded is answered first (a NO sends it to review), so that a
        # session that happened is never left unpaid by a switch, nor paid to a mentor left behind.
        waiting = _unanswered_session(booking.id)
        if waiting is not None:
            raise errors.SessionAwaitsAnswer(ref=waiting, provider=booking.provider.name)
        before = {"status": voucher.status, "booking_id": booking.id}
        voucher.cancel_booking(uow.now)
        booking.cancel(uow.now)
        lookups.free_place(booking.provider_id)
        uow.audit(
            "voucher.booking_cancelled",
            voucher,
            before,
            {"status": voucher.status, "channel": channel},
        )
        provider = booking.provider
        uow.sms(
            provider.phone,
            "booking_cancelled_provider",
            outbox.provider_language(provider),
            name=voucher.entrepreneur.first_name,
        )
    return booking


def _active_booking_locked(voucher: Voucher) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.voucher_id == voucher.id, Booking.status == BookingStatus.ACTIVE)
        .with_for_update(of=Booking)
    )


def _unanswered_session(booking_id: int) -> str | None:
    """The ref of a session of the booking that waits for the entrepreneur's answer."""
    return db.session.scalar(
        sa.select(TrainingSession.ref)
        .where(
            TrainingSession.booking_id == booking_id,
            TrainingSession.status == SessionStatus.RECORDED,
        )
        .order_by(TrainingSession.id)
        .limit(1)
    )
