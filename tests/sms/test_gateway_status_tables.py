"""Every value Africa's Talking documents for a send's answer and a delivery report, walked through
the real Africa's Talking backend (against a local stand-in of its HTTP API) and the real worker,
and the action each one takes; unknown values take a safe default, logged.

The documented values are written out here, from the gateway's documentation, independently of the
tables in `sms/africastalking.py` and `sms/delivery.py`: a value missing from a table, or a table
entry nobody documented, fails.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
import sqlalchemy as sa

from marketplace.domain.models import OutboxMessage, OutboxStatus
from marketplace.extensions import db
from marketplace.services import outbox
from sms import africastalking, delivery, worker
from sms.africastalking import AfricasTalkingGateway
from sms.gateway import FakeGateway

from .conftest import SECRET

URL = "https://api.africastalking.com/version1/messaging"
T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
ALICE = "+254711000111"
BOB = "+254722000222"

# What the worker leaves a message as, for each action.
ACCEPTED = "accepted"  # sent, with the gateway's message id
RETRY = "retry with backoff"  # pending, due again later, one attempt used
PERMANENT = "permanent failure for this recipient"  # failed
PARK = "park and alert"  # parked, no attempt used, the worker stops the batch

# Per-recipient statusCode of a send (AFRICASTALKING.md; 409 from the gateway's help centre).
DOCUMENTED_RECIPIENT_CODES = [
    (100, "Processed", ACCEPTED),
    (101, "Sent", ACCEPTED),
    (102, "Queued", ACCEPTED),
    (401, "RiskHold", PARK),
    (402, "InvalidSenderId", PARK),
    (403, "InvalidPhoneNumber", PERMANENT),
    (404, "UnsupportedNumberType", PERMANENT),
    (405, "InsufficientBalance", PARK),
    (406, "UserInBlacklist", PERMANENT),
    (407, "CouldNotRoute", PERMANENT),
    (409, "DoNotDisturbRejection", PERMANENT),
    (500, "InternalServerError", RETRY),
    (501, "GatewayError", RETRY),
    (502, "RejectedByGateway", RETRY),
]

# A reply naming no recipient, by its Message.
DOCUMENTED_REPLY_MESSAGES = [
    ("InvalidSenderId", PARK),
    ("InsufficientBalance", PARK),
    ("RiskHold", PARK),
]

# A non-2xx answer without a per-recipient body.
HTTP_STATUSES = [
    (400, PARK),
    (401, PARK),
    (403, PARK),
    (404, PARK),
    (408, RETRY),
    (409, PERMANENT),
    (429, RETRY),
    (500, RETRY),
    (502, RETRY),
    (503, RETRY),
    (504, RETRY),
]

IN_FLIGHT, DELIVERED, FAILED = "in flight", "delivered", "failed with reason"
DOCUMENTED_DELIVERY_STATUSES = [
    ("Sent", IN_FLIGHT),
    ("Submitted", IN_FLIGHT),
    ("Buffered", IN_FLIGHT),
    ("Success", DELIVERED),
    ("Failed", FAILED),
    ("Rejected", FAILED),
    ("Expired", FAILED),
    ("AbsentSubscriber", FAILED),
]
DOCUMENTED_FAILURE_REASONS = [
    "InsufficientCredit",
    "InvalidLinkId",
    "UserIsInactive",
    "UserInBlackList",
    "UserInBlacklist",
    "UserAccountSuspended",
    "NotNetworkSubscriber",
    "NotNetworkSubcriber",
    "UserNotSubscribedToProduct",
    "UserDoesNotExist",
    "DeliveryFailure",
    "DoNotDisturbRejection",
]


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def at() -> AfricasTalkingGateway:
    return AfricasTalkingGateway("ujuzi", "secret-key", sender_id="UJUZI")


def entry(number: str, code: Any, status: str, message_id: str = "None") -> dict[str, Any]:
    return {
        "statusCode": code,
        "number": number,
        "status": status,
        "cost": "0",
        "messageId": message_id,
    }


def reply(*entries: dict[str, Any], message: str = "Sent to 0/1 Total Cost: 0") -> dict[str, Any]:
    return {"SMSMessageData": {"Message": message, "Recipients": list(entries)}}


def queue(*phones: str) -> None:
    for phone in phones:
        outbox.queue_text(phone, "Ujuzi: your voucher code is 4821.", "voucher_issued", now=T0)
    db.session.commit()


def row(phone: str = ALICE) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_phone == phone)).one()


def action_taken(message: OutboxMessage, stats: worker.DrainStats) -> str:
    """What the worker made of the message, in the words of the tables above."""
    if message.status == OutboxStatus.SENT:
        assert message.gateway_message_id
        return ACCEPTED
    if message.status == OutboxStatus.PENDING:
        due = message.next_attempt_at.replace(tzinfo=message.next_attempt_at.tzinfo or UTC)
        assert message.attempts == 1 and due > T0, "a retry waits for its backoff"
        return RETRY
    if message.status == OutboxStatus.FAILED:
        assert message.last_error
        return PERMANENT
    if message.status == OutboxStatus.PARKED:
        assert message.attempts == 0 and stats.parked == 1
        return PARK
    raise AssertionError(message.status)


def drain(at: AfricasTalkingGateway) -> worker.DrainStats:
    return worker.drain(db.session(), at, clock=lambda: T0, concurrency=1)


# --------------------------------------------------------------------------- sending


def test_the_tables_hold_every_documented_value_and_nothing_else() -> None:
    codes = {code: name for code, name, _ in DOCUMENTED_RECIPIENT_CODES}
    assert {c: m.name for c, m in africastalking.RECIPIENT_STATUS_CODES.items()} == codes
    assert {m.name for m in africastalking.REPLY_MESSAGES.values()} == {
        m for m, _ in DOCUMENTED_REPLY_MESSAGES
    }
    assert set(africastalking.HTTP_STATUSES) == {s for s, _ in HTTP_STATUSES}
    assert set(delivery.DELIVERY_STATUSES) == {s for s, _ in DOCUMENTED_DELIVERY_STATUSES}
    assert set(delivery.FAILURE_REASONS) == set(DOCUMENTED_FAILURE_REASONS)


@pytest.mark.parametrize(("code", "status", "action"), DOCUMENTED_RECIPIENT_CODES)
def test_each_documented_status_code_takes_its_action(app, api, at, code, status, action):
    message_id = "ATXid_1" if action == ACCEPTED else "None"
    api.post(URL, json=reply(entry(ALICE, code, status, message_id)))
    queue(ALICE)

    stats = drain(at)

    assert action_taken(row(), stats) == action


@pytest.mark.parametrize(("message", "action"), DOCUMENTED_REPLY_MESSAGES)
def test_each_documented_reply_without_recipients_takes_its_action(app, api, at, message, action):
    api.post(URL, json={"SMSMessageData": {"Message": message, "Recipients": []}})
    queue(ALICE)

    assert action_taken(row(), drain(at)) == action


@pytest.mark.parametrize(("status", "action"), HTTP_STATUSES)
def test_each_http_status_without_a_recipient_reply_takes_its_action(app, api, at, status, action):
    api.post(URL, status=status, body="Request refused")
    queue(ALICE)

    assert action_taken(row(), drain(at)) == action


@pytest.mark.parametrize(
    ("code", "status", "message_id", "action"),
    [
        (417, "SomethingNew", "None", RETRY),  # no receipt: not sent, so try again later
        ("garbled", "Weird", "None", RETRY),
        (None, "", "None", RETRY),
        (103, "Success", "ATXid_9", ACCEPTED),  # the gateway's receipt: it has the message
        (499, "UserInBlacklist", "None", PERMANENT),  # an unknown code with a documented name
    ],
)
def test_an_unknown_status_code_takes_a_safe_default_and_is_logged(
    app, api, at, caplog, code, status, message_id, action
):
    api.post(URL, json=reply(entry(ALICE, code, status, message_id)))
    queue(ALICE)

    with caplog.at_level(logging.WARNING, logger="sms.africastalking"):
        stats = drain(at)

    assert action_taken(row(), stats) == action
    assert any("statusCode" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("status", "action"), [(418, PARK), (451, PARK), (599, RETRY), (302, RETRY)]
)
def test_an_unknown_http_status_takes_a_safe_default_and_is_logged(
    app, api, at, caplog, status, action
):
    api.post(URL, status=status, body="?")
    queue(ALICE)

    with caplog.at_level(logging.WARNING, logger="sms.africastalking"):
        stats = drain(at)

    assert action_taken(row(), stats) == action
    assert any("not in the table" in r.getMessage() for r in caplog.records)


def test_a_do_not_disturb_status_code_fails_that_recipient_and_sends_to_the_others(app, api, at):
    api.post(
        URL,
        json=reply(
            entry(ALICE, 409, "DoNotDisturbRejection"),
            entry(BOB, 101, "Success", "ATXid_bob"),
            message="Sent to 1/2 Total Cost: KES 0.8000",
        ),
    )
    queue(ALICE, BOB)

    stats = drain(at)
    later = worker.drain(db.session(), at, clock=lambda: T0 + timedelta(days=1))

    assert stats.failed == 1 and stats.sent == 1 and stats.retried == 0
    assert row(ALICE).status == OutboxStatus.FAILED
    assert "DoNotDisturbRejection" in (row(ALICE).last_error or "")
    assert row(BOB).status == OutboxStatus.SENT
    assert later.claimed == 0  # never tried again
    assert len(api.calls) == 1


def test_an_http_409_does_not_park_the_outbox(app, api, at):
    """The gateway's own example: HTTP 409 whose body names the refused recipient."""
    api.post(
        URL,
        status=409,
        json=reply(entry(ALICE, 409, "DoNotDisturbRejection")),
    )
    api.post(URL, json=reply(entry(BOB, 101, "Success", "ATXid_bob")))
    outbox.queue_text(ALICE, "Ujuzi: first text", "voucher_issued", now=T0)
    outbox.queue_text(BOB, "Ujuzi: second text", "voucher_issued", now=T0)
    db.session.commit()

    stats = worker.drain(db.session(), at, clock=lambda: T0, concurrency=1)

    assert stats.parked == 0
    assert row(ALICE).status == OutboxStatus.FAILED
    assert "DoNotDisturbRejection" in (row(ALICE).last_error or "")
    assert row(BOB).status == OutboxStatus.SENT  # the outbox goes on


