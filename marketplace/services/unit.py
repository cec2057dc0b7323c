"""The unit of work: one transaction per use case, with its audit events and its SMS inside it.

A use case reads as the rule and one line per consequence:

    with unit.of_work(actor, now) as uow:
        voucher = lookups.lock_voucher(voucher_id)
        before = {"status": voucher.status}
        voucher.book(now)
        uow.flush_or(errors.VoucherAlreadyBooked())
        uow.audit("voucher.booked", voucher, before, {"status": voucher.status})
        uow.sms(person.phone, "booking_made_entrepreneur", person.language, code=...)

The contract:

- **Clean exit** of the outermost unit: the SMS it queued are written to the outbox, the cells of
  the funder statistics its events may have moved are written to the statistics' change log
  (`stats_log.write`), its audit events are sealed into the chain (`audit.seal`, once), and the
  transaction commits. The change,
  its events and its SMS land together or not at all; an SMS is never in the outbox before its
  change committed, so the worker cannot send it early.
- **An exception** leaving a unit rolls the transaction back and discards the audit events and
  SMS not yet committed, then goes on. A constraint the database enforces becomes a domain error
  with `uow.flush_or(error)`.
- **Re-entrant.** A unit opened while another is open (in the same database session) joins it: its
  events and SMS (with its own `actor` and `now`) are the outer unit's, and nothing commits when it
  ends; the outermost unit commits everything at its end. So a channel can open a unit, store the
  message it is answering and queue its reply, call a use case whose own `of_work` joins that
  unit, and the reply and the change commit together (or neither does). An exception leaving a
  joined unit still rolls back the whole transaction, the outer unit's work so far included:
  catch it outside the outermost `with` and answer in a fresh unit.
- `uow.commit()` makes the work so far stand even if the use case refuses next (a wrong code is
  counted, then refused): it writes, seals and commits at once, and the unit goes on in a new
  transaction. In a joined unit it commits the shared transaction, the outer unit's work included.
  `uow.rollback()` undoes the work so far in the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import errors
from ..domain.base import utcnow
from ..domain.models import (
    ApiKey,
    Entrepreneur,
    OutboxMessage,
    Payment,
    Payout,
    PayoutAccount,
    PayoutRun,
    Programme,
    Provider,
    ProviderStaff,
    StaffUser,
    TrainingSession,
    Voucher,
)
from ..extensions import db
from . import audit, outbox, stats_log

_DEPTH = "unit_of_work_depth"  # session.info: how many units are open on this session
_OUTBOX = "outbox_pending"  # session.info: the SMS queued, written to the outbox on commit

# What the audit log calls the entities it records.
ENTITY_TYPES: dict[type, str] = {
    ApiKey: "api_key",
    Entrepreneur: "entrepreneur",
    OutboxMessage: "sms",
    Payment: "payment",
    Payout: "payout",
    PayoutAccount: "payout_account",
    PayoutRun: "payout_run",
    Programme: "programme",
    Provider: "provider",
    ProviderStaff: "provider_staff",
    StaffUser: "staff_user",
    TrainingSession: "session",
    Voucher: "voucher",
}

Entity = object | tuple[str, object]  # a model in ENTITY_TYPES, or (entity type, id)


class UnitOfWork:
    """One use case's handle on its transaction (see the module's docstring)."""

    def __init__(self, session: Session, actor: str, now: datetime, *, joined: bool) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.joined = joined  # opened inside another unit, which commits

    def audit(
        self,
        action: str,
        entity: Entity,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        *,
        actor: str | None = None,
    ) -> None:
        """Record an audit event, sealed into the chain when the unit commits."""
        if isinstance(entity, tuple):
            entity_type, entity_id = entity
        else:
            entity_type, entity_id = ENTITY_TYPES[type(entity)], entity.id  # type: ignore[attr-defined]
        audit.record(
            self.session,
            actor or self.actor,
            action,
            entity_type,
            entity_id,
            before,
            after,
            self.now,
        )
        stats_log.note(self.session, action, entity_type, entity_id, before, after, self.now)

    def audit_many(
        self,
        action: str,
        entity_type: str,
        entries: Iterable[tuple[object, dict[str, Any] | None, dict[str, Any] | None]],
        *,
        actor: str | None = None,
    ) -> None:
        """Many events of one action: (entity id, before, after) each (a bulk issuance)."""
        listed = list(entries)
        audit.record_many(self.session, actor or self.actor, action, entity_type, listed, self.now)
        stats_log.note_many(
            self.session, action, entity_type, (i for i, _b, _a in listed), self.now
        )

    def sms(
        self,
        to_phone: str,
        kind: str,
        language: str,
        /,
        *,
        opted_out: bool = False,
        at: datetime | None = None,
        **params: Any,
    ) -> OutboxMessage | None:
        """Queue a templated SMS, written to the outbox when the unit commits (due at `at`, by
        default the unit's `now`); None when the person opted out of this kind of message."""
        if opted_out and not outbox.essential(kind):
            return None
        return self.sms_text(to_phone, outbox.render(kind, language, **params), kind, at=at)

    def sms_text(
        self, to_phone: str, body: str, kind: str = "reply", *, at: datetime | None = None
    ) -> OutboxMessage:
        """Queue an SMS whose text is written already (a reply to an SMS command)."""
        message = outbox.message(to_phone, body, kind, at or self.now)
        self.session.info.setdefault(_OUTBOX, []).append(message)
        return message

    def sms_many(self, rows: list[dict[str, Any]]) -> None:
        """Write many outbox rows at once (`outbox.row` builds them), in this transaction: a bulk
        issuance's thousands of SMS, written with COPY on PostgreSQL."""
        outbox.insert_rows(self.session, rows)

    def flush_or(self, error: errors.DomainError) -> None:
        flush_or(error)

    def commit(self) -> None:
        """Make the work so far stand, even if the use case then refuses (see the docstring)."""
        commit()

    def rollback(self) -> None:
        """Undo the work so far, its events and SMS, and go on (a use case that found nothing to
        do after all); in a joined unit the outer unit's work is undone too."""
        rollback()


@contextmanager
def of_work(actor: str, now: datetime | None = None) -> Iterator[UnitOfWork]:
    """A unit of work for `actor` at `now` (default: the current time); see the module docstring."""
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield UnitOfWork(session, actor, now or utcnow(), joined=depth > 0)
        if depth == 0:
            commit()
    except BaseException:
        rollback()
        raise
    finally:
        if depth:
            session.info[_DEPTH] = depth
        else:
            session.info.pop(_DEPTH, None)


def in_unit() -> bool:
    """True inside a unit of work (a use case called by another, or by a channel's unit)."""
    return bool(db.session().info.get(_DEPTH))


def session() -> Session:
    return db.session()


def commit() -> None:
    """Write the queued SMS, seal the audit chain, commit; on any failure roll back and discard."""
    s = db.session()
    try:
        queued: list[OutboxMessage] = s.info.pop(_OUTBOX, [])
        if queued:
            s.add_all(queued)
        stats_log.write(s)
        audit.seal(s)
        s.commit()
    except BaseException:
        rollback()
        raise


def rollback() -> None:
    s = db.session()
    s.rollback()
    s.info.pop(_OUTBOX, None)
    audit.discard(s)
    stats_log.discard(s)


def flush_or(error: errors.DomainError) -> None:
    """Flush pending changes; a violated constraint rolls back and raises `error` instead
    (the database's constraints are the last word on races the row locks do not cover)."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        rollback()
        raise error from exc
