"""The scheduler: every periodic job on its schedule, once per period, whatever number of instances run.

`flask scheduler` loops: each tick it writes its heartbeat and, for each job whose current period has
not been run, tries to claim the run (`domain/jobs.py` says how periods, claims and leases work).
A claim is one compare-and-set UPDATE of the job's row, in the transaction that inserts the run's
row: of two instances racing for a period, the second's UPDATE finds the row changed and claims
nothing (PostgreSQL re-reads the row it waited for; SQLite serialises writers). A unique
(job, period, attempt) backs it. While a job runs, a thread renews its lease; an instance killed
mid-run stops renewing, and after the lease another instance takes the run over (the killed run's
transaction was rolled back with its connection; every job is safe to run again). A job that
raised is recorded as failed and tried again after `retry` while its period lasts, at most
`max_attempts` runs a period. Each run is recorded: start, end, outcome, the counts the job
returned, and the error if any.

Schedules come from `SCHEDULE_<JOB>` settings (`SCHEDULE_LAPSE_SESSIONS=15m`, `off` to switch a job
off), with the defaults in `JOBS`.

An orchestrator: it calls other use cases (each job is one), which use cases never do to each other;
`demo` is the only other (tests/test_architecture.py holds both rules).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..db import dialect
from ..domain.base import utcnow
from ..domain.jobs import JobRun, RunOutcome, ScheduledJob, parse_every, period_start
from ..extensions import db
from . import (
    audit,
    heartbeat,
    housekeeping,
    payments,
    payouts,
    sessions,
    settings,
    stats_rollup,
    vouchers,
)

log = logging.getLogger(__name__)

COMPONENT = "scheduler"


class JobFailed(Exception):
    """A job found something wrong (the audit chain broken): the run is recorded as failed."""

    def __init__(self, message: str, counts: Mapping[str, int] | None = None) -> None:
        super().__init__(message)
        self.counts = dict(counts or {})


Counts = dict[str, int]


def _expire(now: datetime) -> Counts:
    return {"expired": vouchers.expire_vouchers(now)}


def _remind(now: datetime) -> Counts:
    return {"reminders": vouchers.send_expiry_reminders(now)}


def _lapse(now: datetime) -> Counts:
    return {"lapsed": sessions.lapse_sessions(now)}


def _audit_verify(now: datetime) -> Counts:
    """What `flask audit-verify` does: the keyed chain against every earlier checkpoint, then a new
    checkpoint appended outside the database."""
    result = audit.verify_and_checkpoint(db.session(), now)
    if not result.ok:
        raise JobFailed(f"audit chain broken: {result.problem}", {"verified": result.checked})
    return {"verified": result.checked, "checkpoints": result.checkpoints}


def _prune(now: datetime) -> Counts:
    return housekeeping.prune(now)


def _check_stats(now: datetime) -> Counts:
    """What `flask check-stats --repair` does: the maintained statistics against a rebuild, cell
    by cell; a difference is repaired and reported as a failure (a change that named no cell)."""
    found = stats_rollup.check_all(repair=True)
    counts = {"programmes": len(found), "differences": sum(len(f) for f in found.values())}
    if counts["differences"]:
        first = next(f[0] for f in found.values() if f)
        raise JobFailed(f"statistics differed from a rebuild (repaired): {first}", counts)
    return counts


def _pay_providers(now: datetime) -> Counts:
    """The payout schedule: statements for the programmes due (daily ones every day, weekly ones
    on Mondays), a payment queued for each (the payment worker sends them), and payments held
    for want of an approved account released where one is approved now."""
    runs = payouts.run_scheduled(now)
    channel = str(settings.get("PAYMENTS_BACKEND", "console"))
    queued = sum(payments.queue_run(run.id, channel, now=now) for run in runs)
    released = payments.release_held_without_account(now=now)
    return {"runs": len(runs), "payments": queued, "released": released}


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime], Counts]
    default_every: str
    about: str


JOBS: tuple[Job, ...] = (
    Job("expire-vouchers", _expire, "1h", "expire vouchers past their date"),
    Job("send-expiry-reminders", _remind, "1h", "remind holders of vouchers about to expire"),
    Job("lapse-sessions", _lapse, "15m", "lapse sessions left unanswered past the window"),
    Job("audit-verify", _audit_verify, "1d", "verify the audit chain and write a checkpoint"),
    Job("prune", _prune, "1h", "delete ended USSD sessions and old job runs"),
    Job(
        "check-stats",
        _check_stats,
        "1d",
        "compare the live funder statistics with a rebuild and repair any difference",
    ),
    Job("pay-providers", _pay_providers, "1d", "pay providers for their confirmed sessions"),
)
JOB_NAMES = tuple(job.name for job in JOBS)


@dataclass(frozen=True)
class Policy:
    lease: timedelta = timedelta(minutes=10)
    retry: timedelta = timedelta(minutes=5)
    max_attempts: int = 3
    tick: float = 5.0


@dataclass(frozen=True)
class Scheduled:
    job: Job
    every: timedelta


def setting_name(job: str) -> str:
    return "SCHEDULE_" + job.upper().replace("-", "_")


def schedule_from(config: Mapping[str, Any]) -> list[Scheduled]:
    """The jobs that are on, with their intervals (`SCHEDULE_<JOB>` settings over the defaults).
    A setting naming no job, or an interval that does not parse, is refused with its name."""
    given = dict(config.get("SCHEDULES") or {})
    unknown = sorted(set(given) - {setting_name(n) for n in JOB_NAMES})
    if unknown:
        raise ValueError(f"{unknown[0]} names no job (jobs: {', '.join(JOB_NAMES)})")
    schedule = []
    for job in JOBS:
        name = setting_name(job.name)
        try:
            every = parse_every(str(given.get(name, job.default_every)))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        if every is not None:
            schedule.append(Scheduled(job, every))
    return schedule


def policy_from(config: Mapping[str, Any]) -> Policy:
    return Policy(
        lease=timedelta(seconds=float(config.get("SCHEDULER_LEASE_SECONDS", 600))),
        retry=timedelta(seconds=float(config.get("SCHEDULER_RETRY_SECONDS", 300))),
        max_attempts=int(config.get("SCHEDULER_MAX_ATTEMPTS", 3)),
        tick=float(config.get("SCHEDULER_TICK_SECONDS", 5)),
    )


def ensure_rows(names: tuple[str, ...] = JOB_NAMES) -> None:
    """A row per job (the first instance to start adds them; the others find them)."""
    t: sa.Table = ScheduledJob.__table__  # type: ignore[assignment]
    with db.engine.begin() as conn:
        known = set(conn.scalars(sa.select(t.c.name)))
        for name in names:
            if name not in known:  # another instance may add it meanwhile
                conn.execute(dialect.insert_or_ignore(t).values(name=name))


# --------------------------------------------------------------------------- claiming


def _due(row: ScheduledJob, period: datetime, now: datetime, policy: Policy) -> bool:
    if row.lease_until is not None and row.lease_until >= now:
        return False  # a run is under way (in this period or, running long, the last one)
    if row.period_at is None or row.period_at < period:
        return True
    if row.attempts >= policy.max_attempts:
        return False
    if row.outcome == RunOutcome.RUNNING:
        return True  # its lease ran out: the instance running it stopped
    return (
        row.outcome == RunOutcome.FAILED
        and row.finished_at is not None
        and row.finished_at + policy.retry <= now
    )


def claim(job: str, every: timedelta, instance: str, now: datetime, policy: Policy) -> int | None:
    """Claim this period's run of `job` for `instance`; the new run's id, or None when it is not
    due or another instance claimed it first. One transaction."""
    period = period_start(now, every)
    row = db.session.get(ScheduledJob, job, populate_existing=True)
    if row is None or not _due(row, period, now, policy):
        db.session.rollback()
        return None
    seen_run, seen_outcome, seen_period = row.run_id, row.outcome, row.period_at
    attempt = row.attempts + 1 if row.period_at == period else 1
    db.session.expunge(row)
    try:
        run = JobRun(
            job=job,
            period_at=period,
            attempt=attempt,
            instance=instance,
            started_at=now,
            outcome=RunOutcome.RUNNING,
            counts={},
        )
        db.session.add(run)
        db.session.flush()
        t: sa.Table = ScheduledJob.__table__  # type: ignore[assignment]
        won = db.session.execute(
            sa.update(t)
            .where(
                t.c.name == job,
                t.c.run_id.is_not_distinct_from(seen_run),
                t.c.outcome.is_not_distinct_from(seen_outcome),
                t.c.period_at.is_not_distinct_from(seen_period),
                sa.or_(t.c.lease_until.is_(None), t.c.lease_until < now),
            )
            .values(
                period_at=period,
                attempts=attempt,
                run_id=run.id,
                lease_until=now + policy.lease,
                outcome=RunOutcome.RUNNING.value,
                finished_at=None,
                abandoned=t.c.abandoned + (1 if seen_outcome == RunOutcome.RUNNING else 0),
            )
        ).rowcount  # type: ignore[attr-defined]
        if not won:
            db.session.rollback()
            return None
        if seen_outcome == RunOutcome.RUNNING and seen_run is not None:
            db.session.execute(
                sa.update(JobRun)
                .where(JobRun.id == seen_run, JobRun.outcome == RunOutcome.RUNNING)
                .values(
                    outcome=RunOutcome.ABANDONED.value,
                    finished_at=now,
                    detail="its lease ran out: the instance running it stopped",
                )
            )
        db.session.commit()
        return run.id
    except IntegrityError:  # the same (job, period, attempt) claimed at the same moment
        db.session.rollback()
        return None


def renew(job: str, run_id: int, until: datetime) -> bool:
    """Move the run's lease on (from the thread that watches a running job)."""
    with db.engine.begin() as conn:
        t: sa.Table = ScheduledJob.__table__  # type: ignore[assignment]
        result = conn.execute(
            sa.update(t).where(t.c.name == job, t.c.run_id == run_id).values(lease_until=until)
        )
        return bool(result.rowcount)