def test_an_http_409_without_a_readable_body_fails_only_its_recipients(app, api, at):
    api.post(URL, status=409, body="Conflict")
    api.post(URL, json=reply(entry(BOB, 101, "Success", "ATXid_bob")))
    outbox.queue_text(ALICE, "Ujuzi: first text", "voucher_issued", now=T0)
    outbox.queue_text(BOB, "Ujuzi: second text", "voucher_issued", now=T0)
    db.session.commit()

    stats = worker.drain(db.session(), at, clock=lambda: T0, concurrency=1)

    assert stats.parked == 0 and stats.failed == 1
    assert row(ALICE).status == OutboxStatus.FAILED and "HTTP 409" in (row(ALICE).last_error or "")
    assert row(BOB).status == OutboxStatus.SENT


def test_any_non_2xx_answer_with_a_per_recipient_reply_is_read_recipient_by_recipient(app, api, at):
    api.post(
        URL,
        status=400,
        json=reply(entry(ALICE, 403, "InvalidPhoneNumber"), entry(BOB, 500, "InternalServerError")),
    )
    queue(ALICE, BOB)

    stats = drain(at)

    assert stats.parked == 0
    assert row(ALICE).status == OutboxStatus.FAILED
    assert row(BOB).status == OutboxStatus.PENDING and row(BOB).attempts == 1


