"""The SMS gateway interface: what a backend is (`SmsGateway`) and what it answers for each
recipient (`RecipientResult`, `Outcome`), with the backends for development and tests.

`console` prints (development), `fake` records and can be told to fail (tests); the real one is
`africastalking.py` (the only module that imports the Africa's Talking SDK). This module knows no
backend but its own two: `backends.py` picks one by name.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # the gateway took it; message id known
    RETRY = "retry"  # transient trouble: try again later with backoff
    PERMANENT = "permanent"  # this recipient can never receive it (bad number, blacklisted)
    ALERT = "alert"  # account or configuration trouble: park and tell operators
    AMBIGUOUS = "ambiguous"  # timed out after sending: it may or may not have gone
    # Never handed to the gateway: the worker's lease on the batch was running out (another
    # worker could claim the rows once it ends). Due again at once, no attempt used. Gateways
    # never return it.
    UNSENT = "unsent"


@dataclass(frozen=True)
class RecipientResult:
    phone: str
    outcome: Outcome
    message_id: str | None = None
    status_code: int | None = None
    detail: str = ""


class SmsGateway(Protocol):
    name: str

    def send(self, body: str, recipients: Sequence[str]) -> list[RecipientResult]:
        """Send one text to many recipients; one result per recipient, in any order."""
        ...


class ConsoleGateway:
    """Prints every message: the development default."""

    name = "console"

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self._counter = 0
        self._lock = threading.Lock()

    def send(self, body: str, recipients: Sequence[str]) -> list[RecipientResult]:
        results = []
        for phone in recipients:
            # One write per message, under the lock: the worker sends from several threads, and
            # `print` writes the text and its newline separately, so messages ran together.
            with self._lock:
                self._counter += 1
                message_id = f"console-{self._counter}"
                self.stream.write(f"[SMS to {phone}] {body}\n")
                self.stream.flush()
            results.append(RecipientResult(phone, Outcome.ACCEPTED, message_id, 101))
        return results


@dataclass
class SentMessage:
    body: str
    phone: str
    message_id: str


@dataclass
class FakeGateway:
    """Records messages; `fail_next(outcome, times)` makes the next sends fail that way."""

    name: str = "fake"
    sent: list[SentMessage] = field(default_factory=list)
    calls: int = 0
    _failures: list[Outcome] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, outcome: Outcome, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([outcome] * times)

    def send(self, body: str, recipients: Sequence[str]) -> list[RecipientResult]:
        with self._lock:
            self.calls += 1
            failure = self._failures.pop(0) if self._failures else None
            results = []
            for phone in recipients:
                if failure is not None:
                    if failure == Outcome.AMBIGUOUS:  # it went, but we never heard back
                        self.sent.append(SentMessage(body, phone, f"fake-{len(self.sent) + 1}"))
                    results.append(RecipientResult(phone, failure, detail=f"fake {failure}"))
                    continue
                message_id = f"fake-{len(self.sent) + 1}"
                self.sent.append(SentMessage(body, phone, message_id))
                results.append(RecipientResult(phone, Outcome.ACCEPTED, message_id, 101))
            return results

    def messages_to(self, phone: str) -> list[str]:
        return [m.body for m in self.sent if m.phone == phone]
