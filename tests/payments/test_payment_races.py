"""Payments raced on PostgreSQL: two schedulers and two payment workers on the same payout at
once, and results racing their acknowledgements: one statement per session, one payment per
statement, one debit per payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from bench.mpesa_standin import StandIn
from marketplace.domain.models import Payment, PaymentState, Payout, TrainingSession
from marketplace.extensions import db
from marketplace.services import scheduler
from payments import sender
from payments.backends import gateways_from_config
from tests.builders import Builders
from tests.concurrency.racing import Race

from .conftest import all_payments, assert_invariants, pay, settle, statements

PROVIDERS = 6


def test_two_schedulers_and_two_workers_pay_each_session_once(
    postgres: Flask, build: Builders, daraja: StandIn
) -> None:
    app = postgres
    programme = build.programme()
    now = datetime.now(UTC)
    for _ in range(PROVIDERS):
        provider = build.provider()
        build.payout_account(provider)
        for _ in range(2):
            voucher = build.voucher(programme, now=now - timedelta(days=2))
            build.confirmed_session(build.booking(voucher, provider), now=now - timedelta(hours=3))
    race = Race(app)
    race(lambda: scheduler._pay_providers(now), lambda: scheduler._pay_providers(now))
    first, second = gateways_from_config(app.config), gateways_from_config(app.config)
    race(
        lambda: sender.send_due(first, concurrency=3),
        lambda: sender.send_due(second, concurrency=3),
    )
    settle(app)
    sessions = db.session.scalars(sa.select(TrainingSession)).all()
    assert len(sessions) == 2 * PROVIDERS and all(s.payout_id is not None for s in sessions)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == PROVIDERS
    found = all_payments()
    assert len(found) == PROVIDERS and {p.state for p in found} == {PaymentState.SUCCEEDED}
    # Each payment reached M-Pesa as one request: no second send, not even a refused duplicate.
    with daraja.lock:
        b2c = [path for _t, path in daraja.requests if "b2c" in path]
    assert len(b2c) == PROVIDERS == len(daraja.payments)
    assert daraja.tokens_issued == 1
    assert_invariants(daraja)


def test_results_racing_their_acknowledgements_pay_once(
    postgres: Flask, build: Builders, daraja: StandIn
) -> None:
    app = postgres
    run, accounts = statements(build, [1_000_00] * 5)
    pay(app, run, accounts)
    daraja.queue(*["callback_before_ack"] * 5)
    race = Race(app)
    gateways = app.extensions["payments"]
    race(lambda: sender.send_due(gateways, concurrency=5), lambda: sender.send_due(gateways))
    settle(app)
    found = all_payments()
    assert {p.state for p in found} == {PaymentState.SUCCEEDED}
    assert all(p.accepted_at is None for p in found[1:])  # settled before their acknowledgement
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Payment).where(Payment.receipt.is_not(None))
        )
        == 5
    )
    assert_invariants(daraja)
