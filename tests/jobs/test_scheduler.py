"""The scheduler runs each job once per period, records every run, takes over a run whose instance
stopped, and runs a period missed while everything was down once (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain.jobs import JobRun, ScheduledJob, parse_every, period_start
from marketplace.domain.models import SessionStatus, TrainingSession
from marketplace.extensions import db
from marketplace.services import heartbeat
from marketplace.services import scheduler as jobs
from tests.web.conftest import Web

POLICY = jobs.Policy(lease=timedelta(minutes=10), retry=timedelta(minutes=5), max_attempts=3)
T0 = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)


def job(name: str) -> jobs.Job:
    return next(j for j in jobs.JOBS if j.name == name)


def every(name: str, interval: str) -> jobs.Scheduled:
    return jobs.Scheduled(job(name), parse_every(interval) or timedelta(0))


def runs(name: str | None = None) -> list[JobRun]:
    db.session.rollback()
    query = sa.select(JobRun).order_by(JobRun.id)
    if name:
        query = query.where(JobRun.job == name)
    return list(db.session.scalars(query))


def at(moment: datetime):
    return lambda: moment


@pytest.fixture(autouse=True)
def _rows(app):
    jobs.ensure_rows()


def test_intervals_are_read_in_seconds_minutes_hours_and_days_and_off_switches_a_job_off():
    assert parse_every("90") == parse_every("90s") == timedelta(seconds=90)
    assert parse_every("15m") == timedelta(minutes=15)
    assert parse_every("1h") == timedelta(hours=1)
    assert parse_every("1d") == timedelta(days=1)
    assert parse_every("off") is None
    with pytest.raises(ValueError):
        parse_every("soon")


def test_periods_start_at_midnight_utc_for_a_daily_job_and_on_the_hour_for_an_hourly_one():
    assert period_start(T0, timedelta(days=1)) == datetime(2026, 3, 2, tzinfo=UTC)
    assert period_start(T0, timedelta(hours=1)) == datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_schedules_come_from_settings_and_a_setting_naming_no_job_is_refused():
    schedule = jobs.schedule_from(
        {"SCHEDULES": {"SCHEDULE_LAPSE_SESSIONS": "2m", "SCHEDULE_CHECK_STATS": "off"}}
    )
    by_name = {s.job.name: s.every for s in schedule}
    assert by_name["lapse-sessions"] == timedelta(minutes=2)
    assert "check-stats" not in by_name
    assert by_name["audit-verify"] == timedelta(days=1)  # the default
    with pytest.raises(ValueError, match="SCHEDULE_LAPSE_SESION"):
        jobs.schedule_from({"SCHEDULES": {"SCHEDULE_LAPSE_SESION": "1h"}})
    with pytest.raises(ValueError, match="SCHEDULE_PRUNE"):
        jobs.schedule_from({"SCHEDULES": {"SCHEDULE_PRUNE": "sometimes"}})


def test_each_run_is_recorded_with_its_start_end_outcome_and_counts(build):
    recorded = build.recorded_session(now=T0 - timedelta(days=3))
    jobs.tick([every("lapse-sessions", "15m")], "host-a:1", POLICY, clock=at(T0))

    (run,) = runs("lapse-sessions")
    assert (run.outcome, run.counts, run.instance, run.attempt) == (
        "succeeded",
        {"lapsed": 1},
        "host-a:1",
        1,
    )
    assert run.started_at == T0 and run.finished_at == T0
    assert run.period_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.LAPSED
    state = db.session.get(ScheduledJob, "lapse-sessions")
    assert (state.succeeded, state.failed, state.last_success_at, state.lease_until) == (
        1,
        0,
        T0,
        None,
    )
    assert heartbeat.last_beats()["scheduler"] == T0


def test_a_job_runs_once_per_period_however_often_the_scheduler_looks():
    schedule = [every("expire-vouchers", "1h")]
    for minutes in (0, 1, 20, 54):
        jobs.tick(schedule, "host-a:1", POLICY, clock=at(T0 + timedelta(minutes=minutes)))
    assert len(runs()) == 1
    jobs.tick(schedule, "host-b:1", POLICY, clock=at(T0 + timedelta(minutes=55)))  # 11:00
    assert [r.period_at.hour for r in runs()] == [10, 11]


def test_a_run_missed_while_everything_was_down_runs_once_on_start(build):
    schedule = [every("lapse-sessions", "1h")]
    jobs.tick(schedule, "host-a:1", POLICY, clock=at(T0))
    # Everything was down for three days (72 periods); meanwhile a session's window ended.
    waiting = build.recorded_session(now=T0)
    back = T0 + timedelta(days=3, minutes=7)
    jobs.tick(schedule, "host-a:2", POLICY, clock=at(back))
    jobs.tick(schedule, "host-b:1", POLICY, clock=at(back + timedelta(seconds=5)))

    missed = runs()[1:]
    assert len(missed) == 1
    assert missed[0].period_at == period_start(back, timedelta(hours=1))
    assert missed[0].counts == {"lapsed": 1}
    assert db.session.get(TrainingSession, waiting.id).status == SessionStatus.LAPSED


def test_a_run_whose_instance_stopped_is_taken_over_after_its_lease_and_not_before():
    name = "expire-vouchers"
    hourly = parse_every("1h")
    assert hourly
    killed = jobs.claim(name, hourly, "host-a:1", T0, POLICY)  # then host-a dies mid-run
    assert killed is not None

    schedule = [every(name, "1h")]
    assert jobs.tick(schedule, "host-b:1", POLICY, clock=at(T0 + timedelta(minutes=9))) == []
    (taken,) = jobs.tick(schedule, "host-b:1", POLICY, clock=at(T0 + timedelta(minutes=11)))

    first, second = runs(name)
    assert (first.id, first.outcome) == (killed, "abandoned")
    assert (second.id, second.outcome, second.attempt, second.instance) == (
        taken,
        "succeeded",
        2,
        "host-b:1",
    )
    state = db.session.get(ScheduledJob, name)
    assert (state.abandoned, state.succeeded) == (1, 1)


def test_a_failed_run_is_recorded_and_tried_again_after_a_pause_at_most_three_times():
    calls: list[datetime] = []

    def broken(now: datetime) -> dict[str, int]:
        calls.append(now)
        raise RuntimeError("disk full")

    schedule = [jobs.Scheduled(jobs.Job("audit-verify", broken, "1d", ""), timedelta(days=1))]
    for minutes in (0, 1, 6, 8, 12, 18, 30):
        jobs.tick(schedule, "host-a:1", POLICY, clock=at(T0 + timedelta(minutes=minutes)))

    assert [c - T0 for c in calls] == [timedelta(minutes=m) for m in (0, 6, 12)]
    assert {(r.outcome, r.detail) for r in runs()} == {("failed", "RuntimeError: disk full")}
    state = db.session.get(ScheduledJob, "audit-verify")
    assert (state.failed, state.succeeded, state.last_success_at) == (3, 0, None)
    # The next day is a new period.
    jobs.tick(schedule, "host-a:1", POLICY, clock=at(T0 + timedelta(days=1)))
    assert len(calls) == 4


def test_a_job_that_runs_longer_than_its_period_is_not_started_again_meanwhile():
    minute = timedelta(minutes=1)
    assert jobs.claim("check-stats", minute, "host-a:1", T0, POLICY) is not None
    # Three periods later host-a is still at it (its lease, renewed, has not run out).
    assert jobs.claim("check-stats", minute, "host-b:1", T0 + 3 * minute, POLICY) is None
    assert len(runs()) == 1


def test_officers_see_each_jobs_state_its_runs_and_the_heartbeats(build, client):
    web = Web(client)
    build.recorded_session(now=T0 - timedelta(days=3))
    jobs.tick([every("lapse-sessions", "15m")], "host-a:1", POLICY, clock=at(T0))
    heartbeat.beat("sms-worker", "host-b:7", T0)
    user = build.staff_user("admin")
    web.staff_signin(user.email)

    page = client.get("/admin/jobs").get_data(as_text=True)
    assert 'data-job="lapse-sessions"' in page and 'data-job="audit-verify"' in page
    assert "lapsed 1" in page and "host-a:1" in page
    assert "2026-03-02 10:05:00 UTC" in page  # the heartbeats
    only = client.get("/admin/jobs?job=audit-verify").get_data(as_text=True)
    assert "lapsed 1" not in only
    assert client.get("/admin/jobs?job=nonsense").status_code == 404


def test_the_sms_worker_writes_its_heartbeat(app, gateway):
    from sms import worker

    loops = iter([False, True])
    worker.run_forever(
        db.session(), gateway, should_stop=lambda: next(loops), sleep=lambda _s: None
    )
    assert "sms-worker" in heartbeat.last_beats()
