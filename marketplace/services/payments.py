"""Payments: each statement of a payout run paid by a channel, one attempt at a time.

The use cases the sender, the reconciler, the channel's callbacks and the officers run; the
channel itself is outside (`payments/`), and what it answered comes here in the channel-neutral
words of `domain/payments.py`. The rules (`domain/models/payments.py`): a payment's row, with the
id the channel deduplicates on, is committed before the request goes; its state only moves
forward and a final state never moves; a new attempt is a new row, made only after a final failure.

- `queue_run` writes a payment for every statement of a run (held when its number's registered
  name did not match the provider's, until an officer decides).
- `claim` moves due payments to `submitting` (a conditional UPDATE: of two senders, one claims
  each) and `record_sent` writes what the channel answered.
- `record_result` applies an outcome from a callback or a status query, under the payment's row
  lock: at most once, a final state never moved; a success checks the payee's registered name,
  marks the statement paid with the receipt and tells the mentor by SMS.
- `to_reconcile` lists accepted and timed-out payments whose outcome is overdue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..db import dialect
from ..domain import errors
from ..domain.base import utcnow
from ..domain.models import (
    FailureClass,
    PayeeCheck,
    PayeeCheckStatus,
    Payment,
    PaymentCallback,
    PaymentChannel,
    PaymentState,
    Payout,
    PayoutStatus,
    Provider,
)
from ..domain.money import format_minor
from ..domain.payments import (
    Outcome,
    PaymentOrder,
    Result,
    Sent,
    Submission,
    names_match,
    originator_id,
)
from ..extensions import db
from . import outbox, payout_accounts, settings, unit

log = logging.getLogger(__name__)

SYSTEM = "system:payments"

# How long to wait, in seconds (`PAYMENTS_WAITS` overrides any of them, as tests and the benchmark
# do): a payment in `submitting` this long is treated as unknown (its sender died), an accepted
# one without a result this long has its status asked, a timed-out one after `timeout`, a status
# asked and not answered is asked again after `ask_again`, an unknown outcome is sent again (same
# id) after `resend`, and the channel is left alone after throttling for `throttle`.
WAITS = {
    "lease": 120.0,
    "result": 300.0,
    "timeout": 60.0,
    "ask_again": 300.0,
    "resend": 30.0,
    "throttle": 20.0,
}


def _wait(name: str) -> timedelta:
    given = settings.get("PAYMENTS_WAITS") or {}
    return timedelta(seconds=float(given.get(name, WAITS[name])))


class Account(Protocol):
    """A provider's approved payout account (`services/payout_accounts.py`)."""

    @property
    def kind(self) -> str: ...  # 'mpesa' | 'bank'

    @property
    def msisdn(self) -> str | None: ...


@dataclass(frozen=True)
class Claimed:
    payment_id: int
    channel: str
    order: PaymentOrder


def _remarks(payout: Payout) -> str:
    return f"Ujuzi payout {payout.id}: {payout.sessions_count} sessions"


def _payment(
    payout: Payout, attempt: int, channel: str, msisdn: str | None, now: datetime
) -> Payment:
    return Payment(
        payout_id=payout.id,
        provider_id=payout.provider_id,
        attempt=attempt,
        channel=channel,
        originator_id=originator_id(payout.id, attempt),
        msisdn=msisdn,
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        state=PaymentState.QUEUED,
        sends=0,
        due_at=now,
        result_desc="",
        hold_reason="",
        created_at=now,
    )


def _hold_if_checked(payment: Payment) -> None:
    """A number whose registered name did not match (and no officer accepted it) waits."""
    if payment.msisdn is None:
        return
    check = db.session.get(PayeeCheck, payment.msisdn)
    if check is not None and check.status in (PayeeCheckStatus.MISMATCH, PayeeCheckStatus.REJECTED):
        payment.state = PaymentState.HELD
        payment.hold_reason = "name_mismatch"


