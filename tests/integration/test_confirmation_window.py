"""An answer that comes after the programme's confirmation window lapses the session: it is never
paid, whether the cron that lapses sessions ran or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain import errors
from marketplace.domain.models import ConfirmationCode, SessionStatus, TrainingSession, Voucher
from marketplace.extensions import db
from marketplace.services import sessions

WINDOW = timedelta(hours=72)  # the programme's default


def _status(session_id: int) -> str:
    db.session.expire_all()
    found = db.session.get(TrainingSession, session_id)
    assert found is not None
    return found.status


@pytest.mark.parametrize("accept", [True, False], ids=["yes", "no"])
def test_a_late_answer_by_sms_lapses_the_session(build, accept):
    recorded_at = datetime.now(UTC) - WINDOW - timedelta(minutes=1)
    recorded = build.recorded_session(now=recorded_at)

    with pytest.raises(errors.SessionLapsed):
        sessions.answer_session(recorded.entrepreneur_id, recorded.ref, accept, via="sms")

    assert _status(recorded.id) == SessionStatus.LAPSED
    voucher = db.session.get(Voucher, recorded.voucher_id)
    assert voucher is not None and voucher.sessions_confirmed == 0


def test_an_answer_just_inside_the_window_still_counts(build):
    now = datetime.now(UTC)
    recorded = build.recorded_session(now=now - WINDOW + timedelta(minutes=1))
    sessions.answer_session(recorded.entrepreneur_id, recorded.ref, True, via="sms", now=now)
    assert _status(recorded.id) == SessionStatus.CONFIRMED


def test_a_late_code_lapses_the_session_and_is_not_spent(build):
    recorded_at = datetime.now(UTC) - WINDOW - timedelta(minutes=1)
    recorded = build.recorded_session(now=recorded_at)
    code = sessions.issue_confirmation_code(recorded.entrepreneur_id)

    with pytest.raises(errors.SessionLapsed):
        sessions.confirm_with_code(recorded.staff_id, recorded.id, code)

    assert _status(recorded.id) == SessionStatus.LAPSED
    codes = db.session.scalars(
        sa.select(ConfirmationCode).where(
            ConfirmationCode.entrepreneur_id == recorded.entrepreneur_id
        )
    ).all()
    assert codes and all(c.used_at is None for c in codes)
