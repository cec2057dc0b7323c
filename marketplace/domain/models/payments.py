"""Money moving to providers: each payment of a payout statement, its callbacks, the payee checks
and the state of each payment channel (its shared access token, a pause, the last balance seen).

A `Payment` is one attempt at paying one statement (`Payout`) by one channel. Its row is written,
with the id the channel deduplicates on (`originator_id`, derived from the statement and the
attempt), before anything is sent, so a callback that comes before the acknowledgement finds it.
Its state only moves forward:

    held -> queued -> submitting -> accepted -> succeeded | failed
                          |             |
                          +-> unknown   +-> timed_out        (reconciliation settles both)

`succeeded` and `failed` are final: no callback, query or officer moves them. A new attempt (a new
row, the next `attempt`, a new id) is made only after a final failure, and at most one attempt of a
statement is ever not failed (a partial unique index): money goes out at most once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import errors
from ..base import Base, enum_check
from .payouts import Payout


class PaymentState(StrEnum):
    HELD = "held"  # waiting for an officer (the payee's registered name did not match)
    QUEUED = "queued"
    SUBMITTING = "submitting"  # being sent: the channel may have it already
    ACCEPTED = "accepted"  # acknowledged; the result comes by callback
    TIMED_OUT = "timed_out"  # the channel's queue timed out: not a failure, reconcile
    UNKNOWN = "unknown"  # our request's answer never came: send again with the same id, or query
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINAL_STATES = frozenset({PaymentState.SUCCEEDED, PaymentState.FAILED})
# States whose outcome the channel knows and we do not yet: what reconciliation asks about.
OPEN_STATES = frozenset({PaymentState.ACCEPTED, PaymentState.TIMED_OUT, PaymentState.UNKNOWN})
_FORWARD: dict[str, frozenset[str]] = {
    PaymentState.HELD: frozenset({PaymentState.QUEUED, PaymentState.FAILED}),
    PaymentState.QUEUED: frozenset({PaymentState.SUBMITTING, PaymentState.HELD}),
    PaymentState.SUBMITTING: frozenset(
        {PaymentState.ACCEPTED, PaymentState.UNKNOWN, PaymentState.QUEUED}
    ),
    PaymentState.ACCEPTED: frozenset({PaymentState.TIMED_OUT, PaymentState.UNKNOWN}),
    PaymentState.TIMED_OUT: frozenset({PaymentState.UNKNOWN}),
    PaymentState.UNKNOWN: frozenset({PaymentState.SUBMITTING, PaymentState.ACCEPTED}),
}


class FailureClass(StrEnum):
    RECIPIENT = "recipient"  # this payee cannot be paid so (not registered, no such number, limits)
    CONFIGURATION = "configuration"  # ours to fix (credential, product): the queue stops
    FUNDS = "funds"  # the paying account is short: the queue stops until a balance covers it
    TRANSIENT = "transient"  # the channel's own trouble: a new attempt may succeed
    REJECTED = "rejected"  # the channel refused our request as malformed


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        enum_check("state", "state", PaymentState),
        sa.UniqueConstraint("payout_id", "attempt", name="uq_payments_payout_attempt"),
        sa.UniqueConstraint("originator_id", name="uq_payments_originator_id"),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("attempt >= 1", name="attempt_positive"),
        # One attempt of a statement at a time, and none after one succeeded.
        sa.Index(
            "uq_payments_one_live_attempt",
            "payout_id",
            unique=True,
            sqlite_where=sa.text("state <> 'failed'"),
            postgresql_where=sa.text("state <> 'failed'"),
        ),
        sa.Index("ix_payments_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(sa.ForeignKey("payouts.id"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    attempt: Mapped[int] = mapped_column(default=1)
    channel: Mapped[str] = mapped_column(sa.String(20))
    originator_id: Mapped[str] = mapped_column(sa.String(40))
    msisdn: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    state: Mapped[str] = mapped_column(sa.String(12), default=PaymentState.QUEUED)
    sends: Mapped[int] = mapped_column(default=0)  # requests sent with this id
    due_at: Mapped[datetime]  # when the sender or the reconciler next looks at it
    conversation_id: Mapped[str | None] = mapped_column(sa.String(60))
    receipt: Mapped[str | None] = mapped_column(sa.String(30), unique=True)
    registered_name: Mapped[str | None] = mapped_column(sa.String(120))
    result_code: Mapped[str | None] = mapped_column(sa.String(30))
    result_desc: Mapped[str] = mapped_column(sa.String(300), default="")
    failure_class: Mapped[str | None] = mapped_column(sa.String(15))
    hold_reason: Mapped[str] = mapped_column(sa.String(30), default="")
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    payout: Mapped[Payout] = relationship()

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def move(self, to: PaymentState, now: datetime) -> None:
        """Forward along the state machine; a final state never moves."""
        if to not in _FORWARD.get(self.state, frozenset()):
            raise errors.IllegalTransition(f"A payment {self.state} cannot become {to}.")
        self.state = to
        if to is PaymentState.SUBMITTING:
            self.submitted_at = now
        elif to is PaymentState.ACCEPTED and self.accepted_at is None:
            self.accepted_at = now

    def succeed(self, receipt: str, registered_name: str | None, now: datetime) -> None:
        if self.final:
            raise errors.IllegalTransition(f"This payment is already {self.state}.")
        self.state = PaymentState.SUCCEEDED
        self.receipt = receipt
        self.registered_name = registered_name
        self.result_code = "0"
        self.finished_at = now

    def fail(self, code: str, desc: str, failure: FailureClass, now: datetime) -> None:
        if self.final:
            raise errors.IllegalTransition(f"This payment is already {self.state}.")
        self.state = PaymentState.FAILED
        self.result_code = code[:30]
        self.result_desc = desc[:300]
        self.failure_class = failure
        self.finished_at = now


class PaymentCallback(Base):
    """Every body a payment channel posted to us, stored as it came before anything reads it."""

    __tablename__ = "payment_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))  # b2c-result, b2c-timeout, status-result, …
    originator_id: Mapped[str | None] = mapped_column(sa.String(60), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(sa.String(40), default="")


class PayeeCheckStatus(StrEnum):
    MATCHED = "matched"
    MISMATCH = "mismatch"  # later payments to the number wait for an officer
    ACCEPTED = "accepted"  # an officer saw the name and accepted it
    REJECTED = "rejected"  # an officer refused the number: its held payments fail


class PayeeCheck(Base):
    """The registered M-Pesa name seen with the first payment to a number, against the provider's."""

    __tablename__ = "payee_checks"
    __table_args__ = (enum_check("status", "status", PayeeCheckStatus),)

    msisdn: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    expected_name: Mapped[str] = mapped_column(sa.String(120))
    registered_name: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[str] = mapped_column(sa.String(10))
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"))
    checked_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(sa.String(120))
    decided_at: Mapped[datetime | None]


class PaymentChannel(Base):
    """One row per payment channel: the access token every worker shares (fetched by one at a
    time under this row's lock: a new token ends the old), a pause after a configuration-class
    failure, a back-off after throttling, whether its credential is proven, and the balance the
    last check saw."""

    __tablename__ = "payment_channels"

    name: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    token: Mapped[str | None] = mapped_column(sa.String(200))
    token_expires_at: Mapped[datetime | None]
    token_fetches: Mapped[int] = mapped_column(default=0)
    paused_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    paused_at: Mapped[datetime | None]
    backoff_until: Mapped[datetime | None]
    # When a result last showed our credential and account work (a payment paid, or refused for
    # the payee's reason). Until then (a new channel, a resumed one) one payment goes at a time:
    # a wrong credential is refused once, not once per payment in flight (three lock it).
    proven_at: Mapped[datetime | None]
    balance_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    balance_at: Mapped[datetime | None]
    balance_requested_at: Mapped[datetime | None]
