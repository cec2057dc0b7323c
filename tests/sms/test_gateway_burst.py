"""Bursts through the real worker and the real Africa's Talking backend into a gateway stand-in that
misbehaves as the real one does: it hangs after reading a request, drops the connection, answers
every documented statusCode, and posts delivery reports to our real callback route as soon as it
answers (or before), while the worker is still sending the batch.

What must hold whatever the gateway does: every message reaches its phone once (a second copy only
where its kind says a duplicate is harmless) or sits in a state an officer can act on (`unknown`,
`failed` with its reason, `parked`), and no delivery report is lost.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from bench.gateway_standin import ACCEPTED, STATUS_CODES, Act, StandIn
from marketplace.domain.base import utcnow
from marketplace.domain.models import EarlyDeliveryReport, OutboxMessage, OutboxStatus
from marketplace.extensions import db
from marketplace.messages import outbound as texts
from marketplace.services import outbox
from sms import worker
from sms.africastalking import AfricasTalkingGateway

from .conftest import SECRET


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def phone(i: int) -> str:
    return f"+2547{22000000 + i:08d}"


def burst() -> list[tuple[str, str, str]]:
    """(phone, kind, body): a shared reminder, voucher codes, replies, and money notices (whose
    kinds must not be sent twice), each to a number of its own."""
    rows = []
    for i in range(20):
        rows.append((phone(i), "voucher_expiring", f"Ujuzi: voucher expires on 0{1 + i % 2}/07."))
    for i in range(20, 40):
        rows.append((phone(i), "voucher_issued", f"Ujuzi: voucher {i:010d} is yours."))
    for i in range(40, 45):
        rows.append((phone(i), "reply", f"Ujuzi: your balance is {i} sessions."))
    for i in range(45, 55):
        rows.append((phone(i), "payout_made", f"Ujuzi: KES {i},000.00 paid, ref P{i}."))
    for i in range(55, 60):
        rows.append((phone(i), "session_confirmed_mentor", f"Ujuzi: KES {i}0.00 added, ref S{i}."))
    return rows


ROWS = burst()
KIND = {p: kind for p, kind, _ in ROWS}
BODY = {p: body for p, _, body in ROWS}
# Reported as failed on delivery (the gateway took them; the phone network did not deliver).
FAILS_ON_DELIVERY = {phone(3), phone(21), phone(46)}


def delivery(number: str, _message_id: str) -> tuple[str, str]:
    return ("Failed", "UserInBlackList") if number in FAILS_ON_DELIVERY else ("Success", "")


class FirstSight:
    """A plan that misbehaves on the first request carrying one of the chosen texts (`then`,
    the messages taken or not), and answers every later one."""

    def __init__(self, then: str, taken: dict[str, bool]) -> None:
        self.then, self.taken = then, taken
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, _n: int, numbers: list[str], message: str) -> Act:
        with self.lock:
            first = message not in self.seen
            self.seen.add(message)
        if first and message in self.taken:
            return Act(then=self.then, taken=self.taken[message])
        return Act()


def troubled_texts() -> dict[str, bool]:
    """Which texts the gateway misbehaves on, and whether it took them before it did."""
    return {
        BODY[phone(0)]: True,  # a reminder shared by ten numbers, one of them failing delivery
        BODY[phone(20)]: True,
        BODY[phone(21)]: True,
        BODY[phone(22)]: False,
        BODY[phone(40)]: True,
        BODY[phone(45)]: True,
        BODY[phone(46)]: True,
        BODY[phone(47)]: False,  # a payout notice that never went
        BODY[phone(55)]: True,
        BODY[phone(56)]: False,
    }


class EveryStatusCode:
    """The first request to each of some numbers answers one documented statusCode for it."""

    def __init__(self) -> None:
        numbers = [p for p, _, _ in ROWS if p not in FAILS_ON_DELIVERY]
        self.first = dict(zip(numbers[::4], STATUS_CODES, strict=False))
        assert len(self.first) == len(STATUS_CODES)
        self.used: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, _n: int, numbers: list[str], _message: str) -> Act:
        codes = {}
        with self.lock:
            for number in numbers:
                if number in self.first and number not in self.used:
                    self.used.add(number)
                    codes[number] = self.first[number]
        return Act(codes=codes)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a real local HTTP server; yields the delivery-report callback URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/at/{SECRET}/sms/delivery"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def queue_burst(now: datetime) -> None:
    for number, kind, body in ROWS:
        outbox.queue_text(number, body, kind, now=now)
    db.session.commit()


def drain_through(standin: StandIn, read_timeout: float) -> datetime:
    """Drain the outbox through the real worker and backend until nothing is due; returns the
    worker's clock at the end (backoffs pass on it)."""
    base = standin.start()
    try:
        gateway = AfricasTalkingGateway("ujuzi", "key", api_base=base, timeout=(2.0, read_timeout))
        clock = Clock(utcnow())
        for _ in range(10):
            worker.drain(db.session(), gateway, batch_size=200, clock=clock)
            db.session.rollback()
            due = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
            )
            if not due:
                break
            clock.now += timedelta(hours=2)  # backoffs end
        standin.wait_for_reports()
        gateway.close()
    finally:
        standin.stop()
    return clock.now


