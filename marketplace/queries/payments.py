"""What officers see of payments: how many in each state, the failures with their reasons, the
registered names that did not match, and each channel's pause and last balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..domain.models import (
    FailureClass,
    PayeeCheck,
    PayeeCheckStatus,
    Payment,
    PaymentChannel,
    PaymentState,
    Provider,
)
from ..extensions import db

PAGE = 200


@dataclass(frozen=True)
class FailedPayment:
    id: int
    payout_id: int
    attempt: int
    provider_id: int
    provider: str
    msisdn: str | None
    amount_minor: int
    currency: str
    code: str
    desc: str
    failure: str
    finished_at: datetime | None
    retryable: bool


@dataclass(frozen=True)
class NameMismatch:
    msisdn: str
    provider_id: int
    provider: str
    expected: str
    registered: str
    checked_at: datetime
    held: int


@dataclass(frozen=True)
class Channel:
    name: str
    paused_reason: str
    paused_at: datetime | None
    balance_minor: int | None
    balance_at: datetime | None


@dataclass(frozen=True)
class Overview:
    by_state: dict[str, int]
    held_by_reason: dict[str, int]
    failed: list[FailedPayment]
    mismatches: list[NameMismatch]
    channels: list[Channel]


def overview() -> Overview:
    by_state = {state.value: 0 for state in PaymentState}
    by_state.update(
        dict(
            db.session.execute(
                sa.select(Payment.state, sa.func.count()).group_by(Payment.state)
            ).all()
        )
    )
    held = dict(
        db.session.execute(
            sa.select(Payment.hold_reason, sa.func.count())
            .where(Payment.state == PaymentState.HELD)
            .group_by(Payment.hold_reason)
        ).all()
    )
    later = aliased(Payment)
    failed = [
        FailedPayment(
            id=p.id,
            payout_id=p.payout_id,
            attempt=p.attempt,
            provider_id=p.provider_id,
            provider=name,
            msisdn=p.msisdn,
            amount_minor=p.amount_minor,
            currency=p.currency,
            code=p.result_code or "",
            desc=p.result_desc,
            failure=p.failure_class or FailureClass.TRANSIENT,
            finished_at=p.finished_at,
            retryable=p.failure_class != FailureClass.RECIPIENT,
        )
        for p, name in db.session.execute(
            sa.select(Payment, Provider.name)
            .join(Provider, Provider.id == Payment.provider_id)
            .where(
                Payment.state == PaymentState.FAILED,
                ~sa.exists().where(
                    later.payout_id == Payment.payout_id, later.attempt > Payment.attempt
                ),
            )
            .order_by(Payment.finished_at.desc(), Payment.id.desc())
            .limit(PAGE)
        )
    ]
    held_to = (
        sa.select(sa.func.count())
        .where(
            Payment.msisdn == PayeeCheck.msisdn,
            Payment.state == PaymentState.HELD,
            Payment.hold_reason == "name_mismatch",
        )
        .scalar_subquery()
    )
    mismatches = [
        NameMismatch(
            c.msisdn, c.provider_id, name, c.expected_name, c.registered_name, c.checked_at, n
        )
        for c, name, n in db.session.execute(
            sa.select(PayeeCheck, Provider.name, held_to)
            .join(Provider, Provider.id == PayeeCheck.provider_id)
            .where(PayeeCheck.status == PayeeCheckStatus.MISMATCH)
            .order_by(PayeeCheck.checked_at)
            .limit(PAGE)
        )
    ]
    channels = [
        Channel(c.name, c.paused_reason, c.paused_at, c.balance_minor, c.balance_at)
        for c in db.session.scalars(
            sa.select(PaymentChannel)
            .where(PaymentChannel.name != "csv")
            .order_by(PaymentChannel.name)
        )
    ]
    return Overview(by_state, held, failed, mismatches, channels)
