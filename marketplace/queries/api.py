"""The lists the JSON API answers: filters and pages in id order (ask for the next page with
`after_id`), as plain queries the views call."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ..domain.models import (
    Entrepreneur,
    PayoutAccount,
    PayoutAccountStatus,
    PayoutRun,
    Programme,
    Provider,
    TrainingSession,
    Voucher,
    provider_trades,
)
from ..extensions import db

LATEST_PAYOUT_RUNS = 100


def programmes(funder: str | None) -> Sequence[Programme]:
    """Every programme, or one funder's."""
    stmt = sa.select(Programme).order_by(Programme.id)
    if funder is not None:
        stmt = stmt.where(Programme.funder == funder)
    return db.session.scalars(stmt).all()


def providers(
    *,
    after_id: int,
    limit: int,
    status: str | None = None,
    kind: str | None = None,
    region: str | None = None,
    trade: str | None = None,
) -> list[Provider]:
    stmt = sa.select(Provider).where(Provider.id > after_id).order_by(Provider.id)
    for column, value in (
        (Provider.status, status),
        (Provider.kind, kind),
        (Provider.region_code, region),
    ):
        if value:
            stmt = stmt.where(column == value)
    if trade:
        stmt = stmt.where(
            Provider.id.in_(
                sa.select(provider_trades.c.provider_id).where(
                    provider_trades.c.trade_code == trade
                )
            )
        )
    return list(db.session.scalars(stmt.limit(limit)).all())


def entrepreneur_by_phone(phone: str) -> Entrepreneur | None:
    return db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.phone == phone))


def vouchers(
    *,
    after_id: int,
    limit: int,
    programme_id: int | None = None,
    status: str | None = None,
    phone: str | None = None,
) -> list[Voucher]:
    """`phone`: the holder's, normalised (E.164)."""
    stmt = sa.select(Voucher).where(Voucher.id > after_id).order_by(Voucher.id)
    if programme_id:
        stmt = stmt.where(Voucher.programme_id == programme_id)
    if status:
        stmt = stmt.where(Voucher.status == status)
    if phone:
        stmt = stmt.join(Entrepreneur).where(Entrepreneur.phone == phone)
    return list(db.session.scalars(stmt.limit(limit)).all())


def sessions(
    *,
    after_id: int,
    limit: int,
    status: str | None = None,
    programme_id: int | None = None,
    provider_id: int | None = None,
    needs_review: bool = False,
) -> list[TrainingSession]:
    """`needs_review`: the review queue, disputed or flagged sessions not yet reviewed."""
    stmt = (
        sa.select(TrainingSession).where(TrainingSession.id > after_id).order_by(TrainingSession.id)
    )
    for column, value in (
        (TrainingSession.status, status),
        (TrainingSession.programme_id, programme_id),
        (TrainingSession.provider_id, provider_id),
    ):
        if value:
            stmt = stmt.where(column == value)
    if needs_review:
        stmt = stmt.where(TrainingSession.waiting_for_review())
    return list(db.session.scalars(stmt.limit(limit)).all())


def payout_runs() -> Sequence[PayoutRun]:
    """The latest runs, newest first."""
    return db.session.scalars(
        sa.select(PayoutRun).order_by(PayoutRun.id.desc()).limit(LATEST_PAYOUT_RUNS)
    ).all()


def payout_accounts_of(provider_id: int) -> dict[str, PayoutAccount | None]:
    """A provider's approved payout account and the change waiting, each or None."""
    found = {
        account.status: account
        for account in db.session.scalars(
            sa.select(PayoutAccount).where(
                PayoutAccount.provider_id == provider_id,
                PayoutAccount.status.in_(
                    [PayoutAccountStatus.APPROVED, PayoutAccountStatus.PENDING]
                ),
            )
        )
    }
    return {
        "approved": found.get(PayoutAccountStatus.APPROVED),
        "pending": found.get(PayoutAccountStatus.PENDING),
    }


def payout_accounts_waiting(limit: int = 200) -> Sequence[PayoutAccount]:
    """Changes of payout account waiting for approval, oldest first."""
    return db.session.scalars(
        sa.select(PayoutAccount)
        .where(PayoutAccount.status == PayoutAccountStatus.PENDING)
        .order_by(PayoutAccount.proposed_at, PayoutAccount.id)
        .limit(limit)
    ).all()