# --------------------------------------------------------------------------- delivery reports


def report(client: Any, message_id: str, status: str, reason: str = "") -> None:
    form = {"id": message_id, "status": status, "phoneNumber": ALICE, "networkCode": "63902"}
    if reason:
        form["failureReason"] = reason
    answer = client.post(f"/at/{SECRET}/sms/delivery", data=form)
    assert answer.status_code == 200


def sent_message() -> OutboxMessage:
    queue(ALICE)
    worker.drain(db.session(), FakeGateway(), clock=lambda: T0)
    message = row()
    assert message.status == OutboxStatus.SENT and message.gateway_message_id
    return message


def delivery_state(message: OutboxMessage) -> str:
    if message.status == OutboxStatus.SENT:
        return IN_FLIGHT
    if message.status == OutboxStatus.DELIVERED:
        return DELIVERED
    if message.status == OutboxStatus.FAILED:
        assert message.last_error and message.delivery_status in (message.last_error or "")
        return FAILED
    raise AssertionError(message.status)


@pytest.mark.parametrize(("status", "state"), DOCUMENTED_DELIVERY_STATUSES)
def test_each_documented_delivery_status_takes_its_state(app, client, status, state):
    message = sent_message()

    report(client, str(message.gateway_message_id), status)

    after = row()
    assert delivery_state(after) == state
    assert after.delivery_status == status


