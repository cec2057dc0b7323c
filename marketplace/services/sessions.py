"""Delivering sessions: the mentor records, the entrepreneur confirms or disputes, officers review.

A session releases money only when both sides confirmed it. Confirmation locks the voucher row and
takes the voucher's next numbered place (unique per voucher), so concurrent confirmations can never
pay more sessions than the voucher holds, nor pay after it expired or was revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..domain import errors, text
from ..domain.codes import format_voucher_code, hash_secret, new_otp, same_hash
from ..domain.models import (
    Booking,
    BookingStatus,
    ConfirmationCode,
    Entrepreneur,
    PayoutAccount,
    Programme,
    Provider,
    ProviderKind,
    ProviderStaff,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from ..domain.money import format_minor, session_share
from ..domain.schedule import Slot, day_of
from ..extensions import db
from . import lookups, outbox, settings, unit

TOPIC_MAX = 200
NOTES_MAX = 2000
MAX_SESSIONS_PER_DAY = 8  # more than a mentor could give in a day
MAX_MINUTES_PER_DAY = 12 * 60
# A remote answer (SMS or USSD YES) this soon after recording: the two may be one person. A code
# the mentor types right after recording is the normal path and is never judged by its speed.
BURST_SECONDS = 60
REMOTE_ANSWERS = ("sms", "ussd")
CAPACITY_DAYS = 7  # trainees seen over this many days, against the provider's capacity
CAPACITY_FACTOR = 2  # more than twice the trainees it may hold at once
# Sessions that count towards a day: a disputed or lapsed one did not take place.
_TAKING_PLACE = (SessionStatus.RECORDED, SessionStatus.CONFIRMED)
# Flags that judge a whole day: when one session trips them, the day's other sessions share them.
DAY_FLAGS = ("too_many_in_a_day", "overlapping_sessions")


@dataclass(frozen=True)
class NewSession:
    booking_id: int
    delivered_on: date
    duration_minutes: int
    topic: str
    outcomes: str = ""
    action_points: str = ""
    starts_at: time | None = None  # local time it began, where the channel asks


def _new_ref(entrepreneur_id: int) -> str:
    for _ in range(20):
        ref = str(secrets.randbelow(9000) + 1000)
        clash = db.session.scalar(
            sa.select(TrainingSession.id).where(
                TrainingSession.entrepreneur_id == entrepreneur_id, TrainingSession.ref == ref
            )
        )
        if clash is None:
            return ref
    return str(secrets.randbelow(900000) + 100000)


def record_session(staff_id: int, cmd: NewSession, now: datetime | None = None) -> TrainingSession:
    """The mentor records a session they gave; the entrepreneur is asked to confirm it by SMS."""
    text.check_fields(cmd, multiline=("outcomes", "action_points"))
    with unit.of_work(f"mentor:{staff_id}", now) as uow:
        staff = lookups.active_staff(staff_id)
        booking = _active_booking_of(staff, cmd.booking_id)
        topic = _checked_topic(cmd, uow.now)
        voucher = lookups.lock_voucher(booking.voucher_id)
        # Read again under the voucher's lock: a cancellation may have committed since.
        db.session.refresh(booking)
        if booking.status != BookingStatus.ACTIVE:
            raise errors.BookingNotActive("This booking is no longer active.")
        voucher.ensure_can_record_session(uow.now)
        _check_day(cmd.delivered_on, voucher, uow.now)
        repeat = _same_session_just_recorded(booking.id, cmd, topic, uow.now)
        if (
            repeat is not None
        ):  # the form sent twice (a double tap, a reload): recorded once, one SMS
            return repeat
        _ensure_a_session_is_left(voucher)
        session = _new_session(staff, booking, voucher, cmd, topic, uow.now)
        uow.flush_or(errors.AlreadyExists("Try again."))
        _flag_the_rest_of_the_day(uow, staff, session)
        uow.audit(
            "session.recorded",
            session,
            None,
            {
                "status": session.status,
                "voucher_id": voucher.id,
                "ref": session.ref,
                "flags": session.flags,
            },
        )
        uow.sms(
            voucher.entrepreneur.phone,
            "session_recorded",
            voucher.entrepreneur.language,
            provider=booking.provider.name,
            date=cmd.delivered_on.strftime("%d/%m"),
            topic=topic[:40],
            ref=session.ref,
        )
    return session


def _active_booking_of(staff: ProviderStaff, booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    # A booking of another provider is reported as missing, never as someone else's.
    if booking is None or booking.provider_id != staff.provider_id:
        raise errors.NotFound("No such booking.")
    if booking.status != BookingStatus.ACTIVE:
        raise errors.IllegalTransition("This booking is no longer active.")
    return booking


def _checked_topic(cmd: NewSession, now: datetime) -> str:
    """The topic with its spaces tidied, once every field is within its bounds."""
    topic = " ".join(cmd.topic.split())
    if not topic:
        raise errors.InvalidInput("Say what the session covered.", field="topic")
    if (
        len(topic) > TOPIC_MAX
        or len(cmd.outcomes) > NOTES_MAX
        or len(cmd.action_points) > NOTES_MAX
    ):
        raise errors.InvalidInput("The text is too long.", field="topic")
    if not 1 <= cmd.duration_minutes <= 720:
        raise errors.InvalidInput(
            "Duration must be between 1 and 720 minutes.", field="duration_minutes"
        )
    return topic


RECORD_DAYS_BACK = 30


def _check_day(day: date, voucher: Voucher, now: datetime) -> None:
    """A session's date is a day where the programme runs (a session recorded at 00:30 in Nairobi
    is of the new day there), within the last 30 days, and never before the voucher was issued."""
    today = voucher.programme.local_date(now)
    if day > today or day < today - timedelta(days=RECORD_DAYS_BACK):
        raise errors.InvalidInput("The date must be within the last 30 days.", field="delivered_on")
    if day < voucher.programme.local_date(voucher.issued_at):
        raise errors.InvalidInput(
            "The date is before the trainee's voucher was issued.", field="delivered_on"
        )


def _ensure_a_session_is_left(voucher: Voucher) -> None:
    """Sessions recorded and not yet answered count against the voucher's sessions."""
    open_count = (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                TrainingSession.voucher_id == voucher.id,
                TrainingSession.status == SessionStatus.RECORDED,
            )
        )
        or 0
    )
    if voucher.sessions_confirmed + open_count >= voucher.sessions_total:
        raise errors.VoucherFullyUsed(
            "Every session of this voucher is recorded; wait for the trainee to confirm."
        )


