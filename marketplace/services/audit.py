"""The append-only, keyed hash chain of audit events, anchored outside the database.

Services call `record()` during a use case; `seal()` runs just before the commit, takes a lock that
serialises writers of the chain, and links the new events to the last one. Each event's hash is an
HMAC-SHA256 under `AUDIT_KEY`, a secret held in the app's configuration and never in the database:
someone who can write to the database alone can neither change an event and recompute the chain
nor append an event of their own.

`verify_and_checkpoint()` walks the chain and, when it is intact, appends a checkpoint (the last
sequence number, its hash and the time, MACed under the key) to a file outside the database
(`AUDIT_CHECKPOINT_PATH`), as Certificate Transparency logs publish signed tree heads. Every later
verification fails when the chain no longer reaches a checkpoint or differs from it, so removing
events from the end, or all of them, is found too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import bulk, tuning
from ..domain.base import utcnow
from ..domain.models import AuditEvent
from . import settings

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_PENDING = "audit_pending"
_LOCK_KEY = 7_201_001  # the chain's lock: one transaction seals at a time


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


def record_many(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entries: Iterable[tuple[object, dict[str, Any] | None, dict[str, Any] | None]],
    at: datetime,
) -> None:
    """Many events of one action by one actor at one time: (entity id, before, after) each."""
    session.info.setdefault(_PENDING, []).extend(
        PendingEvent(at, actor, action, entity_type, str(entity_id), before, after)
        for entity_id, before, after in entries
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


def event_key(secret: str | None = None) -> bytes:
    """The key of the events' HMACs, derived from `AUDIT_KEY` (kept apart from the checkpoints')."""
    return _derive(secret, b"ujuzi audit events v1")


def checkpoint_key(secret: str | None = None) -> bytes:
    return _derive(secret, b"ujuzi audit checkpoints v1")


def _derive(secret: str | None, purpose: bytes) -> bytes:
    secret = secret if secret is not None else str(settings.get("AUDIT_KEY") or "")
    if not secret:
        raise RuntimeError("AUDIT_KEY is not set")
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def _plain(text: str) -> str:
    """A JSON string; ids and hex digests need no escaping."""
    return f'"{text}"' if text.isascii() and text.isalnum() else _encode(text)


def _encode(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class _Encoder:
    """The canonical encoding of many events at once. Values shared by many events (the time, the
    actor, one `after` dict for a whole bulk issuance) are encoded once; the result is the same
    bytes as `_canonical` gives, since JSON encodes a list item by item."""

    def __init__(self, key: bytes) -> None:
        self._seen: dict[int, tuple[Any, str]] = {}
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

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
        mac = self._mac.copy()
        mac.update(f"[{data}]".encode())
        return mac.hexdigest()


def event_hash(
    key: bytes,
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
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def seal(session: Session) -> int:
    """Write the pending events into the chain. Call inside the transaction, just before commit."""
    pending: list[PendingEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return 0
    tuning.transaction_lock(session, _LOCK_KEY)
    last = session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    rows = []
    encoder = _Encoder(event_key())
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
    bulk.insert(session, bulk.table_of(AuditEvent), rows, copy_from=_COPY_FROM)
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
class Checkpoint:
    """Where the chain stood when a verification found it intact: its last row and that row's
    hash (`GENESIS` for an empty log), MACed under the key so that a line cannot be made up."""

    seq: int
    hash: str
    at: datetime

    def _mac(self, key: bytes) -> str:
        text = f"{self.seq}|{self.hash}|{self.at.isoformat(timespec='microseconds')}"
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    def line(self, key: bytes) -> str:
        """One line of the checkpoint file (JSON), which may also be copied to an outside log."""
        return json.dumps(
            {
                "seq": self.seq,
                "hash": self.hash,
                "at": self.at.isoformat(timespec="microseconds"),
                "mac": self._mac(key),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_line(cls, text: str, key: bytes) -> Checkpoint | None:
        """The checkpoint a line holds, or None when the line is not one this key wrote."""
        try:
            data = json.loads(text)
            checkpoint = cls(
                int(data["seq"]), str(data["hash"]), datetime.fromisoformat(data["at"])
            )
            mac = str(data["mac"])
        except (ValueError, KeyError, TypeError):
            return None
        if not hmac.compare_digest(mac, checkpoint._mac(key)):
            return None
        return checkpoint


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None
    last_seq: int = 0
    last_hash: str = GENESIS
    checkpoints: int = 0  # how many earlier checkpoints the chain was held against
    checkpoint: Checkpoint | None = field(default=None)  # the one this verification wrote


class CheckpointFileError(Exception):
    """The checkpoint file has a line this key did not write."""


def checkpoint_path() -> Path:
    return Path(str(settings.get("AUDIT_CHECKPOINT_PATH")))


def read_checkpoints(path: Path | None = None, key: bytes | None = None) -> list[Checkpoint]:
    """Every checkpoint in the file (none when there is no file yet); CheckpointFileError names
    a line that is not authentic."""
    path = path or checkpoint_path()
    key = key or checkpoint_key()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        checkpoint = Checkpoint.from_line(line, key)
        if checkpoint is None:
            raise CheckpointFileError(
                f"line {number} of the checkpoint file {path} was not written with this AUDIT_KEY"
            )
        found.append(checkpoint)
    return found


def _append_checkpoint(path: Path, line: str) -> None:
    """Append one line: a single write to a file opened for appending, flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


