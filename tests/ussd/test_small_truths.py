"""What the screens say is true: no sessions left on a voucher that can no longer be used, a code
for the mentor offered only to someone with a mentor, and one of a thing said as one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marketplace.messages import catalogue
from marketplace.services import ratings, vouchers


def test_an_expired_voucher_shows_no_sessions_left(build, dialer, phone_of):
    long_ago = datetime.now(UTC) - timedelta(days=120)
    voucher = build.voucher(build.programme(validity_days=30), now=long_ago)
    phone = dialer(phone_of(voucher))
    # Past its date, before the scheduled expiry has marked it: already expired, nothing left.
    screen = phone.dial("1")
    assert "Expired" in screen and "used 0 of 4, 0 left" in screen, screen
    vouchers.expire_vouchers()
    assert "used 0 of 4, 0 left" in dialer(phone_of(voucher)).dial("1")


def test_a_revoked_voucher_shows_no_sessions_left_in_kiswahili(build, dialer, phone_of):
    voucher = build.voucher(language="sw")
    vouchers.revoke_voucher(voucher.code, "test", "issued in error")
    screen = dialer(phone_of(voucher)).dial("1")
    assert "0 vimebaki" in screen or "vimebaki 0" in screen, screen


def test_a_code_for_the_mentor_is_offered_only_with_a_booking(build, dialer, phone_of):
    voucher = build.voucher()
    phone = dialer(phone_of(voucher))
    assert phone.dial("3").splitlines()[:2] == ["Confirm a session:", "1 Sessions to confirm (0)"]
    assert "code" not in phone.screen
    build.booking(voucher)
    booked = dialer(phone_of(voucher)).dial("3")
    assert booked.splitlines()[1:3] == ["1 Show a code for my mentor", "2 Sessions to confirm (0)"]


def test_one_session_and_one_rating_are_said_in_the_singular(build, dialer, phone_of):
    one = build.programme(sessions_per_voucher=1, voucher_value_minor=100_000)
    provider = build.provider(name="Fundi Moja")
    rated = build.confirmed_session(build.booking(build.voucher(one), provider))
    ratings.rate(rated.entrepreneur_id, rated.ref, 4, "sms")
    voucher = build.voucher(one)
    phone = dialer(phone_of(voucher))
    assert "4.0/5, 1 rating\n" in phone.dial("2*1*1*1"), phone.screen  # the mentor's details
    assert "(1 session)?" in phone.press("1"), phone.screen  # the booking's question

    swahili = dialer(phone_of(build.voucher(one, language="sw")))
    assert "(kipindi 1)?" in swahili.dial("2*1*1*1*1"), swahili.screen


def test_a_text_that_counts_takes_the_form_of_its_number_in_each_language():
    t = catalogue.t
    assert t("ussd.rating.some", "en", rating=4.5, n=1) == "4.5/5, 1 rating"
    assert t("ussd.rating.some", "en", rating=4.5, n=2) == "4.5/5, 2 ratings"
    assert t("ussd.rating.some", "en", rating=4.5, n=0) == "4.5/5, 0 ratings"
    assert t("admin.sessions_to_review", "sw", n=1) == "Kipindi 1 cha kukagua"
    assert t("admin.sessions_to_review", "sw", n=3) == "Vipindi 3 vya kukagua"
    assert t("admin.sessions_to_review", "fr", n=1) == "1 session to review"  # English
