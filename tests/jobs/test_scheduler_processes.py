"""Real `flask scheduler` processes on PostgreSQL: two started at once run each job once per period,
and a run whose process is killed mid-run is taken over by another after its lease."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.domain.jobs import JobRun
from marketplace.domain.models import AuditEvent, Voucher, VoucherStatus
from marketplace.extensions import db
from marketplace.services import scheduler as jobs

ROOT = Path(__file__).resolve().parents[2]


def scheduler_env(folder: Path, **schedules: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULE")}
    env.update(
        APP_ENV="development",
        DATABASE_URL=os.environ["TEST_DATABASE_URL"],
        SMS_BACKEND="console",
        SCHEDULER_TICK_SECONDS="0.2",
        AUDIT_CHECKPOINT_PATH=str(folder / "audit-checkpoints.log"),
    )
    for name in jobs.JOB_NAMES:
        env[jobs.setting_name(name)] = schedules.get(name.replace("-", "_"), "off")
    return env


@contextmanager
def schedulers(env: dict[str, str], n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(n)
    ]
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def all_runs() -> list[JobRun]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(JobRun).order_by(JobRun.id)))


def wait_for(condition, seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_two_schedulers_started_at_once_run_each_job_once_per_period(postgres, tmp_path):
    env = scheduler_env(
        tmp_path,
        expire_vouchers="2s",
        lapse_sessions="2s",
        audit_verify="3s",
        check_stats="2s",
        prune="2s",
    )
    with schedulers(env, 2) as procs:
        wait_for(lambda: len({r.period_at for r in all_runs() if r.job == "lapse-sessions"}) >= 4)
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            assert p.wait(timeout=20) == 0  # stops cleanly on TERM

    runs = all_runs()
    per_period = Counter((r.job, r.period_at) for r in runs)
    assert max(per_period.values()) == 1, per_period.most_common(3)
    assert {r.outcome for r in runs} == {"succeeded"}
    assert {r.attempt for r in runs} == {1}
    for name in ("expire-vouchers", "lapse-sessions", "audit-verify", "check-stats", "prune"):
        assert sum(1 for r in runs if r.job == name) >= 2, name


def test_a_run_killed_mid_run_is_taken_over_after_its_lease(postgres, build, tmp_path):
    voucher = build.voucher(now=datetime.now(UTC) - timedelta(days=100))  # expired 10 days ago
    env = scheduler_env(tmp_path, expire_vouchers="1d") | {"SCHEDULER_LEASE_SECONDS": "3"}
    holder = db.engine.connect()
    try:
        # An officer's transaction holds the voucher: the job waits on it, mid-run.
        holder.execute(sa.select(Voucher.id).where(Voucher.id == voucher.id).with_for_update())
        with schedulers(env, 1) as (first,):
            wait_for(lambda: any(r.outcome == "running" for r in all_runs()))
            time.sleep(1.5)  # its lease is renewed meanwhile
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        holder.rollback()
    finally:
        holder.close()
    killed_at = time.monotonic()

    with schedulers(env, 1):
        wait_for(lambda: any(r.outcome == "succeeded" for r in all_runs()))
    taken_after = time.monotonic() - killed_at

    killed, taken = all_runs()
    assert (killed.outcome, killed.attempt) == ("abandoned", 1)
    assert (taken.outcome, taken.attempt, taken.counts) == ("succeeded", 2, {"expired": 1})
    assert taken.period_at == killed.period_at and taken.instance != killed.instance
    assert taken_after < 30
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == VoucherStatus.EXPIRED
    expired_events = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "voucher.expired")
    )
    assert expired_events == 1


@pytest.fixture(autouse=True)
def _no_stray_runs(app):
    yield
    db.session.rollback()
