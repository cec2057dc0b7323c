"""What programme officers see: programmes, providers, the review queue and payout runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ..domain.models import (
    Entrepreneur,
    Payout,
    PayoutAccount,
    PayoutAccountStatus,
    PayoutRun,
    Programme,
    Provider,
    ProviderStatus,
    SessionStatus,
    TrainingSession,
    Voucher,
)
from ..extensions import db

PAGE = 200


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    name: str
    funder: str
    currency: str
    voucher_value_minor: int
    sessions_per_voucher: int
    budget_minor: int
    committed_minor: int
    vouchers_issued: int
    validity_days: int

    @property
    def available_minor(self) -> int:
        return self.budget_minor - self.committed_minor


def programmes() -> list[ProgrammeRow]:
    issued = (
        sa.select(Voucher.programme_id, sa.func.count().label("n"))
        .group_by(Voucher.programme_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Programme, sa.func.coalesce(issued.c.n, 0))
        .outerjoin(issued, issued.c.programme_id == Programme.id)
        .order_by(Programme.created_at.desc(), Programme.id.desc())
    ).all()
    return [
        ProgrammeRow(
            id=p.id,
            name=p.name,
            funder=p.funder,
            currency=p.currency,
            voucher_value_minor=p.voucher_value_minor,
            sessions_per_voucher=p.sessions_per_voucher,
            budget_minor=p.budget_minor,
            committed_minor=p.committed_minor,
            vouchers_issued=int(n),
            validity_days=p.validity_days,
        )
        for p, n in rows
    ]


def programme_choices() -> list[tuple[int, str]]:
    return [
        (i, n)
        for i, n in db.session.execute(
            sa.select(Programme.id, Programme.name).order_by(Programme.name)
        ).all()
    ]


def providers(status: str | None = None, search: str = "") -> list[Provider]:
    """Pending providers first (the approval queue), then by name."""
    pending_first = sa.case((Provider.status == ProviderStatus.PENDING, 0), else_=1)
    stmt = sa.select(Provider).order_by(pending_first, Provider.name, Provider.id).limit(PAGE)
    if status:
        stmt = stmt.where(Provider.status == status)
    if search.strip():
        term = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Provider.name).like(term),
                Provider.number == search.strip(),
                Provider.phone.like(term),
            )
        )
    return list(db.session.scalars(stmt))


def provider_counts() -> dict[str, int]:
    return {
        str(s): int(n)
        for s, n in db.session.execute(
            sa.select(Provider.status, sa.func.count()).group_by(Provider.status)
        ).all()
    }


@dataclass(frozen=True)
class ReviewRow:
    id: int
    ref: str
    provider_name: str
    provider_number: str
    entrepreneur_name: str
    delivered_on: date
    duration_minutes: int
    topic: str
    status: str
    flags: list[str]
    recorded_at: datetime
    answered_via: str | None


def _needs_review() -> Any:
    disputed = sa.and_(
        TrainingSession.status == SessionStatus.DISPUTED, TrainingSession.reviewed_at.is_(None)
    )
    # JSON lists: an empty list is stored as "[]" on every database.
    flagged = sa.and_(
        TrainingSession.reviewed_at.is_(None),
        sa.cast(TrainingSession.flags, sa.String) != "[]",
        TrainingSession.flags.is_not(None),
    )
    return sa.or_(disputed, flagged)


def review_queue() -> list[ReviewRow]:
    rows = db.session.execute(
        sa.select(TrainingSession, Provider.name, Provider.number, Entrepreneur.name)
        .join(Provider, Provider.id == TrainingSession.provider_id)
        .join(Entrepreneur, Entrepreneur.id == TrainingSession.entrepreneur_id)
        .where(_needs_review())
        .order_by(TrainingSession.recorded_at, TrainingSession.id)
        .limit(PAGE)
    ).all()
    return [
        ReviewRow(
            id=s.id,
            ref=s.ref,
            provider_name=pname,
            provider_number=pnumber,
            entrepreneur_name=ename,
            delivered_on=s.delivered_on,
            duration_minutes=s.duration_minutes,
            topic=s.topic,
            status=s.status,
            flags=list(s.flags or []),
            recorded_at=s.recorded_at,
            answered_via=s.answered_via,
        )
        for s, pname, pnumber, ename in rows
        if s.status == SessionStatus.DISPUTED or s.flags
    ]


def review_count() -> int:
    return len(review_queue())


@dataclass(frozen=True)
class RunRow:
    id: int
    currency: str
    period_end: datetime
    created_at: datetime
    created_by: str
    total_minor: int
    payouts: int
    paid: int


def payout_runs() -> list[RunRow]:
    paid = sa.func.sum(sa.case((Payout.status == "paid", 1), else_=0))
    rows = db.session.execute(
        sa.select(PayoutRun, sa.func.count(Payout.id), sa.func.coalesce(paid, 0))
        .outerjoin(Payout, Payout.run_id == PayoutRun.id)
        .group_by(PayoutRun.id)
        .order_by(PayoutRun.id.desc())
        .limit(PAGE)
    ).all()
    return [
        RunRow(
            id=r.id,
            currency=r.currency,
            period_end=r.period_end,
            created_at=r.created_at,
            created_by=r.created_by,
            total_minor=r.total_minor,
            payouts=int(n),
            paid=int(p),
        )
        for r, n, p in rows
    ]


def run_payouts(run_id: int) -> list[Payout]:
    return list(
        db.session.scalars(sa.select(Payout).where(Payout.run_id == run_id).order_by(Payout.id))
    )


def held_for_review() -> int:
    """Confirmed sessions in no payout run that wait for an officer to review their flags."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).where(
                TrainingSession.status == SessionStatus.CONFIRMED,
                TrainingSession.payout_id.is_(None),
                sa.not_(TrainingSession.payable()),
            )
        )
        or 0
    )


def unpaid_by_currency() -> list[tuple[str, int, int]]:
    """(currency, sessions, value) a payout run would pay now: confirmed, in no run, not held."""
    return [
        (str(c), int(n), int(v or 0))
        for c, n, v in db.session.execute(
            sa.select(
                TrainingSession.currency, sa.func.count(), sa.func.sum(TrainingSession.value_minor)
            )
            .where(TrainingSession.payable())
            .group_by(TrainingSession.currency)
            .order_by(TrainingSession.currency)
        ).all()
    ]


@dataclass(frozen=True)
class WaitingAccount:
    """A change of payout account waiting for a second officer, beside the account it replaces."""

    account: PayoutAccount
    provider: Provider
    current: PayoutAccount | None


def payout_accounts_waiting(limit: int = PAGE) -> list[WaitingAccount]:
    """Changes of payout account waiting for approval, oldest first."""
    current = sa.orm.aliased(PayoutAccount)
    rows = db.session.execute(
        sa.select(PayoutAccount, Provider, current)
        .join(Provider, Provider.id == PayoutAccount.provider_id)
        .outerjoin(
            current,
            sa.and_(
                current.provider_id == PayoutAccount.provider_id,
                current.status == PayoutAccountStatus.APPROVED,
            ),
        )
        .where(PayoutAccount.status == PayoutAccountStatus.PENDING)
        .order_by(PayoutAccount.proposed_at, PayoutAccount.id)
        .limit(limit)
    ).all()
    return [WaitingAccount(account, provider, old) for account, provider, old in rows]
