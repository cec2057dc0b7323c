"""Sending SMS again, as an operator or officer chooses: the one use case behind the officers' SMS
page and `flask sms-resend`.

A selection names states, kinds, ids and a time range of writing (any of them; at least one). The
messages it matches are requeued with the same text: due now, with a fresh count of attempts.
Pending messages are already queued (one may be in a worker's hands this very moment) and are left
alone; messages that went out (sent, delivered) are sent again only when `force` says so. Each
requeued message is an audit event (`sms.resent`) with the state it left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..domain import errors
from ..domain.codes import format_voucher_code
from ..domain.models import (
    OUTBOX_QUEUED,
    OUTBOX_WENT_OUT,
    OutboxMessage,
    OutboxStatus,
    outbox_resendable_states,
)
from ..extensions import db
from . import lookups, unit

MAX_IDS = 10_000


@dataclass(frozen=True)
class Selection:
    states: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    ids: frozenset[int] = frozenset()
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        known = {s.value for s in OutboxStatus}
        unknown = sorted(set(self.states) - known)
        if unknown:
            raise errors.InvalidInput(
                f"no such state: {', '.join(unknown)} (states: {', '.join(sorted(known))})",
                field="state",
            )
        if len(self.ids) > MAX_IDS:
            raise errors.InvalidInput(f"at most {MAX_IDS} ids at once", field="id")
        for name in ("created_from", "created_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise errors.InvalidInput("give times with a time zone (UTC)", field=name)
        if self.created_from and self.created_to and self.created_from >= self.created_to:
            raise errors.InvalidInput("the time range is empty", field="created_to")

    @property
    def empty(self) -> bool:
        return not (self.states or self.kinds or self.ids or self.created_from or self.created_to)

    def where(self) -> list[sa.ColumnElement[bool]]:
        if self.empty:
            raise errors.InvalidInput(
                "choose what to send again: a state, a kind, ids or a time range",
                field="selection",
            )
        clauses: list[sa.ColumnElement[bool]] = []
        if self.states:
            clauses.append(OutboxMessage.status.in_(sorted(self.states)))
        if self.kinds:
            clauses.append(OutboxMessage.kind.in_(sorted(self.kinds)))
        if self.ids:
            clauses.append(OutboxMessage.id.in_(sorted(self.ids)))
        if self.created_from is not None:
            clauses.append(OutboxMessage.created_at >= self.created_from)
        if self.created_to is not None:
            clauses.append(OutboxMessage.created_at < self.created_to)
        return clauses


@dataclass
class Resend:
    """What a resend did (or, previewed, would do)."""

    requeued: Counter[tuple[str, str]] = field(default_factory=Counter)  # (state, kind) -> n
    went_out: int = 0  # matched, sent or delivered, left alone (no force)
    queued: int = 0  # matched, pending already, left alone

    @property
    def total(self) -> int:
        return sum(self.requeued.values())


def _matched(selection: Selection, force: bool) -> Resend:
    """The messages the selection matches, as `resend` would treat them."""
    found = Resend()
    rows = db.session.execute(
        sa.select(OutboxMessage.status, OutboxMessage.kind, sa.func.count())
        .where(*selection.where())
        .group_by(OutboxMessage.status, OutboxMessage.kind)
    ).all()
    for status, kind, n in rows:
        if status in OUTBOX_QUEUED:
            found.queued += int(n)
        elif status in OUTBOX_WENT_OUT and not force:
            found.went_out += int(n)
        else:
            found.requeued[(str(status), str(kind))] += int(n)
    return found


def preview(selection: Selection, force: bool = False) -> Resend:
    """What `resend` would requeue now, without changing anything."""
    found = _matched(selection, force)
    db.session.rollback()
    return found


def resend(
    selection: Selection, actor: str, *, force: bool = False, now: datetime | None = None
) -> Resend:
    """Requeue what the selection matches (see the module's docstring); one commit."""
    with unit.of_work(actor, now) as uow:
        return _requeue(uow, selection, force)


VOUCHER_SMS = "voucher_issued"


def resend_voucher(code: str, actor: str, now: datetime | None = None) -> Resend:
    """Send a voucher's SMS again (the person lost it, or it never arrived): the message that
    told them the code, with the same text, whatever state it is in but queued already (then
    it is left alone, and the answer says so). Only for a voucher that can still be used."""
    with unit.of_work(actor, now) as uow:
        voucher = lookups.find_voucher(code)
        voucher.ensure_usable(uow.now)
        message_id = voucher_sms(voucher.entrepreneur.phone, voucher.code)
        if message_id is None:
            raise errors.NotFound("No SMS of this voucher is in the outbox.", field="sms")
        return _requeue(uow, Selection(ids=frozenset({message_id})), force=True)


def voucher_sms(phone: str, code: str) -> int | None:
    """The id of the latest SMS that gave `phone` the voucher `code`."""
    return db.session.scalar(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.to_phone == phone,
            OutboxMessage.kind == VOUCHER_SMS,
            OutboxMessage.body.contains(format_voucher_code(code), autoescape=True),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def _requeue(uow: unit.UnitOfWork, selection: Selection, force: bool) -> Resend:
    now = uow.now
    s = db.session()
    states = [st.value for st in outbox_resendable_states(force)]
    stmt = (
        sa.select(
            OutboxMessage.id,
            OutboxMessage.status,
            OutboxMessage.kind,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.gateway_message_id,
            OutboxMessage.delivery_status,
        )
        .where(*selection.where(), OutboxMessage.status.in_(states))
        .order_by(OutboxMessage.id)
        .with_for_update()  # where the database locks rows (SQLite has one writer at a time)
    )
    candidates = {r.id: r for r in s.execute(stmt).all()}
    matched = _matched(selection, force)
    done = Resend(went_out=matched.went_out, queued=matched.queued)
    if candidates:
        # Conditional: a message another resend (or a report) moved meanwhile is not touched.
        changed: list[int] = []
        ids = sorted(candidates)
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            changed += list(
                s.execute(
                    sa.update(OutboxMessage)
                    .where(OutboxMessage.id.in_(chunk), OutboxMessage.status.in_(states))
                    .values(**OutboxMessage.requeued(now))
                    .returning(OutboxMessage.id)
                    .execution_options(synchronize_session=False)
                ).scalars()
            )
        after: dict[str, Any] = {"status": OutboxStatus.PENDING.value, "attempts": 0}
        for message_id in sorted(changed):
            row = candidates[message_id]
            before = {
                "status": row.status,
                "kind": row.kind,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "gateway_message_id": row.gateway_message_id,
                "delivery_status": row.delivery_status,
            }
            uow.audit("sms.resent", ("sms", message_id), before, after)
            done.requeued[(str(row.status), str(row.kind))] += 1
    return done
