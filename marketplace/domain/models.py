"""The marketplace's models and the rules that govern their states.

Every change of state is a method that refuses an illegal move with a named domain error; nothing sets
a `status` field from outside. Rules that concurrency could break are also backed by database
constraints (partial unique indexes, check constraints), which the services turn into domain errors.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import errors, limits
from .base import Base, enum_check
from .money import Money, session_share

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# --------------------------------------------------------------------------- enums


class ProviderKind(StrEnum):
    CRAFT_WORKER = "craft_worker"
    INSTITUTE = "institute"


class ProviderStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"


class VoucherStatus(StrEnum):
    ISSUED = "issued"
    BOOKED = "booked"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    EXPIRED = "expired"
    REVOKED = "revoked"


class BookingStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    CLOSED = "closed"  # the voucher expired or was revoked while booked


class SessionStatus(StrEnum):
    RECORDED = "recorded"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    LAPSED = "lapsed"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class Language(StrEnum):
    EN = "en"
    SW = "sw"


class Channel(StrEnum):
    USSD = "ussd"
    SMS = "sms"
    WEB = "web"
    API = "api"
    CLI = "cli"


class Role(StrEnum):
    ADMIN = "admin"
    FUNDER = "funder"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting to be sent (or to be retried at next_attempt_at)
    SENT = "sent"  # accepted by the gateway
    DELIVERED = "delivered"  # final delivery report: success
    FAILED = "failed"  # permanent failure (bad number, blacklisted, retries exhausted)
    PARKED = "parked"  # account or configuration trouble: an operator must act
    # The gateway may or may not have taken it (it read the request, then timed out or dropped the
    # connection), and a second copy would not be harmless (money): an officer decides, unless a
    # delivery report settles it. Never read as sent.
    UNKNOWN = "unknown"


class PayoutStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"


ACTIVE_VOUCHER_STATUSES = (VoucherStatus.ISSUED, VoucherStatus.BOOKED, VoucherStatus.IN_PROGRESS)


# --------------------------------------------------------------------------- reference data


class Trade(Base):
    __tablename__ = "trades"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name_en: Mapped[str] = mapped_column(sa.String(80))
    name_sw: Mapped[str] = mapped_column(sa.String(80))
    aliases: Mapped[str] = mapped_column(sa.String(400), default="")  # space-separated, lower case

    def name(self, language: str) -> str:
        return self.name_sw if language == Language.SW else self.name_en


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    country: Mapped[str] = mapped_column(sa.String(2), index=True)


# --------------------------------------------------------------------------- programmes


class Programme(Base):
    __tablename__ = "programmes"
    __table_args__ = (
        sa.CheckConstraint("committed_minor >= 0", name="committed_non_negative"),
        sa.CheckConstraint("committed_minor <= budget_minor", name="within_budget"),
        sa.CheckConstraint("voucher_value_minor > 0", name="value_positive"),
        sa.CheckConstraint(
            limits.SESSIONS_PER_VOUCHER.between("sessions_per_voucher"), name="sessions_range"
        ),
        sa.CheckConstraint(
            limits.CO_PAYMENT_PERCENT.between("co_payment_percent"), name="co_payment_range"
        ),
        sa.CheckConstraint("validity_days > 0", name="validity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(limits.NAME_MAX), unique=True)
    funder: Mapped[str] = mapped_column(sa.String(limits.NAME_MAX), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    voucher_value_minor: Mapped[int] = mapped_column(sa.BigInteger)
    sessions_per_voucher: Mapped[int]
    co_payment_percent: Mapped[int] = mapped_column(default=0)
    validity_days: Mapped[int]
    budget_minor: Mapped[int] = mapped_column(sa.BigInteger)
    # Face value of vouchers issued, less what expiry and revocation returned.
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    confirmation_window_hours: Mapped[int] = mapped_column(default=72)
    eligible_trades: Mapped[list[str]] = mapped_column(JSONType, default=list)
    eligible_regions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime]

    @property
    def available_minor(self) -> int:
        return self.budget_minor - self.committed_minor

    def voucher_value(self) -> Money:
        return Money(self.voucher_value_minor, self.currency)

    def accepts(self, trade: str, region: str) -> bool:
        trades_ok = not self.eligible_trades or trade in self.eligible_trades
        regions_ok = not self.eligible_regions or region in self.eligible_regions
        return trades_ok and regions_ok


# --------------------------------------------------------------------------- providers

provider_trades = sa.Table(
    "provider_trades",
    Base.metadata,
    sa.Column("provider_id", sa.ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("trade_code", sa.ForeignKey("trades.code"), primary_key=True),
    sa.Index("ix_provider_trades_trade_code", "trade_code"),
)


class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (
        enum_check("kind", "kind", ProviderKind),
        enum_check("status", "status", ProviderStatus),
        sa.CheckConstraint(f"capacity >= {limits.PROVIDER_CAPACITY.low}", name="capacity_positive"),
        sa.CheckConstraint("active_bookings >= 0", name="active_non_negative"),
        sa.CheckConstraint("active_bookings <= capacity", name="within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(8), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    town: Mapped[str] = mapped_column(sa.String(80), default="")
    capacity: Mapped[int]
    active_bookings: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(20), default=ProviderStatus.PENDING)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    # The average rating as listings sort by it (0 before the first rating), kept by the database
    # so that an index serves a listing page in the order it is shown.
    rating_rank: Mapped[float] = mapped_column(
        sa.Float,
        sa.Computed(
            "CASE WHEN rating_count > 0 THEN CAST(rating_sum AS FLOAT) / rating_count ELSE 0 END",
            persisted=True,
        ),
    )
    payout_account: Mapped[str] = mapped_column(sa.String(60), default="")
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]

    trades: Mapped[list[Trade]] = relationship(secondary=provider_trades, lazy="selectin")
    staff: Mapped[list[ProviderStaff]] = relationship(back_populates="provider")

    @property
    def trade_codes(self) -> list[str]:
        return sorted(t.code for t in self.trades)

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def has_room(self) -> bool:
        return self.active_bookings < self.capacity

    def approve(self, now: datetime) -> None:
        if self.status == ProviderStatus.APPROVED:
            raise errors.IllegalTransition("The provider is already approved.")
        self.status = ProviderStatus.APPROVED
        self.approved_at = self.approved_at or now

    def suspend(self) -> None:
        if self.status != ProviderStatus.APPROVED:
            raise errors.IllegalTransition("Only an approved provider can be suspended.")
        self.status = ProviderStatus.SUSPENDED

    def ensure_bookable(self, trade: str) -> None:
        """Refusals name the provider (`provider`), for a reply that says whom."""
        if self.status != ProviderStatus.APPROVED:
            raise errors.ProviderNotBookable(
                "This provider is not taking bookings.", provider=self.name
            )
        if trade not in self.trade_codes:
            raise errors.ProviderNotBookable(
                "This provider does not teach your trade.", provider=self.name
            )
        if not self.has_room:
            raise errors.ProviderFull(provider=self.name)


# A listing page (a trade, in an area or anywhere) reads approved providers best rated first: these
# indexes give them in that order, so a page costs a few rows whatever the number of providers.
sa.Index(
    "ix_providers_listing_region",
    Provider.region_code,
    Provider.status,
    Provider.rating_rank.desc(),
    Provider.id,
)
sa.Index("ix_providers_listing", Provider.status, Provider.rating_rank.desc(), Provider.id)


class ProviderStaff(Base):
    """A person who signs in for a provider: the craft worker themself, or an institute's staff."""

    __tablename__ = "provider_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    language: Mapped[str] = mapped_column(sa.String(2), default=Language.EN)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the signed-in session's id: signing out counts it up, which ends every session.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime]

    provider: Mapped[Provider] = relationship(back_populates="staff")