def _new_session(
    staff: ProviderStaff,
    booking: Booking,
    voucher: Voucher,
    cmd: NewSession,
    topic: str,
    now: datetime,
) -> TrainingSession:
    person = voucher.entrepreneur
    session = TrainingSession(
        ref=_new_ref(person.id),
        booking_id=booking.id,
        voucher_id=voucher.id,
        programme_id=voucher.programme_id,
        provider_id=booking.provider_id,
        entrepreneur_id=person.id,
        staff_id=staff.id,
        status=SessionStatus.RECORDED,
        delivered_on=cmd.delivered_on,
        starts_at=cmd.starts_at.replace(second=0, microsecond=0, tzinfo=None)
        if cmd.starts_at
        else None,
        duration_minutes=cmd.duration_minutes,
        topic=topic,
        outcomes=cmd.outcomes.strip(),
        action_points=cmd.action_points.strip(),
        recorded_at=now,
        value_minor=0,
        currency=voucher.currency,
        code_attempts=0,
        flags=[],
        held=False,
        review_note="",
    )
    session.flag(*_record_flags(staff, person, cmd, topic))
    db.session.add(session)
    return session


RESUBMIT_WINDOW = timedelta(minutes=15)


def _same_session_just_recorded(
    booking_id: int, cmd: NewSession, topic: str, now: datetime
) -> TrainingSession | None:
    """The session of this booking recorded moments ago with the same date, duration and topic."""
    return db.session.scalar(
        sa.select(TrainingSession)
        .where(
            TrainingSession.booking_id == booking_id,
            TrainingSession.status == SessionStatus.RECORDED,
            TrainingSession.delivered_on == cmd.delivered_on,
            TrainingSession.duration_minutes == cmd.duration_minutes,
            TrainingSession.topic == topic,
            TrainingSession.recorded_at > now - RESUBMIT_WINDOW,
        )
        .order_by(TrainingSession.id.desc())
        .limit(1)
    )


