"""The SMS worker's promises: nothing lost, nothing sent twice, any number of workers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from marketplace.domain.models import OutboxMessage, OutboxStatus
from marketplace.extensions import db
from marketplace.services import outbox
from sms import worker
from sms.gateway import FakeGateway, Outcome, RecipientResult
from tests.outbox_rows import resent_ids

from .conftest import SECRET

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class SlowGateway(FakeGateway):
    """Takes a little time per request, so workers running together really overlap."""

    def send(self, body: str, recipients: Sequence[str]) -> list[RecipientResult]:
        time.sleep(0.002)
        return super().send(body, recipients)


def queue_many(rows: list[tuple[str, str, str]], now: datetime = T0) -> None:
    """(phone, kind, body) rows straight into the outbox, committed."""
    for phone, kind, body in rows:
        outbox.queue_text(phone, body, kind, now=now)
    db.session.commit()


def phone(i: int) -> str:
    return f"+2547{11000000 + i:08d}"


def burst(n: int) -> list[tuple[str, str, str]]:
    """Real traffic: many people get the same text (a reminder), others their own."""
    rows = []
    for i in range(n):
        if i % 3 == 0:
            rows.append((phone(i), "voucher_expiring", "Ujuzi: your voucher expires soon."))
        else:
            rows.append((phone(i), "voucher_issued", f"Ujuzi: voucher {i:010d} is yours."))
    return rows


def statuses() -> Counter[str]:
    return Counter(db.session.scalars(sa.select(OutboxMessage.status)))


def deliveries(gateway: FakeGateway) -> Counter[tuple[str, str]]:
    return Counter((m.phone, m.body) for m in gateway.sent)


def test_several_workers_draining_one_outbox_send_every_message_exactly_once(app, postgres):
    rows = burst(900)
    queue_many(rows)
    engine = db.engine
    db.session.remove()
    gateway = SlowGateway()
    clock = Clock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            with Session(engine) as session:
                barrier.wait()
                worker.drain(session, gateway, batch_size=40, clock=clock)
        except BaseException as exc:  # judged below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    sent = deliveries(gateway)
    assert len(sent) == len(rows) and max(sent.values()) == 1
    assert statuses() == Counter({OutboxStatus.SENT.value: len(rows)})


def test_a_gateway_outage_during_a_burst_loses_nothing_and_sends_nothing_twice(app):
    rows = burst(120)
    queue_many(rows)
    gateway = FakeGateway()
    gateway.fail_next(Outcome.RETRY, 25)  # the gateway is down for the next 25 requests
    clock = Clock()
    first = worker.drain(db.session(), gateway, batch_size=50, clock=clock)
    assert first.retried > 0 and statuses()[OutboxStatus.PENDING.value] > 0
    for _ in range(20):  # time passes, backoffs end, the gateway is back
        clock.advance(hours=1)
        worker.drain(db.session(), gateway, batch_size=50, clock=clock)
    sent = deliveries(gateway)
    assert len(sent) == len(rows) and max(sent.values()) == 1
    assert statuses() == Counter({OutboxStatus.SENT.value: len(rows)})


class StallingGateway(FakeGateway):
    """Each request takes a minute and a half of the worker's (monotonic) time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        self.elapsed = 0.0
        monkeypatch.setattr(worker.time, "monotonic", lambda: self.elapsed)

    def send(self, body: str, recipients: Sequence[str]) -> list[RecipientResult]:
        self.elapsed += 90
        return super().send(body, recipients)


