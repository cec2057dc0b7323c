"""The money guarantees under concurrent requests on PostgreSQL: two phones, two mentors, duplicated
gateway callbacks, officers and scheduled jobs acting at the same instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from marketplace.domain.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    OutboxMessage,
    Programme,
    Provider,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from marketplace.extensions import db
from marketplace.services import bookings, issuance, sessions, vouchers
from tests.builders import Builders
from tests.concurrency.racing import Race, refusals, winners

CONTENDERS = 8


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def _fresh(model: Any, ident: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, ident)


# --------------------------------------------------------------------------- booking


def test_many_phones_booking_one_voucher_at_once_make_exactly_one_booking(
    build: Builders, race: Race
) -> None:
    voucher = build.voucher()
    providers = [build.provider(capacity=3) for _ in range(CONTENDERS)]
    vid, eid = voucher.id, voucher.entrepreneur_id
    pids = [p.id for p in providers]

    outcomes = race(*[(lambda pid=pid: bookings.book_provider(eid, pid, vid).id) for pid in pids])

    assert len(winners(outcomes)) == 1
    assert set(refusals(outcomes)) == {"voucher_already_booked"}
    assert _count(Booking, Booking.voucher_id == vid, Booking.status == BookingStatus.ACTIVE) == 1
    assert sum(_fresh(Provider, pid).active_bookings for pid in pids) == 1
    assert _fresh(Voucher, vid).status == VoucherStatus.BOOKED
    assert _count(AuditEvent, AuditEvent.action == "voucher.booked") == 1
    assert _count(OutboxMessage, OutboxMessage.kind == "booking_made_entrepreneur") == 1


def test_the_same_booking_sent_twice_at_the_same_instant_books_once(
    build: Builders, race: Race
) -> None:
    voucher = build.voucher()
    provider = build.provider(capacity=5)
    vid, eid, pid = voucher.id, voucher.entrepreneur_id, provider.id

    outcomes = race(*[(lambda: bookings.book_provider(eid, pid, vid).id)] * CONTENDERS)

    assert len(winners(outcomes)) == 1
    assert _fresh(Provider, pid).active_bookings == 1
    assert _count(Booking, Booking.voucher_id == vid) == 1


def test_bookings_racing_for_a_providers_last_places_never_exceed_its_capacity(
    build: Builders, race: Race
) -> None:
    programme = build.programme()
    provider = build.provider(capacity=3)
    build.booking(build.voucher(programme), provider)  # one place already taken
    pid = provider.id
    contenders = [build.voucher(programme) for _ in range(CONTENDERS)]
    pairs = [(v.id, v.entrepreneur_id) for v in contenders]

    outcomes = race(
        *[(lambda vid=vid, eid=eid: bookings.book_provider(eid, pid, vid).id) for vid, eid in pairs]
    )

    assert len(winners(outcomes)) == 2
    assert set(refusals(outcomes)) == {"provider_full"}
    assert _fresh(Provider, pid).active_bookings == 3
    assert _count(Booking, Booking.provider_id == pid, Booking.status == BookingStatus.ACTIVE) == 3
    booked = _count(
        Voucher, Voucher.id.in_([vid for vid, _ in pairs]), Voucher.status == VoucherStatus.BOOKED
    )
    assert booked == 2  # the refused vouchers are still free to book elsewhere


# --------------------------------------------------------------------------- confirming sessions


def test_confirmations_racing_past_a_vouchers_sessions_never_pay_more_than_it_holds(
    build: Builders, race: Race
) -> None:
    """Four places, five sessions that could each take one: four answered YES (each twice, by SMS
    and USSD, like a duplicated callback) and a disputed one an officer overturns."""
    programme = build.programme(voucher_value_minor=400_003, sessions_per_voucher=4)
    booking = build.booking(build.voucher(programme))
    disputed = build.recorded_session(booking)
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms")
    recorded = [build.recorded_session(booking) for _ in range(4)]
    eid, vid, pid = booking.voucher.entrepreneur_id, booking.voucher_id, booking.provider_id
    refs = [s.ref for s in recorded]
    disputed_id = disputed.id

    contenders = [(lambda: sessions.review_session(disputed_id, "overturn", "seen", "officer").id)]
    for ref in refs:
        for via in ("sms", "ussd"):
            contenders.append(
                lambda ref=ref, via=via: sessions.answer_session(eid, ref, True, via).id
            )
    outcomes = race(*contenders)

    assert len(winners(outcomes)) == 4
    voucher = _fresh(Voucher, vid)
    assert voucher.sessions_confirmed == 4
    assert voucher.status == VoucherStatus.COMPLETED
    confirmed = db.session.scalars(
        sa.select(TrainingSession).where(
            TrainingSession.voucher_id == vid, TrainingSession.status == SessionStatus.CONFIRMED
        )
    ).all()
    assert len(confirmed) == 4
    assert sorted(s.sequence for s in confirmed) == [1, 2, 3, 4]
    assert sum(s.value_minor for s in confirmed) == 400_003  # the face value, to the unit
    assert (
        _count(AuditEvent, AuditEvent.action.in_(["session.confirmed", "session.review_overturn"]))
        == 4
    )
    assert _fresh(Provider, pid).active_bookings == 0  # the booking completed once, not twice
    assert (
        _count(Booking, Booking.voucher_id == vid, Booking.status == BookingStatus.COMPLETED) == 1
    )


def test_duplicate_confirmations_of_one_session_at_the_same_instant_confirm_it_once(
    build: Builders, race: Race
) -> None:
    recorded = build.recorded_session()
    eid, ref, sid, vid = recorded.entrepreneur_id, recorded.ref, recorded.id, recorded.voucher_id

    outcomes = race(*[(lambda: sessions.answer_session(eid, ref, True, "sms").id)] * CONTENDERS)

    assert len(winners(outcomes)) == 1
    assert set(refusals(outcomes)) == {"session_already_answered"}
    assert _fresh(TrainingSession, sid).status == SessionStatus.CONFIRMED
    assert _fresh(Voucher, vid).sessions_confirmed == 1
    assert _count(AuditEvent, AuditEvent.action == "session.confirmed") == 1
    assert _count(OutboxMessage, OutboxMessage.kind == "session_confirmed_mentor") == 1


def test_a_yes_and_a_no_for_one_session_at_once_leave_one_answer(
    build: Builders, race: Race
) -> None:
    recorded = build.recorded_session()
    eid, ref, sid, vid = recorded.entrepreneur_id, recorded.ref, recorded.id, recorded.voucher_id

    outcomes = race(
        *[
            (lambda accept=(i % 2 == 0): sessions.answer_session(eid, ref, accept, "sms").status)
            for i in range(CONTENDERS)
        ]
    )

    assert len(winners(outcomes)) == 1
    session = _fresh(TrainingSession, sid)
    confirmed = _fresh(Voucher, vid).sessions_confirmed
    assert (session.status, confirmed) in {("confirmed", 1), ("disputed", 0)}


# --------------------------------------------------------------------------- ending vouchers


def _voucher_expiring_soon(build: Builders, programme: Programme) -> tuple[int, int, str]:
    """A booked voucher, one session recorded and awaiting the trainee's YES, expiring in a minute."""
    issued = datetime.now(UTC) - timedelta(days=programme.validity_days) + timedelta(minutes=1)
    voucher = build.voucher(programme, now=issued)
    booking = build.booking(voucher)
    recorded = build.recorded_session(booking)
    return voucher.id, recorded.entrepreneur_id, recorded.ref


