"""Sending SMS again while others do: on PostgreSQL, each message is requeued once."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.domain.models import OutboxMessage, OutboxStatus
from marketplace.extensions import db
from marketplace.services import resend
from sms import worker
from sms.gateway import FakeGateway
from tests.concurrency.racing import Race
from tests.outbox_rows import message, resent_ids


def test_two_operators_resending_the_same_messages_at_once_requeue_each_once(
    race: Race,
) -> None:
    ids = [message("failed", phone=f"+2547110002{i:02d}") for i in range(40)]
    everything_failed = resend.Selection(states=frozenset({OutboxStatus.FAILED.value}))
    by_id = resend.Selection(ids=frozenset(ids))

    outcomes = race(
        lambda: resend.resend(everything_failed, "officer:1").total,
        lambda: resend.resend(by_id, "cli").total,
    )

    assert sum(o.value for o in outcomes) == 40
    assert sorted(resent_ids()) == sorted(ids)  # one audit event per message
    gateway = FakeGateway()
    worker.drain(db.session(), gateway)
    assert len(gateway.sent) == 40  # each sent once
    assert set(db.session.scalars(sa.select(OutboxMessage.status))) == {OutboxStatus.SENT.value}
