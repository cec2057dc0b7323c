"""A payment M-Pesa confirms moves the funder's "paid" figures as soon as the drainer applies it:
the payment's event names the cells of the sessions its statement pays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from bench.mpesa_standin import StandIn
from marketplace.domain.models import PaymentState, StatsVoucherCell
from marketplace.extensions import db
from marketplace.services import payouts, stats_rollup
from tests.builders import Builders

from .conftest import Account, all_payments, msisdn, pay, settle


def _paid(programme_id: int) -> int:
    cells = StatsVoucherCell.__table__.c
    return int(
        db.session.scalar(
            sa.select(cells.sessions_paid).where(
                cells.programme_id == programme_id,
                *(cells[d] == stats_rollup.WILD for d in stats_rollup.VOUCHER_DIMS),
            )
        )
        or 0
    )


def test_a_session_paid_by_mpesa_shows_as_paid_after_the_drain(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    now = datetime.now(UTC)
    programme = build.programme()
    pid = programme.id
    voucher = build.voucher(programme, now=now - timedelta(days=3))
    booking = build.booking(voucher, now=now - timedelta(days=2))
    build.confirmed_session(booking, now=now - timedelta(days=1))
    stats_rollup.refresh(pid)
    run = payouts.run_payout("KES", now, "test", now=now)
    assert run is not None
    run_id, provider_id = run.id, booking.provider_id
    stats_rollup.drain_all()
    assert _paid(pid) == 0  # a statement is not a payment
    pay(app, run_id, {provider_id: Account("mpesa", msisdn())})
    settle(app, timeout=20)
    assert [p.state for p in all_payments()] == [PaymentState.SUCCEEDED]
    assert _paid(pid) == 0  # not yet applied
    assert stats_rollup.drain_all() > 0
    assert _paid(pid) == 1
    assert stats_rollup.check(pid) == []
