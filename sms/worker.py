"""The SMS worker: sends the outbox after commit, retries with backoff, loses nothing.

A batch is claimed in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of
workers can run): each claimed row's `next_attempt_at` moves a lease into the future and its attempt
count goes up. The worker then sends outside any transaction, one request per distinct text (up to
100 recipients), several requests in flight at once, and writes the outcomes. A worker that dies mid-send leaves rows that become due again when the lease ends.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from marketplace.domain.base import utcnow
from marketplace.domain.models import OutboxMessage, OutboxStatus
from marketplace.services import heartbeat

from . import delivery, texts
from .gateway import Outcome, RecipientResult, SmsGateway

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# No request of a batch starts later than this after the claim: one started then still ends (the
# gateway's connect and read timeouts are seconds) before the lease does and another worker may
# claim the rows it holds.
SEND_WINDOW = LEASE - timedelta(minutes=1)
MAX_RECIPIENTS_PER_REQUEST = 100
SEND_CONCURRENCY = 8  # requests in flight at once per worker
# After the gateway reports an account or configuration problem (no credit, a bad sender id), a
# worker waits this long, then probes with one message before sending batches again.
ALERT_PAUSE_SECONDS = 300.0
RELEASE_HINT = "fix the account or configuration, then run `flask sms-release-parked`"


@dataclass
class DrainStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    parked: int = 0
    unsent: int = 0  # claimed, but the lease ran short before their request could start
    requests: int = 0

    def add(self, other: DrainStats) -> None:
        for name in ("claimed", "sent", "retried", "failed", "parked", "unsent", "requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Claimed:
    id: int
    to_phone: str
    body: str
    kind: str
    attempts: int


def claim_batch(session: Session, limit: int, now: datetime) -> list[Claimed]:
    """Take up to `limit` due messages for this worker and commit the claim."""
    stmt = (
        sa.select(
            OutboxMessage.id,
            OutboxMessage.to_phone,
            OutboxMessage.body,
            OutboxMessage.kind,
            OutboxMessage.attempts,
        )
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = session.execute(stmt).all()
    if not rows:
        session.rollback()
        return []
    ids = [r.id for r in rows]
    claimed = (
        session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    session.commit()
    mine = set(claimed)  # on SQLite another worker may have won a row between select and update
    return [Claimed(r.id, r.to_phone, r.body, r.kind, r.attempts + 1) for r in rows if r.id in mine]


def _requests(batch: list[Claimed]) -> list[tuple[str, list[Claimed]]]:
    """One request per distinct text, up to 100 recipients each; the same phone twice in one
    request would be ambiguous, so repeats go in requests of their own."""
    by_body: dict[str, list[Claimed]] = defaultdict(list)
    for msg in batch:
        by_body[msg.body].append(msg)
    out: list[tuple[str, list[Claimed]]] = []
    for body, group in by_body.items():
        for i in range(0, len(group), MAX_RECIPIENTS_PER_REQUEST):
            part = group[i : i + MAX_RECIPIENTS_PER_REQUEST]
            first: dict[str, Claimed] = {}
            rest: list[Claimed] = []
            for msg in part:
                if msg.to_phone in first:
                    rest.append(msg)
                else:
                    first[msg.to_phone] = msg
            out.append((body, [*first.values()]))
            out.extend((body, [m]) for m in rest)
    return out


def _send_one(gateway: SmsGateway, body: str, chunk: list[Claimed]) -> dict[int, RecipientResult]:
    try:
        outcomes = gateway.send(body, [m.to_phone for m in chunk])
    except Exception as exc:  # a gateway bug must not lose the batch
        log.exception("gateway raised")
        outcomes = [
            RecipientResult(m.to_phone, Outcome.RETRY, detail=repr(exc)[:200]) for m in chunk
        ]
    by_phone = {r.phone: r for r in outcomes}
    return {
        m.id: by_phone.get(
            m.to_phone, RecipientResult(m.to_phone, Outcome.RETRY, detail="no result")
        )
        for m in chunk
    }


def _send_grouped(
    gateway: SmsGateway,
    batch: list[Claimed],
    stats: DrainStats,
    concurrency: int = 1,
    deadline: float = float("inf"),
) -> dict[int, RecipientResult]:
    """Send the batch, several requests at once when `concurrency` > 1 (the gateway's latency,
    not our CPU, bounds a worker); results keyed by outbox id. A request not started by
    `deadline` (`time.monotonic()`) is not sent: its messages come back UNSENT."""
    requests = _requests(batch)
    results: dict[int, RecipientResult] = {}

    def send(body: str, chunk: list[Claimed]) -> dict[int, RecipientResult]:
        if time.monotonic() >= deadline:
            return {
                m.id: RecipientResult(m.to_phone, Outcome.UNSENT, detail="lease") for m in chunk
            }
        return _send_one(gateway, body, chunk)

    if concurrency <= 1 or len(requests) == 1:
        for body, chunk in requests:
            results.update(send(body, chunk))
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(requests))) as pool:
            for part in pool.map(lambda r: send(r[0], r[1]), requests):
                results.update(part)
    stats.requests += sum(results[chunk[0].id].outcome != Outcome.UNSENT for _, chunk in requests)
    return results


def _apply(
    session: Session,
    batch: list[Claimed],
    results: dict[int, RecipientResult],
    now: datetime,
    max_attempts: int,
    stats: DrainStats,
) -> None:
    accepted: list[dict[str, object]] = []
    problem = None
    for msg in batch:
        result = results[msg.id]
        outcome = result.outcome
        if outcome == Outcome.AMBIGUOUS:
            if msg.kind in texts.DUPLICATE_TOLERABLE:
                outcome = Outcome.RETRY
            else:  # it may have gone: never risk a duplicate payment notice or voucher code
                accepted.append(
                    {
                        "id": msg.id,
                        "status": OutboxStatus.SENT.value,
                        "sent_at": now,
                        "gateway_message_id": None,
                        "last_error": "timed out after sending; not resent",
                    }
                )
                stats.sent += 1
                continue
        if outcome == Outcome.ACCEPTED:
            accepted.append(
                {
                    "id": msg.id,
                    "status": OutboxStatus.SENT.value,
                    "sent_at": now,
                    "gateway_message_id": result.message_id,
                    "last_error": None,
                }
            )
            stats.sent += 1
            continue
        row = session.get(OutboxMessage, msg.id)
        if row is None:
            continue
        if outcome == Outcome.PERMANENT:
            row.status = OutboxStatus.FAILED
            row.last_error = (result.detail or f"status {result.status_code}")[:300]
            stats.failed += 1
        elif outcome == Outcome.UNSENT:
            row.attempts -= 1  # never tried: due again at once, for this worker or another
            row.next_attempt_at = now
            stats.unsent += 1
        elif outcome == Outcome.ALERT:
            row.status = OutboxStatus.PARKED
            row.attempts -= 1  # the account's trouble, not the message's: no retry is used up
            row.last_error = (result.detail or f"status {result.status_code}")[:300]
            stats.parked += 1
            problem = row.last_error
        else:
            row.schedule_retry(now, result.detail or "retry", max_attempts)
            if row.status == OutboxStatus.FAILED:
                stats.failed += 1
            else:
                stats.retried += 1
    if accepted:
        session.execute(sa.update(OutboxMessage), accepted)
    session.commit()
    if problem is not None:
        log.error(
            "%d SMS parked: gateway account or configuration trouble (%s); %s",
            stats.parked,
            problem,
            RELEASE_HINT,
        )


def drain_once(
    session: Session,
    gateway: SmsGateway,
    *,
    batch_size: int = 200,
    max_attempts: int = 8,
    clock: Callable[[], datetime] = utcnow,
    concurrency: int = SEND_CONCURRENCY,
) -> DrainStats:
    """Claim one batch, send it, record what happened."""
    stats = DrainStats()
    batch = claim_batch(session, batch_size, clock())
    if not batch:
        return stats
    stats.claimed = len(batch)
    deadline = time.monotonic() + SEND_WINDOW.total_seconds()
    results = _send_grouped(gateway, batch, stats, concurrency, deadline)
    _apply(session, batch, results, clock(), max_attempts, stats)
    return stats


def drain(
    session: Session,
    gateway: SmsGateway,
    *,
    batch_size: int = 200,
    max_attempts: int = 8,
    clock: Callable[[], datetime] = utcnow,
    max_batches: int | None = None,
    concurrency: int = SEND_CONCURRENCY,
) -> DrainStats:
    """Send until nothing is due (or max_batches). Stops after a batch the gateway refused for an
    account or configuration problem: the next batches would only be parked as well."""
    total = DrainStats()
    n = 0
    while max_batches is None or n < max_batches:
        stats = drain_once(
            session,
            gateway,
            batch_size=batch_size,
            max_attempts=max_attempts,
            clock=clock,
            concurrency=concurrency,
        )
        n += 1
        total.add(stats)
        if stats.claimed == 0 or stats.parked:
            break
    return total


def release_parked(now: datetime, actor: str = "cli") -> int:
    """Put every parked message back in the queue, due now (once the account or configuration
    problem that parked them is fixed): the resend use case for the state `parked`, audited like
    any resend. Returns how many."""
    from marketplace.services import resend

    parked = resend.Selection(states=frozenset({OutboxStatus.PARKED.value}))
    return resend.resend(parked, actor, now=now).total


def run_forever(
    session: Session,
    gateway: SmsGateway,
    *,
    batch_size: int = 200,
    max_attempts: int = 8,
    idle_sleep: float = 1.0,
    alert_pause: float = ALERT_PAUSE_SECONDS,
    should_stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Drain until told to stop. After an account or configuration problem, pause, then send one
    message as a probe: while the problem lasts, one message a pause is parked, not the outbox."""
    log.info("SMS worker started with the %s gateway", gateway.name)
    beat = heartbeat.Beater("sms-worker", heartbeat.instance_name())
    probing = False
    while not should_stop():
        try:
            beat()
            stats = drain(
                session,
                gateway,
                batch_size=1 if probing else batch_size,
                max_attempts=max_attempts,
                max_batches=1 if probing else 50,
            )
        except sa.exc.OperationalError:
            log.exception("database trouble; retrying shortly")
            session.rollback()
            stats = DrainStats()
        if stats.parked:
            probing = True
            log.error(
                "SMS sending paused for %.0f s: the gateway reports an account or configuration "
                "problem; %s",
                alert_pause,
                RELEASE_HINT,
            )
            _pause(alert_pause, should_stop, sleep)
            continue
        probing = False
        if stats.claimed:
            log.info(
                "sent %s, retrying %s, failed %s, parked %s",
                stats.sent,
                stats.retried,
                stats.failed,
                stats.parked,
            )
        else:
            sleep(idle_sleep)


