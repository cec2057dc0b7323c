"""The append-only, hash-chained audit log.

Services call `record()` during a use case; `seal()` runs just before the commit, takes a lock that
serialises writers of the chain, and links the new events to the last one. `verify()` walks the chain.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..domain.base import utcnow
from ..domain.models import AuditEvent
from . import bulk

GENESIS = "0" * 64
_PENDING = "audit_pending"
_LOCK_KEY = 7_201_001  # pg_advisory_xact_lock key for the chain


class PendingEvent(NamedTuple):
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    session.info.setdefault(_PENDING, []).append(
        PendingEvent(at or utcnow(), actor, action, entity_type, str(entity_id), before, after)
    )


def discard(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _canonical(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
    prev_hash: str,
) -> bytes:
    payload = [
        seq,
        at.isoformat(timespec="microseconds"),
        actor,
        action,
        entity_type,
        entity_id,
        before,
        after,
        prev_hash,
    ]
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def _plain(text: str) -> str:
    """A JSON string; ids and hex digests need no escaping."""
    return f'"{text}"' if text.isascii() and text.isalnum() else _encode(text)


def _encode(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class _Encoder:
    """The canonical encoding of many events at once. Values shared by many events (the time, the
    actor, one `after` dict for a whole bulk issuance) are encoded once; the result is the same
    bytes as `_canonical` gives, since JSON encodes a list item by item."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[Any, str]] = {}

    def _json(self, value: Any) -> str:
        hit = self._seen.get(id(value))
        if hit is None or hit[0] is not value:
            hit = self._seen[id(value)] = (value, _encode(value))
        return hit[1]

    def _time(self, at: datetime) -> str:
        hit = self._seen.get(id(at))
        if hit is None or hit[0] is not at:
            hit = self._seen[id(at)] = (at, _encode(at.isoformat(timespec="microseconds")))
        return hit[1]

    def hash(
        self,
        seq: int,
        at: datetime,
        actor: str,
        action: str,
        entity_type: str,
        entity_id: str,
        before: Any,
        after: Any,
        prev_hash: str,
    ) -> str:
        data = ",".join(
            [
                str(seq),
                self._time(at),
                self._json(actor),
                self._json(action),
                self._json(entity_type),
                _plain(entity_id),
                self._json(before),
                self._json(after),
                _plain(prev_hash),
            ]
        )
        return hashlib.sha256(f"[{data}]".encode()).hexdigest()


def event_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
    prev_hash: str,
) -> str:
    data = _canonical(seq, at, actor, action, entity_type, entity_id, before, after, prev_hash)
    return hashlib.sha256(data).hexdigest()


def seal(session: Session) -> int:
    """Write the pending events into the chain. Call inside the transaction, just before commit."""
    pending: list[PendingEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    rows = []
    encoder = _Encoder()
    for ev in pending:
        seq += 1
        # The hash covers exactly what the database will give back: JSON-native values as they
        # are, anything else (dates, enums) after a round trip through JSON.
        before = ev.before if _json_native(ev.before) else _round_trip(ev.before)
        after = ev.after if _json_native(ev.after) else _round_trip(ev.after)
        at = ev.at.astimezone(UTC)  # as the database gives it back
        h = encoder.hash(
            seq, at, ev.actor, ev.action, ev.entity_type, ev.entity_id, before, after, prev
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": ev.actor,
                "action": ev.action,
                "entity_type": ev.entity_type,
                "entity_id": ev.entity_id,
                "before": before,
                "after": after,
                "prev_hash": prev,
                "hash": h,
            }
        )
        prev = h
    if len(rows) >= _COPY_FROM and bulk.is_postgres(session):
        bulk.insert(session, bulk.table_of(AuditEvent), rows)
    else:
        session.execute(sa.insert(AuditEvent), rows)
    return len(rows)


_COPY_FROM = 100  # events sealed at once; fewer go through a plain INSERT
_SCALARS = (str, int, float, bool, type(None))


def _json_native(value: Any) -> bool:
    """True when JSON gives back an equal value of the same types (a round trip is a no-op)."""
    kind = type(value)
    if kind in _SCALARS:
        return kind is not float or math.isfinite(value)
    if kind is dict:
        return all(type(k) is str and _json_native(v) for k, v in value.items())
    if kind is list:
        return all(_json_native(v) for v in value)
    return False


def _round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str)) if value is not None else None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None


def _iter_events(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.seq > after)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> VerifyResult:
    """Recompute every hash; report the first changed, inserted or missing row."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for ev in _iter_events(session):
        if ev.seq != expected_seq:
            return VerifyResult(False, checked, f"row {expected_seq} is missing", expected_seq)
        if ev.prev_hash != prev:
            return VerifyResult(
                False, checked, f"row {ev.seq} does not link to the row before it", ev.seq
            )
        h = event_hash(
            ev.seq,
            ev.at,
            ev.actor,
            ev.action,
            ev.entity_type,
            ev.entity_id,
            ev.before,
            ev.after,
            ev.prev_hash,
        )
        if h != ev.hash:
            return VerifyResult(False, checked, f"row {ev.seq} was changed", ev.seq)
        prev = ev.hash
        expected_seq += 1
        checked += 1
    return VerifyResult(True, checked)
