"""The payout schedule: each programme's providers paid daily (or weekly, on Mondays) for their
confirmed sessions that are not held, through M-Pesa, within a day of confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from bench.mpesa_standin import StandIn
from marketplace.domain.models import Payment, PaymentState, Payout, TrainingSession
from marketplace.extensions import db
from marketplace.services import payments, payouts, scheduler, stats_rollup
from tests.builders import Builders

from .conftest import assert_invariants, settle

MONDAY = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def _confirmed(build: Builders, programme, provider, at: datetime) -> TrainingSession:  # type: ignore[no-untyped-def]
    booking = build.booking(
        build.voucher(programme, now=at - timedelta(days=2)), provider, now=at - timedelta(days=1)
    )
    return build.confirmed_session(booking, now=at - timedelta(minutes=5))


def test_the_daily_schedule_pays_every_provider_within_a_day_of_confirmation(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    programme = build.programme()
    providers = [build.provider() for _ in range(5)]
    phones = {p.phone for p in providers}
    for p in providers:
        build.payout_account(p)
    start = datetime.now(UTC) - timedelta(hours=20)
    for i, provider in enumerate(providers):
        _confirmed(build, programme, provider, start + timedelta(hours=3 * i))
    held_id = _confirmed(build, programme, providers[0], start + timedelta(hours=1)).id
    db.session.execute(
        sa.update(TrainingSession)
        .where(TrainingSession.id == held_id)
        .values(flags=["shared_phone"], held=True)
    )
    db.session.commit()
    counts = scheduler._pay_providers(datetime.now(UTC))
    assert counts == {"runs": 1, "payments": 5, "released": 0}
    settle(app)
    paid = db.session.scalars(sa.select(Payment)).all()
    assert {p.state for p in paid} == {PaymentState.SUCCEEDED}
    assert {p.msisdn for p in paid} == phones
    # The held session waits for an officer; the others are paid.
    assert db.session.get(TrainingSession, held_id).payout_id is None  # type: ignore[union-attr]
    assert_invariants(daraja)
    # The funder dashboard's payment speed: under a day.
    stats_rollup.refresh_all(now=datetime.now(UTC))
    from marketplace.queries import stats

    [row] = stats.programme_stats(db.session.merge(programme)).table("payment_speed").rows
    assert row["sessions_paid"] == 5
    assert isinstance(row["median_days"], float) and row["median_days"] < 1.0


def test_a_weekly_programme_is_paid_on_mondays_only(app: Flask, build: Builders) -> None:
    weekly = build.programme()
    db.session.execute(
        sa.text("UPDATE programmes SET payout_schedule = 'weekly' WHERE id = :id"),
        {"id": weekly.id},
    )
    db.session.commit()
    daily = build.programme()
    assert payouts.programmes_due(MONDAY + timedelta(days=2)) == {"KES": [daily.id]}
    assert payouts.programmes_due(MONDAY) == {"KES": sorted([weekly.id, daily.id])}


def test_a_provider_without_an_approved_account_is_held_until_one_is_approved(
    app: Flask, build: Builders
) -> None:
    programme = build.programme()
    provider = build.provider()
    phone = provider.phone
    _confirmed(build, programme, provider, datetime.now(UTC) - timedelta(hours=2))
    scheduler._pay_providers(datetime.now(UTC))
    [payment] = db.session.scalars(sa.select(Payment)).all()
    assert payment.state == PaymentState.HELD and payment.hold_reason == "no_account"
    build.payout_account(db.session.merge(provider))
    assert payments.release_held_without_account() == 1
    db.session.remove()
    [payment] = db.session.scalars(sa.select(Payment)).all()
    assert payment.state == PaymentState.QUEUED and payment.msisdn == phone
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 1