def _pause(seconds: float, should_stop: Callable[[], bool], sleep: Callable[[float], None]) -> None:
    """Sleep, a second at a time, so that a stop request is heard within a second."""
    waited = 0.0
    while waited < seconds and not should_stop():
        step = min(1.0, seconds - waited)
        sleep(step)
        waited += step


def apply_delivery_report(
    session: Session, message_id: str, status: str, failure_reason: str | None, now: datetime
) -> bool:
    """Forward-only, by the statuses' ranks in `delivery.DELIVERY_STATUSES`: a final status is
    never overwritten, and an earlier one never replaces a later one. Returns False for unknown
    ids."""
    row = session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.gateway_message_id == message_id)
        .with_for_update()
    )
    if row is None:
        return False
    report = delivery.read(status, failure_reason)
    if report.status is None or not delivery.moves_forward(row.delivery_status, report.status):
        return True
    row.delivery_status = status
    row.delivery_updated_at = now
    if report.status.verdict == delivery.Delivery.DELIVERED:
        row.status = OutboxStatus.DELIVERED
    elif report.status.verdict == delivery.Delivery.FAILED:
        row.status = OutboxStatus.FAILED
        row.last_error = (report.error or f"delivery: {status}")[:300]
    return True


@click.command("sms-release-parked")
@with_appcontext
def release_parked_command() -> None:
    """Send the SMS parked by an account or configuration problem again (once it is fixed)."""
    released = release_parked(utcnow())
    click.echo(f"{released} parked SMS queued again")


def register_cli(app: Flask) -> None:
    app.cli.add_command(release_parked_command)


def record_delivery_report(report: dict[str, object]) -> None:
    """The delivery-report callback: apply it forward-only and commit. Unknown ids are logged."""
    from marketplace.extensions import db

    known = apply_delivery_report(
        db.session(),
        str(report["id"]),
        str(report["status"]),
        str(report.get("failureReason") or "") or None,
        utcnow(),
    )
    db.session.commit()
    if not known:
        log.info("delivery report for an unknown message id")
