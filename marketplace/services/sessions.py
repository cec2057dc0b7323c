"""Delivering sessions: the mentor records, the entrepreneur confirms or disputes, officers review.

A session releases money only when both sides confirmed it. Confirmation locks the voucher row and
takes the voucher's next numbered place (unique per voucher), so concurrent confirmations can never
pay more sessions than the voucher holds, nor pay after it expired or was revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..domain import errors, text
from ..domain.codes import format_voucher_code, hash_secret, new_otp, same_hash
from ..domain.models import (
    Booking,
    BookingStatus,
    ConfirmationCode,
    Entrepreneur,
    Programme,
    ProviderStaff,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from ..domain.money import format_minor, session_share
from ..extensions import db
from . import lookups, outbox, settings, unit

TOPIC_MAX = 200
NOTES_MAX = 2000
MAX_SESSIONS_PER_DAY = 8  # more than a mentor could give in a day
MAX_MINUTES_PER_DAY = 12 * 60
BURST_SECONDS = 60  # confirmed this soon after recording: the two may be one person


@dataclass(frozen=True)
class NewSession:
    booking_id: int
    delivered_on: date
    duration_minutes: int
    topic: str
    outcomes: str = ""
    action_points: str = ""


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
        repeat = _same_session_just_recorded(booking.id, cmd, topic, uow.now)
        if (
            repeat is not None
        ):  # the form sent twice (a double tap, a reload): recorded once, one SMS
            return repeat
        _ensure_a_session_is_left(voucher)
        session = _new_session(staff, booking, voucher, cmd, topic, uow.now)
        uow.flush_or(errors.AlreadyExists("Try again."))
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
    if cmd.delivered_on > now.date() or cmd.delivered_on < now.date() - timedelta(days=30):
        raise errors.InvalidInput("The date must be within the last 30 days.", field="delivered_on")
    return topic


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
        duration_minutes=cmd.duration_minutes,
        topic=topic,
        outcomes=cmd.outcomes.strip(),
        action_points=cmd.action_points.strip(),
        recorded_at=now,
        value_minor=0,
        currency=voucher.currency,
        code_attempts=0,
        flags=_record_flags(staff, person, cmd, now),
        review_note="",
    )
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
    staff: ProviderStaff, person: Entrepreneur, cmd: NewSession, now: datetime
) -> list[str]:
    flags = []
    provider_phones = {staff.phone, staff.provider.phone}
    if person.phone in provider_phones:
        flags.append("shared_phone")
    same_day = db.session.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(TrainingSession.duration_minutes), 0)
        ).where(
            TrainingSession.staff_id == staff.id, TrainingSession.delivered_on == cmd.delivered_on
        )
    ).one()
    if (
        same_day[0] + 1 > MAX_SESSIONS_PER_DAY
        or same_day[1] + cmd.duration_minutes > MAX_MINUTES_PER_DAY
    ):
        flags.append("too_many_in_a_day")
    trainees = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(TrainingSession.entrepreneur_id))).where(
            TrainingSession.provider_id == staff.provider_id,
            TrainingSession.recorded_at >= now - timedelta(days=30),
        )
    )
    if (trainees or 0) + 1 > staff.provider.capacity * 2:
        flags.append("over_capacity")
    return flags


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
    if (now - session.recorded_at).total_seconds() < BURST_SECONDS:
        session.flags = [*session.flags, "burst_confirmation"]
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
