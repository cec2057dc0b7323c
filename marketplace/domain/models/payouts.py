"""Money paid to providers: payout runs and their payouts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import errors
from ..base import Base, enum_check
from .providers import Provider


class PayoutStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"


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
