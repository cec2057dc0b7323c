"""Periodic jobs: which period a job is due for, and the rows that claim, record and watch its runs.

Time is cut into periods of a job's interval, counted from the Unix epoch (a daily job's periods
start at midnight UTC, an hourly job's on the hour). A job runs once per period: the instance whose
conditional UPDATE moves the job's row to the period claims the run, with a lease; a run whose lease
ran out (its instance was killed or hung) is taken over; a failed run is tried again after a pause,
a few times. A scheduler that starts after everything was down finds only the current period due,
so the periods missed meanwhile come to one run, not one each.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_check

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EVERY = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class RunOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"  # its lease ran out: the instance running it stopped or hung


def parse_every(text: str) -> timedelta | None:
    """`90`, `90s`, `15m`, `1h`, `1d`; `off` (or `0`) for never. Raises ValueError otherwise."""
    if text.strip().lower() in ("off", "0", "never"):
        return None
    match = _EVERY.match(text.lower())
    if not match:
        raise ValueError(f"not an interval: {text!r} (say e.g. 90s, 15m, 1h, 1d or off)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def period_start(now: datetime, every: timedelta) -> datetime:
    """The start of the period `now` falls in."""
    return EPOCH + ((now - EPOCH) // every) * every


class ScheduledJob(Base):
    """One row per job: the period last claimed, the run holding it and its lease, and counters
    that only grow (for metrics: runs by outcome, the last success)."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    period_at: Mapped[datetime | None]  # the period last claimed
    attempts: Mapped[int] = mapped_column(default=0)  # runs started in that period
    run_id: Mapped[int | None]  # the run in that period (the latest attempt)
    lease_until: Mapped[datetime | None]  # set while a run is under way
    outcome: Mapped[str | None] = mapped_column(sa.String(12))  # of that run
    finished_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    succeeded: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    abandoned: Mapped[int] = mapped_column(default=0)


class JobRun(Base):
    """One run of a job: when, by which instance, how it ended and what it did."""

    __tablename__ = "job_runs"
    __table_args__ = (
        enum_check("outcome", "outcome", RunOutcome),
        # One run per attempt of a job's period: two instances can never both start it.
        sa.UniqueConstraint("job", "period_at", "attempt", name="uq_job_runs_job_period_attempt"),
        sa.Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(40))
    period_at: Mapped[datetime]
    attempt: Mapped[int]
    instance: Mapped[str] = mapped_column(sa.String(120))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(sa.String(12), default=RunOutcome.RUNNING)
    counts: Mapped[dict[str, Any]] = mapped_column(
        sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), default=dict
    )
    detail: Mapped[str | None] = mapped_column(sa.String(500))

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Heartbeat(Base):
    """The last sign of life of a long-running process kind (`sms-worker`, `scheduler`)."""

    __tablename__ = "heartbeats"

    component: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    instance: Mapped[str] = mapped_column(sa.String(120))
    beat_at: Mapped[datetime]