def _record_flags(
    staff: ProviderStaff, person: Entrepreneur, cmd: NewSession, topic: str
) -> list[str]:
    """The fixed rules a session is judged by when it is recorded."""
    flags = []
    if person.phone in _phones_of(staff.provider):
        flags.append("shared_phone")
    flags.extend(_day_flags(staff, Slot(cmd.starts_at, cmd.duration_minutes, topic), cmd))
    if _trainees_over_days(staff.provider_id, cmd.delivered_on, person.id) > (
        staff.provider.capacity * CAPACITY_FACTOR
    ):
        flags.append("over_capacity")
    return flags


def _phones_of(provider: Provider) -> set[str]:
    """Every phone the provider is known by: its own, every staff member's (past staff too),
    every mobile-money number it asked to be paid on."""
    staff_phones = db.session.scalars(
        sa.select(ProviderStaff.phone).where(ProviderStaff.provider_id == provider.id)
    ).all()
    payout_phones = db.session.scalars(
        sa.select(PayoutAccount.msisdn).where(
            PayoutAccount.provider_id == provider.id, PayoutAccount.msisdn.is_not(None)
        )
    ).all()
    return {provider.phone, *staff_phones, *(p for p in payout_phones if p)}


def _same_person(staff: ProviderStaff) -> sa.ColumnElement[bool]:
    """The sessions of the person behind a staff account, whichever of their accounts recorded
    them: a craft worker is one person however many accounts; an institute's staff member is
    the accounts of that provider under their name."""
    if staff.provider.kind == ProviderKind.CRAFT_WORKER:
        return TrainingSession.provider_id == staff.provider_id
    accounts = sa.select(ProviderStaff.id).where(
        ProviderStaff.provider_id == staff.provider_id,
        sa.func.lower(ProviderStaff.name) == staff.name.strip().lower(),
    )
    return sa.and_(
        TrainingSession.provider_id == staff.provider_id,
        sa.or_(TrainingSession.staff_id == staff.id, TrainingSession.staff_id.in_(accounts)),
    )


def _days_sessions(staff: ProviderStaff, day: date) -> list[TrainingSession]:
    return list(
        db.session.scalars(
            sa.select(TrainingSession)
            .where(
                _same_person(staff),
                TrainingSession.delivered_on == day,
                TrainingSession.status.in_(_TAKING_PLACE),
            )
            .order_by(TrainingSession.id)
        )
    )


def _day_flags(staff: ProviderStaff, slot: Slot, cmd: NewSession) -> list[str]:
    """Too many sessions or hours for one person's day, or two sessions at once."""
    others = [
        Slot(s.starts_at, s.duration_minutes, s.topic)
        for s in _days_sessions(staff, cmd.delivered_on)
    ]
    day = day_of([*others, slot], classes=staff.provider.kind == ProviderKind.INSTITUTE)
    flags = []
    if day.sessions > MAX_SESSIONS_PER_DAY or day.minutes > MAX_MINUTES_PER_DAY:
        flags.append("too_many_in_a_day")
    if day.overlaps:
        flags.append("overlapping_sessions")
    return flags


def _flag_the_rest_of_the_day(
    uow: unit.UnitOfWork, staff: ProviderStaff, session: TrainingSession
) -> None:
    """A day no person could work holds every session of it, not only the one that tipped it."""
    shared = [f for f in session.flags if f in DAY_FLAGS]
    if not shared:
        return
    for other in _days_sessions(staff, session.delivered_on):
        if other.id == session.id:
            continue
        before = {"flags": list(other.flags or []), "held": other.held}
        if other.flag(*shared):
            uow.audit(
                "session.flagged",
                other,
                before,
                {"flags": other.flags, "held": other.held, "by_session": session.id},
            )


def _trainees_over_days(provider_id: int, day: date, person_id: int) -> int:
    """The trainees (this one counted once) whose sessions with the provider fall in the days up
    to `day`."""
    seen = set(
        db.session.scalars(
            sa.select(TrainingSession.entrepreneur_id)
            .distinct()
            .where(
                TrainingSession.provider_id == provider_id,
                TrainingSession.delivered_on > day - timedelta(days=CAPACITY_DAYS),
                TrainingSession.delivered_on <= day,
                TrainingSession.status.in_(_TAKING_PLACE),
            )
        )
    )
    return len(seen | {person_id})


# --------------------------------------------------------------------------- confirmation codes


