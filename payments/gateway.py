"""The payment channel interface: what a backend is (`PaymentGateway`), with the backends for
development, tests and banks.

`console` prints and pays at once (development), `fake` records and answers as told (tests), `csv`
pays nothing itself: the payment waits in the bank file for an officer to mark it paid (today's
path for bank accounts). The real one is `mpesa.py`, the only module that speaks Daraja. This
module knows no backend but its own: `backends.py` picks one by name.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from marketplace.domain.money import format_minor
from marketplace.domain.payments import Outcome, PaymentOrder, Result, Sent, Submission


class PaymentGateway(Protocol):
    name: str
    # Whether a payment sent this way is settled by a later callback or status query.
    asynchronous: bool

    def pay(self, order: PaymentOrder) -> Submission:
        """Send one payment. Never raises for the channel's answers: every one is a Submission."""
        ...

    def ask_status(self, originator_id: str) -> Result | None:
        """Ask the channel what became of a payment: the answer now, or None when it comes by
        callback (`parse`)."""
        ...

    def ask_balance(self) -> int | None:
        """The paying account's balance now, or None when it comes by callback."""
        ...


class ConsoleGateway:
    """Prints every payment and pays it at once: the development default."""

    name = "console"
    asynchronous = False

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.paid: dict[str, Result] = {}

    def pay(self, order: PaymentOrder) -> Submission:
        with self._lock:
            if order.originator_id in self.paid:
                return Submission(Sent.DUPLICATE)
            receipt = f"CON{next(self._counter):07d}"
            result = Result(
                order.originator_id, Outcome.SUCCEEDED, receipt, None, order.amount_minor
            )
            self.paid[order.originator_id] = result
            self.stream.write(
                f"[PAY {format_minor(order.amount_minor, order.currency)} to {order.msisdn}] "
                f"receipt {receipt}\n"
            )
            self.stream.flush()
        return Submission(Sent.ACCEPTED, receipt, result=result)

    def ask_status(self, originator_id: str) -> Result | None:
        return self.paid.get(originator_id) or Result(originator_id, Outcome.NOT_FOUND)

    def ask_balance(self) -> int | None:
        return None


@dataclass
class FakeGateway:
    """Records every order and answers as `answer` says (default: paid at once, receipt FAKE…)."""

    name: str = "fake"
    asynchronous: bool = False
    orders: list[PaymentOrder] = field(default_factory=list)
    answer: Callable[[PaymentOrder], Submission] | None = None
    statuses: dict[str, Result] = field(default_factory=dict)
    balance: int | None = None

    def pay(self, order: PaymentOrder) -> Submission:
        self.orders.append(order)
        if self.answer is not None:
            return self.answer(order)
        result = Result(order.originator_id, Outcome.SUCCEEDED, f"FAKE{len(self.orders):06d}", None)
        self.statuses[order.originator_id] = result
        return Submission(Sent.ACCEPTED, f"conv-{len(self.orders)}", result=result)

    def ask_status(self, originator_id: str) -> Result | None:
        return self.statuses.get(originator_id) or Result(originator_id, Outcome.NOT_FOUND)

    def ask_balance(self) -> int | None:
        return self.balance


class CsvGateway:
    """Banks: nothing is sent. The payment is accepted into the run's CSV file, and is paid when an
    officer marks its statement paid with the bank's reference (`payouts.mark_paid`)."""

    name = "csv"
    asynchronous = True

    def pay(self, order: PaymentOrder) -> Submission:
        return Submission(Sent.ACCEPTED, None)

    def ask_status(self, originator_id: str) -> Result | None:
        return Result(originator_id, Outcome.PENDING)

    def ask_balance(self) -> int | None:
        return None
