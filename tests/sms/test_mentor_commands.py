"""A mentor with a basic phone, texting: a whole week by SMS alone, in English and Kiswahili; the
replies in one part over long values; another provider's trainees out of reach."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.domain.models import Booking, SessionStatus, TrainingSession
from marketplace.extensions import db
from marketplace.messages import outbound as texts
from marketplace.messages.catalogue import LANGUAGES
from marketplace.messages.gsm import gsm7_length, is_gsm7
from marketplace.queries import mentor as reads
from sms.commands import mentor
from sms.commands.keywords import parse
from tests.builders import today
from tests.dialer import Dialer

WORDS = {
    "en": {
        "TRAINEES": "TRAINEES",
        "REC": "rec",
        "JANA": "jana",
        "CODE": "Code",
        "SESSIONS": "sessions",
        "PAY": "PAY",
        "list": "Ujuzi trainees",
        "recorded": "Ujuzi: recorded for #",
        "which": "several trainees' sessions wait",
        "confirmed": "confirmed session",
        "sessions": "waiting 0, confirmed 2, disputed 1, lapsed 0",
        "earned": "earned 2,000",
        "held": "Held for checks",
        "unknown": "you have no trainee #2",
    },
    "sw": {
        "TRAINEES": "wanafunzi",
        "REC": "REKODI",
        "JANA": "JANA",
        "CODE": "msimbo",
        "SESSIONS": "VIPINDI",
        "PAY": "malipo",
        "list": "Ujuzi wanafunzi",
        "recorded": "Ujuzi: imerekodiwa kwa #",
        "which": "vipindi vya wanafunzi kadhaa",
        "confirmed": "",
        "sessions": "vinasubiri 0, vimethibitishwa 2, vimekataliwa 1, vimepitwa 0",
        "earned": "umepata 2,000",
        "held": "Imezuiliwa",
        "unknown": "huna mwanafunzi #2",
    },
}


def sessions_of(booking: Booking) -> list[TrainingSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(TrainingSession)
            .where(TrainingSession.booking_id == booking.id)
            .order_by(TrainingSession.id)
        )
    )


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_a_mentors_week_by_sms_alone(build, sms, client, lang):
    w = WORDS[lang]
    provider = build.provider(name="Zawadi Tailors", contact_name="Zawadi Achieng", language=lang)
    people = []
    for name in ("Amina Wanjiru", "Baraka Otieno", "Chebet Kiprop"):
        voucher = build.voucher(name=name)
        people.append((voucher, build.booking(voucher, provider)))
    (amina_v, amina), (baraka_v, baraka), (chebet_v, chebet) = people
    me = provider.phone

    # Monday: the list of trainees, by the short numbers REC takes.
    (listing,) = sms(me, w["TRAINEES"])
    assert listing.startswith(w["list"])
    assert "#1 Amina 0/4" in listing and "#2 Baraka" in listing and "#3 Chebet" in listing
    assert amina_v.entrepreneur.phone[-9:] not in listing

    # Amina's session today, sent twice (the phone retried): recorded once, one SMS to Amina.
    (first,) = sms(me, f"{w['REC']} 1 60 cutting patterns")
    assert first.startswith(w["recorded"] + "1 Amina")
    (again,) = sms(me, f"  {w['REC']}  1 60  cutting patterns ")
    assert again == first
    (amina_session,) = sessions_of(amina)
    assert amina_session.topic == "cutting patterns"
    assert amina_session.delivered_on == today()

    # Baraka's yesterday; Chebet's two days ago, the date typed as DDMM, no topic.
    (rec,) = sms(me, f"{w['REC']} 2 90 {w['JANA']} pricing")
    assert rec.startswith(w["recorded"] + "2 Baraka")
    (baraka_session,) = sessions_of(baraka)
    assert baraka_session.delivered_on == today() - timedelta(days=1)
    assert baraka_session.topic == "pricing"
    day = today() - timedelta(days=2)
    sms(me, f"{w['REC']} 3 30 {day:%d%m}")
    (chebet_session,) = sessions_of(chebet)
    assert chebet_session.delivered_on == day and chebet_session.topic

    # Wednesday: Amina tells her code; three trainees wait, so the mentor is asked whose it is.
    trainee = Dialer(client, amina_v.entrepreneur.phone)
    trainee.dial("3")
    code = re.search(r"\b(\d{6})\b", trainee.press("1")).group(1)  # type: ignore[union-attr]
    (which,) = sms(me, f"{w['CODE']} {code}")
    assert w["which"] in which and "#1 Amina" in which
    (confirmed,) = sms(me, f"{w['CODE']} 1 {code}")  # the provider's own phone: its balance SMS
    assert ("KES 1,000" in confirmed) and (w["confirmed"] in confirmed)

    # Baraka answers YES by SMS, Chebet NO.
    sms(baraka_v.entrepreneur.phone, f"YES {baraka_session.ref}")
    sms(chebet_v.entrepreneur.phone, f"NO {chebet_session.ref}")
    assert [s.status for s in sessions_of(amina) + sessions_of(baraka) + sessions_of(chebet)] == [
        SessionStatus.CONFIRMED,
        SessionStatus.CONFIRMED,
        SessionStatus.DISPUTED,
    ]

    # Friday: sessions and pay, one session held for a check.
    (listed,) = sms(me, w["SESSIONS"])
    assert w["sessions"] in listed
    (pay,) = sms(me, w["PAY"])
    assert w["earned"] in pay and w["held"] in pay
    assert gsm7_length(pay) <= 160


def test_slips_case_and_spaces_are_forgiven(build, sms):
    provider = build.provider()
    build.booking(build.voucher(name="Amina Wanjiru"), provider)
    assert sms(provider.phone, "trainess")[0].startswith("Ujuzi trainees")
    assert sms(provider.phone, " Traines ")[0].startswith("Ujuzi trainees")
    assert sms(provider.phone, "SESIONS")[0].startswith("Ujuzi sessions")
    assert sms(provider.phone, "recrd 1 45")[0].startswith("Ujuzi: recorded for #1 Amina")
    assert "REC <no.> <minutes>" in sms(provider.phone, "hello")[0]


def test_another_providers_trainee_number_is_unknown(build, sms):
    mine, theirs = build.provider(), build.provider()
    build.booking(build.voucher(name="Amina Wanjiru"), mine)
    build.booking(build.voucher(name="Baraka Otieno"), theirs)
    other = build.booking(build.voucher(name="Zuhura Hassan"), theirs)
    assert other.trainee_no == 2
    (reply,) = sms(mine.phone, "REC 2 60 cutting")
    assert "you have no trainee #2" in reply
    assert sessions_of(other) == []
    assert "Zuhura" not in sms(mine.phone, "TRAINEES")[0]


def test_a_wrong_code_counts_and_locks_whoever_types_it(build, sms, app):
    provider = build.provider()
    booking = build.booking(build.voucher(), provider)
    build.recorded_session(booking)
    attempts = int(app.config.get("CONFIRMATION_CODE_MAX_ATTEMPTS", 5))
    for _ in range(attempts - 1):
        assert "code is wrong" in sms(provider.phone, "CODE 000000")[0]
    assert "too many wrong codes" in sms(provider.phone, "CODE 000000")[0]
    (session,) = sessions_of(booking)
    assert session.status == SessionStatus.RECORDED and session.code_attempts == attempts


def test_the_day_and_topic_are_read_from_a_rec():
    today = date(2026, 12, 7)
    rec = mentor.read_rec("REC #3 60min JANA cutting cloth", today)
    assert rec == mentor.Rec(3, 60, date(2026, 12, 6), "cutting cloth")
    assert mentor.read_rec("REC 3 60 cutting 05/12", today) == mentor.Rec(
        3, 60, date(2026, 12, 5), "cutting"
    )
    assert mentor.read_rec("REC 3 60 0101", today).day == date(2026, 1, 1)  # type: ignore[union-attr]
    assert mentor.read_rec("REC 3 60 3112", today).day == date(2025, 12, 31)  # type: ignore[union-attr]
    assert mentor.read_rec("REC 3", today) is None
    assert mentor.read_rec("REC cutting 60", today) is None
    assert parse("rekodi 3 60").name == "rec" and parse("MSIMBO 123456").name == "code"


# --------------------------------------------------------------------------- one part each

LONG = "Wanjiku-Nyambura Ochieng'-Kiprotich Mwangi Emmanuel"


def _row(n: int) -> reads.BookingRow:
    return reads.BookingRow(
        id=n,
        trainee_no=9000 + n,
        first_name=LONG,
        masked_phone="",
        trade=LONG,
        trade_code="tailoring",
        status="active",
        sessions_total=99,
        sessions_confirmed=98,
        sessions_waiting=1,
        expires_on=date(2030, 12, 31),
        booked_on=date(2030, 1, 1),
    )


def _session(n: int, status: str = "recorded") -> reads.PhoneSession:
    return reads.PhoneSession(n, "123456", 9000 + n, LONG, date(2030, 12, 31), status)


def _fits(text: str) -> bool:
    return is_gsm7(text) and gsm7_length(text) <= 160


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_mentor_reply_fits_one_part_over_long_values(lang):
    ussd = "*384*123456*99#"
    built = [
        mentor.trainees_text(lang, [_row(n) for n in range(40)], ussd),
        mentor.trainees_text(lang, [_row(1)], ussd),
        mentor.which_trainee_text(lang, [_session(n) for n in range(40)]),
        mentor.sessions_text(
            lang,
            reads.SessionCounts(
                99999,
                99999,
                99999,
                99999,
                [_session(n, s) for n in range(3) for s in mentor_statuses()],
            ),
            ussd,
        ),
    ]
    big = 999_999_999_99
    for held, last in ((big, big), (0, None), (big, None), (0, big)):
        built.append(
            mentor.pay_text(
                lang,
                reads.Money(
                    "KES",
                    big,
                    held,
                    ["shared_phone", "too_many_in_a_day", "burst_confirmation", "x"],
                    big,
                    big,
                    last,
                    datetime(2030, 12, 31, tzinfo=UTC),
                    "QKX1234567890ABCDEFGHIJKLMNOP",
                ),
            )
        )
    long_params = {
        "number": 999999,
        "name": LONG,
        "date": "31/12",
        "minutes": 720,
        "ref": "123456",
        "value": "KES 999,999,999.99",
        "share": "KES 999,999,999.99",
        "ussd": ussd,
        "count": 999,
        "waiting": 99999,
        "confirmed": 99999,
        "disputed": 99999,
        "lapsed": 99999,
    }
    keys = [
        "mentor_help",
        "mentor_trainees_none",
        "unknown_trainee",
        "rec_usage",
        "recorded",
        "code_usage",
        "code_none_waiting",
        "code_confirmed",
        "code_wrong",
        "code_locked",
        "code_answered",
        "mentor_session_lapsed",
        "rec_bad_date",
        "rec_bad_minutes",
        "rec_bad_topic",
        "rec_not_active",
        "rec_all_recorded",
        "trainee_voucher_ended",
        "paid_usage",
        "paid_recorded",
        "paid_already",
        "paid_none",
        "mentor_booking_not_active",
        "rec_co_payment_due",
    ]
    built += [texts.reply(k, lang, **long_params) for k in keys]
    for text in built:
        assert _fits(text), f"{gsm7_length(text)}: {text}"


def mentor_statuses() -> list[str]:
    return ["recorded", "confirmed", "disputed", "lapsed"]


def test_a_rec_just_after_midnight_in_nairobi_is_for_the_new_local_day(build, sms, monkeypatch):
    """At 00:30 in Nairobi (21:30 UTC the day before), today and JANA are Nairobi's days, the
    ones the service judges the session by, not the UTC date."""
    from sms.commands import handlers

    moment = (datetime.now(UTC) - timedelta(days=1)).replace(hour=21, minute=30)
    monkeypatch.setattr(handlers, "utcnow", lambda: moment)
    local_today = moment.date() + timedelta(days=1)
    provider = build.provider(name="Zawadi Tailors")
    for name in ("Amina Wanjiru", "Baraka Otieno"):
        voucher = build.voucher(name=name, now=moment - timedelta(days=7))
        build.booking(voucher, provider)
    sms(provider.phone, "REC 1 60 cutting")
    sms(provider.phone, "REC 2 60 JANA cutting")
    db.session.expire_all()
    days = db.session.scalars(
        sa.select(TrainingSession.delivered_on).order_by(TrainingSession.id)
    ).all()
    assert days == [local_today, local_today - timedelta(days=1)]