def issue_confirmation_code(entrepreneur_id: int, now: datetime | None = None) -> str:
    """A fresh one-time code for the entrepreneur to tell the mentor (shown by USSD)."""
    ttl = int(settings.get("CONFIRMATION_CODE_TTL_MINUTES", 15))
    with unit.of_work(f"entrepreneur:{entrepreneur_id}", now) as uow:
        # One live code at a time: older ones stop working.
        db.session.execute(
            sa.update(ConfirmationCode)
            .where(
                ConfirmationCode.entrepreneur_id == entrepreneur_id,
                ConfirmationCode.used_at.is_(None),
            )
            .values(used_at=uow.now)
            .execution_options(synchronize_session=False)
        )
        code = new_otp(6)
        db.session.add(
            ConfirmationCode(
                entrepreneur_id=entrepreneur_id,
                code_hash=hash_secret(settings.secret_key(), code),
                created_at=uow.now,
                expires_at=uow.now + timedelta(minutes=ttl),
                attempts=0,
            )
        )
        uow.audit(
            "confirmation_code.issued",
            ("entrepreneur", entrepreneur_id),
            None,
            {"ttl_minutes": ttl},
        )
    return code


def confirm_with_code(
    staff_id: int, session_id: int, code: str, now: datetime | None = None
) -> TrainingSession:
    """The mentor types the code the entrepreneur told them. Codes are single-use, short-lived and
    attempt-limited, per code and per session."""
    max_attempts = int(settings.get("CONFIRMATION_CODE_MAX_ATTEMPTS", 5))
    with unit.of_work(f"mentor:{staff_id}", now) as uow:
        staff = lookups.active_staff(staff_id)
        session = lookups.lock_session(session_id)
        if session.provider_id != staff.provider_id:
            raise errors.NotFound("No such session.")
        if session.status != SessionStatus.RECORDED:
            raise errors.IllegalTransition(f"This session is already {session.status}.")
        _ensure_within_window(uow, session)
        if session.code_attempts >= max_attempts:
            raise errors.TooManyAttempts()
        digits = "".join(ch for ch in code if ch.isdigit())[:12]
        wanted = hash_secret(settings.secret_key(), digits)
        live = db.session.scalars(
            sa.select(ConfirmationCode)
            .where(
                ConfirmationCode.entrepreneur_id == session.entrepreneur_id,
                ConfirmationCode.used_at.is_(None),
                ConfirmationCode.expires_at > uow.now,
                ConfirmationCode.attempts < max_attempts,
            )
            .with_for_update()
        ).all()
        match = next((c for c in live if same_hash(c.code_hash, wanted)), None)
        if match is None:
            session.code_attempts += 1
            for c in live:
                c.attempts += 1
            uow.audit("session.code_rejected", session, None, {"attempts": session.code_attempts})
            uow.commit()  # the wrong guess counts, though it is refused
            if session.code_attempts >= max_attempts:
                raise errors.TooManyAttempts()
            raise errors.CodeInvalid()
        match.used_at = uow.now
        _confirm(uow, session, "code")
    return session


def answer_session(
    entrepreneur_id: int, ref: str, accept: bool, via: str, now: datetime | None = None
) -> TrainingSession:
    """The entrepreneur answers YES/NO to a recorded session by SMS reply or USSD."""
    with unit.of_work(f"entrepreneur:{entrepreneur_id}", now) as uow:
        session_id = db.session.scalar(
            sa.select(TrainingSession.id).where(
                TrainingSession.entrepreneur_id == entrepreneur_id,
                TrainingSession.ref == ref.strip(),
            )
        )
        if session_id is None:
            raise errors.UnknownSession(ref=ref.strip())
        session = lookups.lock_session(session_id)
        # The ref names one session of this person for good (unique): what an answer was shown.
        # Its state may have moved on since (answered on another channel, lapsed): said, nothing
        # done.
        if session.status == SessionStatus.LAPSED:
            raise errors.SessionLapsed(ref=session.ref)
        if session.status != SessionStatus.RECORDED:
            raise errors.SessionAlreadyAnswered(ref=session.ref, status=session.status)
        _ensure_within_window(uow, session)
        if accept:
            _confirm(uow, session, via)
        else:
            _dispute(uow, session, via, lookups.entrepreneur(entrepreneur_id))
    return session