# --------------------------------------------------------------------------- entrepreneurs


class Entrepreneur(Base):
    __tablename__ = "entrepreneurs"
    __table_args__ = (
        enum_check("gender", "gender", Gender),
        enum_check("language", "language", Language),
        sa.CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    gender: Mapped[str] = mapped_column(sa.String(10))
    birth_year: Mapped[int]
    trade_code: Mapped[str] = mapped_column(sa.ForeignKey("trades.code"))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    language: Mapped[str] = mapped_column(sa.String(2), default=Language.EN)
    sms_opt_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]

    @property
    def first_name(self) -> str:
        return first_name(self.name)


def first_name(name: str) -> str:
    """What messages and screens greet a person by: the first word of the name they gave."""
    return (name.split() or [""])[0]


# --------------------------------------------------------------------------- vouchers


class Voucher(Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        enum_check("status", "status", VoucherStatus),
        sa.CheckConstraint("sessions_confirmed >= 0", name="confirmed_non_negative"),
        sa.CheckConstraint("sessions_confirmed <= sessions_total", name="within_sessions"),
        sa.CheckConstraint("value_minor > 0", name="value_positive"),
        sa.UniqueConstraint("programme_id", "import_key", name="uq_vouchers_programme_import_key"),
        sa.Index("ix_vouchers_programme_status", "programme_id", "status"),
        sa.Index("ix_vouchers_status_expires", "status", "expires_at"),
        sa.Index("ix_vouchers_programme_issued", "programme_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"))
    entrepreneur_id: Mapped[int] = mapped_column(sa.ForeignKey("entrepreneurs.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=VoucherStatus.ISSUED)
    value_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    sessions_total: Mapped[int]
    sessions_confirmed: Mapped[int] = mapped_column(default=0)
    import_key: Mapped[str | None] = mapped_column(sa.String(64))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    booked_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]  # expired or revoked
    reminder_sent_at: Mapped[datetime | None]

    programme: Mapped[Programme] = relationship(lazy="joined", innerjoin=True)
    entrepreneur: Mapped[Entrepreneur] = relationship(lazy="joined", innerjoin=True)

    # -- derived
    @property
    def sessions_left(self) -> int:
        return self.sessions_total - self.sessions_confirmed

    @property
    def redeemed_minor(self) -> int:
        return sum(
            session_share(self.value_minor, self.sessions_total, n)
            for n in range(1, self.sessions_confirmed + 1)
        )

    @property
    def unspent_minor(self) -> int:
        return self.value_minor - self.redeemed_minor

    def is_past_expiry(self, now: datetime) -> bool:
        return now >= self.expires_at

    # -- rules
    def ensure_usable(self, now: datetime) -> None:
        if self.status == VoucherStatus.REVOKED:
            raise errors.VoucherRevoked()
        if self.status == VoucherStatus.EXPIRED or self.is_past_expiry(now):
            raise errors.VoucherExpired()
        if self.status == VoucherStatus.COMPLETED:
            raise errors.VoucherFullyUsed()

    def book(self, now: datetime) -> None:
        self.ensure_usable(now)
        if self.status != VoucherStatus.ISSUED:
            raise errors.VoucherAlreadyBooked()
        self.status = VoucherStatus.BOOKED
        self.booked_at = now

    def cancel_booking(self, now: datetime) -> None:
        self.ensure_usable(now)
        if self.status != VoucherStatus.BOOKED or self.sessions_confirmed:
            raise errors.CannotCancel("Sessions have started; the booking cannot be cancelled.")
        self.status = VoucherStatus.ISSUED
        self.booked_at = None

    def ensure_can_record_session(self, now: datetime) -> None:
        self.ensure_usable(now)
        if self.status not in (VoucherStatus.BOOKED, VoucherStatus.IN_PROGRESS):
            raise errors.IllegalTransition("The voucher is not booked.")

    def confirm_session(self, now: datetime) -> int:
        """Count one more confirmed session; returns its sequence number (1-based)."""
        self.ensure_usable(now)
        if self.status not in (VoucherStatus.BOOKED, VoucherStatus.IN_PROGRESS):
            raise errors.IllegalTransition("The voucher is not booked.")
        if self.sessions_confirmed >= self.sessions_total:
            raise errors.VoucherFullyUsed()
        self.sessions_confirmed += 1
        if self.sessions_confirmed == self.sessions_total:
            self.status = VoucherStatus.COMPLETED
            self.completed_at = now
        else:
            self.status = VoucherStatus.IN_PROGRESS
        return self.sessions_confirmed

    def expire(self, now: datetime) -> int:
        """Expire past its date; returns the unspent value to hand back to the budget."""
        if self.status not in ACTIVE_VOUCHER_STATUSES:
            raise errors.IllegalTransition(f"A {self.status} voucher cannot expire.")
        if not self.is_past_expiry(now):
            raise errors.IllegalTransition("The voucher has not reached its expiry date.")
        self.status = VoucherStatus.EXPIRED
        self.ended_at = now
        return self.unspent_minor

    def revoke(self, now: datetime) -> int:
        if self.status in (VoucherStatus.COMPLETED, VoucherStatus.EXPIRED, VoucherStatus.REVOKED):
            raise errors.IllegalTransition(f"A {self.status} voucher cannot be revoked.")
        self.status = VoucherStatus.REVOKED
        self.ended_at = now
        return self.unspent_minor


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        enum_check("status", "status", BookingStatus),
        enum_check("channel", "channel", Channel),
        # The database's own word that a voucher is never booked twice at once.
        sa.Index(
            "uq_bookings_one_active_per_voucher",
            "voucher_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
        sa.Index("ix_bookings_provider_status", "provider_id", "status"),
        sa.Index("ix_bookings_programme_created", "programme_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"))
    provider_kind: Mapped[str] = mapped_column(sa.String(20))  # as it was when picked
    status: Mapped[str] = mapped_column(sa.String(20), default=BookingStatus.ACTIVE)
    channel: Mapped[str] = mapped_column(sa.String(10))
    listing_id: Mapped[str | None] = mapped_column(sa.String(36))  # the list it was picked from
    switched_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id"))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    voucher: Mapped[Voucher] = relationship(lazy="joined", innerjoin=True)
    provider: Mapped[Provider] = relationship(lazy="joined", innerjoin=True)

    def cancel(self, now: datetime) -> None:
        self._end(BookingStatus.CANCELLED, now)

    def complete(self, now: datetime) -> None:
        self._end(BookingStatus.COMPLETED, now)

    def close(self, now: datetime) -> None:
        self._end(BookingStatus.CLOSED, now)

    def _end(self, status: BookingStatus, now: datetime) -> None:
        if self.status != BookingStatus.ACTIVE:
            raise errors.IllegalTransition(f"A {self.status} booking cannot become {status}.")
        self.status = status
        self.ended_at = now


class Impression(Base):
    """One provider shown to one entrepreneur in one list: the denominator of provider choice.

    An append-only log written by every list page (with the USSD hop's store): its ids are those
    of rows just read, and no foreign key checks them on the way in (migration 0007 says why)."""

    __tablename__ = "impressions"
    __table_args__ = (sa.Index("ix_impressions_programme_shown", "programme_id", "shown_at"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    listing_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    entrepreneur_id: Mapped[int]
    programme_id: Mapped[int | None]
    provider_id: Mapped[int]
    provider_kind: Mapped[str] = mapped_column(sa.String(20))
    trade_code: Mapped[str] = mapped_column(sa.String(40))
    region_code: Mapped[str | None] = mapped_column(sa.String(40))
    position: Mapped[int]
    channel: Mapped[str] = mapped_column(sa.String(10))
    shown_at: Mapped[datetime]


# --------------------------------------------------------------------------- sessions


class TrainingSession(Base):
    """A mentoring session recorded by the mentor; it counts only once the entrepreneur confirms."""

    __tablename__ = "training_sessions"
    __table_args__ = (
        enum_check("status", "status", SessionStatus),
        sa.CheckConstraint("duration_minutes BETWEEN 1 AND 720", name="duration_range"),
        sa.CheckConstraint("sequence IS NULL OR sequence >= 1", name="sequence_positive"),
        # Never more confirmed sessions than the voucher holds: each confirmed session takes one of
        # the voucher's numbered places, and a place can be taken once.
        sa.UniqueConstraint("voucher_id", "sequence", name="uq_training_sessions_voucher_sequence"),
        sa.UniqueConstraint("entrepreneur_id", "ref", name="uq_training_sessions_entrepreneur_ref"),
        sa.Index("ix_training_sessions_provider_status", "provider_id", "status"),
        sa.Index("ix_training_sessions_status_recorded", "status", "recorded_at"),
        sa.Index("ix_training_sessions_programme_confirmed", "programme_id", "confirmed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(6))  # what the entrepreneur replies: YES 4821
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id"), index=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"))
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    entrepreneur_id: Mapped[int] = mapped_column(sa.ForeignKey("entrepreneurs.id"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider_staff.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default=SessionStatus.RECORDED)
    delivered_on: Mapped[date]
    duration_minutes: Mapped[int]
    topic: Mapped[str] = mapped_column(sa.String(200))
    outcomes: Mapped[str] = mapped_column(sa.Text, default="")
    action_points: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answered_via: Mapped[str | None] = mapped_column(sa.String(10))
    confirmed_at: Mapped[datetime | None]
    sequence: Mapped[int | None]
    value_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # released on confirmation
    currency: Mapped[str] = mapped_column(sa.String(3))
    code_attempts: Mapped[int] = mapped_column(default=0)
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payouts.id"), index=True)
    flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str] = mapped_column(sa.String(500), default="")

    booking: Mapped[Booking] = relationship(lazy="joined", innerjoin=True)
    voucher: Mapped[Voucher] = relationship(lazy="joined", innerjoin=True)
    provider: Mapped[Provider] = relationship(lazy="joined", innerjoin=True)

    @classmethod
    def payable(cls) -> sa.ColumnElement[bool]:
        """Confirmed, in no payout yet, and not held: a session with fraud flags (a shared phone,
        a confirmation seconds after recording …) waits until an officer reviewed it."""
        unflagged = sa.or_(cls.flags.is_(None), sa.cast(cls.flags, sa.String) == "[]")
        return sa.and_(
            cls.status == SessionStatus.CONFIRMED,
            cls.payout_id.is_(None),
            sa.or_(unflagged, cls.reviewed_at.is_not(None)),
        )

    def _answer(self, status: SessionStatus, now: datetime, via: str) -> None:
        if self.status != SessionStatus.RECORDED:
            raise errors.IllegalTransition(f"This session is already {self.status}.")
        self.status = status
        self.answered_at = now
        self.answered_via = via

    def confirm(self, now: datetime, via: str, sequence: int, value_minor: int) -> None:
        self._answer(SessionStatus.CONFIRMED, now, via)
        self.confirmed_at = now
        self.sequence = sequence
        self.value_minor = value_minor

    def dispute(self, now: datetime, via: str) -> None:
        self._answer(SessionStatus.DISPUTED, now, via)

    def lapse(self, now: datetime) -> None:
        self._answer(SessionStatus.LAPSED, now, "system")

    def check_overturnable(self) -> None:
        if self.status != SessionStatus.DISPUTED or self.reviewed_at is not None:
            raise errors.IllegalTransition("Only an unreviewed disputed session can be overturned.")

    def overturn_dispute(self, now: datetime, sequence: int, value_minor: int, note: str) -> None:
        """An officer found the disputed session did happen: it counts after all."""
        self.check_overturnable()
        self.status = SessionStatus.CONFIRMED
        self.confirmed_at = now
        self.sequence = sequence
        self.value_minor = value_minor
        self.reviewed_at = now
        self.review_note = note

    def uphold_dispute(self, now: datetime, note: str) -> None:
        if self.status != SessionStatus.DISPUTED or self.reviewed_at is not None:
            raise errors.IllegalTransition("Only an unreviewed disputed session can be upheld.")
        self.reviewed_at = now
        self.review_note = note

    def clear_flags(self, now: datetime, note: str) -> None:
        """The flags were checked and are unfounded. A dispute waits for its own decision
        (overturn or uphold): clearing the flags of a disputed session does not settle it."""
        if not self.flags:
            raise errors.IllegalTransition("This session has no flags to clear.")
        self.flags = []
        self.review_note = note
        if self.status != SessionStatus.DISPUTED:
            self.reviewed_at = now


class ConfirmationCode(Base):
    """A one-time code the entrepreneur tells the mentor, shown by USSD 'Confirm a session'."""

    __tablename__ = "confirmation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entrepreneur_id: Mapped[int] = mapped_column(sa.ForeignKey("entrepreneurs.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)

    def is_live(self, now: datetime, max_attempts: int) -> bool:
        return self.used_at is None and now < self.expires_at and self.attempts < max_attempts


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        sa.Index(
            "uq_ratings_voucher_once",
            "voucher_id",
            unique=True,
            sqlite_where=sa.text("session_id IS NULL"),
            postgresql_where=sa.text("session_id IS NULL"),
        ),
        sa.UniqueConstraint("session_id", name="uq_ratings_session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_sessions.id"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    entrepreneur_id: Mapped[int] = mapped_column(sa.ForeignKey("entrepreneurs.id"))
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    provider_kind: Mapped[str] = mapped_column(sa.String(20))
    stars: Mapped[int]
    channel: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime]


# --------------------------------------------------------------------------- payouts


class PayoutRun(Base):
    __tablename__ = "payout_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(sa.String(120))
    total_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    payouts: Mapped[list[Payout]] = relationship(back_populates="run", order_by="Payout.id")


class Payout(Base):
    """One provider's statement in a payout run."""

    __tablename__ = "payouts"
    __table_args__ = (
        enum_check("status", "status", PayoutStatus),
        sa.UniqueConstraint("run_id", "provider_id", name="uq_payouts_run_provider"),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("payout_runs.id"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    sessions_count: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(10), default=PayoutStatus.PENDING)
    reference: Mapped[str | None] = mapped_column(sa.String(80))
    paid_at: Mapped[datetime | None]

    run: Mapped[PayoutRun] = relationship(back_populates="payouts")
    provider: Mapped[Provider] = relationship(lazy="joined", innerjoin=True)

    def mark_paid(self, reference: str, now: datetime) -> None:
        if self.status == PayoutStatus.PAID:
            raise errors.IllegalTransition("This payout is already marked paid.")
        if not reference.strip():
            raise errors.InvalidInput("A payment reference is required.")
        self.status = PayoutStatus.PAID
        self.reference = reference.strip()
        self.paid_at = now


# --------------------------------------------------------------------------- people who sign in


class StaffUser(Base):
    """Programme officers (admin) and funders' staff (funder) who use the web pages."""

    __tablename__ = "staff_users"
    __table_args__ = (enum_check("role", "role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(sa.String(10))
    funder: Mapped[str | None] = mapped_column(sa.String(120))  # a funder sees its programmes only
    active: Mapped[bool] = mapped_column(default=True)
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")  # as ProviderStaff's
    created_at: Mapped[datetime]


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (enum_check("role", "role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    prefix: Mapped[str] = mapped_column(sa.String(12), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(10))
    funder: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LoginCode(Base):
    """A one-time sign-in code sent by SMS to a mentor's phone."""

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
    requested_from: Mapped[str] = mapped_column(sa.String(64), default="")


class LoginCodeGuess(Base):
    """One guess of a mentor's sign-in code, kept while it counts towards its address's limit.

    Written before the code is looked at, so every app server sees it; `refused` marks a guess
    turned away by the limit without a look (it does not count again). A right guess deletes its
    row: only wrong guesses count.
    """

    __tablename__ = "login_code_guesses"
    __table_args__ = (
        sa.Index("ix_login_code_guesses_address_at", "address", "attempted_at"),
        sa.Index("ix_login_code_guesses_attempted_at", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(64))
    attempted_at: Mapped[datetime]
    refused: Mapped[bool] = mapped_column(default=False)


class StaffSignInAttempt(Base):
    """One password sign-in attempt on the staff page, kept while it counts towards a lockout.

    A row is written before the password is checked, so every app server sees it; `refused` marks
    an attempt turned away by the lockout without a password check (it does not count again). A
    successful sign-in deletes the rows of its e-mail address.
    """

    __tablename__ = "staff_signin_attempts"
    __table_args__ = (
        sa.Index("ix_staff_signin_attempts_email_at", "email", "attempted_at"),
        sa.Index("ix_staff_signin_attempts_address_at", "address", "attempted_at"),
        sa.Index("ix_staff_signin_attempts_attempted_at", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(64))
    attempted_at: Mapped[datetime]
    refused: Mapped[bool] = mapped_column(default=False)


# --------------------------------------------------------------------------- audit


class AuditEvent(Base):
    """Append-only, hash-chained: each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(60))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str] = mapped_column(sa.String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


# --------------------------------------------------------------------------- SMS


class OutboxMessage(Base):
    """An SMS to send, written in the same transaction as the change that caused it."""

    __tablename__ = "sms_outbox"
    __table_args__ = (
        enum_check("status", "status", OutboxStatus),
        # The worker's claim (status, then due time) and the backlog's figures (a count per
        # status, the oldest created_at) are both answered from this index alone.
        sa.Index("ix_sms_outbox_due", "status", "next_attempt_at", "created_at"),
        sa.Index("ix_sms_outbox_to_phone", "to_phone", "id"),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    to_phone: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.String(1600))
    kind: Mapped[str] = mapped_column(sa.String(40))  # template name: voucher_issued, login_code …
    segments: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(12), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    gateway_message_id: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    delivery_status: Mapped[str | None] = mapped_column(sa.String(20))
    delivery_updated_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(300))

    def schedule_retry(self, now: datetime, error: str, max_attempts: int) -> None:
        self.last_error = error[:300]
        if self.attempts >= max_attempts:
            self.status = OutboxStatus.FAILED
            return
        backoff = min(2**self.attempts * 15, 3600)
        self.next_attempt_at = now + timedelta(seconds=backoff)
        self.status = OutboxStatus.PENDING

    @staticmethod
    def requeued(now: datetime) -> dict[str, Any]:
        """What sending a message again (same text) sets: due now, a fresh count of attempts, and
        nothing of the last send (a late report for it must not be read as this send's)."""
        return {
            "status": OutboxStatus.PENDING.value,
            "next_attempt_at": now,
            "attempts": 0,
            "sent_at": None,
            "gateway_message_id": None,
            "delivery_status": None,
            "delivery_updated_at": None,
            "last_error": None,
        }


# The states of a message that went out: sending it again needs an operator's explicit choice.
OUTBOX_WENT_OUT = frozenset({OutboxStatus.SENT, OutboxStatus.DELIVERED})
# A pending message is queued already (perhaps being sent right now): it is never requeued.
OUTBOX_QUEUED = frozenset({OutboxStatus.PENDING})


def outbox_backlog_states() -> list[OutboxStatus]:
    """Every state a message can wait or be stuck in: all but those that went out."""
    return [s for s in OutboxStatus if s not in OUTBOX_WENT_OUT]


def outbox_resendable_states(force: bool = False) -> list[OutboxStatus]:
    """The states an operator may send a message again from; `force` adds those that went out."""
    return [
        s for s in OutboxStatus if s not in OUTBOX_QUEUED and (force or s not in OUTBOX_WENT_OUT)
    ]


class EarlyDeliveryReport(Base):
    """A delivery report for a message id no outbox row holds yet. The gateway can report a message
    before the worker has stored its id (the request's answer is still on its way), and never
    repeats a report it had answered: kept here until the id lands, then applied and deleted.
    Reports that never match (a copy sent again after an unknown outcome) are pruned by age."""

    __tablename__ = "sms_early_reports"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    message_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    status: Mapped[str] = mapped_column(sa.String(30))
    failure_reason: Mapped[str | None] = mapped_column(sa.String(60))
    phone: Mapped[str] = mapped_column(sa.String(40))
    received_at: Mapped[datetime] = mapped_column(index=True)


class InboundSms(Base):
    """Every inbound SMS once, keyed by the gateway's id, so a re-delivery changes nothing."""

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    from_phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    to_code: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str] = mapped_column(sa.String(1000))
    received_at: Mapped[datetime]
    reply_kind: Mapped[str | None] = mapped_column(sa.String(40))


class UssdSession(Base):
    """Server-side state of one USSD session, shared by every app server; rows expire (pruned by
    age). Every hop updates its row: no index covers a column a hop changes, so the update stays on
    its page (PostgreSQL keeps room there: fillfactor 50, set by migration 0006)."""

    __tablename__ = "ussd_sessions"

    session_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    last_text: Mapped[str] = mapped_column(sa.String(400), default="")
    last_reply: Mapped[str] = mapped_column(sa.String(400), default="")
    hops: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    ended_status: Mapped[str | None] = mapped_column(sa.String(20))
    cost: Mapped[str | None] = mapped_column(sa.String(20))


# --------------------------------------------------------------------------- statistics roll-ups
# Aggregates only, rebuilt per programme by `services.stats_rollup.refresh` (never edited by hand).
# Each row is one cell: issue month, region, trade and gender of the vouchers it sums ("*" in a
# dimension: every value of it), so a filtered dashboard reads a handful of rows.


class StatsVoucherCell(Base):
    """Voucher counters of one cell, also broken down by age band (age in the year of issue)."""

    __tablename__ = "stats_voucher_cells"

    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True
    )
    issue_month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    trade_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    gender: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    age_band: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    vouchers: Mapped[int] = mapped_column(sa.BigInteger)
    people: Mapped[int] = mapped_column(sa.BigInteger)
    value_issued: Mapped[int] = mapped_column(sa.BigInteger)
    value_redeemed: Mapped[int] = mapped_column(sa.BigInteger)
    ever_booked: Mapped[int] = mapped_column(sa.BigInteger)
    status_issued: Mapped[int] = mapped_column(sa.BigInteger)
    status_booked: Mapped[int] = mapped_column(sa.BigInteger)
    status_in_progress: Mapped[int] = mapped_column(sa.BigInteger)
    status_completed: Mapped[int] = mapped_column(sa.BigInteger)
    status_expired: Mapped[int] = mapped_column(sa.BigInteger)
    status_revoked: Mapped[int] = mapped_column(sa.BigInteger)
    sessions_confirmed: Mapped[int] = mapped_column(sa.BigInteger)
    sessions_awaiting: Mapped[int] = mapped_column(sa.BigInteger)
    sessions_disputed: Mapped[int] = mapped_column(sa.BigInteger)
    sessions_lapsed: Mapped[int] = mapped_column(sa.BigInteger)
    switches: Mapped[int] = mapped_column(sa.BigInteger)
    sessions_paid: Mapped[int] = mapped_column(sa.BigInteger)
    paid_people: Mapped[int] = mapped_column(sa.BigInteger)
    paid_days_sum: Mapped[float] = mapped_column(sa.Float)
    paid_days_max: Mapped[float | None] = mapped_column(sa.Float)


class StatsEventCell(Base):
    """Counts of one subject in one cell, keyed further by `key`.

    Subjects: issued/booked/confirmed/paid (key: event month), booking/switch/impression/rating
    (key: provider kind), completed (key: provider id), days_to_booking/days_to_completion/
    payment_days (key: days in tenths, a histogram for exact medians of the rounded days).
    """

    __tablename__ = "stats_event_cells"

    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    trade_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    gender: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    issue_month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    n: Mapped[int] = mapped_column(sa.BigInteger)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    people: Mapped[int] = mapped_column(sa.BigInteger)


class StatsRefresh(Base):
    """When a programme's roll-ups were last rebuilt."""

    __tablename__ = "stats_refreshes"

    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True
    )
    refreshed_at: Mapped[datetime]
    seconds: Mapped[float] = mapped_column(sa.Float)


# The periodic jobs' rows live beside their rules; imported here so the metadata holds every table.
from .jobs import Heartbeat, JobRun, ScheduledJob  # noqa: E402, F401
