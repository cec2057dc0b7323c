"""The SMS worker: sends the outbox after commit, retries with backoff, loses nothing.

A batch is claimed in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of
workers can run): each claimed row's `next_attempt_at` moves a lease into the future and its attempt
count goes up. The worker then sends outside any transaction, one request per distinct text (up to
100 recipients), several requests in flight at once, and writes each request's outcomes (and the
message ids the gateway gave) as soon as that request returns, so that delivery reports find them.
A worker that dies mid-send leaves rows that become due again when the lease ends.

A request the gateway read but never answered (a read timeout, a connection dropped) has an unknown
outcome: each message then follows its kind's policy (`texts.ON_UNKNOWN_OUTCOME`): sent again where a
second copy is harmless, otherwise left in the state `unknown` for an officer, or for a delivery
report to settle. It is never marked sent.

A delivery report for an id not stored yet is kept (`EarlyDeliveryReport`) and applied when the id
lands; both sides look for the other after committing, so neither can miss the other.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from marketplace.domain.base import utcnow
from marketplace.domain.models import EarlyDeliveryReport, OutboxMessage, OutboxStatus
from marketplace.messages import outbound as texts
from marketplace.services import heartbeat

from . import delivery
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
# A request ends within the gateway's connect and read timeouts (seconds): a report whose id is
# still unknown this long after it came cannot belong to a request still in flight.
REQUEST_BOUND = timedelta(minutes=1)
# Early reports that never matched an id (the first copy of a message sent again after an unknown
# outcome) are deleted after this long.
EARLY_REPORTS_KEPT = timedelta(days=7)
HOUSEKEEPING_SECONDS = 60.0


@dataclass
class DrainStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    parked: int = 0
    unsent: int = 0  # claimed, but the lease ran short before their request could start
    unknown: int = 0  # the gateway may have taken them; a second copy would not be harmless
    requests: int = 0

    def add(self, other: DrainStats) -> None:
        names = ("claimed", "sent", "retried", "failed", "parked", "unsent", "unknown", "requests")
        for name in names:
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
        .with_for_update(skip_locked=True)  # where the database locks rows (not SQLite)
    )
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
    session: Session,
    gateway: SmsGateway,
    batch: list[Claimed],
    stats: DrainStats,
    clock: Callable[[], datetime],
    max_attempts: int,
    concurrency: int = 1,
    deadline: float = float("inf"),
) -> None:
    """Send the batch, several requests at once when `concurrency` > 1 (the gateway's latency,
    not our CPU, bounds a worker), and record each request's outcomes as soon as it returns (the
    requests that returned meanwhile together). A request not started by `deadline`
    (`time.monotonic()`) is not sent: its messages come back UNSENT."""
    requests = _requests(batch)

    def send(body: str, chunk: list[Claimed]) -> dict[int, RecipientResult]:
        if time.monotonic() >= deadline:
            return {
                m.id: RecipientResult(m.to_phone, Outcome.UNSENT, detail="lease") for m in chunk
            }
        return _send_one(gateway, body, chunk)

    def record(chunks: list[list[Claimed]], results: dict[int, RecipientResult]) -> None:
        stats.requests += sum(results[chunk[0].id].outcome != Outcome.UNSENT for chunk in chunks)
        _apply(
            session, [m for chunk in chunks for m in chunk], results, clock(), max_attempts, stats
        )

    if concurrency <= 1 or len(requests) == 1:
        for body, chunk in requests:
            record([chunk], send(body, chunk))
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(requests))) as pool:
        in_flight: dict[Future[dict[int, RecipientResult]], list[Claimed]] = {
            pool.submit(send, body, chunk): chunk for body, chunk in requests
        }
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            results: dict[int, RecipientResult] = {}
            for future in done:
                results.update(future.result())
            record([in_flight.pop(future) for future in done], results)


def _unknown_outcome(msg: Claimed, max_attempts: int) -> bool:
    """Whether a message whose send has an unknown outcome stays `unknown` (True) or is sent
    again: its kind's policy, and no attempts left means an officer decides too."""
    policy = texts.ON_UNKNOWN_OUTCOME.get(msg.kind, texts.IfOutcomeUnknown.HOLD)
    return policy == texts.IfOutcomeUnknown.HOLD or msg.attempts >= max_attempts


_outbox: sa.Table = OutboxMessage.__table__  # type: ignore[assignment]
# One statement run for every accepted message of the requests that returned (executemany).
_MARK_SENT = (
    sa.update(_outbox)
    .where(_outbox.c.id == sa.bindparam("row_id"))
    .values(
        status=OutboxStatus.SENT.value,
        gateway_message_id=sa.bindparam("message_id"),
        last_error=None,
    )
)


