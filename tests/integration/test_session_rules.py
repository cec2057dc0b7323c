"""The fixed rules a session is judged by, on small hand-built histories: each caught where it
should be and quiet where an honest mentor works as the design asks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from marketplace.domain import errors
from marketplace.domain.models import Provider, TrainingSession
from marketplace.extensions import db
from marketplace.queries import admin
from marketplace.services import payouts, providers, sessions
from marketplace.services.sessions import NewSession
from tests.builders import Builders, local_day, next_phone

# 09:00 in Nairobi on a Monday: a working day.
MORNING = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _staff_of(provider: Provider) -> int:
    return db.session.get(Provider, provider.id).staff[0].id  # type: ignore[union-attr]


def _record(
    build: Builders,
    provider: Provider,
    *,
    staff_id: int | None = None,
    at: datetime = MORNING,
    starts: time | None = None,
    minutes: int = 60,
    topic: str | None = None,
    day: date | None = None,
    voucher_at: datetime | None = None,
) -> TrainingSession:
    voucher = build.voucher(now=voucher_at or at - timedelta(days=3))
    booking = build.booking(voucher, provider, now=at - timedelta(days=2))
    cmd = NewSession(
        booking_id=booking.id,
        delivered_on=day or local_day(at),
        duration_minutes=minutes,
        topic=topic or f"Hems and seams {booking.id}",
        starts_at=starts,
    )
    return sessions.record_session(staff_id or _staff_of(provider), cmd, now=at)


def _fresh(session: TrainingSession) -> TrainingSession:
    db.session.expire_all()
    again = db.session.get(TrainingSession, session.id)
    assert again is not None
    return again


# --------------------------------------------------------------------------- confirmation speed


def test_a_code_typed_by_the_mentor_right_after_recording_is_not_held(build: Builders) -> None:
    provider = build.provider()
    recorded = _record(build, provider, at=MORNING)
    code = sessions.issue_confirmation_code(recorded.entrepreneur_id, now=MORNING)
    confirmed = sessions.confirm_with_code(
        recorded.staff_id or 0, recorded.id, code, now=MORNING + timedelta(seconds=20)
    )
    assert confirmed.flags == [] and confirmed.held is False
    run = payouts.run_payout("KES", MORNING + timedelta(hours=1), "officer", now=MORNING)
    assert run is not None and run.total_minor == confirmed.value_minor


def test_a_remote_yes_seconds_after_recording_is_held(build: Builders) -> None:
    recorded = _record(build, build.provider())
    answered = sessions.answer_session(
        recorded.entrepreneur_id, recorded.ref, True, "sms", now=MORNING + timedelta(seconds=15)
    )
    assert answered.flags == ["burst_confirmation"] and answered.held
    assert payouts.run_payout("KES", MORNING + timedelta(hours=1), "officer", now=MORNING) is None


def test_a_remote_yes_minutes_after_recording_is_not_held(build: Builders) -> None:
    recorded = _record(build, build.provider())
    answered = sessions.answer_session(
        recorded.entrepreneur_id, recorded.ref, True, "ussd", now=MORNING + timedelta(minutes=9)
    )
    assert answered.flags == [] and not answered.held


# --------------------------------------------------------------------------- phones


def test_a_trainee_on_another_staff_members_phone_is_flagged(build: Builders) -> None:
    colleague_phone = next_phone()
    institute = build.provider(kind="institute", extra_staff=[("Second Teacher", colleague_phone)])
    voucher = build.voucher(now=MORNING - timedelta(days=3), phone=colleague_phone)
    booking = build.booking(voucher, institute, now=MORNING - timedelta(days=1))
    recorded = sessions.record_session(
        _staff_of(institute),
        NewSession(booking.id, local_day(MORNING), 60, "Welding basics"),
        now=MORNING,
    )
    assert recorded.flags == ["shared_phone"] and recorded.held


def test_a_trainee_whose_phone_became_a_staff_phone_is_flagged_when_answering(
    build: Builders,
) -> None:
    provider = build.provider()
    recorded = _record(build, provider)
    assert recorded.flags == []
    person_phone = recorded.voucher.entrepreneur.phone
    providers.add_staff(provider.id, "Helper", person_phone, "officer", now=MORNING)
    answered = sessions.answer_session(
        recorded.entrepreneur_id, recorded.ref, True, "sms", now=MORNING + timedelta(hours=2)
    )
    assert answered.flags == ["shared_phone"] and answered.held


def test_trainees_with_their_own_phones_are_not_flagged(build: Builders) -> None:
    institute = build.provider(kind="institute", extra_staff=[("Second Teacher", next_phone())])
    assert _record(build, institute).flags == []


# --------------------------------------------------------------------------- a person's day


def test_a_craft_workers_two_accounts_share_one_days_limit_and_the_whole_day_is_held(
    build: Builders,
) -> None:
    provider = build.provider(capacity=20, extra_staff=[("Same Fundi", next_phone())])
    first, second = (s.id for s in db.session.get(Provider, provider.id).staff)  # type: ignore[union-attr]
    day = [
        _record(build, provider, staff_id=first if i % 2 else second, minutes=60) for i in range(8)
    ]
    assert all(s.flags == [] for s in day)  # eight hours across two accounts: a full day
    ninth = _record(build, provider, staff_id=first, minutes=60)
    assert ninth.flags == ["too_many_in_a_day"] and ninth.held
    assert all(_fresh(s).flags == ["too_many_in_a_day"] and _fresh(s).held for s in day)


def test_separate_people_of_an_institute_each_have_their_own_day(build: Builders) -> None:
    institute = build.provider(
        kind="institute", capacity=30, extra_staff=[("Second Teacher", next_phone())]
    )
    first, second = (s.id for s in db.session.get(Provider, institute.id).staff)  # type: ignore[union-attr]
    recorded = [
        _record(build, institute, staff_id=staff, minutes=90)
        for staff in (first, second)
        for _ in range(5)
    ]
    assert all(s.flags == [] for s in recorded)


def test_a_class_of_nine_is_one_hour_of_the_teachers_day(build: Builders) -> None:
    institute = build.provider(kind="institute", capacity=40)
    classes = [time(8, 0), time(10, 0), time(13, 0)]
    recorded = [
        _record(build, institute, starts=start, minutes=60, topic=f"Class at {start}")
        for start in classes
        for _ in range(9)
    ]
    assert all(s.flags == [] for s in recorded)  # 27 trainees, three hours of teaching


def test_two_sessions_of_a_craft_worker_at_the_same_time_are_both_held(build: Builders) -> None:
    provider = build.provider()
    first = _record(build, provider, starts=time(10, 0), minutes=90)
    assert first.flags == []
    second = _record(build, provider, starts=time(11, 0), minutes=60)
    assert second.flags == ["overlapping_sessions"]
    assert _fresh(first).flags == ["overlapping_sessions"] and _fresh(first).held


def test_back_to_back_sessions_do_not_overlap(build: Builders) -> None:
    provider = build.provider()
    _record(build, provider, starts=time(9, 0), minutes=60)
    assert _record(build, provider, starts=time(10, 0), minutes=60).flags == []


# --------------------------------------------------------------------------- capacity


def test_more_trainees_in_a_week_than_twice_the_capacity_is_flagged(build: Builders) -> None:
    programme = build.programme(sessions_per_voucher=1)
    provider = build.provider(capacity=1)
    flags = []
    for n in range(3):
        at = MORNING + timedelta(days=n)
        voucher = build.voucher(programme, now=at - timedelta(days=3))
        booking = build.booking(voucher, provider, now=at)
        s = sessions.record_session(
            _staff_of(provider), NewSession(booking.id, local_day(at), 60, f"Topic {n}"), now=at
        )
        flags.append(s.flags)
        code = sessions.issue_confirmation_code(s.entrepreneur_id, now=at)
        sessions.confirm_with_code(_staff_of(provider), s.id, code, now=at)
    assert flags == [[], [], ["over_capacity"]]


def test_a_trainee_seen_again_is_counted_once(build: Builders) -> None:
    provider = build.provider(capacity=1)
    voucher = build.voucher(now=MORNING - timedelta(days=3))
    booking = build.booking(voucher, provider, now=MORNING - timedelta(days=2))
    for n in range(3):
        at = MORNING + timedelta(days=n)
        s = sessions.record_session(
            _staff_of(provider), NewSession(booking.id, local_day(at), 60, f"Part {n}"), now=at
        )
        assert s.flags == []
        sessions.answer_session(s.entrepreneur_id, s.ref, True, "sms", now=at + timedelta(hours=1))


# --------------------------------------------------------------------------- dates


def test_a_session_recorded_at_half_past_midnight_in_nairobi_is_of_the_new_local_day(
    build: Builders,
) -> None:
    half_past_midnight = datetime(2026, 11, 2, 21, 30, tzinfo=UTC)  # 00:30 on 3 November
    recorded = _record(build, build.provider(), at=half_past_midnight, day=date(2026, 11, 3))
    assert recorded.delivered_on == date(2026, 11, 3)


def test_a_session_dated_before_its_voucher_was_issued_is_refused(build: Builders) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        _record(build, build.provider(), voucher_at=MORNING, day=local_day(MORNING) - timedelta(1))
    assert refused.value.context["field"] == "delivered_on"


def test_a_programme_in_another_time_zone_judges_its_own_days(build: Builders) -> None:
    programme = build.programme(time_zone="Africa/Lagos")  # an hour behind the UTC+3 of Nairobi
    provider = build.provider()
    at = datetime(2026, 11, 2, 22, 30, tzinfo=UTC)  # 23:30 in Lagos, 01:30 in Nairobi
    voucher = build.voucher(programme, now=at - timedelta(days=3))
    booking = build.booking(voucher, provider, now=at - timedelta(days=1))
    with pytest.raises(errors.InvalidInput):
        sessions.record_session(
            _staff_of(provider), NewSession(booking.id, date(2026, 11, 3), 60, "Early"), now=at
        )
    recorded = sessions.record_session(
        _staff_of(provider), NewSession(booking.id, date(2026, 11, 2), 60, "Late"), now=at
    )
    assert recorded.flags == []


def test_an_unknown_time_zone_is_refused(build: Builders) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        build.programme(time_zone="Africa/Atlantis")
    assert refused.value.context["field"] == "time_zone"


# --------------------------------------------------------------------------- the queue


def test_the_review_queue_counts_and_pages_every_waiting_session(
    build: Builders, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "REVIEW_PAGE", 2)
    provider = build.provider(capacity=20)
    held = []
    for _ in range(5):
        s = _record(build, provider)
        held.append(
            sessions.answer_session(
                s.entrepreneur_id, s.ref, True, "sms", now=MORNING + timedelta(seconds=5)
            )
        )
    assert admin.review_count() == 5 and admin.review_pages() == 3
    pages = [[row.ref for row in admin.review_queue(page)] for page in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(ref for page in pages for ref in page) == sorted(s.ref for s in held)
    row = admin.review_queue(1)[0]
    assert row.entrepreneur_phone.startswith("+254") and row.staff_phone == provider.phone
    assert row.history.sessions == 5 and row.history.held == 5
