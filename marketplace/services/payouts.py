"""Payout runs: one statement per provider for the confirmed sessions not yet paid."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..domain import errors, text
from ..domain.models import Payout, PayoutRun, Programme, Provider, TrainingSession
from ..domain.money import exponent, format_minor
from ..domain.spreadsheet import csv_text
from ..extensions import db
from . import outbox, payout_accounts, unit


def run_payout(
    currency: str,
    period_end: datetime,
    actor: str,
    now: datetime | None = None,
    programme_ids: list[int] | None = None,
) -> PayoutRun | None:
    """Statements for every provider with confirmed, unpaid sessions confirmed before period_end.

    Flagged sessions wait for an officer's review (`TrainingSession.payable`). Returns None when
    there is nothing to pay. Sessions are claimed with a conditional UPDATE, so two
    runs at once never put one session in two statements.
    """
    currency = currency.upper()
    with unit.of_work(actor, now) as uow:
        run = _claim_unpaid(currency, period_end, actor, uow.now, programme_ids)
        if run is None:
            uow.rollback()
            return None
        uow.audit(
            "payout.run",
            run,
            None,
            {
                "currency": currency,
                "total_minor": run.total_minor,
                "period_end": period_end.isoformat(),
            },
        )
    return run


def _claim_unpaid(
    currency: str,
    period_end: datetime,
    actor: str,
    now: datetime,
    programme_ids: list[int] | None = None,
) -> PayoutRun | None:
    """A run with a statement per provider, each claiming its sessions; None when none is left.
    With `programme_ids`, only the sessions of those programmes."""
    of_programmes = (
        TrainingSession.programme_id.in_(programme_ids) if programme_ids is not None else sa.true()
    )
    unpaid = (
        sa.select(
            TrainingSession.provider_id,
            sa.func.sum(TrainingSession.value_minor),
            sa.func.count(),
            sa.func.min(TrainingSession.confirmed_at),
        )
        .where(
            TrainingSession.payable(),
            TrainingSession.currency == currency,
            TrainingSession.confirmed_at < period_end,
            of_programmes,
        )
        .group_by(TrainingSession.provider_id)
        .order_by(TrainingSession.provider_id)
    )
    groups = db.session.execute(unpaid).all()
    if not groups:
        return None
    start = min((g[3] for g in groups if g[3] is not None), default=period_end)
    run = PayoutRun(
        currency=currency,
        period_start=start,
        period_end=period_end,
        created_at=now,
        created_by=actor,
        total_minor=0,
    )
    db.session.add(run)
    db.session.flush()
    total = 0
    for provider_id, _amount, _count, _first in groups:
        payout = Payout(
            run_id=run.id,
            provider_id=provider_id,
            amount_minor=1,
            currency=currency,
            sessions_count=0,
            status="pending",
        )
        db.session.add(payout)
        db.session.flush()
        claimed = (
            db.session.execute(
                sa.update(TrainingSession)
                .where(
                    TrainingSession.provider_id == provider_id,
                    TrainingSession.payable(),
                    TrainingSession.currency == currency,
                    TrainingSession.confirmed_at < period_end,
                    of_programmes,
                )
                .values(payout_id=payout.id)
                .returning(TrainingSession.value_minor)
            )
            .scalars()
            .all()
        )
        if not claimed:
            db.session.delete(payout)
            continue
        payout.amount_minor = sum(claimed)
        payout.sessions_count = len(claimed)
        total += payout.amount_minor
    if total == 0:
        return None
    run.total_minor = total
    return run


SCHEDULER = "system:scheduler"


def programmes_due(now: datetime) -> dict[str, list[int]]:
    """The programmes whose providers are paid at `now`, by currency: daily ones every day,
    weekly ones on Mondays (UTC)."""
    schedules = ["daily", "weekly"] if now.weekday() == 0 else ["daily"]
    due: dict[str, list[int]] = {}
    for programme_id, currency in db.session.execute(
        sa.select(Programme.id, Programme.currency)
        .where(Programme.payout_schedule.in_(schedules))
        .order_by(Programme.id)
    ):
        due.setdefault(currency, []).append(programme_id)
    return due


def run_scheduled(now: datetime, actor: str = SCHEDULER) -> list[PayoutRun]:
    """The scheduled payout: a run per currency for every provider's payable sessions (confirmed
    and not held) of the programmes due, confirmed before `now`."""
    runs = []
    for currency, programme_ids in programmes_due(now).items():
        run = run_payout(currency, now, actor, now, programme_ids)
        if run is not None:
            runs.append(run)
    return runs


def mark_paid(payout_id: int, reference: str, actor: str, now: datetime | None = None) -> Payout:
    text.check(reference, "reference")
    with unit.of_work(actor, now) as uow:
        payout = db.session.scalar(
            sa.select(Payout).where(Payout.id == payout_id).with_for_update(of=Payout)
        )
        if payout is None:
            raise errors.NotFound("No such payout.")
        payout.mark_paid(reference, uow.now)
        uow.audit(
            "payout.paid",
            payout,
            {"status": "pending"},
            {"status": payout.status, "reference": payout.reference},
        )
        uow.sms(
            payout.provider.phone,
            "payout_made",
            outbox.provider_language(payout.provider),
            value=format_minor(payout.amount_minor, payout.currency),
            sessions=payout.sessions_count,
            reference=payout.reference,
        )
    return payout


def mark_run_paid(
    run_id: int, reference_prefix: str, actor: str, now: datetime | None = None
) -> int:
    """Mark every pending statement of a run paid, with references '<prefix>-<payout id>'."""
    text.check(reference_prefix, "reference")
    get_run(run_id)
    ids = db.session.scalars(
        sa.select(Payout.id).where(Payout.run_id == run_id, Payout.status == "pending")
    ).all()
    for payout_id in ids:
        mark_paid(payout_id, f"{reference_prefix}-{payout_id}", actor, now)
    return len(ids)


def get_run(run_id: int) -> PayoutRun:
    run = db.session.get(PayoutRun, run_id)
    if run is None:
        raise errors.NotFound("No such payout run.")
    return run


def run_csv(run_id: int) -> str:
    """The run as CSV for a mobile-money or bank bulk payment."""
    run = get_run(run_id)
    header = [
        "payout_id",
        "provider_number",
        "provider_name",
        "phone",
        "payout_account",
        "currency",
        "amount",
        "amount_minor",
        "sessions",
        "status",
        "reference",
    ]
    exp = exponent(run.currency)
    statements = db.session.scalars(
        sa.select(Payout).join(Provider).where(Payout.run_id == run.id).order_by(Payout.id)
    ).all()
    # Only an account a second officer approved is where money may go.
    accounts = payout_accounts.approved_payout_accounts(p.provider_id for p in statements)
    rows = [
        [
            p.id,
            p.provider.number,
            p.provider.name,
            p.provider.phone,
            accounts[p.provider_id].in_full if p.provider_id in accounts else "",
            p.currency,
            f"{p.amount_minor / 10**exp:.{exp}f}" if exp else str(p.amount_minor),
            p.amount_minor,
            p.sessions_count,
            p.status,
            p.reference or "",
        ]
        for p in statements
    ]
    return csv_text([header, *rows])


def describe(run: PayoutRun) -> str:
    return f"Run {run.id}: {format_minor(run.total_minor, run.currency)} to {len(run.payouts)}"