_COLUMNS = [c for c in AuditEvent.__table__.c]


def _iter_events(session: Session, batch: int = 5000) -> Iterator[sa.Row[Any]]:
    """Every event in order, as plain rows (no ORM objects to build), a batch at a time."""
    after = 0
    while True:
        rows = session.execute(
            sa.select(*_COLUMNS).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def verify(session: Session, checkpoints: Sequence[Checkpoint] | None = None) -> VerifyResult:
    """Recompute every keyed hash; report the first changed, forged, inserted or missing row, and
    a chain that no longer reaches (or differs from) an earlier checkpoint. Without `checkpoints`
    those of the checkpoint file are used."""
    if checkpoints is None:
        try:
            checkpoints = read_checkpoints()
        except CheckpointFileError as exc:
            return VerifyResult(False, 0, str(exc))
    key = event_key()
    held = {c.seq: c for c in checkpoints}
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
            key,
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
        if not hmac.compare_digest(h, ev.hash):
            return VerifyResult(
                False,
                checked,
                f"row {ev.seq} was changed or forged (its keyed hash does not match)",
                ev.seq,
            )
        mark = held.get(ev.seq)
        if mark is not None and mark.hash != ev.hash:
            return VerifyResult(
                False, checked, f"row {ev.seq} differs from {_described(mark)}", ev.seq
            )
        prev = ev.hash
        expected_seq += 1
        checked += 1
    last = checked
    reached = max(checkpoints, key=lambda c: c.seq, default=None)
    if reached is not None and reached.seq > last:
        return VerifyResult(
            False,
            checked,
            f"the log ends at row {last} but {_described(reached)} saw row {reached.seq}:"
            " rows were removed",
            last + 1,
        )
    return VerifyResult(True, checked, last_seq=last, last_hash=prev, checkpoints=len(held))


def _described(checkpoint: Checkpoint) -> str:
    return f"the checkpoint of {checkpoint.at.isoformat(timespec='seconds')}"


def verify_and_checkpoint(
    session: Session | None = None, now: datetime | None = None, path: Path | None = None
) -> VerifyResult:
    """Verify the chain against every earlier checkpoint and, when it is intact, append a new
    checkpoint (sequence, hash, time, MAC) to the checkpoint file and log it (for an outside log).
    The one entry point of `flask audit-verify` and of scheduled verification."""
    from ..extensions import db

    session = session or db.session()
    path = path or checkpoint_path()
    key = checkpoint_key()
    try:
        checkpoints = read_checkpoints(path, key)
    except CheckpointFileError as exc:
        log.error("audit chain not verified: %s", exc)
        return VerifyResult(False, 0, str(exc))
    result = verify(session, checkpoints)
    session.rollback()  # nothing was written; end the reading transaction
    if not result.ok:
        log.error("AUDIT CHAIN BROKEN after %s good events: %s", result.checked, result.problem)
        return result
    checkpoint = Checkpoint(result.last_seq, result.last_hash, (now or utcnow()).astimezone(UTC))
    line = checkpoint.line(key)
    _append_checkpoint(path, line)
    log.info("audit checkpoint %s", line)
    return VerifyResult(
        True,
        result.checked,
        last_seq=result.last_seq,
        last_hash=result.last_hash,
        checkpoints=result.checkpoints,
        checkpoint=checkpoint,
    )
