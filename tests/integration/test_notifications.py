"""Each flow writes the SMS its people need to the outbox, in the transaction that caused it."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from marketplace.domain.models import OutboxMessage, Provider
from marketplace.extensions import db
from marketplace.services import bookings, entrepreneurs, payouts, sessions, vouchers


def _outbox(phone: str, kind: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.body)
            .where(OutboxMessage.to_phone == phone, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
    )


def test_an_issued_voucher_sends_its_code_value_expiry_and_how_to_use_it(build, app):
    voucher = build.voucher(phone="+254711222333")
    [body] = _outbox("+254711222333", "voucher_issued")
    spaced = f"{voucher.code[:3]} {voucher.code[3:6]} {voucher.code[6:]}"
    assert spaced in body
    assert "KES 4,000" in body
    assert voucher.expires_at.strftime("%d/%m/%Y") in body
    assert app.config["USSD_SERVICE_CODE"] in body


def test_a_recorded_session_asks_the_entrepreneur_to_confirm_with_its_reference(build):
    session = build.recorded_session()
    [body] = _outbox(session.voucher.entrepreneur.phone, "session_recorded")
    assert f"YES {session.ref}" in body and f"NO {session.ref}" in body


def test_a_confirmed_session_tells_the_mentor_what_was_earned(build):
    session = build.confirmed_session()
    provider = db.session.get(Provider, session.provider_id)
    [body] = _outbox(provider.phone, "session_confirmed_mentor")
    assert session.ref in body and "KES 1,000" in body


def test_after_stop_the_entrepreneur_still_hears_of_sessions_confirmed_and_the_voucher_done(
    build,
):
    """STOP's reply promises that SMS about vouchers, bookings and sessions still come: only
    reminders stop."""
    programme = build.programme(sessions_per_voucher=2)
    booking = build.booking(build.voucher(programme))
    person = booking.voucher.entrepreneur
    entrepreneurs.set_sms_opt_out(person.id, True)
    later = datetime.now(UTC) + timedelta(minutes=5)
    for _ in range(2):  # each confirmed by the mentor with the trainee's code
        recorded = build.recorded_session(booking)
        code = sessions.issue_confirmation_code(person.id, now=later)
        sessions.confirm_with_code(recorded.staff_id, recorded.id, code, now=later)
    assert len(_outbox(person.phone, "session_confirmed_entrepreneur")) == 1
    assert len(_outbox(person.phone, "voucher_completed")) == 1


def test_a_voucher_about_to_expire_sends_one_reminder(build):
    issued = datetime.now(UTC) - timedelta(days=85)
    voucher = build.voucher(now=issued, phone="+254711222444")  # valid 90 days: 5 left
    assert vouchers.send_expiry_reminders(days=7) == 1
    assert vouchers.send_expiry_reminders(days=7) == 0  # never twice
    [body] = _outbox("+254711222444", "voucher_expiring")
    assert voucher.expires_at.strftime("%d/%m/%Y") in body


def test_stop_silences_reminders_but_not_what_carries_money_or_codes(build):
    issued = datetime.now(UTC) - timedelta(days=85)
    voucher = build.voucher(now=issued, phone="+254711222555")
    entrepreneurs.set_sms_opt_out(voucher.entrepreneur_id, True)
    assert vouchers.send_expiry_reminders(days=7) == 1
    assert _outbox("+254711222555", "voucher_expiring") == []
    vouchers.revoke_voucher(voucher.code, "officer", "test")
    assert len(_outbox("+254711222555", "voucher_revoked")) == 1


def test_a_paid_statement_tells_the_provider_the_amount_and_reference(build):
    session = build.confirmed_session()
    run = payouts.run_payout("KES", datetime.now(UTC) + timedelta(minutes=10), "officer")
    assert run is not None
    [statement] = run.payouts
    payouts.mark_paid(statement.id, "MPESA-QX12", "officer")
    provider = db.session.get(Provider, session.provider_id)
    [body] = _outbox(provider.phone, "payout_made")
    assert "KES 1,000" in body and "MPESA-QX12" in body


def test_a_disputed_session_tells_the_mentor_it_goes_to_review(build):
    session = build.recorded_session()
    sessions.answer_session(session.entrepreneur_id, session.ref, False, "sms")
    provider = db.session.get(Provider, session.provider_id)
    [body] = _outbox(provider.phone, "session_disputed_mentor")
    assert session.ref in body


def test_a_kiswahili_speaking_mentor_hears_of_bookings_and_cancellations_in_kiswahili(build):
    provider = build.provider(language="sw")
    voucher = build.voucher(language="en")
    build.booking(voucher=voucher, provider=provider)
    bookings.cancel_booking(voucher.entrepreneur_id, voucher.id, channel="sms")

    [booked] = _outbox(provider.phone, "booking_made_provider")
    [cancelled] = _outbox(provider.phone, "booking_cancelled_provider")
    assert booked.startswith("Ujuzi: mwanafunzi mpya #1 Amina") and "Rekodi kila kipindi" in booked
    assert cancelled.startswith("Ujuzi: Amina ameghairi")


def test_a_kiswahili_speaking_mentor_hears_of_answers_and_payouts_in_kiswahili(build):
    provider = build.provider(language="sw")
    booking = build.booking(build.voucher(language="en"), provider)
    disputed = build.recorded_session(booking)
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms")
    build.confirmed_session(booking)
    run = payouts.run_payout("KES", datetime.now(UTC) + timedelta(minutes=10), "test")
    assert run is not None
    payouts.mark_paid(run.payouts[0].id, "MPESA-QX81", "test")

    [answered_no] = _outbox(provider.phone, "session_disputed_mentor")
    [confirmed] = _outbox(provider.phone, "session_confirmed_mentor")
    [paid] = _outbox(provider.phone, "payout_made")
    assert "hakikufanyika" in answered_no
    assert "amethibitisha kipindi" in confirmed
    assert "imelipwa" in paid


def test_an_officer_overturning_a_dispute_tells_the_mentor_of_the_pay_and_the_trainee_it_counts(
    build,
):
    session = build.recorded_session()
    person = session.voucher.entrepreneur
    provider = db.session.get(Provider, session.provider_id)
    assert provider is not None
    sessions.answer_session(person.id, session.ref, False, "sms")
    sessions.review_session(session.id, "overturn", "Called both", "officer")

    [mentor] = _outbox(provider.phone, "session_overturned_mentor")
    assert session.ref in mentor and "KES 1,000" in mentor
    [trainee] = _outbox(person.phone, "session_overturned_entrepreneur")
    assert session.ref in trainee and "3 of 4 sessions left" in trainee
    assert _outbox(person.phone, "voucher_completed") == []
    assert _outbox(provider.phone, "session_upheld_mentor") == []


def test_an_officer_upholding_a_dispute_tells_the_mentor_it_will_not_be_paid(build):
    session = build.recorded_session()
    provider = db.session.get(Provider, session.provider_id)
    assert provider is not None
    sessions.answer_session(session.voucher.entrepreneur_id, session.ref, False, "sms")
    sessions.review_session(session.id, "uphold", "Trainee was away", "officer")

    [mentor] = _outbox(provider.phone, "session_upheld_mentor")
    assert session.ref in mentor and "not be paid" in mentor
    assert _outbox(session.voucher.entrepreneur.phone, "session_overturned_entrepreneur") == []
