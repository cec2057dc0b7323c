"""Mentors on basic phones racing on PostgreSQL: two staff phones of one institute recording the same
session at the same instant, and a mentor typing the trainee's code while the trainee answers YES."""

from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace.domain.models import OutboxMessage, SessionStatus, TrainingSession
from marketplace.extensions import db
from marketplace.services import providers
from tests.builders import next_phone
from tests.dialer import Dialer
from tests.sms.conftest import post_sms


def _sessions() -> list[TrainingSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(TrainingSession).order_by(TrainingSession.id)))


def _sent(phone: str, kind: str) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.to_phone == phone, OutboxMessage.kind == kind)
        )
        or 0
    )


def test_two_staff_phones_recording_one_session_at_once_record_it_once(build, race, postgres):
    institute = build.provider(kind="institute", name="Gikomba Tailoring Institute")
    second = next_phone()
    providers.add_staff(institute.id, "Grace Wambui", second, "test")
    voucher = build.voucher(name="Amina Wanjiru")
    build.booking(voucher, institute)
    trainee_phone = voucher.entrepreneur.phone
    phones = [Dialer(postgres.test_client(), p) for p in (institute.phone, second)]
    for phone in phones:  # trainee #1, today, 60 minutes, the trade's first topic: confirm?
        phone.dial("2*1*1*2*1")
        assert phone.screen.startswith("Record for #1 Amina")

    outcomes = race(*[lambda phone=phone: phone.press("1") for phone in phones])

    answers = [o.value for o in outcomes]
    assert all(a.startswith("Recorded, ref") for a in answers), answers
    (session,) = _sessions()
    assert {a.split("ref ")[1][:4] for a in answers} == {session.ref}
    assert _sent(trainee_phone, "session_recorded") == 1


def test_a_code_typed_while_the_trainee_answers_yes_confirms_once(build, race, postgres):
    provider = build.provider(name="Zawadi Tailors")
    voucher = build.voucher(name="Amina Wanjiru")
    booking = build.booking(voucher, provider)
    session = build.recorded_session(booking)
    mentor_phone, trainee_phone, ref = provider.phone, voucher.entrepreneur.phone, session.ref
    trainee = Dialer(postgres.test_client(), trainee_phone)
    trainee.dial("3")
    code = re.search(r"\b(\d{6})\b", trainee.press("1")).group(1)  # type: ignore[union-attr]
    mentor_client, trainee_client = postgres.test_client(), postgres.test_client()

    race(
        lambda: post_sms(mentor_client, mentor_phone, f"CODE {code}"),
        lambda: post_sms(trainee_client, trainee_phone, f"YES {ref}"),
    )

    (answered,) = _sessions()
    assert answered.status == SessionStatus.CONFIRMED
    assert answered.sequence == 1 and answered.value_minor == 100_000  # one share of 4
    assert answered.voucher.sessions_confirmed == 1
    # One confirmation: one balance notice to the mentor, whoever won.
    assert _sent(mentor_phone, "session_confirmed_mentor") == 1
    assert _sent(trainee_phone, "session_confirmed_entrepreneur") == 1
