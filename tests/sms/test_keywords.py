"""Reading the keyword of an SMS: small slips are forgiven, other words are never taken for a
command that changes something."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain.models import (
    Booking,
    BookingStatus,
    Entrepreneur,
    SessionStatus,
    TrainingSession,
)
from marketplace.extensions import db
from sms import commands
from sms.commands import keywords as reading
from sms.commands import parse


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("HELO", "help"),  # one letter wrong
        ("FIMD electronics", "find"),
        ("BOOL 25872", "book"),
        ("RATW 1234 5", "rate"),
        ("stpo", "stop"),  # two letters swapped
        ("CANCL", "cancel"),  # one letter missing
        ("BOK 25872", "book"),
        ("GHAIR", "cancel"),
        ("TAFTA ushonaji", "find"),
        ("KADRIA 1234 4", "rate"),
        ("NDOI 4821", "yes"),
        ("HAPNA 4821", "no"),
        ("SALOI", "bal"),
        ("LUGAH SW", "lang"),
        ("MSADA", "help"),
    ],
)
def test_one_wrong_missing_or_swapped_letter_is_forgiven(text, name):
    assert parse(text).name == name


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("Cancelled?", "CANCEL"),
        ("CANCELLED", "CANCEL"),
        ("BOOKED 25872", "BOOK"),
        ("FINDING electronics", "FIND"),
        ("STOPPED", "STOP"),
        ("RATED 1234 5", "RATE"),
        ("GHAIRIWA", "GHAIRI"),
        ("ACHANA", "ACHA"),
        ("HAPANAA 4821", "HAPANA"),
    ],
)
def test_a_longer_word_is_never_read_as_a_command_but_asked_about(text, keyword):
    command = parse(text)
    assert command.name == "unsure" and command.keyword == keyword


@pytest.mark.parametrize(
    "text",
    ["stpo sending me sms", "CANCL my booking", "NDOI nimefika", "LUGAH yangu", "BOOL mentor"],
)
def test_a_misspelt_command_that_changes_something_followed_by_words_is_asked_about(text):
    assert parse(text).name == "unsure"


@pytest.mark.parametrize(
    "text",
    [
        # Kiswahili words and names one letter from a keyword
        "Asha hapa",
        "Asha",
        "Ana",
        "Ana swali",
        "Anna",
        "Cha",
        "Aha",
        "Hawana pesa",
        "Hawana",
        "Ndiye",
        "Wema",
        "Weza",
        "Teka maji",
        # English words one letter from a keyword
        "Shop",
        "Top",
        "Step",
        "Star",
        "Cancer",
        "Look 40217",
        "Date 12 5",
        "Late",
        "Long",
        "Land",
        "Fine thanks",
        "Kind regards",
        "Text me",
        # short keywords are exact
        "BA",
        "BALL",
        "YESS",
        "YS 4821",
    ],
)
def test_common_words_are_not_read_as_commands(text):
    assert parse(text).name == "unknown"


@pytest.mark.parametrize("text", ["HELPPP", "INFORMATION", "HELPLINE"])
def test_a_longer_word_for_help_gets_help(text):
    assert parse(text).name == "help"


# --------------------------------------------------------------------------- through the route


def waiting_session(build, language: str = "en") -> tuple[Entrepreneur, TrainingSession]:
    voucher = build.voucher(language=language)
    recorded = build.recorded_session(
        build.booking(voucher), now=datetime.now(UTC) - timedelta(hours=1)
    )
    person = db.session.get(Entrepreneur, voucher.entrepreneur_id)
    assert person is not None
    return person, recorded


def nothing_changed(person: Entrepreneur, recorded: TrainingSession) -> bool:
    db.session.expire_all()
    me = db.session.get(Entrepreneur, person.id)
    session = db.session.get(TrainingSession, recorded.id)
    booking = db.session.get(Booking, recorded.booking_id)
    assert me is not None and session is not None and booking is not None
    return (
        session.status == SessionStatus.RECORDED
        and booking.status == BookingStatus.ACTIVE
        and not me.sms_opt_out
        and me.language == person.language
        and db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    )


@pytest.mark.parametrize(
    ("language", "text", "said"),
    [
        ("en", "Cancelled?", "did you mean CANCEL? Nothing was done. To do it, send CANCEL."),
        ("en", "stopped", "did you mean STOP?"),
        ("en", "stpo sending me sms", "did you mean STOP? Nothing was done. To do it, send STOP."),
        ("sw", "ghairiwa?", "ulimaanisha GHAIRI? Hakuna kilichofanyika"),
        ("sw", "Achana", "ulimaanisha ACHA?"),
    ],
)
def test_a_word_like_a_command_changes_nothing_and_asks(build, sms, language, text, said):
    person, recorded = waiting_session(build, language)
    (reply,) = sms(person.phone, text)
    assert said in reply
    assert nothing_changed(person, recorded)


def test_finding_lists_nothing_and_shows_what_to_send(build, sms):
    person, _recorded = waiting_session(build)
    (reply,) = sms(person.phone, "Finding electronics")
    assert "send FIND electronics." in reply


def test_booked_with_a_number_books_nothing_and_shows_what_to_send(build, sms):
    person, recorded = waiting_session(build)
    other = build.provider()
    (reply,) = sms(person.phone, f"Booked {other.number}")
    assert f"send BOOK {other.number}" in reply
    assert nothing_changed(person, recorded)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("sw", "Hawana pesa"),
        ("sw", "Asha"),
        ("sw", "Ana swali"),
        ("sw", "Cha kwanza"),
        ("sw", "Ndiye"),
        ("en", "Shop"),
        ("en", "Long time"),
        ("en", "Cancer"),
    ],
)
def test_everyday_words_change_nothing(build, sms, language, text):
    person, recorded = waiting_session(build, language)
    (reply,) = sms(person.phone, text)
    assert "did not understand" in reply or "hatukuelewa" in reply
    assert nothing_changed(person, recorded)


def test_a_misspelt_answer_with_its_ref_is_understood(build, sms):
    person, recorded = waiting_session(build, "sw")
    sms(person.phone, f"ndoi {recorded.ref}")
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.CONFIRMED


def test_a_misspelt_stop_turns_reminders_off(build, sms):
    person, _recorded = waiting_session(build)
    (reply,) = sms(person.phone, "stpo")
    assert "no more reminders" in reply
    db.session.expire_all()
    assert db.session.get(Entrepreneur, person.id).sms_opt_out is True


def test_every_everyday_word_kept_apart_is_one_slip_from_a_keyword():
    for word in commands.NOT_KEYWORDS:
        assert word not in commands.KEYWORDS
        assert any(reading._one_slip(word, k) for k in commands.KEYWORDS if len(k) >= 4), word
