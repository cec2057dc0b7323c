"""Training sessions recorded by providers and confirmed by entrepreneurs, their codes, ratings."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import errors
from ..base import Base, JSONType, enum_check
from .providers import Provider
from .vouchers import Booking, Voucher


class SessionStatus(StrEnum):
    RECORDED = "recorded"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    LAPSED = "lapsed"


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
        # Behind the rules that judge a day: a provider's (a person's) sessions of a day, and the
        # trainees a provider saw over the days before it.
        sa.Index(
            "ix_training_sessions_provider_day", "provider_id", "delivered_on", "entrepreneur_id"
        ),
        # The review queue: held sessions (and disputed ones, by the index above), oldest first.
        sa.Index("ix_training_sessions_held", "held", "recorded_at"),
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
    starts_at: Mapped[time | None] = mapped_column(sa.Time)  # local time the session began
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
    # Kept from payouts until an officer decides (the flags say why).
    held: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str] = mapped_column(sa.String(500), default="")

    booking: Mapped[Booking] = relationship(lazy="joined", innerjoin=True)
    voucher: Mapped[Voucher] = relationship(lazy="joined", innerjoin=True)
    provider: Mapped[Provider] = relationship(lazy="joined", innerjoin=True)

    @classmethod
    def payable(cls) -> sa.ColumnElement[bool]:
        """Confirmed, in no payout yet, and not held: a held session (a shared phone, a day no
        person could work …) waits until an officer cleared it. The one test of "may be paid"."""
        return sa.and_(
            cls.status == SessionStatus.CONFIRMED,
            cls.payout_id.is_(None),
            cls.held.is_(False),
        )

    @classmethod
    def waiting_for_review(cls) -> sa.ColumnElement[bool]:
        """Held, or disputed and not yet decided: what the officers' review queue shows."""
        return sa.or_(
            cls.held.is_(True),
            sa.and_(cls.status == SessionStatus.DISPUTED, cls.reviewed_at.is_(None)),
        )

    def flag(self, *names: str) -> bool:
        """Adds the flags it lacks and holds the session (unless it was paid already, when the
        flags stay as evidence). True when something was added."""
        new = [n for n in names if n not in (self.flags or [])]
        if not new:
            return False
        self.flags = [*(self.flags or []), *new]
        if self.payout_id is None and self.status in (
            SessionStatus.RECORDED,
            SessionStatus.CONFIRMED,
        ):
            self.held = True
            self.reviewed_at = None
        return True

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
        self.held = False  # the officer looked at the whole of it

    def uphold_dispute(self, now: datetime, note: str) -> None:
        if self.status != SessionStatus.DISPUTED or self.reviewed_at is not None:
            raise errors.IllegalTransition("Only an unreviewed disputed session can be upheld.")
        self.reviewed_at = now
        self.review_note = note
        self.held = False  # never paid: nothing is left to hold

    def clear_flags(self, now: datetime, note: str) -> None:
        """The flags were checked and are unfounded. A dispute waits for its own decision
        (overturn or uphold): clearing the flags of a disputed session does not settle it."""
        if not self.flags:
            raise errors.IllegalTransition("This session has no flags to clear.")
        self.flags = []
        self.held = False
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
        sa.Index("ix_ratings_voucher", "voucher_id"),
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
