"""`flask --app wsgi …` commands for what operators script."""

from __future__ import annotations

import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from .domain.base import utcnow
from .domain.errors import DomainError
from .domain.models import OutboxStatus, Programme
from .extensions import db
from .queries import outbox as outbox_queries
from .services import (
    access,
    audit,
    demo,
    issuance,
    payouts,
    reference,
    resend,
    sessions,
    stats_rollup,
    vouchers,
)

CLI_ACTOR = "cli"


def _fail(exc: DomainError) -> None:
    raise click.ClickException(exc.message)


def register(app: Flask) -> None:
    for command in (
        create_api_key,
        create_staff_user,
        seed_demo,
        load_reference,
        issue_vouchers,
        expire_vouchers,
        send_reminders,
        lapse_sessions,
        audit_verify,
        sms_worker,
        run_payout,
        mark_run_paid,
        init_if_empty,
        sms_status,
        sms_resend,
        scheduler,
    ):
        app.cli.add_command(command)
    app.cli.add_command(ops)
    app.cli.add_command(stats_rollup.refresh_stats_command)
    app.cli.add_command(stats_rollup.drain_stats_command)
    app.cli.add_command(stats_rollup.check_stats_command)


ops = AppGroup("ops", help="Housekeeping.")


@click.command("create-api-key")
@click.option("--role", type=click.Choice(["admin", "funder"]), required=True)
@click.option("--name", required=True)
@click.option("--funder", default=None, help="The funder a funder key is limited to.")
def create_api_key(role: str, name: str, funder: str | None) -> None:
    """Create an API key. The key is printed once, on the last line."""
    try:
        key, token = access.create_api_key(name, role, CLI_ACTOR, funder=funder)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"API key {key.id} ({key.role}) created for {key.name}. Store it now:")
    click.echo(token)


@click.command("create-staff-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["admin", "funder"]), required=True)
@click.option("--funder", default=None)
@click.password_option()
def create_staff_user(email: str, name: str, role: str, funder: str | None, password: str) -> None:
    """Create an officer (admin) or funder account for the web pages."""
    try:
        user = access.create_staff_user(email, name, password, role, CLI_ACTOR, funder=funder)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"Staff user {user.id} <{user.email}> ({user.role}) created.")


@click.command("load-reference-data")
@click.option("--country", default=None, help="Two-letter country; default from COUNTRY.")
def load_reference(country: str | None) -> None:
    """Load trades and the country's regions."""
    trades, regions = reference.load_reference_data(country)
    click.echo(f"{trades} trades and {regions} regions loaded.")


@click.command("seed-demo")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when programmes already exist.")
def seed_demo(seed: int, if_empty: bool) -> None:
    """Demo data: a programme, providers of both kinds, vouchers in every state."""
    if current_app.config.get("APP_ENV") == "production":
        raise click.ClickException("seed-demo is for development and demos, not production.")
    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(Programme)):
        click.echo("Demo data not seeded: the database already has programmes.")
        return
    summary = demo.seed(seed)
    for line in summary:
        click.echo(line)


@click.command("init-if-empty")
def init_if_empty() -> None:
    """Reference data, and demo data when the database has no programme (used by make run)."""
    reference.load_reference_data()
    if not db.session.scalar(sa.select(sa.func.count()).select_from(Programme)):
        for line in demo.seed(7):
            click.echo(line)