def queue_run(
    run_id: int,
    mobile_channel: str,
    accounts: Mapping[int, Account | None] | None = None,
    actor: str = SYSTEM,
    now: datetime | None = None,
) -> int:
    """A payment for every pending statement of the run that has none: by `mobile_channel` to an
    approved M-Pesa number, by the bank file (`csv`) to a bank account (`accounts`, by default
    the approved payout accounts); a provider with no approved account is held (`no_account`)
    until one is approved. Returns how many."""
    made = 0
    with unit.of_work(actor, now) as uow:
        payouts = db.session.scalars(
            sa.select(Payout)
            .where(Payout.run_id == run_id, Payout.status == PayoutStatus.PENDING)
            .where(~sa.exists().where(Payment.payout_id == Payout.id))
            .order_by(Payout.id)
        ).all()
        found: Mapping[int, Account | None] = (
            accounts
            if accounts is not None
            else payout_accounts.approved_payout_accounts(p.provider_id for p in payouts)
        )
        for payout in payouts:
            account = found.get(payout.provider_id)
            if account is None:
                payment = _payment(payout, 1, mobile_channel, None, uow.now)
                payment.state = PaymentState.HELD
                payment.hold_reason = "no_account"
            elif account.kind == "bank":
                payment = _payment(payout, 1, "csv", None, uow.now)
            else:
                payment = _payment(payout, 1, mobile_channel, account.msisdn, uow.now)
                _hold_if_checked(payment)
            db.session.add(payment)
            made += 1
        uow.flush_or(errors.AlreadyExists("These statements are being paid already."))
    return made


def release_held_without_account(actor: str = SYSTEM, now: datetime | None = None) -> int:
    """Payments held for want of an approved account, whose provider has one now: queued."""
    released = 0
    with unit.of_work(actor, now) as uow:
        held = db.session.scalars(
            sa.select(Payment)
            .where(Payment.state == PaymentState.HELD, Payment.hold_reason == "no_account")
            .with_for_update()
        ).all()
        accounts = payout_accounts.approved_payout_accounts(p.provider_id for p in held)
        for payment in held:
            account = accounts.get(payment.provider_id)
            if account is None:
                continue
            if account.kind == "bank":
                payment.channel, payment.msisdn = "csv", None
            else:
                payment.msisdn = account.msisdn
            payment.hold_reason = ""
            payment.move(PaymentState.QUEUED, uow.now)
            payment.due_at = uow.now
            _hold_if_checked(payment)
            released += 1
    return released


# --- the channel's state -----------------------------------------------------------------------


def channel_state(name: str) -> PaymentChannel:
    row = db.session.get(PaymentChannel, name)
    if row is None:  # the first use of the channel; another worker's may come at the same time
        table = PaymentChannel.__table__
        db.session.execute(
            dialect.insert_or_ignore(table).values(name=name, token_fetches=0, paused_reason="")  # type: ignore[arg-type]
        )
        row = db.session.get(PaymentChannel, name)
        assert row is not None
    return row


def _pause(name: str, reason: str, now: datetime) -> None:
    row = channel_state(name)
    row.proven_at = None
    if not row.paused_reason:
        row.paused_reason = reason[:300]
        row.paused_at = now
        log.error("payments by %s stopped: %s", name, reason)


def resume(name: str, actor: str, now: datetime | None = None) -> None:
    """An operator fixed the configuration (or topped up): the queue goes on."""
    with unit.of_work(actor, now) as uow:
        row = channel_state(name)
        before = {"paused_reason": row.paused_reason}
        row.paused_reason = ""
        row.paused_at = None
        uow.audit("payments.resumed", ("payment_channel", name), before, {"paused_reason": ""})


BALANCE_PAUSE = "balance: "


def record_balance(name: str, balance_minor: int, now: datetime | None = None) -> None:
    """The paying account's balance seen by a check. A queue stopped for want of funds goes on
    once the balance covers the smallest payment waiting; payments that failed for want of funds
    are tried again (a new attempt each)."""
    with unit.of_work(SYSTEM, now) as uow:
        row = channel_state(name)
        row.balance_minor = balance_minor
        row.balance_at = uow.now
        if not row.paused_reason.startswith(BALANCE_PAUSE):
            return
        short = _short_of_funds(name)
        smallest = db.session.scalar(
            sa.select(sa.func.min(Payment.amount_minor)).where(
                Payment.channel == name, Payment.state == PaymentState.QUEUED
            )
        )
        wanted = min([p.amount_minor for p in short] + ([smallest] if smallest else []), default=0)
        if balance_minor < wanted:
            return
        row.paused_reason, row.paused_at = "", None
        for payment in short:
            again = _payment(payment.payout, payment.attempt + 1, name, payment.msisdn, uow.now)
            db.session.add(again)
            uow.audit(
                "payment.retried", payment, {"attempt": payment.attempt}, {"attempt": again.attempt}
            )
        uow.flush_or(errors.AlreadyExists("This statement is being paid already."))


