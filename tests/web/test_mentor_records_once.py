"""A mentor's record form sent twice (a double tap on a slow line, a reload) records one session."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.domain.models import OutboxMessage, TrainingSession
from marketplace.extensions import db
from tests.builders import Builders
from tests.builders import today as builders_today
from tests.web.conftest import Web


def _form(topic: str) -> dict[str, str]:
    return {
        "delivered_on": builders_today().strftime("%d/%m/%Y"),
        "duration_minutes": "90",
        "topic": topic,
        "outcomes": "Can cut a skirt",
        "action_points": "Practise hems",
    }


def test_the_same_session_sent_twice_is_recorded_once_and_asked_about_once(
    web: Web, build: Builders
) -> None:
    provider = build.provider()
    booking = build.booking(provider=provider)
    web.mentor_of(provider)
    page = f"/mentor/bookings/{booking.id}/record"

    first = web.post(page, _form("Measuring and cutting"))
    again = web.post(page, _form("Measuring  and cutting"))  # the same, as typed again

    assert first.status_code == again.status_code == 302
    assert again.location == first.location  # the session already recorded
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingSession)) == 1
    asked = db.session.scalar(
        sa.select(sa.func.count()).where(OutboxMessage.kind == "session_recorded")
    )
    assert asked == 1


def test_a_different_session_of_the_same_day_is_recorded_too(web: Web, build: Builders) -> None:
    provider = build.provider()
    booking = build.booking(provider=provider)
    web.mentor_of(provider)
    page = f"/mentor/bookings/{booking.id}/record"

    web.post(page, _form("Measuring and cutting"))
    web.post(page, _form("Sewing hems"))

    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingSession)) == 2
