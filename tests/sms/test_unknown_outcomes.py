"""Messages whose send has an unknown outcome, and delivery reports that come before their id.

The gateway can read a request and then time out or drop the connection: the messages may or may
not have gone. They are never marked sent: each kind says whether a second copy is harmless (sent
again) or not (left `unknown` for an officer, or for a delivery report to settle). A delivery report
can also come back before the worker has stored the message's id: it is kept until the id lands.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.domain.models import EarlyDeliveryReport, OutboxMessage, OutboxStatus
from marketplace.extensions import db
from marketplace.messages import outbound as texts
from marketplace.services import outbox
from sms import worker
from sms.gateway import FakeGateway, Outcome, RecipientResult

from .conftest import SECRET

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
HOLD = texts.IfOutcomeUnknown.HOLD
RESEND = texts.IfOutcomeUnknown.RESEND


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def phone(i: int) -> str:
    return f"+2547{33000000 + i:08d}"


def queue(rows: list[tuple[str, str, str]], now: datetime = T0) -> None:
    for number, kind, body in rows:
        outbox.queue_text(number, body, kind, now=now)
    db.session.commit()


def one_of_each_kind() -> list[tuple[str, str, str]]:
    return [(phone(i), kind, f"Ujuzi: {kind} {i}") for i, kind in enumerate(sorted(texts.KINDS))]


def rows() -> dict[str, OutboxMessage]:
    db.session.rollback()
    return {m.kind: m for m in db.session.scalars(sa.select(OutboxMessage))}


def report(client, message_id: str, status: str, number: str, reason: str = "") -> None:
    form = {"id": message_id, "status": status, "phoneNumber": number, "networkCode": "63902"}
    if reason:
        form["failureReason"] = reason
    response = client.post(f"/at/{SECRET}/sms/delivery", data=form)
    assert response.status_code == 200 and response.data == b""


# --------------------------------------------------------------------------- the policy


def _kinds_queued_in_the_code() -> set[str]:
    """Every kind written literally where the code queues an SMS (`uow.sms`, `uow.sms_text`,
    `queue_text`, the bulk `outbox.row`), positionally or by keyword."""
    position = {"sms": 1, "sms_text": 2, "queue_text": 2, "row": 2}
    found = set()
    for folder in ("marketplace", "sms"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                if name not in position:
                    continue
                args = [a for a in node.args[position[name] : position[name] + 1]]
                args += [k.value for k in node.keywords if k.arg == "kind"]
                found |= {
                    a.value
                    for a in args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                }
    return found


def test_every_kind_the_code_can_queue_has_a_policy_for_an_unknown_outcome(app):
    assert set(texts.ON_UNKNOWN_OUTCOME) == texts.KINDS
    literal = _kinds_queued_in_the_code()
    assert {"reply", "payout_made", "voucher_issued"} <= literal  # the scan finds them
    assert literal <= texts.KINDS
    with pytest.raises(ValueError, match="unknown SMS kind"):  # nothing else can be queued
        outbox.queue_text(phone(1), "Ujuzi: hello", "greeting")


def test_notices_of_money_are_the_kinds_never_sent_twice_and_codes_may_be():
    assert texts.ON_UNKNOWN_OUTCOME["payout_made"] == HOLD
    assert texts.ON_UNKNOWN_OUTCOME["session_confirmed_mentor"] == HOLD
    assert texts.ON_UNKNOWN_OUTCOME["session_overturned_mentor"] == HOLD
    for kind in ("voucher_issued", "login_code", "booking_made_entrepreneur", "voucher_expiring"):
        assert texts.ON_UNKNOWN_OUTCOME[kind] == RESEND


# --------------------------------------------------------------------------- unknown outcomes


def test_a_message_whose_outcome_is_unknown_is_never_marked_sent(app):
    queue(one_of_each_kind())
    gateway = FakeGateway()
    gateway.fail_next(Outcome.AMBIGUOUS, 100)  # every request read, none answered

    stats = worker.drain(db.session(), gateway, clock=Clock())

    by_kind = rows()
    assert OutboxStatus.SENT not in {m.status for m in by_kind.values()}
    for kind, message in by_kind.items():
        assert "outcome unknown" in (message.last_error or "")
        if texts.ON_UNKNOWN_OUTCOME[kind] == HOLD:
            assert message.status == OutboxStatus.UNKNOWN
        else:
            assert message.status == OutboxStatus.PENDING and message.next_attempt_at > T0
    holds = sum(1 for p in texts.ON_UNKNOWN_OUTCOME.values() if p == HOLD)
    assert stats.unknown == holds and stats.sent == 0


def test_after_an_unknown_outcome_harmless_kinds_go_again_with_the_same_text_and_money_notices_wait(
    app,
):
    queue(one_of_each_kind())
    gateway = FakeGateway()
    gateway.fail_next(Outcome.AMBIGUOUS, 100)
    clock = Clock()
    worker.drain(db.session(), gateway, clock=clock)
    gateway._failures.clear()
    clock.now += timedelta(hours=1)

    worker.drain(db.session(), gateway, clock=clock)

    for kind, message in rows().items():
        copies = gateway.messages_to(message.to_phone)
        if texts.ON_UNKNOWN_OUTCOME[kind] == HOLD:
            assert copies == [message.body] and message.status == OutboxStatus.UNKNOWN
        else:
            assert copies == [message.body, message.body] and message.status == OutboxStatus.SENT


def test_a_harmless_kind_whose_last_attempt_has_an_unknown_outcome_ends_unknown_not_failed(app):
    queue([(phone(1), "voucher_issued", "Ujuzi: voucher 1234567890")])
    gateway = FakeGateway()
    gateway.fail_next(Outcome.AMBIGUOUS, 10)
    clock = Clock()
    for _ in range(3):
        worker.drain(db.session(), gateway, max_attempts=2, clock=clock)
        clock.now += timedelta(hours=1)

    [message] = rows().values()
    assert gateway.calls == 2
    assert message.status == OutboxStatus.UNKNOWN and "outcome unknown" in message.last_error


class WatchingGateway(FakeGateway):
    """Before each request, reads (on a connection of its own) how many message ids are stored."""

    def __init__(self) -> None:
        super().__init__()
        self.stored_before: list[int] = []

    def send(self, body: str, recipients: Sequence[str]) -> list[RecipientResult]:
        with db.engine.connect() as conn:
            self.stored_before.append(
                conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.gateway_message_id.is_not(None))
                )
            )
        return super().send(body, recipients)


def test_each_request_s_message_ids_are_stored_as_it_returns_not_after_the_whole_batch(app):
    queue([(phone(i), "voucher_issued", f"Ujuzi: voucher {i}") for i in range(5)])
    gateway = WatchingGateway()

    worker.drain_once(db.session(), gateway, clock=Clock(), concurrency=1)

    assert gateway.stored_before == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------- early reports


def test_a_report_for_an_id_not_yet_stored_is_kept_and_applied_when_the_id_lands(app, client):
    queue([(phone(1), "voucher_issued", "Ujuzi: voucher 1"), (phone(2), "reply", "Ujuzi: hi")])
    # FakeGateway numbers its ids: the gateway reports them before the worker hears of them
    report(client, "fake-1", "Success", phone(1))
    report(client, "fake-2", "Failed", phone(2), "UserInBlackList")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EarlyDeliveryReport)) == 2

    worker.drain(db.session(), FakeGateway(), clock=Clock(), concurrency=1)

    by_kind = rows()
    assert by_kind["voucher_issued"].status == OutboxStatus.DELIVERED
    assert by_kind["reply"].status == OutboxStatus.FAILED
    assert "UserInBlackList" in by_kind["reply"].last_error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EarlyDeliveryReport)) == 0


def test_early_reports_apply_forward_only_whatever_order_they_came_in(app, client):
    queue([(phone(1), "voucher_issued", "Ujuzi: voucher 1"), (phone(2), "reply", "Ujuzi: hi")])
    report(client, "fake-1", "Success", phone(1))
    report(client, "fake-1", "Buffered", phone(1))  # late and out of order
    report(client, "fake-2", "Buffered", phone(2))
    report(client, "fake-2", "Sent", phone(2))

    worker.drain(db.session(), FakeGateway(), clock=Clock(), concurrency=1)

    by_kind = rows()
    assert (by_kind["voucher_issued"].status, by_kind["voucher_issued"].delivery_status) == (
        OutboxStatus.DELIVERED,
        "Success",
    )
    assert (by_kind["reply"].status, by_kind["reply"].delivery_status) == (
        OutboxStatus.SENT,
        "Buffered",
    )


def test_a_report_kept_while_the_id_landed_is_applied_by_the_callback_itself(
    app, client, monkeypatch
):
    """The worker stores an id and looks for early reports after its commit; the callback keeps
    a report and looks for the id after its own: whichever comes second applies it."""
    queue([(phone(1), "voucher_issued", "Ujuzi: voucher 1")])
    worker.drain(db.session(), FakeGateway(), clock=Clock())
    seen = []
    real = worker.apply_delivery_report

    def id_lands_just_after_the_first_look(*args, **kwargs):
        if not seen:
            seen.append(True)
            return False  # as if the worker's commit came just after the callback's first look
        return real(*args, **kwargs)

    monkeypatch.setattr(worker, "apply_delivery_report", id_lands_just_after_the_first_look)
    report(client, "fake-1", "Success", phone(1))

    assert rows()["voucher_issued"].status == OutboxStatus.DELIVERED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EarlyDeliveryReport)) == 0


def test_early_reports_that_never_match_are_pruned_by_age(app, runner):
    now = datetime.now(UTC)
    for message_id, age in (("ATXid_old", timedelta(days=8)), ("ATXid_new", timedelta(days=1))):
        db.session.add(
            EarlyDeliveryReport(
                message_id=message_id,
                status="Success",
                phone=phone(1),
                received_at=now - age,
            )
        )
    db.session.commit()

    result = runner.invoke(args=["sms-prune-reports"])

    assert result.exit_code == 0 and "1 unmatched delivery reports pruned" in result.output
    db.session.rollback()
    assert list(db.session.scalars(sa.select(EarlyDeliveryReport.message_id))) == ["ATXid_new"]


def test_the_running_worker_prunes_old_early_reports_itself(app):
    db.session.add(
        EarlyDeliveryReport(
            message_id="ATXid_old",
            status="Success",
            phone=phone(1),
            received_at=datetime.now(UTC) - worker.EARLY_REPORTS_KEPT - timedelta(hours=1),
        )
    )
    db.session.commit()
    turns = iter([False, True])

    worker.run_forever(
        db.session(), FakeGateway(), should_stop=lambda: next(turns), sleep=lambda _: None
    )

    assert db.session.scalar(sa.select(sa.func.count()).select_from(EarlyDeliveryReport)) == 0


# --------------------------------------------------------------------------- settled by a report


def unknown_payout(client, now: datetime) -> OutboxMessage:
    queue([(phone(1), "payout_made", "Ujuzi: KES 1,000.00 paid, ref P1.")], now)
    gateway = FakeGateway()
    gateway.fail_next(Outcome.AMBIGUOUS, 1)  # it went, but the answer never came
    worker.drain(db.session(), gateway, clock=Clock(now))
    [message] = rows().values()
    assert message.status == OutboxStatus.UNKNOWN and message.gateway_message_id is None
    return message


def test_a_delivery_report_settles_an_unknown_outcome_it_can_only_belong_to(app, client):
    now = datetime.now(UTC)
    message = unknown_payout(client, now)
    report(client, "ATXid_never_heard", "Success", phone(1).lstrip("+"))

    # a report is not taken for an unknown message while a request could still be in flight
    assert worker.settle_unknown_outcomes(db.session(), now) == 0
    assert worker.settle_unknown_outcomes(db.session(), now + worker.REQUEST_BOUND * 2) == 1

    db.session.expire_all()
    settled = db.session.get(OutboxMessage, message.id)
    assert settled.status == OutboxStatus.DELIVERED
    assert settled.gateway_message_id == "ATXid_never_heard"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EarlyDeliveryReport)) == 0


@pytest.mark.parametrize("other", ["another message sent", "two reports"])
def test_a_report_that_could_belong_to_another_message_leaves_the_outcome_to_an_officer(
    app, client, other
):
    now = datetime.now(UTC)
    message = unknown_payout(client, now)
    report(client, "ATXid_a", "Success", phone(1))
    if other == "two reports":
        report(client, "ATXid_b", "Success", phone(1))
    else:
        queue([(phone(1), "reply", "Ujuzi: your balance")], now)
        worker.drain(db.session(), FakeGateway(), clock=Clock(now))

    assert worker.settle_unknown_outcomes(db.session(), now + worker.REQUEST_BOUND * 2) == 0

    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.UNKNOWN
    kept = Counter(db.session.scalars(sa.select(EarlyDeliveryReport.phone)))
    assert kept[phone(1)] == (2 if other == "two reports" else 1)