def _short_of_funds(channel: str) -> list[Payment]:
    """Payments failed for want of funds whose statement has no attempt since."""
    later = aliased(Payment)
    return list(
        db.session.scalars(
            sa.select(Payment).where(
                Payment.channel == channel,
                Payment.state == PaymentState.FAILED,
                Payment.failure_class == FailureClass.FUNDS,
                ~sa.exists().where(
                    later.payout_id == Payment.payout_id, later.attempt > Payment.attempt
                ),
            )
        )
    )


def note_balance_asked(name: str, now: datetime | None = None) -> None:
    with unit.of_work(SYSTEM, now) as uow:
        channel_state(name).balance_requested_at = uow.now


# --- sending ------------------------------------------------------------------------------------


def claim(channel: str, limit: int, now: datetime | None = None) -> list[Claimed]:
    """Due payments of the channel moved to `submitting` and committed before anything is sent:
    queued ones, unknown ones (sent again with the same id), and `submitting` ones whose sender's
    lease ended (it may have sent). Nothing while the channel is paused or backing off; with a
    balance known, no more than it covers (the rest wait, and the channel pauses)."""
    now = now or utcnow()
    with unit.of_work(SYSTEM, now) as uow:
        row = channel_state(channel)
        if row.paused_reason or (row.backoff_until is not None and row.backoff_until > now):
            uow.rollback()
            return []
        due = db.session.execute(
            sa.select(Payment.id, Payment.amount_minor, Payment.state)
            .where(
                Payment.channel == channel,
                Payment.state.in_(
                    [PaymentState.QUEUED, PaymentState.UNKNOWN, PaymentState.SUBMITTING]
                ),
                Payment.due_at <= now,
            )
            .order_by(Payment.due_at, Payment.id)
            .limit(limit)
        ).all()
        if row.proven_at is None and channel != "csv":
            # Unproven (new, or resumed after a configuration problem): one payment at a time
            # until a result shows the credential works; one sent before is sent again first.
            again = [d for d in due if d[2] != PaymentState.QUEUED]
            waiting = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Payment)
                .where(
                    Payment.channel == channel,
                    sa.or_(
                        Payment.state.in_([PaymentState.ACCEPTED, PaymentState.TIMED_OUT]),
                        sa.and_(
                            Payment.state.in_([PaymentState.SUBMITTING, PaymentState.UNKNOWN]),
                            Payment.due_at > now,
                        ),
                    ),
                )
            )
            if again:
                due = again[:1]
            elif waiting:
                uow.rollback()
                return []
            else:
                due = due[:1]
        ids, budget = [], row.balance_minor
        for payment_id, amount, state in due:
            if budget is not None and state == PaymentState.QUEUED:
                if amount > budget:
                    _pause(
                        channel, "balance: the paying account cannot cover the next payment", now
                    )
                    break
                budget -= amount
            ids.append(payment_id)
        if not ids:
            return []
        claimed = db.session.scalars(
            sa.update(Payment)
            .where(
                Payment.id.in_(ids),
                Payment.due_at <= now,
                Payment.state.in_(
                    [PaymentState.QUEUED, PaymentState.UNKNOWN, PaymentState.SUBMITTING]
                ),
            )
            .values(
                state=PaymentState.SUBMITTING,
                sends=Payment.sends + 1,
                submitted_at=now,
                due_at=now + _wait("lease"),
            )
            .returning(Payment.id)
            .execution_options(synchronize_session=False)
        ).all()
        if row.balance_minor is not None:
            spent = db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Payment.amount_minor), 0)).where(
                    Payment.id.in_(claimed), Payment.sends == 1
                )
            )
            row.balance_minor -= int(spent or 0)
        rows = db.session.scalars(
            sa.select(Payment)
            .where(Payment.id.in_(claimed))
            .order_by(Payment.id)
            .execution_options(populate_existing=True)
        )
        found = [
            Claimed(
                p.id,
                p.channel,
                PaymentOrder(
                    p.originator_id, p.msisdn, p.amount_minor, p.currency, _remarks(p.payout)
                ),
            )
            for p in rows
        ]
    return found