@pytest.mark.parametrize("reason", DOCUMENTED_FAILURE_REASONS)
def test_each_documented_failure_reason_is_kept_with_its_meaning(app, client, reason):
    message = sent_message()

    report(client, str(message.gateway_message_id), "Failed", reason)

    after = row()
    assert after.status == OutboxStatus.FAILED
    assert reason in (after.last_error or "")
    assert delivery.FAILURE_REASONS[reason] in (after.last_error or "")


def test_an_absent_subscriber_fails_the_message_with_its_reason(app, client):
    message = sent_message()
    report(client, str(message.gateway_message_id), "Buffered")

    report(client, str(message.gateway_message_id), "AbsentSubscriber")

    after = row()
    assert after.status == OutboxStatus.FAILED and after.delivery_status == "AbsentSubscriber"
    assert "off or out of coverage" in (after.last_error or "")


def test_a_phone_back_in_coverage_after_an_absent_subscriber_report_counts_as_delivered(
    app, client
):
    message = sent_message()
    report(client, str(message.gateway_message_id), "AbsentSubscriber")
    report(client, str(message.gateway_message_id), "Buffered")  # late: changes nothing

    assert row().delivery_status == "AbsentSubscriber"
    report(client, str(message.gateway_message_id), "Success")
    assert row().status == OutboxStatus.DELIVERED


def test_an_unknown_delivery_status_changes_nothing_and_is_logged(app, client, caplog):
    message = sent_message()
    report(client, str(message.gateway_message_id), "Buffered")

    with caplog.at_level(logging.WARNING, logger="sms.delivery"):
        report(client, str(message.gateway_message_id), "Teleported")

    after = row()
    assert after.status == OutboxStatus.SENT and after.delivery_status == "Buffered"
    assert any("unknown status" in r.getMessage() for r in caplog.records)


def test_an_unknown_failure_reason_fails_the_message_with_the_reason_given(app, client, caplog):
    message = sent_message()

    with caplog.at_level(logging.WARNING, logger="sms.delivery"):
        report(client, str(message.gateway_message_id), "Rejected", "SimCardEatenByGoat")

    after = row()
    assert after.status == OutboxStatus.FAILED and "SimCardEatenByGoat" in (after.last_error or "")
    assert any("unknown failure reason" in r.getMessage() for r in caplog.records)
