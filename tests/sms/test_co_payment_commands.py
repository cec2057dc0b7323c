"""The co-payment by SMS: BAL says what the entrepreneur pays the mentor, then that it was paid
once the mentor recorded it."""

from __future__ import annotations

from marketplace.domain.models import Provider
from marketplace.extensions import db
from marketplace.messages.gsm import segments
from marketplace.services import co_payments


def _record(booking: object) -> None:
    provider = db.session.get(Provider, booking.provider_id)  # type: ignore[attr-defined]
    assert provider is not None
    co_payments.record_co_payment(provider.staff[0].id, booking.id)  # type: ignore[attr-defined]


def test_bal_says_the_share_to_pay_then_that_it_was_paid(build, sms):
    voucher = build.voucher(build.programme(co_payment_percent=10), language="sw")
    booking = build.booking(voucher, build.provider(name="Mama Njeri Tailors"))
    phone = voucher.entrepreneur.phone

    (due,) = sms(phone, "BAL")
    assert "Mama Njeri Tailors, vimebaki 4/4" in due and due.endswith(", unalipa KES 400")
    _record(booking)
    (paid,) = sms(phone, "SALIO")
    assert paid.endswith(", umelipa KES 400")


def test_bal_with_shares_on_several_vouchers_stays_one_part(build, sms):
    first = build.voucher(build.programme(co_payment_percent=100, voucher_value_minor=99_999_999))
    phone = first.entrepreneur.phone
    for _ in range(3):
        voucher = build.voucher(build.programme(co_payment_percent=50), phone=phone)
        build.booking(voucher, build.provider(name="Chuo cha Mafunzo ya Ufundi Wa Kati"))

    (reply,) = sms(phone, "BAL")

    assert segments(reply) == 1, (len(reply), reply)
    assert ", you pay KES 999,999.99" in reply and "more: dial" in reply