def _early_reports_for(session: Session, message_ids: list[str]) -> bool:
    """Whether any report came for these ids before they were stored (one light query: most
    often none did)."""
    found = session.execute(
        sa.select(EarlyDeliveryReport.id)
        .where(EarlyDeliveryReport.message_id.in_(message_ids))
        .limit(1)
    ).first()
    return found is not None


def _apply(
    session: Session,
    batch: list[Claimed],
    results: dict[int, RecipientResult],
    now: datetime,
    max_attempts: int,
    stats: DrainStats,
) -> None:
    """Write the outcomes of the requests that returned, commit, then apply the delivery reports
    that came for their ids before the ids were stored."""
    accepted: list[dict[str, object]] = []
    problem = None
    for msg in batch:
        result = results[msg.id]
        outcome = result.outcome
        if outcome == Outcome.ACCEPTED:
            accepted.append({"row_id": msg.id, "message_id": result.message_id})
            stats.sent += 1
            continue
        row = session.get(OutboxMessage, msg.id)
        if row is None:
            continue
        if outcome == Outcome.AMBIGUOUS:
            # It may have gone: never read as sent. `sent_at` says when it may have gone.
            row.sent_at = now
            detail = f"outcome unknown ({result.detail or 'no answer'})"
            if _unknown_outcome(msg, max_attempts):
                row.status = OutboxStatus.UNKNOWN
                row.last_error = detail[:300]
                stats.unknown += 1
            else:  # a second copy is harmless: the same text again, after a backoff
                row.schedule_retry(now, f"{detail}; sent again", max_attempts)
                stats.retried += 1
        elif outcome == Outcome.PERMANENT:
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
        session.execute(_MARK_SENT.values(sent_at=now), accepted)
    session.commit()
    ids = [str(a["message_id"]) for a in accepted if a["message_id"]]
    if ids and _early_reports_for(session, ids) and apply_early_reports(session, ids, now):
        session.commit()
    else:
        session.rollback()
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
    _send_grouped(session, gateway, batch, stats, clock, max_attempts, concurrency, deadline)
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
    message as a probe: while the problem lasts, one message a pause is parked, not the outbox.
    Once a minute, let delivery reports settle unknown outcomes and prune the old early ones."""
    log.info("SMS worker started with the %s gateway", gateway.name)
    beat = heartbeat.Beater("sms-worker", heartbeat.instance_name())
    probing = False
    housekept = float("-inf")
    while not should_stop():
        if time.monotonic() - housekept >= HOUSEKEEPING_SECONDS:
            housekept = time.monotonic()
            try:
                prune_early_reports(session, utcnow())  # settles what reports can settle first
            except sa.exc.OperationalError:
                log.exception("database trouble; retrying shortly")
                session.rollback()
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
                "sent %s, retrying %s, failed %s, parked %s, outcome unknown %s",
                stats.sent,
                stats.retried,
                stats.failed,
                stats.parked,
                stats.unknown,
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
    if row.status == OutboxStatus.UNKNOWN:  # settled by the report: the gateway did take it
        row.status = OutboxStatus.SENT
        row.last_error = None
    if report.status.verdict == delivery.Delivery.DELIVERED:
        row.status = OutboxStatus.DELIVERED
    elif report.status.verdict == delivery.Delivery.FAILED:
        row.status = OutboxStatus.FAILED
        row.last_error = (report.error or f"delivery: {status}")[:300]
    return True


def apply_early_reports(session: Session, message_ids: list[str], now: datetime) -> int:
    """Apply (forward-only, in the order they came) and delete the early reports for ids that
    have landed; returns how many were applied. The caller commits."""
    early = session.scalars(
        sa.select(EarlyDeliveryReport)
        .where(EarlyDeliveryReport.message_id.in_(message_ids))
        .order_by(EarlyDeliveryReport.id)
        .with_for_update()
    ).all()
    applied = [
        report.id
        for report in early
        if apply_delivery_report(
            session, report.message_id, report.status, report.failure_reason, now
        )
    ]
    _delete_early(session, applied)
    return len(applied)


def _delete_early(session: Session, ids: list[int]) -> None:
    """Delete applied early reports by id. On SQLite the worker and the callback can both find
    one (its rows are not locked) and both apply it: harmless, forward-only; the second delete
    finds nothing."""
    if ids:
        session.execute(
            sa.delete(EarlyDeliveryReport)
            .where(EarlyDeliveryReport.id.in_(ids))
            .execution_options(synchronize_session=False)
        )


def _phone(value: str) -> str:
    """The reported number as the outbox holds it (E.164; the gateway may leave out the '+')."""
    value = "".join(value.split())
    return value if value.startswith("+") or not value else "+" + value


def settle_unknown_outcomes(session: Session, now: datetime) -> int:
    """Let delivery reports settle messages left `unknown`: a report whose id never landed, for
    the number of an unknown message, settles it when it can belong to no other message: it is
    the only such id for that number since the attempt (reports held back for in-flight requests
    are not considered), the message is that number's only unknown one, and no other message to
    that number was sent, or was being sent, since then. Anything less certain stays for an
    officer. Commits; returns how many were settled."""
    stale = session.scalars(
        sa.select(EarlyDeliveryReport)
        .where(EarlyDeliveryReport.received_at <= now - REQUEST_BOUND)
        .order_by(EarlyDeliveryReport.id)
    ).all()
    by_phone: dict[str, list[EarlyDeliveryReport]] = defaultdict(list)
    for report in stale:
        by_phone[report.phone].append(report)
    unknown = (
        session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.UNKNOWN,
                OutboxMessage.gateway_message_id.is_(None),
                OutboxMessage.to_phone.in_(list(by_phone)),
            )
        ).all()
        if by_phone
        else []
    )
    candidates: dict[str, list[OutboxMessage]] = defaultdict(list)
    for row in unknown:
        candidates[row.to_phone].append(row)
    settled = 0
    for phone, rows in candidates.items():
        row = rows[0]
        if len(rows) != 1 or row.sent_at is None:
            continue
        since = row.sent_at - REQUEST_BOUND
        reports = [r for r in by_phone[phone] if r.received_at >= since]
        ids = {r.message_id for r in reports}
        if len(ids) != 1 or _others_sent_since(session, row, since):
            continue
        claimed = session.scalar(
            sa.select(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.UNKNOWN)
            .with_for_update()
        )
        if claimed is None:  # an officer acted meanwhile
            continue
        claimed.gateway_message_id = ids.pop()
        for report in reports:
            apply_delivery_report(
                session, report.message_id, report.status, report.failure_reason, now
            )
        _delete_early(session, [report.id for report in reports])
        log.info("SMS %d: its unknown outcome settled by a delivery report", row.id)
        settled += 1
    session.commit()
    return settled


def _others_sent_since(session: Session, row: OutboxMessage, since: datetime) -> bool:
    """Whether another message to the row's number went, may have gone, or is on its way since
    `since`: a report for it could be taken for the row's."""
    other = session.scalar(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.to_phone == row.to_phone,
            OutboxMessage.id != row.id,
            sa.or_(
                OutboxMessage.sent_at >= since,
                OutboxMessage.status == OutboxStatus.UNKNOWN,
                sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0),
            ),
        )
        .limit(1)
    )
    return other is not None


