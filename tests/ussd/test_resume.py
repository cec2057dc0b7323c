"""A call cut off mid-menu and dialled again within minutes offers to go on where it was left; going
on shows that screen again as it is now, and nothing is ever done by the offer itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from marketplace.domain.models import Impression, SessionStatus, TrainingSession, UssdSession
from marketplace.extensions import db
from marketplace.services import bookings, providers, sessions
from sms.ussd import store
from tests.dialer import SECRET

from .conftest import counts
from .test_conversations import bookings_of

OFFER = "Your last call was cut off. Continue where you left off?\n1 Yes, continue\n2 No, main menu"


def cut(client, phone, status="Incomplete"):
    """The gateway's end-of-session notice for the phone's session: the person was cut off."""
    form = {
        "sessionId": phone.session_id,
        "phoneNumber": phone.phone,
        "status": status,
        "cost": "KES 0.10",
        "hopsCount": str(len(phone.history)),
        "errorMessage": "USER_TIMEOUT",
    }
    response = client.post(
        f"/at/{SECRET}/ussd/events",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200


def test_cut_during_find_the_list_is_shown_again_with_its_way_back(client, build, dialer, phone_of):
    voucher = build.voucher()
    mentor = build.provider(name="Fundi Moja")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    assert "1 Fundi Moja" in phone.screen
    cut(client, phone)

    assert phone.dial() == OFFER
    again = phone.press("1")
    assert again.startswith("Choose a mentor:\n1 Fundi Moja")
    # The list shown again is recorded as shown again, in the same listing.
    shown = db.session.scalars(sa.select(Impression).order_by(Impression.id)).all()
    assert [i.provider_id for i in shown] == [mentor.id, mentor.id]
    assert len({i.listing_id for i in shown}) == 1
    assert phone.press("0").startswith("Mentors in which area?")  # the way back it had
    assert phone.press("0").startswith("Mentors for which trade?")


def test_cut_during_booking_confirmation_asks_again_and_books_only_on_yes(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider(name="Mama Zawadi Tailors")
    phone = dialer(phone_of(voucher))
    assert "(4 sessions)?" in phone.dial("2*1*1*1*1")  # the question, then silence

    assert phone.dial() == OFFER
    assert bookings_of(voucher.id) == []  # nothing done by being cut off or by the offer
    question = phone.press("1")
    assert question.startswith("Book Mama Zawadi Tailors with voucher")
    assert bookings_of(voucher.id) == []
    assert phone.press("1").startswith("Booked Mama Zawadi Tailors")
    assert len(bookings_of(voucher.id)) == 1


def test_a_booking_confirmation_taken_up_after_the_voucher_was_booked_elsewhere_books_nothing(
    build, dialer, phone_of
):
    voucher = build.voucher()
    build.provider(name="Mama Zawadi Tailors")
    other = build.provider(name="Fundi Mbili", town="Kariobangi")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1*1*1")
    bookings.book_provider(voucher.entrepreneur_id, other.id, voucher.id, channel="sms")

    assert phone.dial() == OFFER
    assert phone.press("1") == "You have no voucher free to book with. See My vouchers."
    assert phone.ended
    [booking] = bookings_of(voucher.id)
    assert booking.provider_id == other.id


def test_cut_during_a_session_answer_asks_the_question_again(client, build, dialer, phone_of):
    recorded = build.recorded_session(
        now=datetime.now(UTC) - timedelta(hours=2), topic="Cutting patterns"
    )
    phone = dialer(phone_of(recorded.voucher))
    assert phone.dial("3*2*1").endswith("Did it happen?\n1 Yes\n2 No\n0 Back 00 Menu")
    cut(client, phone, status="Failed")

    assert phone.dial() == OFFER
    assert "Cutting patterns" in phone.press("1") and phone.screen.endswith("2 No\n0 Back 00 Menu")
    assert phone.press("1").startswith(f"Thank you. Session {recorded.ref} is confirmed")
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.CONFIRMED


def test_a_session_answer_taken_up_after_it_was_answered_by_sms_changes_nothing(
    build, dialer, phone_of
):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=2))
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("3*2*1")
    sessions.answer_session(recorded.entrepreneur_id, recorded.ref, False, "sms")

    assert phone.dial() == OFFER
    assert phone.press("1").startswith("This session was already answered, so nothing changed.")
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.DISPUTED


def test_no_thanks_goes_to_the_main_menu_and_is_not_offered_again(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider()
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    assert phone.dial() == OFFER
    assert phone.press("2").startswith("Ujuzi: hello Amina")
    assert phone.dial().startswith("Ujuzi: hello Amina")  # left on the main menu: nothing to offer


def test_the_offer_left_unanswered_is_offered_again(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider(name="Fundi Moja")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    assert phone.dial() == OFFER
    assert phone.dial() == OFFER  # cut off again before answering
    assert "1 Fundi Moja" in phone.press("1")


def test_a_repeated_offer_hop_gets_the_same_offer(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider()
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    assert phone.dial() == OFFER
    assert phone.repeat() == OFFER
    assert counts()["sessions"] == 2


def test_the_offer_is_in_kiswahili_for_a_kiswahili_speaker(build, dialer, phone_of):
    voucher = build.voucher(language="sw")
    build.provider()
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    assert phone.dial() == (
        "Simu yako iliyopita ilikatika. Uendelee ulipoishia?\n1 Ndio, endelea\n2 Hapana, menyu kuu"
    )


def test_nothing_is_offered_after_a_session_that_ended_or_long_ago(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider()
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1*1*1*1")
    assert phone.ended  # booked: the session ended with its answer
    assert phone.dial().startswith("Ujuzi: hello")

    phone.dial("1")  # my vouchers, then cut off ...
    assert phone.dial() == OFFER
    phone.dial("1")
    db.session.execute(  # ... longer ago than a call can be taken up again
        sa.update(UssdSession).values(
            created_at=datetime.now(UTC) - timedelta(seconds=store.RESUME_SECONDS + 1)
        )
    )
    db.session.commit()
    assert phone.dial().startswith("Ujuzi: hello")


def test_a_shortcut_dial_goes_where_it_says_without_an_offer(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider()
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    assert phone.dial("1").startswith("Voucher ")


def test_a_mentor_cut_mid_record_is_offered_the_question_again_and_records_only_on_yes(
    client, build, dialer
):
    provider = build.provider(name="Zawadi Tailors", contact_name="Zawadi Achieng")
    booking = build.booking(build.voucher(name="Amina Wanjiru"), provider)
    mentor = dialer(provider.phone)
    # the trainees, Amina, record, today, 60 minutes, the first topic: the question
    confirm = mentor.dial("1*1*1*1*2*1")
    assert "#1 Amina" in confirm and "60" in confirm
    cut(client, mentor)

    assert mentor.dial() == OFFER
    assert recorded(booking) == 0  # nothing done by being cut off or by the offer
    assert mentor.press("1") == confirm  # the same question, loaded anew
    assert recorded(booking) == 0
    assert mentor.press("1").startswith("Recorded, ref")
    assert recorded(booking) == 1


def test_a_mentor_who_starts_over_gets_the_mentor_menu(client, build, dialer):
    provider = build.provider(name="Zawadi Tailors", contact_name="Zawadi Achieng")
    build.booking(build.voucher(name="Amina Wanjiru"), provider)
    mentor = dialer(provider.phone)
    assert mentor.dial("1").startswith("Trainees")
    cut(client, mentor)
    assert mentor.dial() == OFFER
    assert mentor.press("2").startswith("Ujuzi mentor: hello")


def test_a_phone_that_is_both_goes_on_in_the_mentor_menu_or_starts_at_the_choice(
    client, build, dialer
):
    voucher = build.voucher(name="Juma Mwangi")
    provider = build.provider(name="Juma Welding")
    build.booking(build.voucher(name="Amina Wanjiru"), provider)
    providers.add_staff(provider.id, "Juma Mwangi", voucher.entrepreneur.phone, "test")
    phone = dialer(voucher.entrepreneur.phone)
    assert phone.dial("2*1").startswith("Trainees")  # the mentor menu, then the trainees
    cut(client, phone)

    assert phone.dial() == OFFER
    assert phone.press("1").startswith("Trainees")
    assert phone.press("0").startswith("Ujuzi mentor: hello Juma")  # its way back
    assert phone.press("00").startswith("Ujuzi: this phone")  # home is still the choice
    cut(client, phone)

    # Left on a first screen (the choice): nothing to offer.
    assert phone.dial().startswith("Ujuzi: this phone")
    assert phone.press("2").startswith("Ujuzi mentor: hello Juma")
    phone.press("1")
    cut(client, phone)
    assert phone.dial() == OFFER
    assert phone.press("2").startswith("Ujuzi: this phone")  # starting over: the choice


def recorded(booking) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TrainingSession)
        .where(TrainingSession.booking_id == booking.id)
    )
