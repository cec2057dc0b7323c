"""The unit of work: a use case's change, its audit events and its SMS commit together on a clean
exit and not at all on an exception; a unit opened inside another joins it, and only the
outermost commits (the audit chain sealed once, the SMS written then)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.domain import errors
from marketplace.domain.models import AuditEvent, OutboxMessage, Programme
from marketplace.extensions import db
from marketplace.services import audit, unit
from tests.builders import Builders

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PHONE = "+254711000123"

pytestmark = pytest.mark.usefixtures("app")


class Refused(Exception):
    pass


def _committed(model: type[Any]) -> int:
    """Rows committed (read on a connection of its own, outside the session's transaction)."""
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def _programme_name(programme_id: int) -> str | None:
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(Programme.name).where(Programme.id == programme_id))


@pytest.fixture
def programme_id(build: Builders) -> int:
    return build.programme(name="Tailoring 2026").id


@pytest.fixture
def seals(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many events each seal of the audit chain wrote."""
    sealed: list[int] = []
    real = audit.seal

    def counting(session: Any) -> int:
        n = real(session)
        sealed.append(n)
        return n

    monkeypatch.setattr(audit, "seal", counting)
    return sealed


@pytest.fixture
def commits(app: Flask) -> Iterator[list[int]]:
    seen: list[int] = []

    def count(_session: Any) -> None:
        seen.append(1)

    session = db.session()
    sa.event.listen(session, "after_commit", count)
    yield seen
    sa.event.remove(session, "after_commit", count)


def _rename(programme_id: int, name: str) -> Programme:
    programme = db.session.get(Programme, programme_id)
    assert programme is not None
    programme.name = name
    return programme


def test_a_clean_exit_commits_the_change_its_events_and_its_sms_together(
    programme_id: int, seals: list[int]
) -> None:
    events, messages = _committed(AuditEvent), _committed(OutboxMessage)
    with unit.of_work("officer:1", NOW) as uow:
        programme = _rename(programme_id, "Tailoring 2027")
        uow.audit(
            "programme.renamed", programme, {"name": "Tailoring 2026"}, {"name": programme.name}
        )
        uow.sms(PHONE, "voucher_revoked", "en", code="1234-5678")
    assert _programme_name(programme_id) == "Tailoring 2027"
    assert seals == [1]
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event is not None
    assert (event.actor, event.action, event.entity_type, event.entity_id) == (
        "officer:1",
        "programme.renamed",
        "programme",
        str(programme_id),
    )
    assert event.at == NOW
    assert (event.before, event.after) == ({"name": "Tailoring 2026"}, {"name": "Tailoring 2027"})
    assert _committed(AuditEvent) == events + 1
    assert _committed(OutboxMessage) == messages + 1
    sms = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert sms is not None
    assert (sms.to_phone, sms.kind, sms.status, sms.next_attempt_at) == (
        PHONE,
        "voucher_revoked",
        "pending",
        NOW,
    )
    assert "1234-5678" in sms.body


def test_an_exception_rolls_back_the_change_and_discards_its_events_and_sms(
    programme_id: int, seals: list[int]
) -> None:
    events, messages = _committed(AuditEvent), _committed(OutboxMessage)
    with pytest.raises(Refused), unit.of_work("officer:1", NOW) as uow:
        programme = _rename(programme_id, "Tailoring 2027")
        uow.audit("programme.renamed", programme, None, {"name": programme.name})
        uow.sms(PHONE, "voucher_revoked", "en", code="1234-5678")
        db.session.flush()
        raise Refused
    assert _programme_name(programme_id) == "Tailoring 2026"
    assert (_committed(AuditEvent), _committed(OutboxMessage)) == (events, messages)
    # Nothing left over to be committed by the next unit either.
    with unit.of_work("officer:1", NOW):
        pass
    assert seals == [0]
    assert (_committed(AuditEvent), _committed(OutboxMessage)) == (events, messages)


def test_the_sms_reach_the_outbox_only_when_the_unit_commits(programme_id: int) -> None:
    before = _committed(OutboxMessage)
    with unit.of_work("system", NOW) as uow:
        uow.sms(PHONE, "voucher_revoked", "en", code="1234-5678")
        uow.sms(PHONE, "voucher_revoked", "sw", code="1234-5678", at=NOW.replace(minute=31))
        db.session.flush()
        in_transaction = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        assert in_transaction == before
    assert _committed(OutboxMessage) == before + 2


def test_an_sms_a_person_opted_out_of_is_not_queued_unless_it_is_essential() -> None:
    before = _committed(OutboxMessage)
    with unit.of_work("system", NOW) as uow:
        reminder = uow.sms(
            PHONE,
            "voucher_expiring",
            "en",
            opted_out=True,
            code="1",
            expiry="1",
            left=1,
            ussd="*1#",
        )
        revoked = uow.sms(PHONE, "voucher_revoked", "en", opted_out=True, code="1234-5678")
    assert reminder is None and revoked is not None
    assert _committed(OutboxMessage) == before + 1


def test_a_unit_opened_inside_another_joins_it_and_only_the_outermost_commits(
    programme_id: int, seals: list[int], commits: list[int]
) -> None:
    """As the SMS channel does: its unit stores the message and queues the reply, the use case's
    own unit joins it, and the reply and the change commit together."""
    messages = _committed(OutboxMessage)
    with unit.of_work("sms:+254711000123", NOW) as channel:
        channel.sms_text(PHONE, "Ujuzi: done.", "reply")
        with unit.of_work("officer:1", NOW.replace(minute=45)) as use_case:
            assert use_case.joined and not channel.joined
            assert unit.in_unit()
            programme = _rename(programme_id, "Tailoring 2027")
            use_case.audit("programme.renamed", programme, None, {"name": programme.name})
            use_case.sms(PHONE, "voucher_revoked", "en", code="1234-5678")
        assert commits == [] and seals == []
        assert _programme_name(programme_id) == "Tailoring 2026"
        channel.audit("sms.answered", ("sms", 1))
    assert not unit.in_unit()
    assert commits == [1]
    assert seals == [2]  # both units' events, sealed once
    assert _programme_name(programme_id) == "Tailoring 2027"
    assert _committed(OutboxMessage) == messages + 2
    last_two = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2))
    assert [(e.actor, e.action, e.at) for e in last_two] == [
        ("sms:+254711000123", "sms.answered", NOW),
        ("officer:1", "programme.renamed", NOW.replace(minute=45)),
    ]


def test_an_exception_leaving_a_joined_unit_rolls_back_the_outer_units_work_too(
    programme_id: int, seals: list[int]
) -> None:
    messages, events = _committed(OutboxMessage), _committed(AuditEvent)
    with pytest.raises(Refused), unit.of_work("sms:+254711000123", NOW) as channel:
        channel.sms_text(PHONE, "Ujuzi: done.", "reply")
        channel.audit("sms.answered", ("sms", 1))
        with unit.of_work("officer:1", NOW):
            _rename(programme_id, "Tailoring 2027")
            raise Refused
    assert not unit.in_unit()
    assert seals == []
    assert _programme_name(programme_id) == "Tailoring 2026"
    assert (_committed(OutboxMessage), _committed(AuditEvent)) == (messages, events)


def test_a_channel_answers_a_refusal_in_a_fresh_unit(programme_id: int) -> None:
    messages = _committed(OutboxMessage)
    try:
        with unit.of_work("sms:+254711000123", NOW) as channel:
            channel.sms_text(PHONE, "Ujuzi: done.", "reply")
            with unit.of_work("officer:1", NOW):
                raise errors.NotFound("No such programme.")
    except errors.NotFound:
        with unit.of_work("sms:+254711000123", NOW) as channel:
            channel.sms_text(PHONE, "Ujuzi: no such programme.", "reply")
    assert _committed(OutboxMessage) == messages + 1
    body = db.session.scalars(sa.select(OutboxMessage.body).order_by(OutboxMessage.id.desc()))
    assert body.first() == "Ujuzi: no such programme."


def test_commit_makes_the_work_so_far_stand_when_the_use_case_then_refuses(
    programme_id: int, seals: list[int]
) -> None:
    """A wrong code is counted, then refused: the count stays."""
    with pytest.raises(errors.CodeInvalid), unit.of_work("mentor:1", NOW) as uow:
        programme = _rename(programme_id, "Tailoring 2027")
        uow.audit("programme.renamed", programme, None, {"name": programme.name})
        uow.commit()
        _rename(programme_id, "Tailoring 2028")
        uow.audit("programme.renamed", programme, None, {"name": "Tailoring 2028"})
        raise errors.CodeInvalid()
    assert _programme_name(programme_id) == "Tailoring 2027"
    assert seals == [1]


def test_a_violated_constraint_becomes_the_domain_error_and_nothing_is_kept(
    build: Builders, programme_id: int
) -> None:
    other = build.programme(name="Welding 2026")
    events = _committed(AuditEvent)
    with pytest.raises(errors.AlreadyExists), unit.of_work("officer:1", NOW) as uow:
        renamed = _rename(other.id, "Tailoring 2026")  # taken by the first programme
        uow.audit("programme.renamed", renamed, None, {"name": renamed.name})
        uow.flush_or(errors.AlreadyExists("A programme with that name exists."))
    assert _programme_name(other.id) == "Welding 2026"
    assert _committed(AuditEvent) == events
    assert not unit.in_unit()


def test_many_events_of_one_action_are_recorded_with_one_call(seals: list[int]) -> None:
    shared = {"status": "issued"}
    with unit.of_work("officer:1", NOW) as uow:
        uow.audit_many("voucher.issued", "voucher", [(n, None, shared) for n in (7, 8, 9)])
    assert seals == [3]
    last = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(3))
    assert sorted(e.entity_id for e in last) == ["7", "8", "9"]


def test_an_entity_the_audit_log_has_no_name_for_is_refused() -> None:
    with pytest.raises(KeyError), unit.of_work("officer:1", NOW) as uow:
        uow.audit("thing.done", object())
