"""Outbox messages in a chosen state, written as the service writes them (the outbox's own queue),
then moved to that state as the worker or a delivery report would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from marketplace.domain.models import AuditEvent, OutboxMessage, OutboxStatus
from marketplace.extensions import db
from marketplace.services import outbox

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

_WHAT_HAPPENED: dict[str, dict[str, Any]] = {
    OutboxStatus.PENDING.value: {},
    OutboxStatus.SENT.value: {"attempts": 1, "gateway_message_id": "ATXid_{id}"},
    OutboxStatus.DELIVERED.value: {
        "attempts": 1,
        "gateway_message_id": "ATXid_{id}",
        "delivery_status": "Success",
    },
    OutboxStatus.FAILED.value: {"attempts": 1, "last_error": "InvalidPhoneNumber"},
    OutboxStatus.PARKED.value: {"last_error": "InsufficientBalance"},
}


def message(
    state: str,
    kind: str = "voucher_issued",
    phone: str = "+254711000111",
    *,
    body: str | None = None,
    created_at: datetime = T0,
) -> int:
    """One message in `state` (any OutboxStatus value); its id."""
    row = outbox.queue_text(phone, body or f"Ujuzi: {kind} for {phone}", kind, now=created_at)
    db.session.flush()
    changes = {
        k: (v.format(id=row.id) if isinstance(v, str) else v)
        for k, v in _WHAT_HAPPENED.get(state, {"attempts": 1, "last_error": state}).items()
    }
    if state != OutboxStatus.PENDING.value:
        changes["sent_at"] = created_at + timedelta(seconds=5)
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == row.id).values(status=state, **changes)
    )
    db.session.commit()
    return row.id


def state_of(message_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get(OutboxMessage, message_id).status)  # type: ignore[union-attr]


def resent_ids() -> list[int]:
    """The messages the audit log says were sent again, in order."""
    return [
        int(e)
        for e in db.session.scalars(
            sa.select(AuditEvent.entity_id)
            .where(AuditEvent.action == "sms.resent")
            .order_by(AuditEvent.seq)
        )
    ]
