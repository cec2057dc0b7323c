"""SMS commands through the real inbound route: what a person texting the short code sees."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain.codes import format_voucher_code
from marketplace.domain.models import (
    Booking,
    BookingStatus,
    Entrepreneur,
    Impression,
    InboundSms,
    OutboxMessage,
    Rating,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from marketplace.extensions import db
from marketplace.messages.gsm import is_gsm7, segments
from marketplace.services import bookings, sessions
from sms import commands

from .conftest import outbox_kinds, outbox_to, post_sms


def person_of(voucher: Voucher) -> Entrepreneur:
    person = db.session.get(Entrepreneur, voucher.entrepreneur_id)
    assert person is not None
    return person


def test_help_lists_the_commands_in_english(build, sms):
    person = person_of(build.voucher())
    (reply,) = sms(person.phone, "help")
    assert "BAL" in reply and "FIND" in reply and "BOOK" in reply and "RATE" in reply


def test_a_kiswahili_speaker_gets_help_in_kiswahili(build, sms):
    person = person_of(build.voucher(language="sw"))
    (reply,) = sms(person.phone, "  msaada!! ")
    assert "SALIO" in reply and "TAFUTA" in reply and "CHAGUA" in reply


def test_help_shows_the_optional_area_in_brackets_in_both_languages(build, sms):
    (english,) = sms(person_of(build.voucher()).phone, "HELP")
    (swahili,) = sms(person_of(build.voucher(language="sw")).phone, "MSAADA")
    assert "FIND <trade> [area]" in english and "?" not in english
    assert "TAFUTA <kazi> [eneo]" in swahili and "?" not in swahili


def test_names_with_brackets_and_braces_are_listed_as_they_are(build, sms):
    person = person_of(build.voucher())
    provider = build.provider(name="Fundi [Bora]")
    (reply,) = sms(person.phone, "FIND tailoring")
    assert f"{provider.number} Fundi [Bora] (fundi)" in reply
    assert segments(reply) == 1


def test_an_unknown_number_is_told_how_to_join(sms):
    (reply,) = sms("+254799000111", "FIND tailoring")
    assert "no training voucher" in reply and "*384*1234#" in reply


def test_an_unknown_number_writing_kiswahili_is_answered_in_kiswahili(sms):
    (reply,) = sms("+254799000112", "tafuta ushonaji")
    assert "haina vocha" in reply


def test_stop_from_an_unknown_number_sends_nothing_back(sms):
    assert sms("+254799000113", "STOP") == []


def test_a_mentor_texting_a_trainees_command_gets_the_mentors_commands(build, sms):
    provider = build.provider()
    (reply,) = sms(provider.phone, "BAL")
    assert reply.startswith("Ujuzi mentor SMS: TRAINEES. REC <no.> <minutes>")


def test_unrecognised_text_gets_a_short_help_reply(build, sms):
    person = person_of(build.voucher())
    (reply,) = sms(person.phone, "hello, is this the training people?")
    assert "did not understand" in reply and "HELP" in reply
    assert len(reply) <= 160 and is_gsm7(reply)


def test_a_message_delivered_twice_is_answered_once(build, client, sms):
    person = person_of(build.voucher())
    sms(person.phone, "BAL", gateway_id="ATXid_same")
    assert sms(person.phone, "BAL", gateway_id="ATXid_same") == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundSms)) == 1


def test_a_booking_delivered_twice_books_once(build, sms):
    voucher = build.voucher()
    person = person_of(voucher)
    provider = build.provider()
    first = sms(person.phone, f"BOOK {provider.number}", gateway_id="ATXid_book")
    again = sms(person.phone, f"BOOK {provider.number}", gateway_id="ATXid_book")
    assert len(first) == 1 and again == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_balance_lists_each_voucher_with_its_sessions_and_mentor(build, sms):
    programme = build.programme()
    booked = build.booking(build.voucher(programme))
    person = person_of(db.session.get(Voucher, booked.voucher_id))
    free = build.voucher(programme, phone=person.phone)
    (reply,) = sms(person.phone, "bal")
    provider_name = db.session.get(Booking, booked.id).provider.name
    assert format_voucher_code(free.code) in reply
    assert "not booked, 4/4 left" in reply
    assert provider_name in reply


@pytest.mark.parametrize(
    ("language", "free", "more"),
    [("en", "not booked", "more: dial"), ("sw", "wazi", "zaidi: piga")],
)
def test_balance_of_many_vouchers_fits_one_part_and_counts_those_left_out(
    build, sms, language, free, more
):
    first = build.voucher(build.programme(validity_days=30), language=language)
    person = person_of(first)
    held = [first] + [
        build.voucher(build.programme(validity_days=31 + i), phone=person.phone) for i in range(4)
    ]
    for voucher in held[:3]:
        build.booking(voucher, build.provider(name="Chuo cha Mafunzo ya Ufundi Wa Kati"))
    (reply,) = sms(person.phone, "BAL")
    assert segments(reply) == 1, (len(reply), reply)
    listed = [v for v in held if format_voucher_code(v.code) in reply]
    assert listed == held[: len(listed)]  # the ones expiring first
    assert f"+{len(held) - len(listed)} {more} *384*1234#" in reply
    assert "Chuo cha" in reply


def test_balance_of_three_vouchers_shows_them_all(build, sms):
    # Programmes without a co-payment: a voucher's line is then its shortest.
    first = build.voucher(build.programme(validity_days=30, co_payment_percent=0))
    person = person_of(first)
    held = [first] + [
        build.voucher(
            build.programme(validity_days=40 + i, co_payment_percent=0), phone=person.phone
        )
        for i in range(2)
    ]
    (reply,) = sms(person.phone, "BAL")
    assert segments(reply) == 1, (len(reply), reply)
    for voucher in held:
        assert format_voucher_code(voucher.code) in reply
    assert "more" not in reply and reply.count("not booked, 4/4 left") == 3


def test_balance_of_one_or_two_vouchers_keeps_mentors_names_whole(build, sms):
    first = build.voucher(build.programme(co_payment_percent=0))
    person = person_of(first)
    second = build.voucher(build.programme(co_payment_percent=0), phone=person.phone)
    build.booking(first, build.provider(name="Mama Njeri Tailors"))
    build.booking(second, build.provider(name="Chuo cha Ushonaji"))
    (reply,) = sms(person.phone, "BAL")
    assert "Mama Njeri Tailors, 4/4 left" in reply and "Chuo cha Ushonaji, 4/4 left" in reply


def test_balance_with_no_voucher_says_so(build, sms):
    voucher = build.voucher()
    person = person_of(voucher)
    from marketplace.services import vouchers

    vouchers.revoke_voucher(voucher.code, "test")
    (reply,) = sms(person.phone, "SALIO")
    assert "no active voucher" in reply


def test_find_lists_mentors_with_their_numbers_and_records_what_was_shown(build, sms):
    person = person_of(build.voucher())
    shown = [build.provider(name=f"Fundi Wa {i}") for i in range(2)]
    build.provider(region="kisumu")  # another area: not listed
    (reply,) = sms(person.phone, "FIND tailoring nairobi")
    for p in shown:
        assert p.number in reply
    assert reply.startswith("Tailoring, Nairobi:") and "BOOK" in reply
    rows = db.session.execute(sa.select(Impression.provider_id, Impression.channel)).all()
    assert sorted(r.provider_id for r in rows) == sorted(p.id for p in shown)
    assert {r.channel for r in rows} == {"sms"}


def test_find_tolerates_case_punctuation_and_misspellings(build, sms):
    person = person_of(build.voucher(trade="metalwork"))
    welder = build.provider(trades=["metalwork"], region="uasin-gishu")
    (reply,) = sms(person.phone, "tafuta,  WELDNG uasin gishu.")
    assert welder.number in reply
    assert reply.startswith("Metalwork and welding, Uasin Gishu:")


@pytest.mark.parametrize(
    ("language", "text", "header"),
    [
        ("en", "FIND fundi", "Motor mechanics, all areas:"),
        ("sw", "TAFUTA fundi", "Ufundi magari, maeneo yote:"),
        ("en", "FIND mechanic kisumu", "Motor mechanics, Kisumu:"),
        ("sw", "TAFUTA magari kisumu", "Ufundi magari, Kisumu:"),
    ],
)
def test_the_list_names_the_trade_and_the_area_it_matched(build, sms, language, text, header):
    person = person_of(build.voucher(language=language))
    mechanic = build.provider(trades=["motor-mechanics"], region="kisumu")
    (reply,) = sms(person.phone, text)
    assert reply.startswith(header + "\n"), reply
    assert mechanic.number in reply


@pytest.mark.parametrize(
    ("language", "text", "header"),
    [
        ("en", "FIND nairobi tailoring", "Tailoring, Nairobi:"),
        ("sw", "tafuta nairobi ushonaji", "Ushonaji, Nairobi:"),
    ],
)
def test_an_area_written_before_the_trade_is_not_dropped(build, sms, language, text, header):
    person = person_of(build.voucher(language=language))
    here = build.provider(region="nairobi")
    elsewhere = build.provider(region="kisumu")
    (reply,) = sms(person.phone, text)
    assert reply.startswith(header) and here.number in reply and elsewhere.number not in reply


@pytest.mark.parametrize(
    ("language", "said"), [("en", 'area "atlantis"'), ("sw", 'eneo "atlantis"')]
)
def test_an_area_not_understood_before_the_trade_is_said_not_widened(build, sms, language, said):
    person = person_of(build.voucher(language=language))
    build.provider()
    (reply,) = sms(person.phone, "FIND atlantis tailoring")
    assert said in reply
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Impression)) == 0


def test_the_trade_name_in_the_list_is_not_taken_for_an_area(build, sms):
    person = person_of(build.voucher(trade="metalwork"))
    welder = build.provider(trades=["metalwork"])
    (reply,) = sms(person.phone, "FIND metalwork and welding")
    assert reply.startswith("Metalwork and welding, all areas:") and welder.number in reply


def test_find_without_words_searches_my_trade_in_my_area(build, sms):
    person = person_of(build.voucher())
    provider = build.provider()
    (reply,) = sms(person.phone, "FIND")
    assert provider.number in reply


def test_find_with_an_unknown_trade_suggests_what_to_send(build, sms):
    person = person_of(build.voucher())
    (reply,) = sms(person.phone, "FIND astronaut")
    assert 'trade "astronaut"' in reply


def test_find_with_an_unknown_area_says_which_word_was_not_understood(build, sms):
    person = person_of(build.voucher())
    (reply,) = sms(person.phone, "FIND tailoring atlantis")
    assert 'area "atlantis"' in reply and "FIND tailoring ALL" in reply


def test_find_with_nobody_free_suggests_another_area(build, sms):
    person = person_of(build.voucher())
    (reply,) = sms(person.phone, "FIND tailoring kisumu")
    assert "no Tailoring mentor is free in Kisumu" in reply


def test_more_shows_the_next_page_of_the_same_list(build, sms):
    person = person_of(build.voucher())
    providers = [build.provider() for _ in range(bookings.PAGE_SIZE + 1)]
    (first,) = sms(person.phone, "FIND tailoring all")
    assert "MORE" in first
    (second,) = sms(person.phone, "more")
    listed = [p for p in providers if p.number in first or p.number in second]
    assert len(listed) == len(providers)
    listings = db.session.scalars(sa.select(Impression.listing_id).distinct()).all()
    assert len(listings) == 1
    (third,) = sms(person.phone, "MORE")
    assert "no more mentors" in third


@pytest.mark.parametrize(
    ("language", "second_find", "no_more"),
    [
        ("en", "FIND tailoring kisumu", "no more mentors"),
        ("en", "FIND astronaut", "no more mentors"),
        ("sw", "TAFUTA ushonaji kisumu", "hakuna walimu zaidi"),
    ],
)
def test_more_continues_only_the_latest_find(build, sms, language, second_find, no_more):
    person = person_of(build.voucher(language=language))
    for _ in range(bookings.PAGE_SIZE + 1):
        build.provider()
    (first,) = sms(person.phone, "FIND tailoring all")
    assert "MORE" in first or "ZAIDI" in first
    shown = db.session.scalar(sa.select(sa.func.count()).select_from(Impression))
    sms(person.phone, second_find)  # finds nobody
    (reply,) = sms(person.phone, "MORE")
    assert no_more in reply
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Impression)) == shown


def test_book_after_find_records_the_pick_against_the_list_and_tells_both_sides(build, sms):
    voucher = build.voucher()
    person = person_of(voucher)
    provider = build.provider(name="Mama Njeri Tailors")
    sms(person.phone, "FIND tailoring")
    replies = sms(person.phone, f"book {provider.number}")
    assert len(replies) == 1
    assert "booked Mama Njeri Tailors" in replies[0]
    assert format_voucher_code(voucher.code) in replies[0]
    booking = db.session.scalars(sa.select(Booking)).one()
    listing = db.session.scalar(sa.select(Impression.listing_id))
    assert booking.channel == "sms" and booking.listing_id == listing
    assert outbox_kinds(provider.phone)[-1] == "booking_made_provider"


def test_book_with_a_number_never_listed_books_without_a_list(build, sms):
    voucher = build.voucher()
    provider = build.provider()
    sms(person_of(voucher).phone, f"CHAGUA {provider.number}")
    booking = db.session.scalars(sa.select(Booking)).one()
    assert booking.listing_id is None and booking.channel == "sms"


def test_book_with_several_vouchers_uses_the_one_expiring_first_and_says_so(build, sms):
    now = datetime.now(UTC)
    later = build.voucher(build.programme(validity_days=200), now=now)
    person = person_of(later)
    sooner = build.voucher(build.programme(validity_days=30), now=now, phone=person.phone)
    provider = build.provider()
    replies = sms(person.phone, f"BOOK {provider.number}")
    assert len(replies) == 2
    assert format_voucher_code(sooner.code) in replies[0]  # the booking confirmation
    assert f"we used voucher {format_voucher_code(sooner.code)}" in replies[1]
    assert (now + timedelta(days=30)).strftime("%d/%m/%Y") in replies[1]
    db.session.expire_all()
    assert db.session.get(Voucher, sooner.id).status == VoucherStatus.BOOKED
    assert db.session.get(Voucher, later.id).status == VoucherStatus.ISSUED


def test_book_naming_a_voucher_uses_that_voucher(build, sms):
    later = build.voucher(build.programme(validity_days=200))
    person = person_of(later)
    sooner = build.voucher(build.programme(validity_days=30), phone=person.phone)
    provider = build.provider()
    replies = sms(person.phone, f"BOOK {provider.number} {format_voucher_code(later.code)}")
    assert len(replies) == 1
    db.session.expire_all()
    assert db.session.get(Voucher, later.id).status == VoucherStatus.BOOKED
    assert db.session.get(Voucher, sooner.id).status == VoucherStatus.ISSUED


def test_book_an_unknown_number_says_no_mentor_has_it(build, sms):
    person = person_of(build.voucher())
    (reply,) = sms(person.phone, "BOOK 99999")
    assert "no mentor has number 99999" in reply


def test_book_a_full_mentor_changes_nothing_and_says_so(build, sms):
    provider = build.provider(capacity=1, name="Busy Fundi")
    build.booking(provider=provider)
    voucher = build.voucher()
    (reply,) = sms(person_of(voucher).phone, f"BOOK {provider.number}")
    assert "Busy Fundi has no free place" in reply
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == VoucherStatus.ISSUED


def test_book_when_every_voucher_is_booked_says_there_is_none_free(build, sms):
    booking = build.booking()
    person = person_of(db.session.get(Voucher, booking.voucher_id))
    other = build.provider()
    (reply,) = sms(person.phone, f"BOOK {other.number}")
    assert "no voucher free to book" in reply


def test_book_without_a_number_explains_how(build, sms):
    (reply,) = sms(person_of(build.voucher()).phone, "BOOK")
    assert "BOOK 40217" in reply


def test_cancel_before_the_first_session_frees_the_voucher(build, sms):
    booking = build.booking()
    voucher = db.session.get(Voucher, booking.voucher_id)
    provider_phone = booking.provider.phone
    (reply,) = sms(person_of(voucher).phone, "ghairi")
    assert "imeghairiwa" not in reply and "is cancelled" in reply
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == VoucherStatus.ISSUED
    assert db.session.get(Booking, booking.id).status == BookingStatus.CANCELLED
    assert outbox_kinds(provider_phone)[-1] == "booking_cancelled_provider"


def two_bookings(build, language="en"):
    """A person with two vouchers booked with two mentors; the second booked last."""
    first = build.voucher(build.programme(), language=language)
    person = person_of(first)
    second = build.voucher(build.programme(), phone=person.phone)
    older = build.booking(first, build.provider(name="Mama Njeri Tailors"))
    newer = build.booking(second, build.provider(name="Chuo cha Ushonaji"))
    return person, older, newer


def status_of(booking: Booking) -> str:
    db.session.expire_all()
    return db.session.get(Booking, booking.id).status


@pytest.mark.parametrize(
    ("language", "keyword", "said"),
    [("en", "CANCEL", "is cancelled"), ("sw", "GHAIRI", "imeghairiwa")],
)
def test_cancel_with_a_mentor_number_cancels_that_booking(build, sms, language, keyword, said):
    person, older, newer = two_bookings(build, language)
    (reply,) = sms(person.phone, f"{keyword} {older.provider.number}")
    assert said in reply and "Mama Njeri Tailors" in reply
    assert status_of(older) == BookingStatus.CANCELLED
    assert status_of(newer) == BookingStatus.ACTIVE


def test_cancel_with_a_voucher_code_cancels_that_booking(build, sms):
    person, older, newer = two_bookings(build)
    code = format_voucher_code(db.session.get(Voucher, older.voucher_id).code)
    (reply,) = sms(person.phone, f"cancel {code}")
    assert "Mama Njeri Tailors is cancelled" in reply and code in reply
    assert status_of(older) == BookingStatus.CANCELLED
    assert status_of(newer) == BookingStatus.ACTIVE


@pytest.mark.parametrize(
    ("language", "keyword", "said"),
    [("en", "CANCEL", "no booking with mentor or voucher number 99999"), ("sw", "GHAIRI", "99999")],
)
def test_cancel_with_a_number_of_no_booking_cancels_nothing(build, sms, language, keyword, said):
    person, older, newer = two_bookings(build, language)
    (reply,) = sms(person.phone, f"{keyword} 99999")
    assert said in reply
    assert status_of(older) == status_of(newer) == BookingStatus.ACTIVE


@pytest.mark.parametrize(
    ("language", "keyword", "example"), [("en", "CANCEL", "CANCEL "), ("sw", "GHAIRI", "GHAIRI ")]
)
def test_cancel_alone_with_two_bookings_asks_which(build, sms, language, keyword, example):
    person, older, newer = two_bookings(build, language)
    (reply,) = sms(person.phone, keyword)
    assert f"{older.provider.number} Mama Njeri Tailors" in reply
    assert f"{newer.provider.number} Chuo cha Ushonaji" in reply
    assert example + newer.provider.number in reply
    assert segments(reply) == 1
    assert status_of(older) == status_of(newer) == BookingStatus.ACTIVE


def test_cancel_with_one_mentor_on_two_vouchers_asks_for_the_voucher(build, sms):
    first = build.voucher(build.programme())
    person = person_of(first)
    second = build.voucher(build.programme(), phone=person.phone)
    mentor = build.provider(name="Mama Njeri Tailors")
    build.booking(first, mentor)
    build.booking(second, mentor)
    (reply,) = sms(person.phone, f"CANCEL {mentor.number}")
    for voucher in (first, second):
        assert f"{format_voucher_code(voucher.code)} Mama Njeri Tailors" in reply
    (reply,) = sms(person.phone, f"CANCEL {format_voucher_code(second.code)}")
    assert "is cancelled" in reply and format_voucher_code(second.code) in reply
    db.session.expire_all()
    assert db.session.get(Voucher, first.id).status == VoucherStatus.BOOKED
    assert db.session.get(Voucher, second.id).status == VoucherStatus.ISSUED


def test_cancel_naming_a_booking_whose_session_waits_asks_for_an_answer_first(build, sms):
    person, older, newer = two_bookings(build)
    recorded = build.recorded_session(older, now=datetime.now(UTC) - timedelta(hours=1))
    (reply,) = sms(person.phone, f"CANCEL {older.provider.number}")
    assert f"YES {recorded.ref}" in reply and "is cancelled" not in reply
    assert status_of(older) == status_of(newer) == BookingStatus.ACTIVE


def test_cancel_after_a_confirmed_session_is_refused_with_a_reason(build, sms):
    session = build.confirmed_session()
    person = db.session.get(Entrepreneur, session.entrepreneur_id)
    (reply,) = sms(person.phone, "CANCEL")
    assert "no booking to cancel" in reply


def test_cancel_while_a_recorded_session_waits_asks_for_an_answer_first(build, sms):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=1))
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    (reply,) = sms(person.phone, "CANCEL")
    assert f"YES {recorded.ref}" in reply and f"NO {recorded.ref}" in reply
    assert "is cancelled" not in reply
    db.session.expire_all()
    assert db.session.get(Booking, recorded.booking_id).status == BookingStatus.ACTIVE

    sms(person.phone, f"NO {recorded.ref}")  # the session did not happen: off to review
    (reply,) = sms(person.phone, "CANCEL")
    assert "is cancelled" in reply
    db.session.expire_all()
    assert db.session.get(Booking, recorded.booking_id).status == BookingStatus.CANCELLED


def test_yes_to_a_session_of_a_cancelled_booking_pays_nobody(build, sms):
    """A session left recorded on a booking cancelled before the rule above, or by a race."""
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=1))
    db.session.execute(
        sa.update(Booking).where(Booking.id == recorded.booking_id).values(status="cancelled")
    )
    db.session.commit()
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    (reply,) = sms(person.phone, f"YES {recorded.ref}")
    assert f"session {recorded.ref} belongs to a booking you cancelled" in reply
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.RECORDED
    assert db.session.get(Voucher, recorded.voucher_id).sessions_confirmed == 0


def test_yes_confirms_the_session_and_the_person_hears_back(build, sms):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=1))
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    (reply,) = sms(person.phone, f"Yes {recorded.ref}")
    assert f"session {recorded.ref} confirmed" in reply and "3 of 4" in reply
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.CONFIRMED
    assert db.session.get(TrainingSession, recorded.id).answered_via == "sms"


def test_a_bare_yes_answers_the_only_session_waiting(build, sms):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=1))
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    sms(person.phone, "NDIO")
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.CONFIRMED


def test_yes_after_stop_still_gets_an_answer(build, sms):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=1))
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    sms(person.phone, "STOP")
    (reply,) = sms(person.phone, f"YES {recorded.ref}")
    assert f"session {recorded.ref} confirmed" in reply


def test_no_disputes_the_session_and_tells_the_mentor(build, sms):
    recorded = build.recorded_session()
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    mentor_phone = recorded.provider.phone
    (reply,) = sms(person.phone, f"hapana {recorded.ref}")
    assert "kimeandikwa kuwa hakikufanyika" not in reply  # an English speaker
    assert "marked as not held" in reply
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.DISPUTED
    assert outbox_kinds(mentor_phone)[-1] == "session_disputed_mentor"


def test_answering_a_session_twice_changes_nothing(build, sms):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(hours=1))
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    sms(person.phone, f"YES {recorded.ref}")
    (reply,) = sms(person.phone, f"NO {recorded.ref}")
    assert "already answered (confirmed)" in reply
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.CONFIRMED


@pytest.mark.parametrize(
    ("language", "text", "said"),
    [
        ("en", "YES", "session {ref} can no longer be answered"),
        ("en", "NO", "session {ref} can no longer be answered"),
        ("sw", "NDIO", "kipindi {ref} hakiwezi kujibiwa tena"),
        ("sw", "HAPANA", "kipindi {ref} hakiwezi kujibiwa tena"),
    ],
)
def test_a_bare_answer_after_the_time_to_answer_names_the_session_and_why(
    build, sms, language, text, said
):
    voucher = build.voucher(now=datetime.now(UTC) - timedelta(days=5), language=language)
    booking = build.booking(voucher)
    recorded = build.recorded_session(booking, now=datetime.now(UTC) - timedelta(days=4))
    (reply,) = sms(person_of(voucher).phone, text)
    assert said.format(ref=recorded.ref) in reply
    assert "(-)" not in reply and "  " not in reply
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.LAPSED


def test_a_late_yes_after_stop_is_not_told_it_was_confirmed(build, sms):
    recorded = build.recorded_session(now=datetime.now(UTC) - timedelta(days=4))
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    sms(person.phone, "STOP")
    (reply,) = sms(person.phone, f"YES {recorded.ref}")
    assert "can no longer be answered" in reply


@pytest.mark.parametrize(
    ("language", "text", "said"),
    [
        ("en", "YES", "session {ref} was already answered (confirmed)"),
        ("sw", "NDIO", "kipindi {ref} kilishajibiwa (kimethibitishwa)"),
    ],
)
def test_a_bare_answer_overtaken_by_another_says_which_session_and_how_it_was_answered(
    build, sms, monkeypatch, language, text, said
):
    """The session is answered (by USSD, say) between reading it and answering it."""
    voucher = build.voucher(language=language)
    recorded = build.recorded_session(
        build.booking(voucher), now=datetime.now(UTC) - timedelta(hours=1)
    )
    real = sessions.answer_session

    def overtaken(entrepreneur_id, ref, accept, via, now=None):
        real(entrepreneur_id, ref, True, "ussd", now=now)
        return real(entrepreneur_id, ref, accept, via, now=now)

    monkeypatch.setattr(sessions, "answer_session", overtaken)
    replies = sms(person_of(voucher).phone, text)
    assert said.format(ref=recorded.ref) in replies[-1]
    assert "(-)" not in replies[-1]


def test_yes_with_a_wrong_ref_says_there_is_no_such_session(build, sms):
    recorded = build.recorded_session()
    person = db.session.get(Entrepreneur, recorded.entrepreneur_id)
    wrong = "1000" if recorded.ref != "1000" else "1001"
    (reply,) = sms(person.phone, f"YES {wrong}")
    assert f"no session with ref {wrong}" in reply


def test_rate_stores_the_rating_once(build, sms):
    session = build.confirmed_session()
    person = db.session.get(Entrepreneur, session.entrepreneur_id)
    (reply,) = sms(person.phone, f"RATE {session.ref} 5")
    assert "5 out of 5" in reply
    (again,) = sms(person.phone, f"kadiria {session.ref} 4")
    assert "already rated" in again
    assert db.session.scalars(sa.select(Rating.stars)).all() == [5]


def test_rate_with_stars_only_rates_the_latest_session(build, sms):
    session = build.confirmed_session()
    person = db.session.get(Entrepreneur, session.entrepreneur_id)
    sms(person.phone, "RATE 4")
    rating = db.session.scalars(sa.select(Rating)).one()
    assert rating.stars == 4 and rating.channel == "sms"


@pytest.mark.parametrize(("language", "keyword"), [("en", "RATE"), ("sw", "KADIRIA")])
@pytest.mark.parametrize("stars", ["1-5", "1 - 5", "4 5", "4.5", "0", "6", "15", "05", "five", ""])
def test_rate_with_stars_that_cannot_be_read_records_nothing_and_explains(
    build, sms, language, keyword, stars
):
    session = build.confirmed_session()
    person = db.session.get(Entrepreneur, session.entrepreneur_id)
    if language == "sw":
        sms(person.phone, "LUGHA SW")
    (reply,) = sms(person.phone, f"{keyword} {session.ref} {stars}")
    assert f"send {keyword} {session.ref} and one number" in reply or (
        f"tuma {keyword} {session.ref} na namba moja" in reply
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0


@pytest.mark.parametrize("text", ["RATE 1-5", "RATE 1 5", "RATE 5 5"])
def test_rate_with_two_small_numbers_has_no_ref_and_records_nothing(build, sms, text):
    session = build.confirmed_session()
    person = db.session.get(Entrepreneur, session.entrepreneur_id)
    (reply,) = sms(person.phone, text)
    assert f"send RATE {session.ref} and one number from 1 (poor) to 5" in reply
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0


def test_rate_with_the_stars_before_the_ref_is_understood(build, sms):
    session = build.confirmed_session()
    person = db.session.get(Entrepreneur, session.entrepreneur_id)
    (reply,) = sms(person.phone, f"RATE 4 {session.ref}")
    assert "4 out of 5" in reply
    assert db.session.scalars(sa.select(Rating.stars)).all() == [4]


@pytest.mark.parametrize("text", ["RATE", "RATE 4821 9", "RATE 4821"])
def test_rate_without_a_ref_and_stars_explains_how(build, sms, text):
    person = person_of(build.voucher())
    (reply,) = sms(person.phone, text)
    ref = "4821" if "4821" in text else "<ref>"
    assert f"send RATE {ref} and one number from 1 (poor) to 5 (very good)" in reply


def test_stop_turns_reminders_off_and_start_back_on(build, sms):
    person = person_of(build.voucher())
    (stopped,) = sms(person.phone, "Stop")
    assert "no more reminders" in stopped
    db.session.expire_all()
    assert db.session.get(Entrepreneur, person.id).sms_opt_out is True
    (started,) = sms(person.phone, "ANZA")
    assert "reminders are on" in started
    db.session.expire_all()
    assert db.session.get(Entrepreneur, person.id).sms_opt_out is False


def test_language_can_be_changed_by_sms(build, sms):
    person = person_of(build.voucher())
    (reply,) = sms(person.phone, "LUGHA SW")
    assert "Kiswahili" in reply
    db.session.expire_all()
    assert db.session.get(Entrepreneur, person.id).language == "sw"
    (help_reply,) = sms(person.phone, "HELP")
    assert "SALIO" in help_reply


def test_an_unexpected_failure_is_answered_politely_and_the_route_still_answers_200(
    build, sms, monkeypatch
):
    person = person_of(build.voucher())

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bookings, "find_providers", broken)
    (reply,) = sms(person.phone, "FIND tailoring")
    assert "sorry" in reply and "try again later" in reply


def test_a_flood_from_one_number_is_stored_but_not_answered(build, sms):
    person = person_of(build.voucher())
    for _ in range(commands.REPLY_LIMIT_PER_HOUR):
        sms(person.phone, "HELP")
    assert sms(person.phone, "HELP") == []
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(InboundSms))
    assert stored == commands.REPLY_LIMIT_PER_HOUR + 1


def test_everything_by_sms_alone_from_find_to_rating(build, sms):
    """An entrepreneur who never dials USSD: find, book, confirm every session, rate."""
    programme = build.programme(sessions_per_voucher=2)
    voucher = build.voucher(programme, language="sw")
    person = person_of(voucher)
    provider = build.provider(name="Chuo cha Ushonaji")
    (listing,) = sms(person.phone, "tafuta ushonaji")
    assert provider.number in listing and "CHAGUA" in listing
    (booked,) = sms(person.phone, f"chagua {provider.number}")
    assert "umemchagua Chuo cha Ushonaji" in booked
    booking = db.session.scalars(sa.select(Booking)).one()
    start = datetime.now(UTC) - timedelta(hours=3)
    for hour in range(2):
        recorded = build.recorded_session(booking, now=start + timedelta(hours=hour))
        sms(person.phone, f"ndio {recorded.ref}")
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == VoucherStatus.COMPLETED
    assert outbox_kinds(person.phone)[-1] == "voucher_completed"
    (thanks,) = sms(person.phone, f"kadiria {recorded.ref} 5")
    assert "asante" in thanks.lower()
    assert db.session.scalars(sa.select(Rating.stars)).all() == [5]


def test_every_reply_is_gsm7(build, sms):
    person = person_of(build.voucher(name="Zoë Wanjirũ"))
    build.provider(name="Fundi “Bora” — Ltd")
    for text in ["HELP", "BAL", "FIND", "BOOK 1", "RATE", "YES", "xyz"]:
        for reply in sms(person.phone, text):
            assert is_gsm7(reply), reply


def test_two_deliveries_of_the_same_message_at_once_are_answered_once(app, build, postgres):
    voucher = build.voucher()
    person = person_of(voucher)
    provider = build.provider()
    phone, text = person.phone, f"BOOK {provider.number}"
    provider_phone = provider.phone
    db.session.remove()  # the contenders use their own sessions and connections
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait()
                post_sms(client, phone, text, "ATXid_race")
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundSms)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    assert len(outbox_to(phone)) == 2  # voucher issued, then the one booking reply
    kinds = db.session.scalars(
        sa.select(OutboxMessage.kind).where(OutboxMessage.to_phone == provider_phone)
    ).all()
    assert kinds.count("booking_made_provider") == 1


def test_an_sms_to_another_short_code_is_ignored(app, client, build):
    from marketplace.domain.models import InboundSms, OutboxMessage
    from marketplace.extensions import db

    voucher = build.voucher()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    response = client.post(
        "/at/test-callback-secret/sms/inbound",
        data={"from": voucher.entrepreneur.phone, "to": "99999", "text": "BAL", "id": "other-1"},
    )
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundSms)) == 0
    after = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert after == before
