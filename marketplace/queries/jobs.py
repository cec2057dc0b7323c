"""What officers see of the periodic jobs: each job's schedule and state, and the latest runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..domain.jobs import JobRun, ScheduledJob
from ..extensions import db

RECENT_RUNS = 100


@dataclass(frozen=True)
class JobState:
    name: str
    every: timedelta | None  # None: switched off here
    outcome: str | None
    period_at: datetime | None
    finished_at: datetime | None
    last_success_at: datetime | None
    succeeded: int
    failed: int
    abandoned: int


def job_states(schedule: dict[str, timedelta | None]) -> list[JobState]:
    """Every job known here (scheduled, or with a row from an earlier run)."""
    rows = {r.name: r for r in db.session.scalars(sa.select(ScheduledJob))}
    names = list(schedule) + sorted(set(rows) - set(schedule))
    states = []
    for name in names:
        row = rows.get(name)
        states.append(
            JobState(
                name=name,
                every=schedule.get(name),
                outcome=row.outcome if row else None,
                period_at=row.period_at if row else None,
                finished_at=row.finished_at if row else None,
                last_success_at=row.last_success_at if row else None,
                succeeded=row.succeeded if row else 0,
                failed=row.failed if row else 0,
                abandoned=row.abandoned if row else 0,
            )
        )
    return states


def recent_runs(job: str | None = None, limit: int = RECENT_RUNS) -> list[JobRun]:
    query = sa.select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job:
        query = query.where(JobRun.job == job)
    return list(db.session.scalars(query))