@click.command("issue-vouchers")
@click.option("--programme", "programme_id", type=int, required=True)
@click.option(
    "--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
def issue_vouchers(programme_id: int, csv_path: Path) -> None:
    """Issue vouchers from a CSV file; prints a per-row report of bad rows."""
    try:
        report = issuance.import_vouchers(programme_id, csv_path.read_bytes(), CLI_ACTOR)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(
        f"Issued {len(report.issued)}; already issued {len(report.already_issued)}; "
        f"bad rows {len(report.errors)}."
    )
    for err in report.errors:
        click.echo(f"  line {err.line}: {err.reason}")
    if report.errors:
        sys.exit(1 if not report.issued else 0)


@click.command("expire-vouchers")
def expire_vouchers() -> None:
    """Expire vouchers past their date and return unspent value to the budget."""
    click.echo(f"{vouchers.expire_vouchers()} vouchers expired.")


@click.command("send-expiry-reminders")
@click.option("--days", type=int, default=None)
def send_reminders(days: int | None) -> None:
    """Remind entrepreneurs whose vouchers expire within --days (default EXPIRY_REMINDER_DAYS)."""
    click.echo(f"{vouchers.send_expiry_reminders(days=days)} reminders queued.")


@click.command("lapse-sessions")
def lapse_sessions() -> None:
    """Lapse sessions nobody confirmed within the programme's window."""
    click.echo(f"{sessions.lapse_sessions()} sessions lapsed.")


@click.command("audit-verify")
def audit_verify() -> None:
    """Verify the audit log's keyed hash chain end to end and against every earlier checkpoint;
    when intact, append a checkpoint (printed, for an outside log). Exit 1 on the first problem."""
    result = audit.verify_and_checkpoint(db.session())
    if result.ok and result.checkpoint is not None:
        click.echo(f"Audit chain intact: {result.checked} events verified.")
        click.echo(f"Checkpoint: {result.checkpoint.line(audit.checkpoint_key())}")
        return
    click.echo(f"AUDIT CHAIN BROKEN after {result.checked} good events: {result.problem}", err=True)
    sys.exit(1)


@click.command("sms-worker")
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@click.option("--batch", type=int, default=None)
def sms_worker(once: bool, batch: int | None) -> None:
    """Send the SMS outbox (retries with backoff). Run as many as you like."""
    from sms import worker

    gateway = current_app.extensions["sms_gateway"]
    size = batch or int(current_app.config["SMS_WORKER_BATCH"])
    attempts = int(current_app.config["SMS_MAX_ATTEMPTS"])
    if once:
        stats = worker.drain(db.session(), gateway, batch_size=size, max_attempts=attempts)
        click.echo(
            f"sent {stats.sent}, retrying {stats.retried}, failed {stats.failed}, "
            f"parked {stats.parked}, outcome unknown {stats.unknown}"
        )
        return
    stopping = {"now": False}

    def stop(*_: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.run_forever(
        db.session(),
        gateway,
        batch_size=size,
        max_attempts=attempts,
        should_stop=lambda: stopping["now"],
    )


@click.command("sms-status")
@click.option("--by-kind", is_flag=True, help="Also every state's count by kind of message.")
def sms_status(by_kind: bool) -> None:
    """The SMS outbox's backlog, as /healthz gives it: a count per state that waits or is stuck,
    and the age in seconds of the oldest message waiting to go."""
    for name, value in outbox_queries.backlog(utcnow()).items():
        click.echo(f"{name}: {value}")
    if by_kind:
        for (state, kind), n in sorted(outbox_queries.counts().items()):
            click.echo(f"{state} {kind}: {n}")


def _when(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "give an ISO date or date-time, e.g. 2025-06-30 or 2025-06-30T08:00", param_hint=option
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


@click.command("sms-resend")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in OutboxStatus]),
    help="Messages in this state (repeatable).",
)
@click.option("--kind", "kinds", multiple=True, help="Messages of this kind (repeatable).")
@click.option(
    "--id", "ids", multiple=True, type=click.IntRange(1), help="This message (repeatable)."
)
@click.option("--created-from", default=None, help="Written at or after (ISO; UTC by default).")
@click.option("--created-to", default=None, help="Written before (ISO; UTC by default).")
@click.option("--force", is_flag=True, help="Also messages already sent or delivered.")
@click.option("--dry-run", is_flag=True, help="Only count what would be sent again.")
@click.option("--yes", is_flag=True, help="Send without asking.")
def sms_resend(
    states: tuple[str, ...],
    kinds: tuple[str, ...],
    ids: tuple[int, ...],
    created_from: str | None,
    created_to: str | None,
    force: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """Send SMS again, same text, chosen by state, kind, id and time of writing (all that are
    given must match). Counts first, then asks (or --yes). Messages waiting to go are left alone;
    those already sent or delivered only with --force."""
    try:
        selection = resend.Selection(
            states=frozenset(states),
            kinds=frozenset(kinds),
            ids=frozenset(ids),
            created_from=_when(created_from, "--created-from"),
            created_to=_when(created_to, "--created-to"),
        )
        if selection.empty:
            raise click.UsageError(
                "choose what to send again: --state, --kind, --id or a time range"
            )
        plan = resend.preview(selection, force=force)
    except DomainError as exc:
        _fail(exc)
        return
    _describe_resend(plan)
    if dry_run or plan.total == 0:
        return
    if not yes:
        click.confirm("Send them again?", abort=True)
    done = resend.resend(selection, CLI_ACTOR, force=force)
    click.echo(f"{done.total} SMS queued again.")


def _describe_resend(plan: resend.Resend) -> None:
    click.echo(f"{plan.total} SMS to send again" + (":" if plan.total else "."))
    for (state, kind), n in sorted(plan.requeued.items()):
        click.echo(f"  {state} {kind}: {n}")
    if plan.went_out:
        click.echo(
            f"{plan.went_out} already sent or delivered are left out (--force sends them too)."
        )
    if plan.queued:
        click.echo(f"{plan.queued} are waiting to go already and are left as they are.")


@click.command("run-payout")
@click.option("--currency", required=True)
@click.option("--until", "until", default=None, help="ISO date-time; default now.")
def run_payout(currency: str, until: str | None) -> None:
    """Make one statement per provider for confirmed, unpaid sessions; prints the CSV path."""
    try:
        period_end = datetime.fromisoformat(until) if until else datetime.now(UTC)
    except ValueError:
        raise click.BadParameter(
            "give an ISO date or date-time, e.g. 2025-06-30", param_hint="--until"
        ) from None
    if period_end.tzinfo is None:
        period_end = period_end.replace(tzinfo=UTC)
    run = payouts.run_payout(currency, period_end, CLI_ACTOR)
    if run is None:
        click.echo("Nothing to pay.")
        return
    click.echo(payouts.describe(run) + " providers.")
    click.echo(payouts.run_csv(run.id), nl=False)


@click.command("mark-run-paid")
@click.option("--run", "run_id", type=int, required=True)
@click.option("--reference-prefix", required=True)
def mark_run_paid(run_id: int, reference_prefix: str) -> None:
    """Mark every statement of a run paid and tell each provider by SMS."""
    try:
        n = payouts.mark_run_paid(run_id, reference_prefix, CLI_ACTOR)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"{n} statements marked paid.")


@ops.command("prune-ussd-sessions")
@click.option("--older-than-minutes", type=int, default=30)
def prune_ussd_sessions(older_than_minutes: int) -> None:
    """Delete USSD sessions that started longer ago than the gateway lets a session last."""
    from datetime import timedelta

    from .services import housekeeping

    pruned = housekeeping.prune_ussd_sessions(keep=timedelta(minutes=older_than_minutes))
    click.echo(f"{pruned} USSD sessions pruned.")


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run what is due now, then stop.")
def scheduler(once: bool) -> None:
    """Run every periodic job on its schedule (SCHEDULE_<JOB>). Run as many as you like: each
    run is claimed in the database, so one instance runs it."""
    from .services import heartbeat
    from .services import scheduler as jobs

    try:
        schedule = jobs.schedule_from(current_app.config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    policy = jobs.policy_from(current_app.config)
    if once:
        jobs.ensure_rows()
        ran = jobs.tick(schedule, heartbeat.instance_name(), policy)
        click.echo(f"{len(ran)} jobs run.")
        return
    stopping = {"now": False}

    def stop(*_: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    jobs.run_forever(schedule, policy, should_stop=lambda: stopping["now"])
