"""Providers paid through the real `mpesa` backend, the real services and the real callback routes,
against the Daraja stand-in, under every failure scenario of the M-Pesa brief (section 6.6), with
the invariants of section 6.8 asserted each time."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from bench.mpesa_standin import StandIn
from marketplace.domain.models import (
    FailureClass,
    PayeeCheck,
    PayeeCheckStatus,
    PaymentCallback,
    PaymentChannel,
    PaymentState,
)
from marketplace.extensions import db
from tests.builders import Builders

from .conftest import all_payments, assert_invariants, pay, settle, statements

AMOUNTS = [1_500_00, 2_000_00, 750_00]

# scenario -> the first payment's final state, and its failure class when it failed
SCENARIOS = {
    "success": (PaymentState.SUCCEEDED, None),
    "fail:2040": (PaymentState.FAILED, FailureClass.RECIPIENT),
    "fail:SFC_IC0003": (PaymentState.FAILED, FailureClass.RECIPIENT),
    "fail:4": (PaymentState.FAILED, FailureClass.RECIPIENT),
    "fail:17": (PaymentState.FAILED, FailureClass.TRANSIENT),
    "reject_sync:400.002.02": (PaymentState.FAILED, FailureClass.REJECTED),
    "reject_sync:500.003.1001": (PaymentState.SUCCEEDED, None),  # unknown: same id again
    "duplicate_id": (PaymentState.SUCCEEDED, None),  # asked, not found, the same id again
    "http_hang": (PaymentState.SUCCEEDED, None),
    "lost_callback": (PaymentState.SUCCEEDED, None),
    "timeout_then_success": (PaymentState.SUCCEEDED, None),
    "timeout_only": (PaymentState.SUCCEEDED, None),
    "timeout_only:expired": (PaymentState.FAILED, FailureClass.TRANSIENT),
    "duplicate_callback": (PaymentState.SUCCEEDED, None),
    "callback_before_ack": (PaymentState.SUCCEEDED, None),
    "out_of_order": (PaymentState.SUCCEEDED, None),
    "callback_5xx_once": (PaymentState.SUCCEEDED, None),
    "throttle": (PaymentState.SUCCEEDED, None),
    "name_mismatch": (PaymentState.SUCCEEDED, None),
    "slow": (PaymentState.SUCCEEDED, None),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_payment_settles_once_whatever_the_channel_does(
    app: Flask, build: Builders, daraja: StandIn, scenario: str
) -> None:
    if scenario == "slow":
        daraja.reset(slow_seconds=1.5)
    run, accounts = statements(build, AMOUNTS)
    pay(app, run, accounts)
    daraja.queue(scenario)
    settle(app, timeout=20)
    found = all_payments()
    state, failure = SCENARIOS[scenario]
    assert found[0].state == state, (found[0].state, found[0].result_code, found[0].result_desc)
    if failure is not None:
        assert found[0].failure_class == failure
    assert [p.state for p in found[1:]] == [PaymentState.SUCCEEDED] * 2
    assert_invariants(daraja)
    succeeded = [p for p in found if p.state == PaymentState.SUCCEEDED]
    assert all(
        p.receipt and p.receipt in {x.receipt for x in daraja.payments.values()} for p in succeeded
    )
    assert daraja.ledger["utility"] == 10_000_000_00 - sum(p.amount_minor for p in succeeded)
    assert daraja.ledger["charges_paid"] == -daraja.config.charge_minor * len(succeeded)


def test_a_result_before_the_acknowledgement_finds_its_payment_and_the_acknowledgement_changes_nothing(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    run, accounts = statements(build, [1_000_00])
    pay(app, run, accounts)
    daraja.queue("callback_before_ack")
    settle(app)
    [payment] = all_payments()
    [entry] = daraja.payments.values()
    assert entry.deliveries[0]["status"] == 200
    assert payment.state == PaymentState.SUCCEEDED and payment.receipt == entry.receipt
    kinds = db.session.scalars(
        sa.select(PaymentCallback.outcome).where(PaymentCallback.kind == "b2c-result")
    ).all()
    assert kinds == ["succeeded"]


def test_a_timeout_notice_in_either_shape_is_not_a_failure(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    for shape in ("echo", "result"):
        daraja.reset(timeout_shape=shape)
        run, accounts = statements(build, [1_000_00])
        pay(app, run, accounts)
        daraja.queue("timeout_then_success")
        settle(app)
    outcomes = db.session.scalars(
        sa.select(PaymentCallback.outcome).where(PaymentCallback.kind == "b2c-timeout")
    ).all()
    assert outcomes == ["timed_out", "timed_out"]
    assert {p.state for p in all_payments()} == {PaymentState.SUCCEEDED}


def test_results_with_string_codes_and_a_single_parameter_object_are_read(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    daraja.reset(result_code_as_string=True, single_param_object=True)
    run, accounts = statements(build, [1_000_00, 2_000_00])
    pay(app, run, accounts)
    settle(app)
    assert {p.state for p in all_payments()} == {PaymentState.SUCCEEDED}
    assert_invariants(daraja)


def test_the_registered_name_that_does_not_match_holds_the_next_payments_to_that_number(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    number = "+254712999001"
    daraja.reset(registered={number[1:]: "PETER OTIENO"})
    run, accounts = statements(build, [1_000_00], names=["Grace Wanjiku"], numbers=[number])
    pay(app, run, accounts)
    settle(app)
    check = db.session.get(PayeeCheck, number)
    assert check is not None and check.status == PayeeCheckStatus.MISMATCH
    assert check.registered_name == "PETER OTIENO"
    provider_id = next(iter(accounts))
    # The provider's next statement, to the same number: held for an officer.
    run2, _ = statements(build, [500_00])
    from marketplace.domain.models import Payout

    payout = db.session.scalar(sa.select(Payout).where(Payout.run_id == run2))
    payout.provider_id = provider_id  # type: ignore[union-attr]
    db.session.commit()
    pay(app, run2, {provider_id: accounts[provider_id]})
    settle(app)
    second = all_payments()[-1]
    assert second.state == PaymentState.HELD and second.hold_reason == "name_mismatch"
    assert len(daraja.payments) == 1  # nothing sent to the number since
    from marketplace.services import payments

    assert payments.decide_name(number, True, "officer@example.org") == 1
    settle(app)
    assert all_payments()[-1].state == PaymentState.SUCCEEDED
    assert_invariants(daraja)


def test_a_matching_name_is_recorded_and_holds_nothing(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    number = "+254712999002"
    daraja.reset(registered={number[1:]: "GRACE WANJIKU KAMAU"})
    run, accounts = statements(build, [1_000_00], names=["Grace Kamau"], numbers=[number])
    pay(app, run, accounts)
    settle(app)
    check = db.session.get(PayeeCheck, number)
    assert check is not None and check.status == PayeeCheckStatus.MATCHED


def test_the_mentor_is_told_of_the_payment_with_the_mpesa_receipt(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    from marketplace.domain.models import OutboxMessage

    run, accounts = statements(build, [1_500_00])
    pay(app, run, accounts)
    settle(app)
    [payment] = all_payments()
    texts = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.kind == "payment_received")
    ).all()
    assert len(texts) == 1 and payment.receipt in texts[0] and "1,500" in texts[0]
    assert len(texts[0]) <= 160


def test_a_wrong_credential_stops_the_queue_at_the_first_refusal(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    daraja.reset(initiators={"ujuzi-api": "another password"})
    run, accounts = statements(build, [1_000_00, 1_000_00, 1_000_00, 1_000_00])
    pay(app, run, accounts)
    from payments import sender

    gateways = app.extensions["payments"]
    for _ in range(10):
        sender.send_due(gateways, concurrency=1)
        sender.reconcile(gateways)
        db.session.remove()
        if db.session.get(PaymentChannel, "mpesa").paused_reason:  # type: ignore[union-attr]
            break
        import time

        time.sleep(0.1)
    channel = db.session.get(PaymentChannel, "mpesa")
    assert channel is not None and channel.paused_reason.startswith("2001")
    sender.send_due(gateways)
    assert (
        len(daraja.payments) == 1 and "ujuzi-api" not in daraja.locked
    )  # never three refusals: no lockout
    states = [p.state for p in all_payments()]
    assert states.count(PaymentState.FAILED) == 1
    assert states.count(PaymentState.QUEUED) >= 2
    # Fixed and resumed: the rest go; the failed one is tried again as a new attempt.
    daraja.reset(initiators={"ujuzi-api": "Pa55#word"})
    from marketplace.services import payments

    payments.resume("mpesa", "operator")
    failed = next(p for p in all_payments() if p.state == PaymentState.FAILED)
    again = payments.retry(failed.id, "officer@example.org")
    assert again.attempt == 2 and again.originator_id != failed.originator_id
    settle(app)
    assert_invariants(daraja)
    assert sum(p.state == PaymentState.SUCCEEDED for p in all_payments()) == 4


def test_insufficient_funds_stops_the_queue_until_a_balance_check_sees_a_top_up(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    import time

    from payments import sender

    daraja.reset(utility_minor=2_500_00)
    run, accounts = statements(build, [1_000_00, 1_000_00, 1_000_00])
    pay(app, run, accounts)
    gateways = app.extensions["payments"]

    def quiet() -> bool:
        db.session.remove()
        channel = db.session.get(PaymentChannel, "mpesa")
        moving = [
            p for p in all_payments() if p.state not in ("queued", "held", "succeeded", "failed")
        ]
        return bool(channel is not None and channel.paused_reason and not moving)

    for _ in range(60):
        sender.send_due(gateways, concurrency=1)
        sender.reconcile(gateways)
        if quiet():
            break
        time.sleep(0.1)
    channel = db.session.get(PaymentChannel, "mpesa")
    assert channel is not None and channel.paused_reason.startswith("balance")
    assert channel.balance_minor is not None and channel.balance_minor <= 2_500_00
    assert daraja.balance_queries >= 1
    assert sum(p.state == PaymentState.SUCCEEDED for p in all_payments()) == 2
    assert_invariants(daraja)
    with daraja.lock:
        daraja.ledger["utility"] += 5_000_00  # topped up
    settle(app)
    assert sum(p.state == PaymentState.SUCCEEDED for p in all_payments()) == 3
    assert db.session.get(PaymentChannel, "mpesa").paused_reason == ""  # type: ignore[union-attr]
    assert_invariants(daraja)


def test_an_expired_token_is_fetched_again_once_and_the_same_request_sent(
    app: Flask, build: Builders, daraja: StandIn
) -> None:
    daraja.reset(token_ttl=0.5)
    run, accounts = statements(build, [1_000_00])
    pay(app, run, accounts)
    settle(app)
    import time

    time.sleep(0.6)
    run, accounts = statements(build, [1_000_00])
    pay(app, run, accounts)
    settle(app)
    assert {p.state for p in all_payments()} == {PaymentState.SUCCEEDED}
    # Each expired token was replaced once, by one fetcher, and the refused request sent again.
    assert daraja.tokens_issued >= 2
    assert db.session.get(PaymentChannel, "mpesa").token_fetches == daraja.tokens_issued  # type: ignore[union-attr]
    assert_invariants(daraja)


def test_two_workers_share_one_token(app: Flask, build: Builders, daraja: StandIn) -> None:
    from payments import sender
    from payments.backends import gateways_from_config

    run, accounts = statements(build, [1_000_00] * 6)
    pay(app, run, accounts)
    first, second = gateways_from_config(app.config), gateways_from_config(app.config)
    import threading

    def work(gateways: dict) -> None:
        with app.app_context():
            sender.send_due(gateways, batch=1, concurrency=2)

    threads = [threading.Thread(target=work, args=(g,)) for g in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    settle(app)
    assert daraja.tokens_issued == 1
    assert db.session.get(PaymentChannel, "mpesa").token_fetches == 1  # type: ignore[union-attr]
    assert_invariants(daraja)


def test_a_forged_result_pays_nothing(app: Flask, build: Builders, daraja: StandIn) -> None:
    from .conftest import SECRET

    run, accounts = statements(build, [1_000_00])
    pay(app, run, accounts)
    daraja.queue("lost_callback")
    from payments import sender

    sender.send_due(app.extensions["payments"])
    [payment] = all_payments()
    url = f"{app.config['PUBLIC_BASE_URL']}/mpesa/{SECRET}/b2c/result"
    forged = {
        "Result": {
            "ResultType": 0,
            "ResultCode": 0,
            "ResultDesc": "ok",
            "OriginatorConversationID": payment.originator_id,
            "ConversationID": "AG_x",
            "TransactionID": "FORGED0001",
            "ResultParameters": {
                "ResultParameter": [
                    {"Key": "TransactionAmount", "Value": 999999},
                    {"Key": "TransactionReceipt", "Value": "FORGED0001"},
                ]
            },
        }
    }
    assert daraja.post(url, forged, None) == 200
    unknown = {"Result": {**forged["Result"], "OriginatorConversationID": "UJZ999A1Xdeadbeef00"}}
    assert daraja.post(url, unknown, None) == 200
    wrong_secret = f"{app.config['PUBLIC_BASE_URL']}/mpesa/not-the-secret/b2c/result"
    assert daraja.post(wrong_secret, forged, None) == 404
    import time

    def outcomes_now() -> list[str]:
        db.session.remove()
        return list(
            db.session.scalars(
                sa.select(PaymentCallback.outcome)
                .where(PaymentCallback.kind == "b2c-result")
                .order_by(PaymentCallback.id)
            )
        )

    for _ in range(50):  # applied once the answer has gone
        if "" not in outcomes_now():
            break
        time.sleep(0.05)
    [payment] = all_payments()
    assert payment.state == PaymentState.ACCEPTED and payment.receipt is None
    outcomes = db.session.scalars(
        sa.select(PaymentCallback.outcome)
        .where(PaymentCallback.kind == "b2c-result")
        .order_by(PaymentCallback.id)
    ).all()
    assert outcomes == ["amount_mismatch", "unknown_id"]
    settle(app)  # reconciliation finds the real outcome
    assert all_payments()[0].receipt != "FORGED0001"
    assert_invariants(daraja)
