"""The sender and the reconciler: what moves payments between our rows and the channel.

`send_due` checks the balance before each batch (Account Balance, answered by callback on M-Pesa;
the claim then sends no more than the last balance seen covers), claims a batch of due payments
(`services/payments.claim`, committed as `submitting` before any request goes), sends them with a
few requests in flight, and writes each answer as soon as it comes. `reconcile` asks the channel's
status of every payment whose outcome is overdue (accepted without a result, timed out in the
channel's queue), and settles the bank file's payments an officer marked paid. Any number of
senders can run: a payment is claimed by one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from flask import Flask, current_app

from marketplace.domain.payments import PaymentOrder, Sent, Submission
from marketplace.services import payments

from .gateway import PaymentGateway

log = logging.getLogger(__name__)

BATCH = 200
CONCURRENCY = 4  # requests in flight at once per sender (Daraja throttles bursts: small)


@dataclass
class Counts:
    sent: int = 0
    batches: int = 0
    asked: int = 0
    settled: int = 0
    by_answer: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "batches": self.batches,
            "asked": self.asked,
            "settled": self.settled,
            **{f"answer_{k}": v for k, v in self.by_answer.items()},
        }


def _in_app(
    app: Flask, send: Callable[[PaymentOrder], Submission]
) -> Callable[[PaymentOrder], Submission]:
    """`send` in a thread of the pool, with the app's context (the token store reads the database)."""

    def run(order: PaymentOrder) -> Submission:
        with app.app_context():
            return send(order)

    return run


def _check_balance(name: str, gateway: PaymentGateway) -> None:
    try:
        balance = gateway.ask_balance()
    except Exception:
        log.exception("balance check by %s failed", name)
        return
    if balance is not None:
        payments.record_balance(name, balance)
    elif gateway.asynchronous and name != "csv":
        payments.note_balance_asked(name)


def send_due(
    gateways: Mapping[str, PaymentGateway],
    *,
    batch: int = BATCH,
    concurrency: int = CONCURRENCY,
    max_batches: int | None = None,
) -> Counts:
    counts = Counts()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for name, gateway in gateways.items():
        while max_batches is None or counts.batches < max_batches:
            _check_balance(name, gateway)
            claimed = payments.claim(name, batch)
            if not claimed:
                break
            counts.batches += 1
            with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
                pending: dict[Future[Submission], int] = {
                    pool.submit(_in_app(app, gateway.pay), c.order): c.payment_id for c in claimed
                }
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        payment_id = pending.pop(future)
                        try:
                            answer = future.result()
                        except Exception:
                            # A bug of ours after the request may have gone: unknown, same id.
                            log.exception("payment %s: sending raised", payment_id)
                            answer = Submission(Sent.UNKNOWN, code="error")
                        payments.record_sent(payment_id, answer)
                        counts.sent += 1
                        key = str(answer.sent)
                        counts.by_answer[key] = counts.by_answer.get(key, 0) + 1
            if len(claimed) < batch:
                break
    return counts


def reconcile(gateways: Mapping[str, PaymentGateway], *, batch: int = BATCH) -> Counts:
    counts = Counts()
    for name, gateway in gateways.items():
        if name == "csv":
            continue
        for originator in payments.to_reconcile(name, batch):
            counts.asked += 1
            try:
                answer = gateway.ask_status(originator)
            except Exception:
                log.exception("status of %s by %s failed", originator, name)
                continue
            if answer is not None:
                payments.record_result(answer)
    counts.settled = payments.settle_bank_payments()
    return counts