def finish(
    job: str,
    run_id: int,
    outcome: RunOutcome,
    now: datetime,
    counts: Mapping[str, int],
    detail: str | None = None,
) -> None:
    """Record how the run ended; its job's row too, unless the run was taken over meanwhile."""
    db.session.rollback()
    db.session.execute(
        sa.update(JobRun)
        .where(JobRun.id == run_id)
        .values(
            outcome=outcome.value,
            finished_at=now,
            counts=dict(counts),
            detail=(detail or None) and str(detail)[:500],
        )
    )
    t: sa.Table = ScheduledJob.__table__  # type: ignore[assignment]
    values: dict[str, Any] = {"lease_until": None, "outcome": outcome.value, "finished_at": now}
    if outcome == RunOutcome.SUCCEEDED:
        values |= {"succeeded": t.c.succeeded + 1, "last_success_at": now}
    else:
        values |= {"failed": t.c.failed + 1}
    db.session.execute(sa.update(t).where(t.c.name == job, t.c.run_id == run_id).values(**values))
    db.session.commit()


# --------------------------------------------------------------------------- running


class _LeaseKeeper:
    """While a job runs: renews its lease (every third of it, at most every 15 s) and writes the
    scheduler's heartbeat, which a long job would otherwise hold up."""

    def __init__(self, app: Any, job: str, run_id: int, lease: timedelta, instance: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(app, job, run_id, lease, instance),
            daemon=True,
            name=f"lease {job}",
        )

    def _run(self, app: Any, job: str, run_id: int, lease: timedelta, instance: str) -> None:
        with app.app_context():
            while not self._stop.wait(min(lease.total_seconds() / 3, 15.0)):
                try:
                    heartbeat.beat(COMPONENT, instance)
                    if not renew(job, run_id, utcnow() + lease):
                        log.warning(
                            "job %s: run %s was taken over by another instance", job, run_id
                        )
                        return
                except Exception:  # the next renewal tries again; the lease has room for it
                    log.exception("job %s: could not renew the lease", job)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def run_job(
    scheduled: Scheduled,
    instance: str,
    policy: Policy,
    clock: Callable[[], datetime] = utcnow,
) -> int | None:
    """Run the job if its period is due and this instance claims it; the run's id, or None."""
    from flask import current_app

    job = scheduled.job
    run_id = claim(job.name, scheduled.every, instance, clock(), policy)
    if run_id is None:
        return None
    started = time.monotonic()
    log.info("job %s started (run %s)", job.name, run_id)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with _LeaseKeeper(app, job.name, run_id, policy.lease, instance):
            counts = job.run(clock())
    except JobFailed as exc:
        db.session.rollback()
        log.error("job %s failed: %s", job.name, exc)
        finish(job.name, run_id, RunOutcome.FAILED, clock(), exc.counts, str(exc))
        return run_id
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s failed", job.name)
        detail = f"{type(exc).__name__}: {exc}"
        finish(job.name, run_id, RunOutcome.FAILED, clock(), {}, detail)
        return run_id
    finish(job.name, run_id, RunOutcome.SUCCEEDED, clock(), counts)
    log.info("job %s succeeded in %.1f s: %s", job.name, time.monotonic() - started, counts)
    return run_id


