"""Lists never show two mentors (or two sessions) as the same: a name cut to fit keeps what tells
it apart, the town is added to names that are the same, and the list of sessions to rate says which
session when two read alike."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from marketplace.domain.models.programmes import DEFAULT_TIME_ZONE
from marketplace.services import sessions
from sms.ussd.flow import distinct_names
from tests.builders import today


def _choices(screen: str) -> list[str]:
    """The numbered choices of a list (not 9 More, 0 Back, 00 Menu)."""
    return [line for line in screen.splitlines() if line[:1] in "12345678" and line[1:2] == " "]


def test_two_mentors_whose_names_cut_the_same_are_told_apart(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider(name="Fundi Kipchoge Kamau Workshop")
    build.provider(name="Fundi Kipchoge Keter Workshop")
    phone = dialer(phone_of(voucher))
    listed = _choices(phone.dial("2*1*1"))
    assert len(listed) == 2 and listed[0][2:] != listed[1][2:], phone.screen
    assert any("Kamau" in line for line in listed) and any("Keter" in line for line in listed)


def test_two_mentors_of_the_same_name_in_any_area_are_shown_with_their_towns(
    build, dialer, phone_of
):
    voucher = build.voucher()
    build.provider(name="Fundi Kipchoge Kamau", region="mombasa", town="Likoni")
    build.provider(name="Fundi Kipchoge Kamau", region="kisumu", town="Kondele")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1")
    assert "2 Any area" in phone.screen
    listed = _choices(phone.press("2"))
    assert len(listed) == 2, phone.screen
    assert {line.split(", ")[1] for line in listed} == {"Likoni", "Kondele"}, phone.screen
    assert all(line[2:].startswith("Fundi Kipchoge") for line in listed)


def test_the_town_is_added_in_kiswahili_too_and_the_screen_still_fits(build, dialer, phone_of):
    voucher = build.voucher(language="sw")
    for town in ("Gikomba", "Kariobangi", "Kawangware"):
        build.provider(name="Fundi Kipchoge Kamau Mkubwa wa Ushonaji", town=town)
    phone = dialer(phone_of(voucher))
    listed = _choices(phone.dial("2*1*1"))  # the dialer checks the 160 characters
    assert len(listed) == 3 and len({line[2:] for line in listed}) == 3, phone.screen
    assert [t for t in ("Gikomba", "Kariob", "Kawang") if any(t in x for x in listed)] == [
        "Gikomba",
        "Kariob",
        "Kawang",
    ], phone.screen


def _yesterday_morning() -> datetime:
    """Nine in the morning yesterday where the programme runs: both sessions fall on one local
    day, which the list shows, whatever the hour of the run."""
    return datetime.combine(
        today() - timedelta(days=1), time(9), tzinfo=ZoneInfo(DEFAULT_TIME_ZONE)
    )


def test_the_sessions_to_rate_say_which_session_when_two_read_alike(build, dialer, phone_of):
    provider = build.provider(name="Fundi Kiprono Owino")
    voucher = build.voucher()
    booking = build.booking(voucher, provider)
    day = _yesterday_morning()
    first = build.confirmed_session(booking, now=day)
    second = build.confirmed_session(booking, now=day + timedelta(hours=1))
    phone = dialer(phone_of(voucher))
    listed = _choices(phone.dial("4"))
    date = day.strftime("%d/%m")
    assert len(listed) == 2 and listed[0][2:] != listed[1][2:], phone.screen
    assert all(line[2:].startswith(f"{date} Fundi Kiprono Owino: ") for line in listed)
    # The topics ("Cutting patterns, part N") cut alike: each keeps the part that differs.
    parts = {first.topic.rsplit(" ", 1)[1], second.topic.rsplit(" ", 1)[1]}
    assert {line.rsplit("..", 1)[1] for line in listed} == parts, phone.screen


def test_sessions_with_the_same_topic_are_told_apart_by_their_ref(build, dialer, phone_of):
    provider = build.provider(name="Fundi Kiprono Owino")
    voucher = build.voucher(language="sw")
    booking = build.booking(voucher, provider)
    day = _yesterday_morning()
    refs = []
    for hour in (0, 1):
        recorded = build.recorded_session(
            booking, now=day + timedelta(hours=hour), topic="Kukata vitambaa"
        )
        refs.append(recorded.ref)
        sessions.answer_session(recorded.entrepreneur_id, recorded.ref, True, "sms")
    phone = dialer(phone_of(voucher))
    listed = _choices(phone.dial("4"))
    date = day.strftime("%d/%m")
    assert sorted(line[2:] for line in listed) == sorted(
        f"{date} Fundi Kiprono Owino, kipindi {ref}" for ref in refs
    ), phone.screen


def test_names_alike_keep_what_tells_them_apart_and_the_same_names_get_their_towns():
    assert distinct_names(["Mama Zawadi Tailors", "Fundi Moja"], 17) == [
        "Mama Zawadi Tai..",
        "Fundi Moja",
    ]
    told = distinct_names(["Fundi Kipchoge Kamau Workshop", "Fundi Kipchoge Keter Workshop"], 17)
    assert len(set(told)) == 2 and all(len(label) <= 17 for label in told)
    same = distinct_names(["Fundi Kipchoge", "Fundi Kipchoge"], 26, ["Gikomba", "Kariobangi"])
    assert same == ["Fundi Kipchoge, Gikomba", "Fundi Kipchoge, Kariobangi"]
    # The same name in the same town: nothing more a name can tell (the details screen can).
    assert distinct_names(["Fundi A", "Fundi A"], 17, ["Gikomba", "Gikomba"]) == ["Fundi A"] * 2