def _dispute(
    uow: unit.UnitOfWork, session: TrainingSession, via: str, person: Entrepreneur
) -> None:
    before = {"status": session.status}
    session.dispute(uow.now, via)
    uow.audit("session.disputed", session, before, {"status": session.status, "via": via})
    uow.sms(
        session.provider.phone,
        "session_disputed_mentor",
        outbox.provider_language(session.provider),
        name=person.first_name,
        date=session.delivered_on.strftime("%d/%m"),
        ref=session.ref,
    )


def _confirm(uow: unit.UnitOfWork, session: TrainingSession, via: str) -> None:
    """Both sides said the session took place: it counts, and is paid its share of the voucher."""
    now = uow.now
    if session.status != SessionStatus.RECORDED:
        raise errors.IllegalTransition(f"This session is already {session.status}.")
    voucher = lookups.lock_voucher(session.voucher_id)
    # Under the voucher's lock, as cancelling takes it: a session of a booking the entrepreneur
    # cancelled is never paid to the mentor left behind.
    booking = db.session.get(Booking, session.booking_id, populate_existing=True)
    if booking is None or booking.status == BookingStatus.CANCELLED:
        raise errors.BookingNotActive(ref=session.ref)
    before = {
        "status": session.status,
        "voucher_status": voucher.status,
        "sessions_confirmed": voucher.sessions_confirmed,
    }
    sequence = voucher.confirm_session(now)
    value = session_share(voucher.value_minor, voucher.sessions_total, sequence)
    session.confirm(now, via, sequence, value)
    session.flag(*_answer_flags(session, via, now))
    if voucher.status == VoucherStatus.COMPLETED:
        _finish_booking(session, now)
    uow.flush_or(errors.VoucherFullyUsed())
    uow.audit(
        "session.confirmed",
        session,
        before,
        {
            "status": session.status,
            "sequence": sequence,
            "value_minor": value,
            "voucher_status": voucher.status,
            "via": via,
        },
    )
    _tell_counted(uow, session, voucher, value)


def _tell_counted(
    uow: unit.UnitOfWork,
    session: TrainingSession,
    voucher: Voucher,
    value: int,
    *,
    by_officer: bool = False,
) -> None:
    """Both sides hear that a session counts: the mentor what it added to their balance, the
    entrepreneur what is left on the voucher, or that the training is finished. `by_officer`: an
    officer found that a session the entrepreneur disputed took place, which both are told."""
    person = voucher.entrepreneur
    uow.sms(
        session.provider.phone,
        "session_overturned_mentor" if by_officer else "session_confirmed_mentor",
        outbox.provider_language(session.provider),
        name=person.first_name,
        date=session.delivered_on.strftime("%d/%m"),
        ref=session.ref,
        value=format_minor(value, voucher.currency),
    )
    completed = voucher.status == VoucherStatus.COMPLETED
    if by_officer or not completed:
        uow.sms(
            person.phone,
            "session_overturned_entrepreneur" if by_officer else "session_confirmed_entrepreneur",
            person.language,
            ref=session.ref,
            left=voucher.sessions_left,
            total=voucher.sessions_total,
            code=format_voucher_code(voucher.code),
        )
    if completed:
        uow.sms(
            person.phone,
            "voucher_completed",
            person.language,
            provider=session.provider.name,
            ref=session.ref,
        )


def _answer_flags(session: TrainingSession, via: str, now: datetime) -> list[str]:
    """A remote YES seconds after recording (the mentor answering for the trainee), or a trainee
    whose phone is now one of the provider's. A code typed by the mentor is the expected path."""
    flags = []
    if via in REMOTE_ANSWERS and (now - session.recorded_at).total_seconds() < BURST_SECONDS:
        flags.append("burst_confirmation")
    person_phone = db.session.scalar(
        sa.select(Entrepreneur.phone).where(Entrepreneur.id == session.entrepreneur_id)
    )
    if person_phone in _phones_of(session.provider):
        flags.append("shared_phone")
    return flags


def _finish_booking(session: TrainingSession, now: datetime) -> None:
    booking = db.session.scalar(
        sa.select(Booking).where(Booking.id == session.booking_id).with_for_update(of=Booking)
    )
    if booking is not None and booking.status == BookingStatus.ACTIVE:
        booking.complete(now)
        lookups.free_place(booking.provider_id)