def _paid(voucher_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(TrainingSession.value_minor), 0)).where(
                TrainingSession.voucher_id == voucher_id,
                TrainingSession.status == SessionStatus.CONFIRMED,
            )
        )
        or 0
    )


def test_a_confirmation_racing_expiry_never_pays_what_expiry_returned(
    build: Builders, race: Race
) -> None:
    programme = build.programme(
        voucher_value_minor=400_000, sessions_per_voucher=4, budget_minor=10 * 400_000
    )
    pid = programme.id
    cases = [_voucher_expiring_soon(build, programme) for _ in range(3)]
    expiry = max(_fresh(Voucher, vid).expires_at for vid, _, _ in cases) + timedelta(seconds=1)
    before_expiry = expiry - timedelta(minutes=1, seconds=2)

    contenders = [lambda: vouchers.expire_vouchers(now=expiry)]
    for _vid, eid, ref in cases:
        contenders.append(
            lambda eid=eid, ref=ref: (
                sessions.answer_session(eid, ref, True, "sms", now=before_expiry).id
            )
        )
    outcomes = race(*contenders)

    assert set(refusals(outcomes)) <= {"voucher_expired"}
    total_paid = 0
    for vid, _, _ in cases:
        voucher = _fresh(Voucher, vid)
        assert voucher.status == VoucherStatus.EXPIRED
        paid = _paid(vid)
        assert paid == voucher.redeemed_minor == 100_000 * voucher.sessions_confirmed
        total_paid += paid
    # What stays committed in the budget is exactly what was paid: expiry returned the rest,
    # and nothing was paid out of the returned part.
    assert _fresh(Programme, pid).committed_minor == total_paid


def test_a_confirmation_after_expiry_is_refused_even_while_expiry_runs(
    build: Builders, race: Race
) -> None:
    programme = build.programme(voucher_value_minor=400_000, sessions_per_voucher=4)
    vid, eid, ref = _voucher_expiring_soon(build, programme)
    late = _fresh(Voucher, vid).expires_at + timedelta(seconds=1)

    outcomes = race(
        lambda: vouchers.expire_vouchers(now=late),
        *[(lambda: sessions.answer_session(eid, ref, True, "sms", now=late).id)] * 4,
    )

    assert refusals(outcomes) == ["voucher_expired"] * 4
    assert _paid(vid) == 0
    assert _fresh(Programme, programme.id).committed_minor == 0