def _locked(payment_id: int | None = None, originator: str | None = None) -> Payment | None:
    stmt = sa.select(Payment).with_for_update(of=Payment)
    stmt = stmt.where(
        Payment.id == payment_id if payment_id is not None else Payment.originator_id == originator
    )
    return db.session.scalar(stmt.execution_options(populate_existing=True))


def record_sent(payment_id: int, sent: Submission, now: datetime | None = None) -> None:
    """What the channel answered one send. A callback may have settled the payment already (it
    can come before the acknowledgement): then the answer changes nothing."""
    with unit.of_work(SYSTEM, now) as uow:
        payment = _locked(payment_id)
        if payment is None or payment.state != PaymentState.SUBMITTING:
            if sent.result is not None:
                _apply(sent.result, uow)
            return
        now = uow.now
        if sent.conversation_id:
            payment.conversation_id = sent.conversation_id[:60]
        if sent.sent is Sent.ACCEPTED:
            payment.move(PaymentState.ACCEPTED, now)
            payment.due_at = now + _wait("result")
        elif sent.sent is Sent.DUPLICATE:
            # The channel has this id: an earlier send went. Its outcome is asked for.
            payment.move(PaymentState.ACCEPTED, now)
            payment.due_at = now
        elif sent.sent is Sent.UNKNOWN:
            payment.move(PaymentState.UNKNOWN, now)
            payment.due_at = now + _wait("resend")
        elif sent.sent in (Sent.THROTTLED, Sent.NOT_SENT):
            back = PaymentState.QUEUED if payment.sends <= 1 else PaymentState.UNKNOWN
            payment.move(back, now)
            payment.due_at = now + _wait("throttle")
            if sent.sent is Sent.THROTTLED:
                channel_state(payment.channel).backoff_until = now + _wait("throttle")
            if sent.failure is FailureClass.CONFIGURATION:
                _pause(payment.channel, f"{sent.code} {sent.desc}".strip(), now)
        else:  # REJECTED: never processed, this attempt failed
            failure = sent.failure or FailureClass.REJECTED
            if payment.sends > 1:
                # An earlier send of this id may have gone: ask, never fail it blind.
                payment.move(PaymentState.UNKNOWN, now)
                payment.due_at = now + _wait("resend")
                payment.result_desc = f"{sent.code} {sent.desc}"[:300]
                return
            payment.move(PaymentState.ACCEPTED, now)
            _fail(payment, sent.code, sent.desc, failure, uow)
        if sent.result is not None:
            _apply(sent.result, uow)


# --- outcomes -----------------------------------------------------------------------------------


def store_callback(
    kind: str, originator: str | None, body: str, now: datetime | None = None
) -> int:
    """The body as it came, committed before anything reads it."""
    with unit.of_work(SYSTEM, now) as uow:
        row = PaymentCallback(
            kind=kind[:30],
            originator_id=(originator or None) and originator[:60],
            body=body,
            received_at=uow.now,
            outcome="",
        )
        db.session.add(row)
        db.session.flush()
        return row.id


def record_result(
    result: Result, callback_id: int | None = None, now: datetime | None = None
) -> str:
    """Apply an outcome (a callback's or a status query's); returns what was done, in a word."""
    with unit.of_work(SYSTEM, now) as uow:
        done = _apply(result, uow)
        if callback_id is not None:
            db.session.execute(
                sa.update(PaymentCallback)
                .where(PaymentCallback.id == callback_id)
                .values(outcome=done)
            )
    return done


def note_callback(callback_id: int, outcome: str) -> None:
    with unit.of_work(SYSTEM) as _uow:
        db.session.execute(
            sa.update(PaymentCallback)
            .where(PaymentCallback.id == callback_id)
            .values(outcome=outcome[:40])
        )


