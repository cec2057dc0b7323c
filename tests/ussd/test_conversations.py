"""People pressing keys on a basic phone, in English and Kiswahili."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain import errors
from marketplace.domain.models import (
    Booking,
    BookingStatus,
    Entrepreneur,
    Impression,
    OutboxMessage,
    Rating,
    SessionStatus,
    TrainingSession,
    UssdSession,
    Voucher,
    VoucherStatus,
)
from marketplace.extensions import db
from marketplace.services import sessions

from .conftest import counts


def bookings_of(voucher_id: int) -> list[Booking]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Booking).where(Booking.voucher_id == voucher_id).order_by(Booking.id)
        )
    )


# --------------------------------------------------------------------------- who may dial


def test_an_unknown_phone_is_told_how_to_join(dialer):
    phone = dialer("+254799000111")
    screen = phone.dial()
    assert phone.ended
    assert "no training voucher" in screen and "ask your programme office" in screen
    assert "Uliza ofisi ya mpango" in screen


def test_a_registered_entrepreneur_sees_the_main_menu(build, dialer, phone_of):
    voucher = build.voucher(name="Amina Wanjiru")
    phone = dialer(phone_of(voucher))
    screen = phone.dial()
    assert not phone.ended
    assert screen.splitlines() == [
        "Ujuzi: hello Amina",
        "1 My vouchers",
        "2 Find a mentor",
        "3 Confirm a session",
        "4 Rate a mentor",
        "5 Cancel a booking",
        "6 Language",
        "7 Help",
    ]


def test_the_main_menu_speaks_kiswahili_to_a_kiswahili_speaker(build, dialer, phone_of):
    voucher = build.voucher(name="Amina Wanjiru", language="sw")
    screen = dialer(phone_of(voucher)).dial()
    assert screen.startswith("Ujuzi: habari Amina\n1 Vocha zangu\n2 Tafuta mwalimu")


# --------------------------------------------------------------------------- my vouchers


def test_my_vouchers_shows_status_value_sessions_expiry_and_provider(build, dialer, phone_of):
    provider = build.provider(name="Mama Zawadi Tailors")
    voucher = build.voucher(build.programme(co_payment_percent=0))  # no co-payment to state
    build.confirmed_session(build.booking(voucher, provider))
    phone = dialer(phone_of(voucher))
    phone.dial()
    screen = phone.press("1")
    expiry = voucher.expires_at.strftime("%d/%m/%Y")
    assert screen.splitlines() == [
        f"Voucher {voucher.code[:3]} {voucher.code[3:6]} {voucher.code[6:]} (1/1)",
        "Training with Mama Zawadi Tailors",
        "KES 4,000: used 1 of 4, 3 left",
        f"Valid to {expiry}",
        "0 Back 00 Menu",
    ]


def test_my_vouchers_pages_through_several_vouchers_in_kiswahili(build, dialer, phone_of):
    first = build.voucher(language="sw")
    build.voucher(phone=first.entrepreneur.phone)
    phone = dialer(phone_of(first))
    phone.dial()
    assert phone.press("1").startswith("Vocha ") and "(1/2)" in phone.screen
    assert "Bado hujachagua mwalimu" in phone.screen and "9 Zaidi" in phone.screen
    assert "(2/2)" in phone.press("9")
    assert "(1/2)" in phone.press("0")


def test_someone_without_vouchers_is_told_where_they_come_from(build, dialer, phone_of):
    voucher = build.voucher()
    build.programme()  # another programme, nothing else for this person
    db.session.execute(sa.update(Voucher).values(entrepreneur_id=voucher.entrepreneur_id))
    phone = dialer(phone_of(voucher))
    phone.dial()
    assert "Voucher" in phone.press("1")


# --------------------------------------------------------------------------- find and book


def test_an_entrepreneur_finds_and_books_a_mentor(build, dialer, phone_of):
    voucher = build.voucher(name="Amina Wanjiru")
    mentor = build.provider(name="Mama Zawadi Tailors")
    phone = dialer(phone_of(voucher))
    phone.dial()
    assert phone.press("2").startswith("Mentors for which trade?\n1 Tailoring\n")
    assert phone.press("1").splitlines()[:3] == [
        "Mentors in which area?",
        "1 Nairobi",
        "2 Any area",
    ]
    assert phone.press("1").splitlines() == [
        "Choose a mentor:",
        "1 Mama Zawadi Tai.., craft worker, new",
        "0 Back 00 Menu",
    ]
    details = phone.press("1")
    assert details.startswith("Mama Zawadi Tailors\nCraft worker in Gikomba, Nairobi\n")
    assert f"Mentor no. {mentor.number}" in details and "1 Book this mentor" in details
    assert "(4 sessions)?" in phone.press("1")
    done = phone.press("1")
    assert phone.ended
    assert done.startswith(f"Booked Mama Zawadi Tailors, mentor no. {mentor.number}.")

    [booking] = bookings_of(voucher.id)
    assert booking.provider_id == mentor.id and booking.channel == "ussd"
    shown = db.session.scalars(sa.select(Impression)).all()
    assert [(i.provider_id, i.listing_id, i.channel) for i in shown] == [
        (mentor.id, booking.listing_id, "ussd")
    ]
    texts = db.session.scalars(sa.select(OutboxMessage.kind)).all()
    assert "booking_made_entrepreneur" in texts and "booking_made_provider" in texts


def test_a_kiswahili_speaker_books_a_mentor_in_kiswahili(build, dialer, phone_of):
    voucher = build.voucher(language="sw")
    build.provider(name="Chuo cha Ushonaji", kind="institute")
    phone = dialer(phone_of(voucher))
    phone.dial()
    assert phone.press("2").startswith("Walimu wa kazi gani?\n1 Ushonaji")
    assert "1 Nairobi\n2 Eneo lolote" in phone.press("1")
    assert "1 Chuo cha Ushonaji, chuo, mpya" in phone.press("2")
    assert "Chuo cha Gikomba, Nairobi" in phone.press("1")
    assert phone.press("1").startswith("Umchague Chuo cha Ushonaji kwa vocha")
    assert phone.press("1").startswith("Umemchagua Chuo cha Ushonaji")
    assert phone.ended
    assert len(bookings_of(voucher.id)) == 1


def test_a_long_list_is_paged_and_every_page_shown_is_recorded_as_one_listing(
    build, dialer, phone_of
):
    voucher = build.voucher()
    mentors = [build.provider(name=f"Fundi {n}") for n in range(7)]
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")  # shortcut: find, own trade, own area
    assert phone.screen.splitlines()[1:4] == [
        f"{i} Fundi {n}, craft worker, new" for i, n in ((1, 0), (2, 1), (3, 2))
    ]
    assert phone.screen.endswith("9 More 0 Back 00 Menu")
    assert "1 Fundi 3," in phone.press("9")
    assert "1 Fundi 6," in phone.press("9")
    assert "9 More" not in phone.screen
    assert "1 Fundi 3," in phone.press("0")  # back a page
    phone.press("2")  # Fundi 4
    phone.press("1")
    phone.press("1")
    assert phone.ended

    [booking] = bookings_of(voucher.id)
    assert booking.provider_id == mentors[4].id
    shown = db.session.execute(
        sa.select(Impression.listing_id, Impression.position).order_by(Impression.id)
    ).all()
    assert {listing for listing, _ in shown} == {booking.listing_id}
    assert [pos for _, pos in shown] == [0, 1, 2, 3, 4, 5, 6, 3, 4, 5]


def test_an_area_can_be_typed_misspelt(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider(name="Nakuru Tailoring Institute", region="nakuru", kind="institute")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1")
    assert phone.press("3") == "Type the county name, for example Nakuru:\n0 Back 00 Menu"
    assert phone.press("Narnia").startswith("No county has that name.\nType the county name")
    assert "1 Nakuru Tailorin.., institute, new" in phone.press("nakru")


def test_an_empty_area_offers_to_look_anywhere(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider(name="Far Away Fundi", region="mombasa")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    assert phone.screen.startswith("No mentor with a free place was found here.\n1 Look in any")
    assert "1 Far Away Fundi" in phone.press("1")


def test_a_full_mentor_is_not_listed(build, dialer, phone_of):
    build.booking(provider=(full := build.provider(name="Busy Fundi", capacity=1)))
    build.provider(name="Free Fundi")
    voucher = build.voucher()
    phone = dialer(phone_of(voucher))
    screen = phone.dial("2*1*1")
    assert "Free Fundi" in screen and "Busy Fundi" not in screen
    assert (
        full.id
        not in db.session.scalars(
            sa.select(Impression.provider_id).where(
                Impression.entrepreneur_id == voucher.entrepreneur_id
            )
        ).all()
    )


def test_a_mentor_who_fills_up_meanwhile_gets_a_clear_end(build, dialer, phone_of):
    mentor = build.provider(name="Last Place Fundi", capacity=1)
    voucher = build.voucher()
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1*1*1")  # up to "Book ... ?"
    assert phone.screen.startswith("Book Last Place Fundi")
    build.booking(provider=mentor)  # someone else takes the last place
    screen = phone.press("1")
    assert phone.ended and screen.startswith("Sorry, this mentor has just become full.")
    assert bookings_of(voucher.id) == []


def test_a_mentor_of_another_trade_can_be_seen_but_not_booked(build, dialer, phone_of):
    build.provider(name="Seremala Mkuu", trades=["carpentry"])
    voucher = build.voucher()
    phone = dialer(phone_of(voucher))
    phone.dial("2")
    carpentry = next(
        line.split()[0] for line in phone.screen.splitlines() if line.endswith("Carpentry")
    )
    phone.press(carpentry)
    phone.press("2")
    details = phone.press("1")
    assert "Teaches another trade." in details and "Book" not in details
    assert phone.press("1").startswith("Please choose again.")


def test_with_several_vouchers_the_entrepreneur_picks_one(build, dialer, phone_of):
    first = build.voucher()
    second = build.voucher(phone=first.entrepreneur.phone)
    build.provider(name="Mama Zawadi Tailors")
    phone = dialer(phone_of(first))
    phone.dial("2*1*1*1*1")
    assert phone.screen.startswith("Book with which voucher?")
    phone.press("2")
    assert f"voucher {second.code[:3]} " in phone.screen
    phone.press("1")
    assert phone.ended and len(bookings_of(second.id)) == 1 and bookings_of(first.id) == []


def test_the_county_prompt_lets_a_person_go_back_or_home(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    phone.dial("2*1*3")
    assert phone.press("0").startswith("Mentors in which area?")
    phone.press("3")
    assert phone.press("00").startswith("Ujuzi: hello")


def test_an_institute_is_described_in_good_kiswahili(build, dialer, phone_of):
    voucher = build.voucher(language="sw")
    build.provider(kind="institute", name="Chuo Tech")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1")
    number = next(line.split()[0] for line in phone.screen.splitlines() if "Chuo Tech" in line)
    assert phone.press(number).startswith("Chuo Tech\nChuo cha Gikomba, Nairobi\n")


def test_without_a_free_voucher_the_mentor_is_not_offered_for_booking(build, dialer, phone_of):
    booked = build.booking()
    build.provider(name="Second Choice")
    phone = dialer(phone_of(booked.voucher))
    phone.dial("2*1*1")
    number = next(line.split()[0] for line in phone.screen.splitlines() if "Second" in line)
    details = phone.press(number)
    assert "1 Book" not in details
    assert "No free voucher." in details
    assert "No free voucher" in phone.press("1") and not phone.ended


def test_an_expired_voucher_cannot_be_booked(build, dialer, phone_of):
    long_ago = datetime.now(UTC) - timedelta(days=200)
    voucher = build.voucher(now=long_ago)
    build.provider()
    phone = dialer(phone_of(voucher))
    details = phone.dial("2*1*1*1")
    assert "1 Book" not in details and "No free voucher" in details


def test_a_mentor_outside_the_programmes_areas_is_not_offered_for_booking(build, dialer, phone_of):
    programme = build.programme()
    programme.eligible_regions = ["nairobi"]
    db.session.commit()
    voucher = build.voucher(programme)  # the person lives in Nairobi
    build.provider(name="Far Away", region="mombasa")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*2")  # own trade, any area
    number = next(line.split()[0] for line in phone.screen.splitlines() if "Far Away" in line)
    details = phone.press(number)
    assert "1 Book" not in details and "Area not in your voucher." in details
    assert "Area not in your voucher." in phone.press("1") and not phone.ended
    assert bookings_of(voucher.id) == []


# --------------------------------------------------------------------------- cancel


def test_a_booking_can_be_cancelled_before_the_first_session_and_another_chosen(
    build, dialer, phone_of
):
    first_choice = build.provider(name="First Choice")
    voucher = build.voucher()
    build.booking(voucher, first_choice)
    build.provider(name="Second Choice")
    phone = dialer(phone_of(voucher))
    phone.dial("5")
    assert phone.screen.startswith("Cancel which booking?\n1 First Choice, ")
    assert phone.press("1").startswith("Cancel your booking with First Choice")
    assert phone.press("1").startswith("Your booking with First Choice is cancelled.")
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == VoucherStatus.ISSUED

    again = dialer(phone_of(voucher))
    again.dial("2*1*1")
    number = next(line.split()[0] for line in again.screen.splitlines() if "Second" in line)
    again.press(number)
    again.press("1")
    again.press("1")
    old, new = bookings_of(voucher.id)
    assert old.status == BookingStatus.CANCELLED and new.switched_from_id == old.id


def test_a_booking_with_a_confirmed_session_cannot_be_cancelled(build, dialer, phone_of):
    session = build.confirmed_session()
    phone = dialer(phone_of(session.voucher))
    screen = phone.dial("5")
    assert screen.startswith("You have no booking to cancel.")
    assert not phone.ended


def test_a_booking_whose_recorded_session_waits_for_an_answer_is_not_cancelled(
    build, dialer, phone_of
):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=1))
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("5")
    phone.press("1")
    screen = phone.press("1")
    assert phone.ended and screen.startswith("Your mentor recorded a session that waits")
    db.session.expire_all()
    assert db.session.get(Booking, recorded.booking_id).status == BookingStatus.ACTIVE


def test_a_session_of_a_cancelled_booking_cannot_be_confirmed_by_code(build, dialer, phone_of):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=1))
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("3")
    code = phone.press("1").splitlines()[0].removeprefix("Your code: ")
    db.session.execute(
        sa.update(Booking).where(Booking.id == recorded.booking_id).values(status="cancelled")
    )
    db.session.commit()
    with pytest.raises(errors.BookingNotActive):
        sessions.confirm_with_code(recorded.staff_id, recorded.id, code)
    db.session.rollback()
    assert db.session.get(Voucher, recorded.voucher_id).sessions_confirmed == 0


# --------------------------------------------------------------------------- confirm


def test_the_code_shown_lets_the_mentor_confirm_the_session(build, dialer, phone_of):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=2))
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("3")
    assert phone.screen.splitlines()[:3] == [
        "Confirm a session:",
        "1 Show a code for my mentor",
        "2 Sessions to confirm (1)",
    ]
    screen = phone.press("1")
    assert phone.ended and screen.startswith("Your code: ")
    code = screen.splitlines()[0].removeprefix("Your code: ")
    assert len(code) == 6 and code.isdigit()
    confirmed = sessions.confirm_with_code(recorded.staff_id, recorded.id, code)
    assert confirmed.status == SessionStatus.CONFIRMED


def test_a_session_is_confirmed_by_ussd_yes(build, dialer, phone_of):
    recorded = build.recorded_session(
        now=datetime.now(UTC) - timedelta(hours=2), topic="Cutting patterns"
    )
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("3*2")
    assert phone.screen.startswith("Which session?\n1 ")
    assert "Cutting patterns" in phone.screen
    question = phone.press("1")
    assert "recorded a session on" in question and question.endswith(
        "Did it happen?\n1 Yes\n2 No\n0 Back 00 Menu"
    )
    assert (
        phone.press("1") == f"Thank you. Session {recorded.ref} is confirmed: 3 of 4 sessions left."
    )
    db.session.expire_all()
    session = db.session.get(TrainingSession, recorded.id)
    assert session.status == SessionStatus.CONFIRMED and session.answered_via == "ussd"


def test_a_session_is_disputed_by_ussd_no_in_kiswahili(build, dialer, phone_of):
    voucher = build.voucher(language="sw")
    recorded = build.recorded_session(
        build.booking(voucher), now=datetime.now(UTC) - timedelta(hours=2)
    )
    phone = dialer(phone_of(voucher))
    phone.dial("3")
    assert "2 Vipindi vya kuthibitisha (1)" in phone.screen
    phone.press("2")
    assert phone.press("1").endswith("Kilifanyika?\n1 Ndio\n2 Hapana\n0 Rudi 00 Mwanzo")
    assert phone.press("2").startswith(f"Tumepokea: kipindi {recorded.ref} hakikufanyika.")
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.DISPUTED


def test_nothing_to_confirm_is_said_plainly(build, dialer, phone_of):
    voucher = build.voucher()
    phone = dialer(phone_of(voucher))
    phone.dial("3*1")
    assert phone.screen == "No session is waiting for your answer.\n0 Back 00 Menu"


# --------------------------------------------------------------------------- rate


def test_an_entrepreneur_rates_the_mentor_after_a_confirmed_session(build, dialer, phone_of):
    mentor = build.provider(name="Mama Zawadi Tailors")
    voucher = build.voucher()
    session = build.confirmed_session(
        build.booking(voucher, mentor), now=datetime.now(UTC) - timedelta(hours=2)
    )
    phone = dialer(phone_of(voucher))
    phone.dial("4")
    assert phone.screen.startswith("Rate which session?\n1 ")
    assert "Mama Zawadi Tailors" in phone.screen
    stars = phone.press("1")
    assert stars.startswith("How good was Mama Zawadi Tailors?\n1 Very poor")
    assert phone.press("5") == "Thank you for rating Mama Zawadi Tailors 5 of 5."
    rating = db.session.scalar(sa.select(Rating))
    assert (rating.stars, rating.channel, rating.session_id) == (5, "ussd", session.id)

    again = dialer(phone_of(voucher))
    assert again.dial("4").startswith("Nothing to rate yet.")


# --------------------------------------------------------------------------- language, help


def test_changing_the_language_switches_every_screen(build, dialer, phone_of):
    voucher = build.voucher(name="Amina Wanjiru")
    phone = dialer(phone_of(voucher))
    phone.dial("6")
    assert phone.screen.startswith("Language / Lugha:\n1 English\n2 Kiswahili")
    assert phone.press("2").startswith("Lugha: Kiswahili\nUjuzi: habari Amina\n1 Vocha zangu")
    assert phone.press("0").startswith("Ujuzi: habari Amina")  # nothing to go back to
    db.session.expire_all()
    assert db.session.get(Entrepreneur, voucher.entrepreneur_id).language == "sw"
    assert dialer(phone_of(voucher)).dial("7").startswith("Vocha yako inamlipa mwalimu")
    phone.press("6")
    assert phone.press("1").startswith("Language: English\nUjuzi: hello Amina")


def test_help_explains_the_service_and_goes_back(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    phone.dial("7")
    assert phone.screen.startswith("Your voucher pays a mentor to train you.")
    assert "SMS HELP to 20880" in phone.screen
    assert phone.press("0").startswith("Ujuzi: hello")


# --------------------------------------------------------------------------- navigation, input


def test_zero_goes_back_and_double_zero_goes_to_the_main_menu(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider(name="Mama Zawadi Tailors")
    phone = dialer(phone_of(voucher))
    phone.dial()
    phone.press("2")
    phone.press("1")
    phone.press("2")
    assert phone.press("1").startswith("Mama Zawadi Tailors")
    assert phone.press("0").startswith("Choose a mentor:")
    assert phone.press("0").startswith("Mentors in which area?")
    assert phone.press("0").startswith("Mentors for which trade?")
    phone.press("1")
    phone.press("1")
    assert phone.press("00").startswith("Ujuzi: hello")
    assert phone.press("0").startswith("Ujuzi: hello")


def test_kiswahili_navigation_uses_kiswahili_words(build, dialer, phone_of):
    voucher = build.voucher(language="sw")
    phone = dialer(phone_of(voucher))
    phone.dial("2")
    assert phone.screen.endswith("9 Zaidi 0 Rudi 00 Mwanzo")
    assert "1 " in phone.press("9")
    assert phone.press("00").startswith("Ujuzi: habari")


@pytest.mark.parametrize("junk", ["abc", "99", "*", "#", "8", "1 2", "٣", "x" * 300, "-1", "01"])
def test_junk_input_asks_again_and_changes_nothing(build, dialer, phone_of, junk):
    voucher = build.voucher()
    phone = dialer(phone_of(voucher))
    phone.dial()
    before = counts()
    screen = phone.press(junk)
    assert not phone.ended
    assert screen.startswith("Please choose again.\nUjuzi: hello")
    after = counts()
    assert {k: v for k, v in after.items() if k != "sessions"} == {
        k: v for k, v in before.items() if k != "sessions"
    }


def test_shortcut_dialling_skips_empty_segments(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    assert phone.dial("2**1").startswith("Mentors in which area?")


def test_a_shortcut_stops_where_an_input_does_not_fit(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    # a full page of trades has no room for both the notice and the title: the notice wins
    assert phone.dial("2*x*1").startswith("Please choose again.\n1 Tailoring\n")
    assert phone.press("1").startswith("Mentors in which area?")


def test_a_star_typed_in_a_county_name_is_read_as_typed_not_as_two_inputs(build, dialer, phone_of):
    build.provider(name="Fundi Moja")
    phone = dialer(phone_of(build.voucher()))
    phone.dial()
    phone.press("2")
    phone.press("1")
    assert phone.press("3").startswith("Type the county name")
    # The menus before were not stored (static); the prompt is, so its answer is what it adds.
    assert phone.press("Nai*robi").startswith("Choose a mentor:\n1 Fundi Moja")


def test_a_gateway_that_sends_only_the_latest_input_is_understood(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    phone.dial()
    assert phone.press("1").startswith("Voucher ")  # a stored screen: it read the database
    phone.text = "0"  # not accumulated: the engine falls back to the last segment
    assert phone.repeat().startswith("Ujuzi: hello")


# --------------------------------------------------------------------------- repeated hops


def test_a_repeated_booking_hop_books_once_and_answers_the_same(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider(name="Mama Zawadi Tailors")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1*1*1")
    done = phone.press("1")
    before = counts()
    assert phone.repeat() == done
    assert phone.repeat() == done
    assert counts() == before
    assert len(bookings_of(voucher.id)) == 1


def test_an_earlier_hop_delivered_late_changes_nothing(build, dialer, phone_of):
    voucher = build.voucher()
    for n in range(5):
        build.provider(name=f"Fundi {n}")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1")
    first_page = phone.press("1")
    second_page = phone.press("9")
    assert first_page != second_page
    before = counts()
    for earlier in ("2*1*1", "2*1", ""):  # the gateway delivers old hops again, out of order
        status, _, body = phone.post(phone.form(earlier))
        assert status == 200 and body == "CON " + second_page
    assert counts() == before  # no impressions again, no screen moved
    assert phone.press("1").startswith("Fundi 3")  # the first on the second page, as shown


def test_a_repeated_list_hop_records_its_impressions_once(build, dialer, phone_of):
    voucher = build.voucher()
    for n in range(4):
        build.provider(name=f"Fundi {n}")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1")
    listing = phone.press("1")
    shown = counts()["impressions"]
    assert shown == 3
    assert phone.repeat() == listing
    assert counts()["impressions"] == shown
    assert "Fundi 3" in phone.press("9")
    assert counts()["impressions"] == 4


def test_a_repeated_session_start_shows_the_same_menu(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    first = phone.dial()
    assert phone.repeat() == first
    assert phone.press("1").startswith("Voucher")


def test_a_repeated_confirmation_hop_confirms_once(build, dialer, phone_of):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=2))
    phone = dialer(phone_of(recorded.voucher))
    phone.dial("3*2*1")
    done = phone.press("1")
    assert phone.repeat() == done
    db.session.expire_all()
    assert db.session.get(Voucher, recorded.voucher_id).sessions_confirmed == 1


def _changed_state() -> dict[str, object]:
    """Everything a hop that changes something could change, as counts and statuses."""
    db.session.expire_all()
    statuses = db.session.execute(sa.select(TrainingSession.id, TrainingSession.status)).all()
    vouchers = db.session.execute(
        sa.select(Voucher.id, Voucher.status, Voucher.sessions_confirmed)
    ).all()
    return {
        "bookings": counts()["bookings"],
        "outbox": counts()["outbox"],
        "ratings": db.session.scalar(sa.select(sa.func.count()).select_from(Rating)),
        "sessions": sorted(statuses),
        "vouchers": sorted(vouchers),
    }


@pytest.mark.parametrize(
    ("before_the_call", "shortcut", "key"),
    [
        pytest.param(None, "2*1*1*1*1", "1", id="book"),
        pytest.param("recorded_session", "3*2*1", "1", id="confirm"),
        pytest.param("recorded_session", "3*2*1", "2", id="dispute"),
        pytest.param("confirmed_session", "4*1", "5", id="rate"),
        pytest.param("booking", "5*1", "1", id="cancel"),
    ],
)
def test_a_hop_repeated_after_its_session_state_was_lost_changes_nothing_twice(
    build, dialer, phone_of, before_the_call, shortcut, key
):
    """A session row can be gone when the gateway repeats a hop that changed something (pruned
    with a short `--older-than-minutes`, or a database restored from a backup). The repeat is
    then replayed from the main menu like a shortcut, and the services refuse to do again what
    was done. (A list the replay passes through is recorded as shown again, as for any shortcut.)"""
    mentor = build.provider(name="Mama Zawadi Tailors")
    voucher = build.voucher()
    if before_the_call == "booking":
        build.booking(voucher, mentor)
    elif before_the_call is not None:
        two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
        getattr(build, before_the_call)(build.booking(voucher, mentor), now=two_hours_ago)
    phone = dialer(phone_of(voucher))
    phone.dial(shortcut)
    done = phone.press(key)
    assert phone.ended and "sorry" not in done.lower()
    before = _changed_state()

    db.session.execute(sa.delete(UssdSession))
    db.session.commit()
    phone.repeat()  # the dialer checks the answer: 200, text/plain, CON or END, one screen

    assert _changed_state() == before
