"""What operators and officers see of the SMS outbox: the backlog (for /healthz and
`flask sms-status`), counts by state and kind, and the messages themselves, a page at a time.

States are listed from `OutboxStatus`, never by name, so a state added there shows up here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from ..domain.models import OutboxMessage, OutboxStatus, outbox_backlog_states
from ..extensions import db

PER_PAGE = 50


def backlog(now: datetime) -> dict[str, int]:
    """How many messages wait or are stuck, by state (every state but those that went out), and
    how long the oldest pending one has waited since it was written, in whole seconds (0 when
    none is pending).

    One grouped statement, answered from the index `ix_sms_outbox_due` (status, next_attempt_at,
    created_at) alone: it reads the index entries of these states only, never the table, and
    never the messages that went out (most of the table)."""
    states = outbox_backlog_states()
    rows = db.session.execute(backlog_statement()).all()
    found = {str(status): (int(n), oldest) for status, n, oldest in rows}
    figures = {s.value: found.get(s.value, (0, None))[0] for s in states}
    oldest = found.get(OutboxStatus.PENDING.value, (0, None))[1]
    figures["oldest_pending_age_seconds"] = (
        max(0, int((now - oldest).total_seconds())) if oldest is not None else 0
    )
    return figures


def backlog_statement() -> sa.Select[str, int, datetime]:
    return (
        sa.select(OutboxMessage.status, sa.func.count(), sa.func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_([s.value for s in outbox_backlog_states()]))
        .group_by(OutboxMessage.status)
    )


def counts() -> dict[tuple[str, str], int]:
    """Messages by (state, kind), all of them."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, OutboxMessage.kind, sa.func.count()).group_by(
            OutboxMessage.status, OutboxMessage.kind
        )
    ).all()
    return {(str(status), str(kind)): int(n) for status, kind, n in rows}


def sent_and_failed_by_kind() -> list[tuple[str, int, int]]:
    """(kind, accepted by the gateway, failed for good) for every kind of SMS: both only grow (a
    message accepted keeps its `sent_at`; a failed one stays failed). One grouped statement over
    the whole outbox (for /metrics): at a million messages a scrape costs PostgreSQL a fraction of
    a second."""
    rows = db.session.execute(
        sa.select(
            OutboxMessage.kind,
            sa.func.count(OutboxMessage.sent_at),
            sa.func.count().filter(OutboxMessage.status == OutboxStatus.FAILED.value),
        )
        .group_by(OutboxMessage.kind)
        .order_by(OutboxMessage.kind)
    ).all()
    return [(str(kind), int(sent), int(failed)) for kind, sent, failed in rows]


@dataclass(frozen=True)
class MessageRow:
    id: int
    created_at: datetime
    kind: str
    to_phone: str
    status: str
    attempts: int
    sent_at: datetime | None
    delivery_status: str | None
    last_error: str | None


@dataclass(frozen=True)
class MessagePage:
    rows: list[MessageRow]
    page: int
    pages: int
    total: int


_S = TypeVar("_S", bound="sa.Select[Any]")


def _filtered(stmt: _S, state: str, kind: str) -> _S:
    if state:
        stmt = stmt.where(OutboxMessage.status == state)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return stmt


def messages(state: str = "", kind: str = "", page: int = 1) -> MessagePage:
    """The messages of one state and kind (either may be empty: all), newest first."""
    total = int(
        db.session.scalar(
            _filtered(sa.select(sa.func.count()).select_from(OutboxMessage), state, kind)
        )
        or 0
    )
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    found = db.session.scalars(
        _filtered(sa.select(OutboxMessage), state, kind)
        .order_by(OutboxMessage.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    )
    rows = [
        MessageRow(
            id=m.id,
            created_at=m.created_at,
            kind=m.kind,
            to_phone=m.to_phone,
            status=m.status,
            attempts=m.attempts,
            sent_at=m.sent_at,
            delivery_status=m.delivery_status,
            last_error=m.last_error,
        )
        for m in found
    ]
    return MessagePage(rows, page, pages, total)