def check_the_outcome(standin: StandIn) -> Counter[str]:
    """Every message reached its phone once, twice only where its kind allows it, or sits in a
    state an officer can act on; and every delivery report is on its message or kept."""
    db.session.rollback()
    copies = Counter((t.number, t.message) for t in standin.taken)
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert len(rows) == len(ROWS)
    states: Counter[str] = Counter()
    for row in rows:
        n = copies[(row.to_phone, row.body)]
        policy = texts.ON_UNKNOWN_OUTCOME[row.kind]
        states[row.status] += 1
        assert n <= (1 if policy == texts.IfOutcomeUnknown.HOLD else 2), row.to_phone
        if row.status == OutboxStatus.DELIVERED:
            assert n >= 1 and row.delivery_status == "Success"
        elif row.status == OutboxStatus.FAILED:
            assert row.last_error, "a failure says why"
        elif row.status == OutboxStatus.PARKED:
            assert row.last_error and n == 0
        elif row.status == OutboxStatus.UNKNOWN:
            # left for an officer: only where a second copy would not be harmless, and never
            # where a delivery report could settle it
            assert policy == texts.IfOutcomeUnknown.HOLD and n == 0 and row.last_error
        else:  # never `sent` without a report, never left pending
            raise AssertionError(f"{row.to_phone} {row.kind} ended {row.status}")
        if row.to_phone in FAILS_ON_DELIVERY and n:
            assert row.status == OutboxStatus.FAILED and "UserInBlackList" in row.last_error

    # No report lost: each is on the message that holds its id, or kept until that id lands (the
    # first copy of a message sent again after an unknown outcome: no message will hold it).
    assert standin.reports and {r.answered for r in standin.reports} == {200}
    by_id = {row.gateway_message_id: row for row in rows if row.gateway_message_id}
    kept = set(db.session.scalars(sa.select(EarlyDeliveryReport.message_id)))
    for report in standin.reports:
        row = by_id.get(report.message_id)
        if row is None:
            assert report.message_id in kept, f"report for {report.number} lost"
            assert texts.ON_UNKNOWN_OUTCOME[KIND[report.number]] == texts.IfOutcomeUnknown.RESEND
        else:
            assert row.delivery_status == report.status and report.message_id not in kept
    taken_ids = {t.message_id for t in standin.taken}
    assert {r.message_id for r in standin.reports} == taken_ids
    return states


def settle_with_the_reports(clock_now: datetime) -> None:
    """What the worker's housekeeping does a minute later: reports whose ids never landed settle
    the unknown outcomes they can only belong to."""
    worker.settle_unknown_outcomes(db.session(), max(clock_now, utcnow()) + worker.REQUEST_BOUND)


@pytest.mark.parametrize("then", ["hang", "drop"])
def test_a_burst_through_a_gateway_that_hangs_or_drops_after_reading_ends_delivered_once_or_unknown(
    app, served, then
):
    queue_burst(utcnow())
    standin = StandIn(FirstSight(then, troubled_texts()), served, delivery=delivery)

    end = drain_through(standin, read_timeout=1.0)
    settle_with_the_reports(end)

    states = check_the_outcome(standin)
    assert states[OutboxStatus.UNKNOWN] == 2  # the payout and the credit notice that never went
    resent = [p for p, k, b in ROWS if b in troubled_texts() and k == "voucher_issued"]
    for (
        number
    ) in resent:  # the code reaches the entrepreneur, whether or not it went the first time
        assert any(t.number == number for t in standin.taken)


def test_a_burst_through_a_gateway_answering_every_documented_status_code_ends_delivered_or_for_an_officer(
    app, served
):
    queue_burst(utcnow())
    plan = EveryStatusCode()
    standin = StandIn(plan, served, delivery=delivery)

    drain_through(standin, read_timeout=5.0)

    states = check_the_outcome(standin)
    refused = {n: c for n, c in plan.first.items() if c not in ACCEPTED}
    db.session.rollback()
    by_phone = {r.to_phone: r for r in db.session.scalars(sa.select(OutboxMessage))}
    for number, code in refused.items():
        row = by_phone[number]
        if row.status != OutboxStatus.DELIVERED:  # refused for good: the reason is kept
            assert STATUS_CODES[code] in (row.last_error or ""), (code, row.last_error)
    assert states[OutboxStatus.PENDING] == 0 and states[OutboxStatus.SENT] == 0


def test_delivery_reports_that_arrive_while_the_worker_is_still_sending_are_never_lost(app, served):
    queue_burst(utcnow())
    # every report is answered by our callback before the worker hears the message's id
    standin = StandIn(report_url=served, report_first=True, delivery=delivery)

    drain_through(standin, read_timeout=20.0)

    states = check_the_outcome(standin)
    assert states == Counter(
        {
            OutboxStatus.DELIVERED.value: len(ROWS) - len(FAILS_ON_DELIVERY),
            OutboxStatus.FAILED.value: len(FAILS_ON_DELIVERY),
        }
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EarlyDeliveryReport)) == 0
