"""`flask sms-resend`: an operator sends SMS again by state, kind, id or time of writing, sees the
count first, and cannot resend what already went out without saying so."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from marketplace.domain.models import OutboxMessage, OutboxStatus
from marketplace.extensions import db
from sms import worker
from sms.gateway import FakeGateway
from tests.outbox_rows import T0, message, resent_ids, state_of

FAILED, PARKED, SENT, DELIVERED, PENDING = (
    OutboxStatus.FAILED.value,
    OutboxStatus.PARKED.value,
    OutboxStatus.SENT.value,
    OutboxStatus.DELIVERED.value,
    OutboxStatus.PENDING.value,
)


def resend(runner: FlaskCliRunner, *args: str, answer: str | None = None) -> str:
    result = runner.invoke(args=["sms-resend", *args], input=answer)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.output


def test_resend_by_state_requeues_those_messages_with_their_own_text(
    app, runner: FlaskCliRunner, gateway: FakeGateway
) -> None:
    failed = message(FAILED, body="Ujuzi: your voucher code is 4821.")
    parked = message(PARKED, "booking_made_entrepreneur", "+254722000222")
    other = message(SENT)

    output = resend(runner, "--state", FAILED, "--yes")

    assert "1 SMS to send again" in output and "1 SMS queued again" in output
    assert (state_of(failed), state_of(parked), state_of(other)) == (PENDING, PARKED, SENT)
    requeued = db.session.get(OutboxMessage, failed)
    assert requeued is not None and requeued.attempts == 0 and requeued.last_error is None
    worker.drain(db.session(), gateway)
    assert gateway.messages_to("+254711000111") == ["Ujuzi: your voucher code is 4821."]
    assert state_of(failed) == SENT


def test_resend_by_kind_takes_every_state_that_did_not_go_out(app, runner) -> None:
    failed = message(FAILED, "voucher_issued")
    parked = message(PARKED, "voucher_issued")
    other_kind = message(FAILED, "payout_made")
    went_out = message(DELIVERED, "voucher_issued")

    output = resend(runner, "--kind", "voucher_issued", "--yes")

    assert "2 SMS queued again" in output
    assert "1 already sent or delivered are left out" in output
    assert [state_of(i) for i in (failed, parked, other_kind, went_out)] == [
        PENDING,
        PENDING,
        FAILED,
        DELIVERED,
    ]


def test_resend_by_ids_takes_exactly_those(app, runner) -> None:
    ids = [message(FAILED, phone=f"+2547110001{i:02d}") for i in range(4)]

    output = resend(runner, "--id", str(ids[0]), "--id", str(ids[2]), "--yes")

    assert "2 SMS queued again" in output
    assert [state_of(i) for i in ids] == [PENDING, FAILED, PENDING, FAILED]
    assert resent_ids() == [ids[0], ids[2]]


def test_resend_by_time_range_takes_the_messages_written_in_it(app, runner) -> None:
    before = message(FAILED, created_at=T0 - timedelta(hours=2))
    inside = message(FAILED, created_at=T0)
    at_the_end = message(FAILED, created_at=T0 + timedelta(hours=1))

    output = resend(
        runner,
        "--created-from",
        (T0 - timedelta(minutes=1)).isoformat(),
        "--created-to",
        (T0 + timedelta(hours=1)).isoformat(),
        "--yes",
    )

    assert "1 SMS queued again" in output
    assert [state_of(i) for i in (before, inside, at_the_end)] == [FAILED, PENDING, FAILED]


def test_a_dry_run_counts_by_state_and_kind_and_changes_nothing(app, runner) -> None:
    failed = message(FAILED, "voucher_issued")
    parked = message(PARKED, "payout_made")

    output = resend(runner, "--state", FAILED, "--state", PARKED, "--dry-run")

    assert "2 SMS to send again" in output
    assert f"  {FAILED} voucher_issued: 1" in output and f"  {PARKED} payout_made: 1" in output
    assert (state_of(failed), state_of(parked)) == (FAILED, PARKED)
    assert resent_ids() == []


def test_without_yes_it_asks_and_a_no_changes_nothing(app, runner) -> None:
    failed = message(FAILED)

    refused = resend(runner, "--state", FAILED, answer="n\n")
    assert "Send them again?" in refused and "Aborted" in refused
    assert state_of(failed) == FAILED

    agreed = resend(runner, "--state", FAILED, answer="y\n")
    assert "1 SMS queued again" in agreed and state_of(failed) == PENDING


def test_messages_already_sent_or_delivered_are_resent_only_when_forced(app, runner) -> None:
    sent = message(SENT)
    delivered = message(DELIVERED)

    refused = resend(runner, "--state", SENT, "--state", DELIVERED, "--yes")
    assert "0 SMS to send again." in refused and "2 already sent or delivered" in refused
    assert (state_of(sent), state_of(delivered)) == (SENT, DELIVERED)

    forced = resend(runner, "--id", str(sent), "--id", str(delivered), "--force", "--yes")
    assert "2 SMS queued again" in forced
    assert (state_of(sent), state_of(delivered)) == (PENDING, PENDING)
    row = db.session.get(OutboxMessage, delivered)
    assert row is not None and row.gateway_message_id is None and row.delivery_status is None


def test_a_message_waiting_to_go_is_never_touched(app, runner) -> None:
    waiting = message(PENDING)
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == waiting)
        .values(attempts=3, next_attempt_at=T0 + timedelta(minutes=5))  # a worker holds it
    )
    db.session.commit()

    output = resend(runner, "--id", str(waiting), "--force", "--yes")

    assert "0 SMS to send again." in output and "1 are waiting to go already" in output
    row = db.session.get(OutboxMessage, waiting)
    assert row is not None and row.attempts == 3


def test_each_message_sent_again_is_an_audit_event_naming_the_state_it_left(app, runner) -> None:
    failed = message(FAILED)

    resend(runner, "--id", str(failed), "--yes")

    from marketplace.domain.models import AuditEvent

    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "sms.resent")).one()
    assert event.actor == "cli" and event.entity_id == str(failed)
    assert event.before is not None and event.before["status"] == FAILED
    assert event.after == {"status": PENDING, "attempts": 0}
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


def test_nothing_chosen_or_a_bad_choice_is_refused(app, runner) -> None:
    message(FAILED)

    nothing = runner.invoke(args=["sms-resend", "--yes"])
    bad_state = runner.invoke(args=["sms-resend", "--state", "lost", "--yes"])
    bad_time = runner.invoke(args=["sms-resend", "--created-from", "yesterday", "--yes"])

    assert nothing.exit_code != 0 and "choose what to send again" in nothing.output
    assert bad_state.exit_code != 0 and "lost" in bad_state.output
    assert bad_time.exit_code != 0 and "ISO" in bad_time.output
    assert resent_ids() == []


def test_every_state_of_the_outbox_can_be_chosen(app, runner) -> None:
    """States come from OutboxStatus: one added there is resendable without naming it here."""
    for state in OutboxStatus:
        output = resend(runner, "--state", state.value, "--dry-run")
        assert "SMS to send again" in output, state
