"""The co-payment on the entrepreneur's phone: the voucher screen says what they pay the mentor,
and that it was paid once the mentor recorded it."""

from __future__ import annotations

from marketplace.domain.models import Provider
from marketplace.extensions import db
from marketplace.services import co_payments


def _record(booking: object) -> None:
    provider = db.session.get(Provider, booking.provider_id)  # type: ignore[attr-defined]
    assert provider is not None
    co_payments.record_co_payment(provider.staff[0].id, booking.id)  # type: ignore[attr-defined]


def test_the_voucher_screen_says_the_share_to_pay_then_that_it_was_paid(build, dialer, phone_of):
    provider = build.provider(name="Mama Zawadi Tailors")
    voucher = build.voucher(build.programme(co_payment_percent=10))
    booking = build.booking(voucher, provider)
    phone = dialer(phone_of(voucher))
    phone.dial()

    screen = phone.press("1")
    assert screen.splitlines()[1:3] == ["Booked with Mama Zawadi Tailors", "KES 4,000, 0/4 used"]
    assert "You pay mentor KES 400" in screen.splitlines()

    _record(booking)
    phone = dialer(phone_of(voucher))
    phone.dial()
    assert "Paid mentor KES 400" in phone.press("1").splitlines()


def test_the_share_is_said_in_kiswahili_and_fits_the_screen(build, dialer, phone_of):
    long_name = "Chuo cha Mafunzo ya Ufundi Wa Kati wa Nairobi"
    voucher = build.voucher(
        build.programme(voucher_value_minor=99_999_999, co_payment_percent=100), language="sw"
    )
    build.booking(voucher, build.provider(name=long_name))
    phone = dialer(phone_of(voucher))
    phone.dial()

    screen = phone.press("1")
    assert "Mchango wako KES 999,999.99" in screen.splitlines()
    assert len(screen) <= 160  # the mentor's name gave way (checked in GSM-7 by the walk too)


def test_a_programme_without_a_co_payment_shows_none(build, dialer, phone_of):
    voucher = build.voucher(build.programme(co_payment_percent=0))
    phone = dialer(phone_of(voucher))
    phone.dial()
    screen = phone.press("1")
    assert "pay" not in screen.lower() and "used 0 of 4, 4 left" in screen