def lapse_sessions(now: datetime | None = None) -> int:
    """Sessions nobody answered within the programme's confirmation window lapse."""
    with unit.of_work("system", now) as uow:
        return _lapse_due(uow)


def _lapse_due(uow: unit.UnitOfWork) -> int:
    candidates = db.session.execute(
        sa.select(
            TrainingSession.id, TrainingSession.recorded_at, Programme.confirmation_window_hours
        )
        .join(Programme, Programme.id == TrainingSession.programme_id)
        .where(TrainingSession.status == SessionStatus.RECORDED)
    ).all()
    lapsed = 0
    for session_id, recorded_at, hours in candidates:
        if recorded_at + timedelta(hours=hours) > uow.now:
            continue
        session = lookups.lock_session(session_id)
        if session.status != SessionStatus.RECORDED:
            continue
        _lapse(uow, session)
        lapsed += 1
    return lapsed


def _lapse(uow: unit.UnitOfWork, session: TrainingSession) -> None:
    session.lapse(uow.now)
    uow.audit(
        "session.lapsed",
        session,
        {"status": "recorded"},
        {"status": session.status},
        actor="system",
    )


def _ensure_within_window(uow: unit.UnitOfWork, session: TrainingSession) -> None:
    """An answer after the programme's confirmation window comes too late: the session lapses
    then and there (as `lapse_sessions` would have lapsed it) and the answer is refused."""
    hours = db.session.scalar(
        sa.select(Programme.confirmation_window_hours).where(Programme.id == session.programme_id)
    )
    if hours is None or session.recorded_at + timedelta(hours=hours) > uow.now:
        return
    _lapse(uow, session)
    uow.commit()  # lapsed for good, though the answer is refused
    raise errors.SessionLapsed(ref=session.ref)


# --------------------------------------------------------------------------- review


REVIEW_DECISIONS = ("overturn", "uphold", "clear")


def review_session(
    session_id: int, decision: str, note: str, actor: str, now: datetime | None = None
) -> TrainingSession:
    """An officer decides a disputed or flagged session.

    overturn: the disputed session did happen and counts; uphold: the dispute stands (never paid);
    clear: the fraud flags on a session were checked and are unfounded.
    """
    if decision not in REVIEW_DECISIONS:
        raise errors.InvalidInput("Decision must be overturn, uphold or clear.", field="decision")
    text.check(note, "note", multiline=True)
    with unit.of_work(actor, now) as uow:
        session = lookups.lock_session(session_id)
        before = {"status": session.status, "flags": session.flags}
        if decision == "overturn":
            _overturn(uow, session, note)
        elif decision == "uphold":
            session.uphold_dispute(uow.now, note[:500])
            uow.sms(
                session.provider.phone,
                "session_upheld_mentor",
                outbox.provider_language(session.provider),
                date=session.delivered_on.strftime("%d/%m"),
                ref=session.ref,
            )
        else:
            session.clear_flags(uow.now, note[:500])
        uow.audit(
            f"session.review_{decision}",
            session,
            before,
            {"status": session.status, "flags": session.flags, "note": note[:200]},
        )
    return session


def _overturn(uow: unit.UnitOfWork, session: TrainingSession, note: str) -> None:
    """The disputed session did take place: it counts and is paid, and both sides are told."""
    session.check_overturnable()  # before the voucher or the booking can say anything else
    voucher = lookups.lock_voucher(session.voucher_id)
    # Under the voucher's lock, as in `_confirm`: once the entrepreneur cancelled the booking
    # (a NO lets them switch), its session is never paid to the mentor left behind, nor
    # counted on the voucher now booked with someone else.
    booking = db.session.get(Booking, session.booking_id, populate_existing=True)
    if booking is None or booking.status == BookingStatus.CANCELLED:
        raise errors.BookingNotActive(
            "The trainee cancelled this booking and chose again: the session cannot be paid.",
            ref=session.ref,
        )
    sequence = voucher.confirm_session(uow.now)
    value = session_share(voucher.value_minor, voucher.sessions_total, sequence)
    session.overturn_dispute(uow.now, sequence, value, note[:500])
    if voucher.status == VoucherStatus.COMPLETED:
        _finish_booking(session, uow.now)
    uow.flush_or(errors.VoucherFullyUsed())
    _tell_counted(uow, session, voucher, value, by_officer=True)