def test_no_request_starts_so_late_that_the_batch_lease_could_end_during_it(app, monkeypatch):
    """Another worker may claim a batch's rows once its lease ends: a slow gateway must not keep
    a worker sending them until then, or both would send."""
    queue_many([(phone(i), "voucher_issued", f"Ujuzi: text {i}") for i in range(6)])
    gateway = StallingGateway(monkeypatch)
    clock = Clock()

    first = worker.drain_once(db.session(), gateway, clock=clock, concurrency=1)

    window = worker.SEND_WINDOW.total_seconds()
    assert first.sent == gateway.calls == -(-window // 90)  # requests started inside the window
    assert first.unsent == 6 - first.sent and first.requests == gateway.calls
    held_back = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
    ).all()
    assert len(held_back) == first.unsent
    assert all(m.attempts == 0 and m.next_attempt_at <= clock() for m in held_back)

    worker.drain(db.session(), gateway, clock=clock, concurrency=1)  # due again at once
    sent = deliveries(gateway)
    assert len(sent) == 6 and max(sent.values()) == 1


def test_a_retried_message_waits_for_its_backoff(app):
    queue_many([(phone(1), "voucher_issued", "Ujuzi: hello")])
    gateway = FakeGateway()
    gateway.fail_next(Outcome.RETRY, 1)
    clock = Clock()
    worker.drain(db.session(), gateway, clock=clock)
    assert worker.drain(db.session(), gateway, clock=clock).claimed == 0  # not yet due
    clock.advance(minutes=2)
    assert worker.drain(db.session(), gateway, clock=clock).sent == 1


def test_a_permanent_failure_fails_and_an_account_problem_parks(app):
    queue_many([(phone(1), "voucher_issued", "Ujuzi: one")])
    gateway = FakeGateway()
    gateway.fail_next(Outcome.PERMANENT, 1)
    worker.drain(db.session(), gateway, clock=Clock())
    queue_many([(phone(2), "voucher_issued", "Ujuzi: two")])
    gateway.fail_next(Outcome.ALERT, 1)
    worker.drain(db.session(), gateway, clock=Clock())
    by_phone = dict(
        db.session.execute(sa.select(OutboxMessage.to_phone, OutboxMessage.status)).all()
    )
    assert by_phone == {phone(1): OutboxStatus.FAILED.value, phone(2): OutboxStatus.PARKED.value}
    clock = Clock()
    clock.advance(days=1)
    assert worker.drain(db.session(), gateway, clock=clock).claimed == 0  # neither is retried


def test_an_account_problem_parks_one_batch_not_the_whole_outbox(app):
    queue_many(burst(500))
    gateway = FakeGateway()
    gateway.fail_next(Outcome.ALERT, 10_000)  # e.g. the account ran out of credit

    stats = worker.drain(db.session(), gateway, batch_size=200, clock=Clock())

    assert stats.parked == 200
    assert statuses() == Counter({OutboxStatus.PARKED.value: 200, OutboxStatus.PENDING.value: 300})


def test_parked_messages_go_out_once_released_without_having_used_up_a_retry(app, runner):
    queue_many(burst(30))
    gateway = FakeGateway()
    gateway.fail_next(Outcome.ALERT, 10_000)
    worker.drain(db.session(), gateway, clock=Clock())
    assert statuses() == Counter({OutboxStatus.PARKED.value: 30})
    gateway._failures.clear()  # the operator topped up the account

    result = runner.invoke(args=["sms-release-parked"])
    worker.drain(db.session(), gateway)

    assert result.exit_code == 0 and "30 parked SMS queued again" in result.output
    assert len(resent_ids()) == 30  # audited, as every resend is
    assert statuses() == Counter({OutboxStatus.SENT.value: 30})
    assert set(db.session.scalars(sa.select(OutboxMessage.attempts))) == {1}
    assert sorted(deliveries(gateway)) == sorted(Counter((p, b) for p, _, b in burst(30)))


def test_after_an_account_problem_the_worker_pauses_then_probes_with_one_message(app):
    queue_many([(phone(i), "voucher_issued", f"Ujuzi: voucher {i}") for i in range(50)])
    gateway = FakeGateway()
    gateway.fail_next(Outcome.ALERT, 21)  # the first batch of 20, then the first probe
    slept: list[float] = []

    def stop() -> bool:
        return statuses()[OutboxStatus.PENDING.value] == 0 or len(slept) > 2000

    worker.run_forever(
        db.session(),
        gateway,
        batch_size=20,
        alert_pause=300,
        should_stop=stop,
        sleep=slept.append,
    )

    assert sum(slept) == 600  # paused after the batch, and again after the failed probe
    assert gateway.calls == 21 + 29
    assert statuses() == Counter({OutboxStatus.PARKED.value: 21, OutboxStatus.SENT.value: 29})


