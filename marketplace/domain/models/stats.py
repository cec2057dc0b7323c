"""Statistics roll-ups: aggregates only, kept by `services.stats_rollup` (never edited by hand):
each change that moves a figure names its cells in `stats_changes`, and the drainer recounts those
cells and adds the differences; `refresh` rebuilds a programme whole (the repair and the check).
Each row is one cell: issue month, region, trade and gender of the vouchers it sums ("*" in a
dimension: every value of it), so a filtered dashboard reads a handful of rows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


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
    # Vouchers booked whose programme asked a co-payment, and those whose co-payment the mentor
    # recorded received.
    co_payment_booked: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    co_payment_recorded: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")


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


class StatsChange(Base):
    """One cell whose figures a committed change may have moved, waiting to be recounted: the
    programme, issue month, region, trade and gender of a voucher the change touched. Written in
    the change's own transaction (`services.stats_log`), deleted by the drainer that applied it."""

    __tablename__ = "stats_changes"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    programme_id: Mapped[int]
    issue_month: Mapped[str] = mapped_column(sa.String(7))
    region_code: Mapped[str] = mapped_column(sa.String(40))
    trade_code: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[str] = mapped_column(sa.String(10))
    changed_at: Mapped[datetime]


class StatsRefresh(Base):
    """When a programme's roll-ups were last rebuilt, and the time of the latest change they hold
    (`applied_at`: the dashboard's "as of")."""

    __tablename__ = "stats_refreshes"

    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True
    )
    refreshed_at: Mapped[datetime]
    seconds: Mapped[float] = mapped_column(sa.Float)
    applied_at: Mapped[datetime | None]
