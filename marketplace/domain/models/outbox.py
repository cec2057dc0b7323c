"""The SMS outbox: every message to send, its states, and delivery reports that came early."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, enum_check


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting to be sent (or to be retried at next_attempt_at)
    SENT = "sent"  # accepted by the gateway
    DELIVERED = "delivered"  # final delivery report: success
    FAILED = "failed"  # permanent failure (bad number, blacklisted, retries exhausted)
    PARKED = "parked"  # account or configuration trouble: an operator must act
    # The gateway may or may not have taken it (it read the request, then timed out or dropped the
    # connection), and a second copy would not be harmless (money): an officer decides, unless a
    # delivery report settles it. Never read as sent.
    UNKNOWN = "unknown"


class OutboxMessage(Base):
    """An SMS to send, written in the same transaction as the change that caused it."""

    __tablename__ = "sms_outbox"
    __table_args__ = (
        enum_check("status", "status", OutboxStatus),
        # The worker's claim (status, then due time) and the backlog's figures (a count per
        # status, the oldest created_at) are both answered from this index alone.
        sa.Index("ix_sms_outbox_due", "status", "next_attempt_at", "created_at"),
        sa.Index("ix_sms_outbox_to_phone", "to_phone", "id"),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    to_phone: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.String(1600))
    kind: Mapped[str] = mapped_column(sa.String(40))  # template name: voucher_issued, login_code …
    segments: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(12), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    gateway_message_id: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    delivery_status: Mapped[str | None] = mapped_column(sa.String(20))
    delivery_updated_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(300))

    def schedule_retry(self, now: datetime, error: str, max_attempts: int) -> None:
        self.last_error = error[:300]
        if self.attempts >= max_attempts:
            self.status = OutboxStatus.FAILED
            return
        backoff = min(2**self.attempts * 15, 3600)
        self.next_attempt_at = now + timedelta(seconds=backoff)
        self.status = OutboxStatus.PENDING

    @staticmethod
    def requeued(now: datetime) -> dict[str, Any]:
        """What sending a message again (same text) sets: due now, a fresh count of attempts, and
        nothing of the last send (a late report for it must not be read as this send's)."""
        return {
            "status": OutboxStatus.PENDING.value,
            "next_attempt_at": now,
            "attempts": 0,
            "sent_at": None,
            "gateway_message_id": None,
            "delivery_status": None,
            "delivery_updated_at": None,
            "last_error": None,
        }


# The states of a message that went out: sending it again needs an operator's explicit choice.
OUTBOX_WENT_OUT = frozenset({OutboxStatus.SENT, OutboxStatus.DELIVERED})


# A pending message is queued already (perhaps being sent right now): it is never requeued.
OUTBOX_QUEUED = frozenset({OutboxStatus.PENDING})


def outbox_backlog_states() -> list[OutboxStatus]:
    """Every state a message can wait or be stuck in: all but those that went out."""
    return [s for s in OutboxStatus if s not in OUTBOX_WENT_OUT]


def outbox_resendable_states(force: bool = False) -> list[OutboxStatus]:
    """The states an operator may send a message again from; `force` adds those that went out."""
    return [
        s for s in OutboxStatus if s not in OUTBOX_QUEUED and (force or s not in OUTBOX_WENT_OUT)
    ]


class EarlyDeliveryReport(Base):
    """A delivery report for a message id no outbox row holds yet. The gateway can report a message
    before the worker has stored its id (the request's answer is still on its way), and never
    repeats a report it had answered: kept here until the id lands, then applied and deleted.
    Reports that never match (a copy sent again after an unknown outcome) are pruned by age."""

    __tablename__ = "sms_early_reports"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    message_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    status: Mapped[str] = mapped_column(sa.String(30))
    failure_reason: Mapped[str | None] = mapped_column(sa.String(60))
    phone: Mapped[str] = mapped_column(sa.String(40))
    received_at: Mapped[datetime] = mapped_column(index=True)