def test_a_confirmation_racing_revocation_never_pays_what_revocation_returned(
    build: Builders, race: Race
) -> None:
    programme = build.programme(voucher_value_minor=400_000, sessions_per_voucher=4)
    pid = programme.id
    booking = build.booking(build.voucher(programme))
    build.confirmed_session(booking)
    recorded = [build.recorded_session(booking) for _ in range(3)]
    vid, code = booking.voucher_id, booking.voucher.code
    answers = [(s.entrepreneur_id, s.ref) for s in recorded]

    contenders = [lambda: vouchers.revoke_voucher(code, "officer", "fraud").id]
    for eid, ref in answers:
        contenders.append(
            lambda eid=eid, ref=ref: sessions.answer_session(eid, ref, True, "sms").id
        )
    outcomes = race(*contenders)

    voucher = _fresh(Voucher, vid)
    paid = _paid(vid)
    assert paid == voucher.redeemed_minor == 100_000 * voucher.sessions_confirmed
    assert _fresh(Programme, pid).committed_minor == paid
    if voucher.status == VoucherStatus.COMPLETED:
        # Every confirmation won before the revocation, which then found a completed voucher.
        assert refusals(outcomes) == ["illegal_transition"]
        assert paid == 400_000
        return
    assert voucher.status == VoucherStatus.REVOKED
    assert set(refusals(outcomes)) <= {"voucher_revoked"}
    revoked = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "voucher.revoked"))
    assert revoked is not None and revoked.after is not None
    assert revoked.after["returned_minor"] == 400_000 - paid
    # Every confirmation that won did so before the revocation, never after it.
    assert all(o.ok == (o.value is not None) for o in outcomes)


# --------------------------------------------------------------------------- issuance and budget


def test_concurrent_issuance_racing_a_budget_issues_exactly_what_it_holds(
    build: Builders, race: Race
) -> None:
    programme = build.programme(voucher_value_minor=400_000, budget_minor=5 * 400_000 + 399_999)
    pid = programme.id
    people = [build.person() for _ in range(CONTENDERS)]

    outcomes = race(*[(lambda p=p: issuance.issue_voucher(pid, p, "officer").id) for p in people])

    assert len(winners(outcomes)) == 5
    assert set(refusals(outcomes)) == {"budget_exceeded"}
    programme = _fresh(Programme, pid)
    assert programme.committed_minor == 5 * 400_000 <= programme.budget_minor
    assert _count(Voucher, Voucher.programme_id == pid) == 5
    assert _count(OutboxMessage, OutboxMessage.kind == "voucher_issued") == 5


def test_the_same_ref_sent_at_once_issues_one_voucher_and_every_request_gets_it(
    build: Builders, race: Race
) -> None:
    """A client retries a request whose answer it lost while the first is still running: every
    copy answers with the one voucher, which only one of them issued."""
    pid = build.programme().id
    person = build.person()

    outcomes = race(
        *[
            (lambda: issuance.issue_voucher_for_ref(pid, person, "api", "order-17"))
            for _ in range(CONTENDERS)
        ]
    )

    assert all(o.ok for o in outcomes)
    assert len({o.value.voucher.id for o in outcomes}) == 1
    assert sorted(o.value.new for o in outcomes) == [False] * (CONTENDERS - 1) + [True]
    assert _count(Voucher, Voucher.programme_id == pid) == 1
    assert _count(OutboxMessage, OutboxMessage.kind == "voucher_issued") == 1


def _csv(rows: list[Any]) -> bytes:
    lines = ["phone,name,gender,birth_year,trade,region"]
    lines += [f"{p.phone},{p.name},{p.gender},{p.birth_year},{p.trade},{p.region}" for p in rows]
    return ("\n".join(lines) + "\n").encode()


def test_concurrent_csv_imports_racing_a_budget_never_issue_past_it(
    build: Builders, race: Race
) -> None:
    programme = build.programme(voucher_value_minor=400_000, budget_minor=7 * 400_000)
    pid = programme.id
    files = [_csv([build.person() for _ in range(3)]) for _ in range(4)]  # 12 rows, room for 7

    outcomes = race(
        *[(lambda f=f: len(issuance.import_vouchers(pid, f, "officer").issued)) for f in files]
    )

    assert sum(o.value for o in winners(outcomes)) == 7
    programme = _fresh(Programme, pid)
    assert programme.committed_minor == programme.budget_minor
    assert _count(Voucher, Voucher.programme_id == pid) == 7


def test_the_same_csv_sent_by_two_officers_at_once_issues_each_row_once(
    build: Builders, race: Race
) -> None:
    programme = build.programme()
    pid = programme.id
    data = _csv([build.person() for _ in range(20)])

    outcomes = race(*[(lambda: len(issuance.import_vouchers(pid, data, "officer").issued))] * 4)

    assert sorted(o.value for o in outcomes) == [0, 0, 0, 20]
    assert _count(Voucher, Voucher.programme_id == pid) == 20
    assert _fresh(Programme, pid).committed_minor == 20 * programme.voucher_value_minor