def prune_early_reports(
    session: Session, now: datetime, kept: timedelta = EARLY_REPORTS_KEPT
) -> int:
    """Settle what early reports can settle, then delete those older than `kept` that never
    matched an id. Commits; returns how many were deleted."""
    settle_unknown_outcomes(session, now)
    result = session.execute(
        sa.delete(EarlyDeliveryReport)
        .where(EarlyDeliveryReport.received_at < now - kept)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@click.command("sms-prune-reports")
@click.option("--older-than-days", type=int, default=EARLY_REPORTS_KEPT.days, show_default=True)
@with_appcontext
def prune_reports_command(older_than_days: int) -> None:
    """Settle unknown SMS outcomes that delivery reports can settle, then delete delivery reports
    older than the given age whose message id never became known."""
    from marketplace.extensions import db

    pruned = prune_early_reports(db.session(), utcnow(), timedelta(days=older_than_days))
    click.echo(f"{pruned} unmatched delivery reports pruned")


@click.command("sms-release-parked")
@with_appcontext
def release_parked_command() -> None:
    """Send the SMS parked by an account or configuration problem again (once it is fixed)."""
    released = release_parked(utcnow())
    click.echo(f"{released} parked SMS queued again")


def register_cli(app: Flask) -> None:
    app.cli.add_command(release_parked_command)
    app.cli.add_command(prune_reports_command)


def record_delivery_report(report: dict[str, object]) -> None:
    """The delivery-report callback: apply it forward-only and commit. A report for an id no
    message holds yet is kept until the id lands (the gateway never sends it again); the worker
    may have stored the id while it was being kept, so the id is looked for once more after the
    commit."""
    from marketplace.extensions import db

    session = db.session()
    message_id = str(report["id"])
    status = str(report["status"])
    reason = str(report.get("failureReason") or "") or None
    now = utcnow()
    if apply_delivery_report(session, message_id, status, reason, now):
        session.commit()
        return
    session.add(
        EarlyDeliveryReport(
            message_id=message_id,
            status=status,
            failure_reason=reason,
            phone=_phone(str(report.get("phoneNumber") or "")),
            received_at=now,
        )
    )
    session.commit()
    if apply_early_reports(session, [message_id], now):
        session.commit()
    else:
        session.rollback()
        log.info("delivery report for a message id not known yet: kept until it lands")
