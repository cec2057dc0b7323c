"""Programmes: a funder's budget, what its vouchers are worth and who is eligible."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .. import limits
from ..base import Base, JSONType
from ..money import Money

DEFAULT_TIME_ZONE = "Africa/Nairobi"


class PayoutSchedule(StrEnum):
    """How often a programme's providers are paid for their confirmed sessions."""

    DAILY = "daily"
    WEEKLY = "weekly"  # on Mondays


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
        sa.CheckConstraint(
            f"payout_schedule IN ({', '.join(repr(s.value) for s in PayoutSchedule)})",
            name="payout_schedule",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(limits.NAME_MAX), unique=True)
    funder: Mapped[str] = mapped_column(sa.String(limits.NAME_MAX), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    voucher_value_minor: Mapped[int] = mapped_column(sa.BigInteger)
    sessions_per_voucher: Mapped[int]
    co_payment_percent: Mapped[int] = mapped_column(default=0)
    # The co-payment is recorded received before the first session can be recorded.
    co_payment_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    validity_days: Mapped[int]
    budget_minor: Mapped[int] = mapped_column(sa.BigInteger)
    # Face value of vouchers issued, less what expiry and revocation returned.
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    confirmation_window_hours: Mapped[int] = mapped_column(default=72)
    # Where the programme runs: its days (a session's date, "today") are this zone's days.
    time_zone: Mapped[str] = mapped_column(
        sa.String(40), default=DEFAULT_TIME_ZONE, server_default=DEFAULT_TIME_ZONE
    )
    eligible_trades: Mapped[list[str]] = mapped_column(JSONType, default=list)
    eligible_regions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime]
    # How often its providers are paid for their confirmed sessions: every day, or on Mondays.
    payout_schedule: Mapped[str] = mapped_column(
        sa.String(10), default="daily", server_default="daily"
    )

    @property
    def available_minor(self) -> int:
        return self.budget_minor - self.committed_minor

    def voucher_value(self) -> Money:
        return Money(self.voucher_value_minor, self.currency)

    def accepts(self, trade: str, region: str) -> bool:
        trades_ok = not self.eligible_trades or trade in self.eligible_trades
        regions_ok = not self.eligible_regions or region in self.eligible_regions
        return trades_ok and regions_ok

    def local_date(self, moment: datetime) -> date:
        """The day it is (or was) at `moment` where the programme runs."""
        return moment.astimezone(ZoneInfo(self.time_zone or DEFAULT_TIME_ZONE)).date()