def tick(
    schedule: list[Scheduled],
    instance: str,
    policy: Policy,
    clock: Callable[[], datetime] = utcnow,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[int]:
    """One pass: the heartbeat, then every due job this instance claims. The runs' ids."""
    heartbeat.beat(COMPONENT, instance, clock())
    ran = []
    for scheduled in schedule:
        if should_stop():
            break
        run_id = run_job(scheduled, instance, policy, clock)
        if run_id is not None:
            ran.append(run_id)
    return ran


def run_forever(
    schedule: list[Scheduled],
    policy: Policy,
    should_stop: Callable[[], bool],
    instance: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    instance = instance or heartbeat.instance_name()
    ensure_rows()
    log.info(
        "scheduler %s started: %s",
        instance,
        ", ".join(f"{s.job.name} every {s.every}" for s in schedule) or "no job switched on",
    )
    while not should_stop():
        try:
            tick(schedule, instance, policy, should_stop=should_stop)
        except Exception:  # the database went away, say: log it and keep going
            log.exception("scheduler: the tick failed; trying again shortly")
            db.session.rollback()
        waited = 0.0
        while waited < policy.tick and not should_stop():
            step = min(0.2, policy.tick - waited)
            sleep(step)
            waited += step
    log.info("scheduler %s stopped", instance)