def test_retries_stop_after_the_configured_attempts(app):
    queue_many([(phone(1), "voucher_issued", "Ujuzi: one")])
    gateway = FakeGateway()
    gateway.fail_next(Outcome.RETRY, 10)
    clock = Clock()
    for _ in range(6):
        worker.drain(db.session(), gateway, max_attempts=3, clock=clock)
        clock.advance(hours=2)
    assert gateway.calls == 3
    assert statuses() == Counter({OutboxStatus.FAILED.value: 1})


def test_one_request_carries_many_recipients_of_the_same_text(app):
    same = [(phone(i), "voucher_expiring", "Ujuzi: same text") for i in range(150)]
    own = [(phone(1000 + i), "voucher_issued", f"Ujuzi: text {i}") for i in range(3)]
    queue_many(same + own)
    gateway = FakeGateway()
    stats = worker.drain(db.session(), gateway, batch_size=500, clock=Clock())
    assert stats.sent == 153
    assert gateway.calls == 2 + 3  # 100 + 50 recipients of the shared text, one per own text


def test_the_same_person_getting_the_same_text_twice_gets_it_twice(app):
    queue_many([(phone(1), "reply", "Ujuzi: hello"), (phone(1), "reply", "Ujuzi: hello")])
    gateway = FakeGateway()
    worker.drain(db.session(), gateway, clock=Clock())
    assert gateway.messages_to(phone(1)) == ["Ujuzi: hello", "Ujuzi: hello"]


# --------------------------------------------------------------------------- delivery reports


def report(client, message_id: str, status: str, reason: str = "") -> None:
    form = {"id": message_id, "status": status, "phoneNumber": phone(1), "networkCode": "63902"}
    if reason:
        form["failureReason"] = reason
    response = client.post(f"/at/{SECRET}/sms/delivery", data=form)
    assert response.status_code == 200 and response.data == b""


def sent_message(gateway: FakeGateway) -> OutboxMessage:
    queue_many([(phone(1), "voucher_issued", "Ujuzi: one")])
    worker.drain(db.session(), gateway, clock=Clock())
    return db.session.scalars(sa.select(OutboxMessage)).one()


def test_duplicated_and_late_delivery_reports_never_undo_a_final_status(app, client, gateway):
    message = sent_message(gateway)
    message_id = message.gateway_message_id
    assert message_id
    report(client, message_id, "Buffered")
    report(client, message_id, "Success")
    db.session.expire_all()
    first_at = db.session.get(OutboxMessage, message.id).delivery_updated_at
    report(client, message_id, "Success")
    report(client, message_id, "Sent")  # late and out of order
    report(client, message_id, "Failed", "DeliveryFailure")
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message.id)
    assert row.status == OutboxStatus.DELIVERED and row.delivery_status == "Success"
    assert row.delivery_updated_at == first_at


def test_an_earlier_report_arriving_late_does_not_move_the_status_back(app, client, gateway):
    message = sent_message(gateway)
    report(client, message.gateway_message_id, "Buffered")
    report(client, message.gateway_message_id, "Sent")
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).delivery_status == "Buffered"


def test_a_failed_delivery_marks_the_message_failed_with_the_reason(app, client, gateway):
    message = sent_message(gateway)
    report(client, message.gateway_message_id, "Rejected", "UserInBlackList")
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message.id)
    assert row.status == OutboxStatus.FAILED and "UserInBlackList" in (row.last_error or "")


def test_a_report_for_an_unknown_message_is_answered_and_changes_nothing(app, client, gateway):
    message = sent_message(gateway)
    report(client, "ATXid_never_sent", "Failed", "DeliveryFailure")
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.SENT
