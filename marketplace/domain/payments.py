"""What a payment channel answers, in words every channel shares (no channel's own codes).

A channel's backend (`payments/`) turns its wire answers into these; the payment services act on
them alone. `Submission` is what sending one payment returned; `Result` is an outcome learned
later (a callback, a status query) or at once (the console and fake backends).
Amounts are minor units; a channel that pays whole units (M-Pesa: shillings) refuses the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from .models.payments import FailureClass


class Sent(StrEnum):
    ACCEPTED = "accepted"  # the channel took it; the outcome comes later (or in `result`)
    REJECTED = "rejected"  # refused for good, never processed: this attempt failed
    DUPLICATE = "duplicate"  # the channel has seen this id: it was sent before, ask its status
    UNKNOWN = "unknown"  # no answer (a timeout, a dropped connection): it may have gone
    THROTTLED = "throttled"  # too many requests, or the channel's own trouble: same id, later
    NOT_SENT = "not_sent"  # refused before processing for a reason of ours (a token): same id


@dataclass(frozen=True)
class Submission:
    sent: Sent
    conversation_id: str | None = None
    code: str = ""
    desc: str = ""
    failure: FailureClass | None = None
    result: Result | None = None  # a channel that settles at once (console, fake)


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"  # the channel's queue timed out: not a failure
    PENDING = "pending"  # still in progress
    NOT_FOUND = "not_found"  # the channel knows no such payment (a status query's answer)


@dataclass(frozen=True)
class Result:
    originator_id: str
    outcome: Outcome
    receipt: str | None = None
    registered_name: str | None = None
    amount_minor: int | None = None
    code: str = ""
    desc: str = ""
    failure: FailureClass | None = None
    balance_minor: int | None = None  # the paying account's balance, when the channel says


@dataclass(frozen=True)
class PaymentOrder:
    """What a channel needs to pay one payment."""

    originator_id: str
    msisdn: str | None  # E.164 digits without '+', for mobile money
    amount_minor: int
    currency: str
    remarks: str


def originator_id(payout_id: int, attempt: int) -> str:
    """The id a channel deduplicates on, derived from the statement and the attempt: sending the
    same attempt again is refused by the channel, a new attempt (after a final failure) differs."""
    digest = hashlib.sha256(f"ujuzi-payout:{payout_id}:{attempt}".encode()).hexdigest()[:10]
    return f"UJZ{payout_id}A{attempt}X{digest}"


def names_match(expected: str, registered: str) -> bool:
    """Whether the name M-Pesa registered for a number is the provider's: two words of the
    shorter name (its only word, if it has one) are in the other, ignoring case, order and
    punctuation ("NICHOLAS JOHN SONGOK" is "John Songok"). An organisation paid through a person's number will not match: an officer
    looks."""

    def words(name: str) -> set[str]:
        cleaned = "".join(c if c.isalnum() else " " for c in name.casefold())
        return {w for w in cleaned.split() if len(w) > 1}

    a, b = words(expected), words(registered)
    if not a or not b:
        return False
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return len(shorter & longer) >= min(2, len(shorter))
