"""A worker that dies after a hop's change committed, before the hop's reply was stored, leaves
the hop marked "being answered". Past a short lease a repeat of the hop answers it from the
committed state: nothing is done twice, and the session never sticks on "busy"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.domain.models import (
    Booking,
    OutboxMessage,
    Rating,
    TrainingSession,
    UssdSession,
    Voucher,
)
from marketplace.extensions import db
from sms.ussd import engine, store


class WorkerDied(BaseException):
    """The process went away: no `except Exception` of the app runs (a SIGKILL, an OOM kill)."""


def _world() -> dict[str, object]:
    db.session.expire_all()
    return {
        "bookings": sorted(db.session.execute(sa.select(Booking.id, Booking.status)).all()),
        "vouchers": sorted(
            db.session.execute(
                sa.select(Voucher.id, Voucher.status, Voucher.sessions_confirmed)
            ).all()
        ),
        "sessions": sorted(
            db.session.execute(sa.select(TrainingSession.id, TrainingSession.status))
        ),
        "ratings": db.session.scalar(sa.select(sa.func.count()).select_from(Rating)),
        "outbox": db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)),
    }


def _die_after_the_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next hop's change commits, then its worker dies before the reply is stored."""

    def save(*_args: Any, **_kwargs: Any) -> bool:
        raise WorkerDied

    monkeypatch.setattr(store, "save", save)


def _time_passes(seconds: float) -> None:
    """The mark was written `seconds` ago (the worker died that long before the repeat)."""
    db.session.expire_all()
    for row in db.session.scalars(sa.select(UssdSession)):
        row.updated_at -= timedelta(seconds=seconds)
    db.session.commit()


CASES = [
    pytest.param(
        None, "2*1*1*1*1", "1", "Your voucher is already booked with this mentor.", id="book"
    ),
    pytest.param("booking", "5*1", "1", "That booking was already cancelled or has ended,", id="cancel"),
    pytest.param(
        "recorded_session", "3*2*1", "1", "This session was already answered,", id="confirm"
    ),
    pytest.param(
        "recorded_session", "3*2*1", "2", "This session was already answered,", id="dispute"
    ),
    pytest.param("confirmed_session", "4*1", "5", "You already did that.", id="rate"),
    pytest.param(None, "6", "2", "Lugha: Kiswahili", id="language"),
]  # fmt: skip


@pytest.mark.parametrize(("before_the_call", "shortcut", "key", "answer"), CASES)
def test_a_hop_whose_worker_died_after_its_change_committed_is_answered_from_what_committed(
    build, dialer, phone_of, monkeypatch, before_the_call, shortcut, key, answer
):
    mentor = build.provider(name="Mama Zawadi Tailors")
    voucher = build.voucher()
    if before_the_call == "booking":
        build.booking(voucher, mentor)
    elif before_the_call is not None:
        two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
        getattr(build, before_the_call)(build.booking(voucher, mentor), now=two_hours_ago)
    phone = dialer(phone_of(voucher))
    phone.dial(shortcut)
    untouched = _world()

    with monkeypatch.context() as dying:
        _die_after_the_commit(dying)
        with pytest.raises(WorkerDied):
            phone.press(key)
    changed = _world()
    if key != "2" or shortcut != "6":  # (the language is the person's own row)
        assert changed != untouched  # the change committed
    _time_passes(store.LEASE_SECONDS + 1)

    screen = phone.repeat()  # the gateway sends the hop again
    assert phone.ended or shortcut == "6", screen
    assert screen.startswith(answer), screen
    assert "busy" not in screen
    assert _world() == changed  # nothing done twice
    assert phone.repeat() == phone.body[4:]  # stored: every later repeat gets it at once


def test_a_hop_being_answered_within_its_lease_is_waited_for_not_taken_over(
    build, dialer, phone_of, monkeypatch
):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=2))
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("3*2*1")
    with monkeypatch.context() as dying:
        _die_after_the_commit(dying)
        with pytest.raises(WorkerDied):
            phone.press("1")
    confirmed = _world()
    monkeypatch.setattr(engine, "REPLAY_WAIT_SECONDS", 0.2)
    monkeypatch.setattr(store, "LEASE_SECONDS", 60.0)

    assert "busy" in phone.repeat()  # still within the lease: maybe only slow, so not taken
    assert _world() == confirmed
    db.session.expire_all()
    assert db.session.scalar(sa.select(UssdSession.last_reply)) == ""  # still its hop's to store


def test_only_one_repeat_takes_a_dead_hop_over(build, dialer, phone_of, monkeypatch):
    voucher = build.voucher()
    phone = dialer(phone_of(voucher))
    phone.dial("6")
    with monkeypatch.context() as dying:
        _die_after_the_commit(dying)
        with pytest.raises(WorkerDied):
            phone.press("2")
    _time_passes(store.LEASE_SECONDS + 1)
    db.session.expire_all()
    row = db.session.scalar(sa.select(UssdSession))
    assert row.last_reply == ""
    session_id, text, hops = row.session_id, row.last_text, row.hops
    first = store.take_over(session_id, text, hops)
    second = store.take_over(session_id, text, hops)
    assert (first, second) == (hops + 1, None)