def _apply(result: Result, uow: unit.UnitOfWork) -> str:
    now = uow.now
    payment = _locked(originator=result.originator_id)
    if payment is None:
        log.warning("payment outcome for an id never sent: %s", result.originator_id)
        return "unknown_id"
    row = channel_state(payment.channel)
    if result.balance_minor is not None:
        row.balance_minor, row.balance_at = result.balance_minor, now
    if result.outcome is Outcome.SUCCEEDED or (
        result.failure
        in (
            FailureClass.RECIPIENT,
            FailureClass.TRANSIENT,
        )
        and row.proven_at is None
    ):
        row.proven_at = now
    if payment.final:
        return "duplicate" if payment.state == result.outcome else f"already_{payment.state}"
    if result.outcome is Outcome.SUCCEEDED:
        if result.amount_minor is not None and result.amount_minor != payment.amount_minor:
            log.error(
                "payment %s reported paid with another amount (%s, not %s): left for an officer",
                payment.id,
                result.amount_minor,
                payment.amount_minor,
            )
            payment.result_desc = f"reported paid with amount {result.amount_minor}"[:300]
            return "amount_mismatch"
        _succeed(payment, result, uow)
        return "succeeded"
    if result.outcome is Outcome.FAILED:
        _fail(payment, result.code, result.desc, result.failure or FailureClass.TRANSIENT, uow)
        return "failed"
    if result.outcome is Outcome.TIMED_OUT:
        if payment.state in (PaymentState.ACCEPTED, PaymentState.SUBMITTING):
            payment.state = PaymentState.TIMED_OUT
            payment.due_at = now + _wait("timeout")
            return "timed_out"
        return "ignored"
    if result.outcome is Outcome.NOT_FOUND:
        if payment.state in (PaymentState.ACCEPTED, PaymentState.TIMED_OUT, PaymentState.UNKNOWN):
            # The channel never took it: sent again with the same id (a duplicate is refused).
            payment.state = PaymentState.UNKNOWN
            payment.due_at = now
            return "not_found"
        return "ignored"
    payment.due_at = max(payment.due_at, now + _wait("ask_again"))
    return "pending"


def _succeed(payment: Payment, result: Result, uow: unit.UnitOfWork) -> None:
    before = {"state": payment.state}
    receipt = result.receipt or payment.conversation_id or payment.originator_id
    payment.succeed(receipt[:30], (result.registered_name or "")[:120] or None, uow.now)
    payout = payment.payout
    if payout.status == PayoutStatus.PENDING:
        payout.mark_paid(receipt[:80], uow.now)
    uow.audit(
        "payment.succeeded",
        payment,
        before,
        {"state": payment.state, "receipt": payment.receipt, "amount_minor": payment.amount_minor},
    )
    provider = db.session.get(Provider, payment.provider_id)
    assert provider is not None
    if payment.msisdn is not None:
        uow.sms(
            provider.phone,
            "payment_received",
            outbox.provider_language(provider),
            value=format_minor(payment.amount_minor, payment.currency),
            sessions=payout.sessions_count,
            receipt=payment.receipt,
        )
    if payment.msisdn and payment.registered_name:
        _check_name(payment, provider, uow)


def _check_name(payment: Payment, provider: Provider, uow: unit.UnitOfWork) -> None:
    """The first payment to a number: its registered name against the provider's. A mismatch
    holds the payments to that number that are not sent yet, for an officer."""
    assert payment.msisdn is not None and payment.registered_name is not None
    if db.session.get(PayeeCheck, payment.msisdn) is not None:
        return
    matched = names_match(provider.name, payment.registered_name)
    check = PayeeCheck(
        msisdn=payment.msisdn,
        provider_id=provider.id,
        expected_name=provider.name[:120],
        registered_name=payment.registered_name,
        status=PayeeCheckStatus.MATCHED if matched else PayeeCheckStatus.MISMATCH,
        payment_id=payment.id,
        checked_at=uow.now,
    )
    db.session.add(check)
    if matched:
        return
    db.session.execute(
        sa.update(Payment)
        .where(Payment.msisdn == payment.msisdn, Payment.state == PaymentState.QUEUED)
        .values(state=PaymentState.HELD, hold_reason="name_mismatch")
        .execution_options(synchronize_session=False)
    )
    uow.audit(
        "payee.name_mismatch",
        ("payee_check", payment.msisdn),
        None,
        {"provider_id": provider.id, "registered_name": payment.registered_name},
    )


def _fail(
    payment: Payment, code: str, desc: str, failure: FailureClass, uow: unit.UnitOfWork
) -> None:
    before = {"state": payment.state}
    payment.fail(code, desc, failure, uow.now)
    if failure is FailureClass.CONFIGURATION:
        _pause(payment.channel, f"{code} {desc}".strip(), uow.now)
    elif failure is FailureClass.FUNDS:
        _pause(payment.channel, BALANCE_PAUSE + f"{code} {desc}".strip(), uow.now)
    uow.audit(
        "payment.failed",
        payment,
        before,
        {"state": payment.state, "code": payment.result_code, "class": str(failure)},
    )


