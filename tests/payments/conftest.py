"""Paying through the Daraja stand-in end to end: the app served on a real port (the stand-in
posts its callbacks to the real routes), the real `mpesa` backend, the real services."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from bench.mpesa_standin import Config as StandinConfig
from bench.mpesa_standin import StandIn
from marketplace.domain.models import Payment, PaymentState, Payout, PayoutRun, Provider
from marketplace.extensions import db
from marketplace.services import payments
from payments import sender
from payments.backends import gateways_from_config
from tests.builders import Builders

SECRET = "test-mpesa-callback-secret-0123"
PASSWORD = "Pa55#word"
_msisdns = itertools.count(712_000_001)


@dataclass(frozen=True)
class Account:
    kind: str
    msisdn: str | None


STANDIN_DEFAULTS = StandinConfig(
    result_delay=0.05, hang_seconds=1.5, ack_delay=0.5, initiators={"ujuzi-api": PASSWORD}
)


@pytest.fixture(scope="module")
def _served(_app: Flask) -> Iterator[tuple[StandIn, str]]:
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    standin = StandIn(result_delay=0.05, hang_seconds=1.5, ack_delay=0.5).start()
    yield standin, base
    standin.stop()
    server.shutdown()


@pytest.fixture
def daraja(app: Flask, _served: tuple[StandIn, str]) -> Iterator[StandIn]:
    standin, base = _served
    standin.reset(**STANDIN_DEFAULTS.__dict__)
    saved = {k: app.config.get(k) for k in _CONFIG}
    app.config.update(config(standin, base))
    app.extensions["payments"] = gateways_from_config(app.config)
    yield standin
    app.config.update(saved)
    app.extensions["payments"] = gateways_from_config(app.config)


_CONFIG = (
    "PAYMENTS_BACKEND",
    "MPESA_BASE_URL",
    "MPESA_CONSUMER_KEY",
    "MPESA_CONSUMER_SECRET",
    "MPESA_SHORTCODE",
    "MPESA_INITIATOR_NAME",
    "MPESA_INITIATOR_PASSWORD",
    "MPESA_CERT_PATH",
    "MPESA_CALLBACK_SECRET",
    "PUBLIC_BASE_URL",
    "MPESA_READ_TIMEOUT",
    "PAYMENTS_WAITS",
)


def config(standin: StandIn, base: str, **overrides: Any) -> dict[str, Any]:
    return {
        "PAYMENTS_BACKEND": "mpesa",
        "MPESA_BASE_URL": standin.url,
        "MPESA_CONSUMER_KEY": standin.config.consumer_key,
        "MPESA_CONSUMER_SECRET": standin.config.consumer_secret,
        "MPESA_SHORTCODE": standin.config.shortcode,
        "MPESA_INITIATOR_NAME": "ujuzi-api",
        "MPESA_INITIATOR_PASSWORD": PASSWORD,
        "MPESA_CERT_PATH": standin.cert_path,
        "MPESA_CALLBACK_SECRET": SECRET,
        "PUBLIC_BASE_URL": base,
        "MPESA_READ_TIMEOUT": 0.5,
        # Short waits so reconciliation and resends happen within a test.
        "PAYMENTS_WAITS": {
            "lease": 1.0,
            "result": 0.4,
            "timeout": 0.1,
            "ask_again": 0.3,
            "resend": 0.1,
            "throttle": 0.1,
        },
        **overrides,
    }


def msisdn() -> str:
    return f"+254{next(_msisdns)}"


def statements(
    build: Builders,
    amounts: list[int],
    *,
    names: list[str] | None = None,
    numbers: list[str] | None = None,
) -> tuple[int, dict[int, Account]]:
    """A payout run with one statement per amount (whole shillings, in cents), each to a provider
    of its own with an approved M-Pesa number; returns the run and the accounts."""
    now = datetime.now(UTC)
    providers = [
        build.provider(**({"name": names[i]} if names else {})) for i in range(len(amounts))
    ]
    run = PayoutRun(
        currency="KES",
        period_start=now,
        period_end=now,
        created_at=now,
        created_by="test",
        total_minor=sum(amounts),
    )
    db.session.add(run)
    db.session.flush()
    accounts = {}
    for i, (provider, amount) in enumerate(zip(providers, amounts, strict=True)):
        db.session.add(
            Payout(
                run_id=run.id,
                provider_id=provider.id,
                amount_minor=amount,
                currency="KES",
                sessions_count=1,
                status="pending",
            )
        )
        accounts[provider.id] = Account("mpesa", numbers[i] if numbers else msisdn())
    db.session.commit()
    return run.id, accounts


def pay(app: Flask, run_id: int, accounts: dict[int, Account]) -> None:
    payments.queue_run(run_id, "mpesa", accounts)


def settle(app: Flask, timeout: float = 15.0, *, concurrency: int = 4) -> None:
    """Send and reconcile until every payment is final (or fail the test)."""
    gateways = app.extensions["payments"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sender.send_due(gateways, concurrency=concurrency)
        sender.reconcile(gateways)
        db.session.remove()
        open_ = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Payment)
            .where(
                Payment.state.not_in(
                    [PaymentState.SUCCEEDED, PaymentState.FAILED, PaymentState.HELD]
                )
            )
        )
        if not open_:
            return
        time.sleep(0.1)
    states = db.session.execute(sa.select(Payment.id, Payment.state, Payment.result_desc)).all()
    raise AssertionError(f"payments not settled: {states}")


def all_payments() -> list[Payment]:
    db.session.remove()
    return list(db.session.scalars(sa.select(Payment).order_by(Payment.id)))


def assert_invariants(standin: StandIn) -> None:
    """MPESA.md 6.8: at most one debit per statement; nothing failed that M-Pesa completed; every
    id derived from (statement, attempt); every callback answered 2xx within a second."""
    from marketplace.domain.payments import originator_id

    found = all_payments()
    completed = standin.completed()
    by_payout: dict[int, int] = {}
    for p in found:
        assert p.originator_id == originator_id(p.payout_id, p.attempt)
        if p.originator_id in completed:
            by_payout[p.payout_id] = by_payout.get(p.payout_id, 0) + 1
            assert p.state == PaymentState.SUCCEEDED, (p.id, p.state, p.result_desc)
        if p.state == PaymentState.SUCCEEDED:
            assert p.originator_id in completed
            assert db.session.get(Payout, p.payout_id).status == "paid"  # type: ignore[union-attr]
    assert all(n == 1 for n in by_payout.values()), by_payout
    with standin.lock:
        deliveries = [d for x in standin.payments.values() for d in x.deliveries]
    for d in deliveries:
        assert 200 <= d["status"] < 300, d
        assert d["seconds"] < 1.0, d


def provider_of(payment: Payment) -> Provider:
    found = db.session.get(Provider, payment.provider_id)
    assert found is not None
    return found
