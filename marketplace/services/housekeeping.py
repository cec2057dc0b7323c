"""Housekeeping: rows that have served their purpose are deleted, so tables stay small."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..domain.base import utcnow
from ..domain.jobs import JobRun, RunOutcome
from ..domain.models import UssdSession
from ..extensions import db

# The gateway ends a USSD session within minutes; its row is of no use after this.
USSD_SESSION_KEEP = timedelta(minutes=30)
# Job runs stay this long for officers to look back on (the job rows keep the totals).
JOB_RUN_KEEP = timedelta(days=30)


def prune_ussd_sessions(now: datetime | None = None, keep: timedelta = USSD_SESSION_KEEP) -> int:
    """Delete USSD sessions that started longer ago than the gateway lets a session last; new
    sessions then reuse their space, so the table stays small and stops growing. One commit."""
    cutoff = (now or utcnow()) - keep
    result = db.session.execute(sa.delete(UssdSession).where(UssdSession.created_at < cutoff))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_job_runs(now: datetime | None = None, keep: timedelta = JOB_RUN_KEEP) -> int:
    """Delete finished job runs older than `keep`. One commit."""
    cutoff = (now or utcnow()) - keep
    result = db.session.execute(
        sa.delete(JobRun).where(JobRun.started_at < cutoff, JobRun.outcome != RunOutcome.RUNNING)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune(now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    return {"ussd_sessions": prune_ussd_sessions(now), "job_runs": prune_job_runs(now)}