def to_reconcile(channel: str, limit: int, now: datetime | None = None) -> list[str]:
    """Accepted and timed-out payments of the channel whose outcome is overdue (their ids); each
    is due again after the `ask_again` wait, so a query that is never answered is asked again."""
    now = now or utcnow()
    with unit.of_work(SYSTEM, now):
        rows = db.session.execute(
            sa.select(Payment.id, Payment.originator_id)
            .where(
                Payment.channel == channel,
                Payment.state.in_([PaymentState.ACCEPTED, PaymentState.TIMED_OUT]),
                Payment.due_at <= now,
            )
            .order_by(Payment.due_at)
            .limit(limit)
        ).all()
        if rows:
            db.session.execute(
                sa.update(Payment)
                .where(Payment.id.in_([r[0] for r in rows]))
                .values(due_at=now + _wait("ask_again"))
                .execution_options(synchronize_session=False)
            )
    return [r[1] for r in rows]


# --- officers ----------------------------------------------------------------------------------


def retry(payment_id: int, actor: str, now: datetime | None = None) -> Payment:
    """A new attempt for a payment that failed for a reason a new attempt can cure (the channel's
    trouble, our configuration once fixed): the next attempt number, a new id."""
    with unit.of_work(actor, now) as uow:
        payment = _locked(payment_id)
        if payment is None:
            raise errors.NotFound("No such payment.")
        if payment.state != PaymentState.FAILED:
            raise errors.IllegalTransition("Only a failed payment can be tried again.")
        if payment.failure_class == FailureClass.RECIPIENT:
            raise errors.IllegalTransition(
                "This number cannot receive this payment: change the payout account first."
            )
        payout = payment.payout
        again = _payment(payout, payment.attempt + 1, payment.channel, payment.msisdn, uow.now)
        _hold_if_checked(again)
        db.session.add(again)
        uow.flush_or(errors.AlreadyExists("This statement is being paid already."))
        uow.audit(
            "payment.retried", again, {"attempt": payment.attempt}, {"attempt": again.attempt}
        )
    return again


def decide_name(msisdn: str, accept: bool, actor: str, now: datetime | None = None) -> int:
    """An officer on a registered name that did not match: accepted, the held payments to the
    number go; refused, they fail (the provider's payout account must change). Returns how many."""
    with unit.of_work(actor, now) as uow:
        check = db.session.scalar(
            sa.select(PayeeCheck).where(PayeeCheck.msisdn == msisdn).with_for_update()
        )
        if check is None or check.status != PayeeCheckStatus.MISMATCH:
            raise errors.IllegalTransition("This number has no name waiting for a decision.")
        check.status = PayeeCheckStatus.ACCEPTED if accept else PayeeCheckStatus.REJECTED
        check.decided_by, check.decided_at = actor, uow.now
        held = db.session.scalars(
            sa.select(Payment)
            .where(
                Payment.msisdn == msisdn,
                Payment.state == PaymentState.HELD,
                Payment.hold_reason == "name_mismatch",
            )
            .with_for_update()
        ).all()
        for payment in held:
            if accept:
                payment.move(PaymentState.QUEUED, uow.now)
                payment.hold_reason, payment.due_at = "", uow.now
            else:
                payment.fail(
                    "name",
                    "The registered M-Pesa name is not the provider's.",
                    FailureClass.RECIPIENT,
                    uow.now,
                )
        uow.audit(
            "payee.name_decided",
            ("payee_check", msisdn),
            {"status": PayeeCheckStatus.MISMATCH},
            {"status": check.status, "payments": len(held)},
        )
    return len(held)


def settle_bank_payments(now: datetime | None = None) -> int:
    """Payments by the bank file whose statement an officer marked paid (`payouts.mark_paid`,
    with the bank's reference) succeed with that reference."""
    settled = 0
    with unit.of_work(SYSTEM, now) as uow:
        rows = db.session.execute(
            sa.select(Payment, Payout.reference)
            .join(Payout, Payout.id == Payment.payout_id)
            .where(
                Payment.channel == "csv",
                Payment.state == PaymentState.ACCEPTED,
                Payout.status == PayoutStatus.PAID,
            )
            .with_for_update(of=Payment)
        ).all()
        for payment, reference in rows:
            payment.succeed((reference or payment.originator_id)[:30], None, uow.now)
            uow.audit("payment.succeeded", payment, {"state": "accepted"}, {"state": "succeeded"})
            settled += 1
    return settled
