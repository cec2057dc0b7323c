"""Vouchers and the bookings made with them, and the impressions of the providers listed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import errors
from ..base import Base, enum_check
from ..money import format_minor, session_share
from .people import Entrepreneur
from .programmes import Programme
from .providers import Provider


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


class Channel(StrEnum):
    USSD = "ussd"
    SMS = "sms"
    WEB = "web"
    API = "api"
    CLI = "cli"


ACTIVE_VOUCHER_STATUSES = (VoucherStatus.ISSUED, VoucherStatus.BOOKED, VoucherStatus.IN_PROGRESS)


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
    # The entrepreneur's share, paid to the provider directly (the programme's co-payment percent
    # of the value when issued), and when and by whom it was recorded received.
    co_payment_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    co_payment_recorded_at: Mapped[datetime | None]
    co_payment_recorded_by: Mapped[str | None] = mapped_column(sa.String(120))
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

    @property
    def co_payment_recorded(self) -> bool:
        return self.co_payment_recorded_at is not None

    @property
    def co_payment_due(self) -> bool:
        """The programme takes the co-payment before the first session, and it is not recorded."""
        return (
            self.programme.co_payment_required
            and self.co_payment_minor > 0
            and not self.co_payment_recorded
        )

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
        if self.co_payment_due:
            raise errors.CoPaymentDue(
                "Record the trainee's co-payment received before the first session.",
                share=format_minor(self.co_payment_minor, self.currency),
            )

    def record_co_payment(self, actor: str, now: datetime) -> None:
        """The provider says the entrepreneur paid their share: once, while the voucher is in
        use (booked, in training) or just completed."""
        if self.co_payment_minor <= 0:
            raise errors.NoCoPayment()
        if self.co_payment_recorded:
            raise errors.CoPaymentAlreadyRecorded()
        if self.status not in (
            VoucherStatus.BOOKED,
            VoucherStatus.IN_PROGRESS,
            VoucherStatus.COMPLETED,
        ):
            raise errors.IllegalTransition("The voucher is not booked.")
        self.co_payment_recorded_at = now
        self.co_payment_recorded_by = actor

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
        sa.Index("ix_bookings_voucher", "voucher_id"),
        # The short number a mentor types for this trainee (REC 3 60, the USSD list's "#3"):
        # numbered per provider in booking order, never reused.
        sa.UniqueConstraint("provider_id", "trainee_no", name="uq_bookings_provider_trainee_no"),
        sa.CheckConstraint("trainee_no > 0", name="trainee_no_positive"),
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
    trainee_no: Mapped[int]
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
    __table_args__ = (
        sa.Index("ix_impressions_programme_shown", "programme_id", "shown_at"),
        sa.Index("ix_impressions_entrepreneur", "entrepreneur_id"),
    )

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
