"""An SMS command acts on what it named and read, or on nothing: never on what took its place."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.domain import errors
from marketplace.domain.models import Booking, BookingStatus, OutboxMessage, Voucher
from marketplace.extensions import db
from marketplace.services import bookings
from sms.commands import handlers

from .conftest import outbox_to, post_sms


def _bookings() -> list[tuple[int, int, str]]:
    db.session.expire_all()
    return sorted(db.session.execute(sa.select(Booking.id, Booking.provider_id, Booking.status)))


def test_cancel_naming_a_mentor_whose_booking_is_switched_meanwhile_cancels_nothing(
    app, build, client, postgres, monkeypatch
):
    """CANCEL <mentor number> reads the booking it names; when the trainee's other channel
    cancels it and books another mentor before the cancellation takes the voucher's lock, the
    booking now on the voucher is not the one named: nothing is cancelled, and the reply says so."""
    alpha = build.provider(name="Mentor Alpha")
    beta = build.provider(name="Mentor Beta")
    voucher = build.voucher()
    build.booking(voucher, alpha)
    person_id, phone = voucher.entrepreneur_id, voucher.entrepreneur.phone

    def switch_elsewhere() -> None:
        with app.app_context():  # another request, on its own connection
            bookings.cancel_booking(person_id, voucher.id, channel="ussd")
            bookings.book_provider(person_id, beta.id, voucher.id, channel="ussd")

    real = handlers.normalise_voucher_code

    def read_then_switched(given: str) -> Any:  # runs after the SMS read the bookings
        other = threading.Thread(target=switch_elsewhere)
        other.start()
        other.join(timeout=20)
        assert not other.is_alive()
        return real(given)

    monkeypatch.setattr(handlers, "normalise_voucher_code", read_then_switched)
    post_sms(client, phone, f"CANCEL {alpha.number}")

    (active,) = [b for b in _bookings() if b.status == BookingStatus.ACTIVE]
    assert active.provider_id == beta.id
    assert outbox_to(phone, "reply")[-1].startswith(
        "Ujuzi: that booking changed as your SMS came in, so nothing was cancelled."
    )
    # Mentor Beta was told of the booking, and of no cancellation.
    told = db.session.scalars(
        sa.select(OutboxMessage.kind).where(OutboxMessage.to_phone == beta.phone)
    ).all()
    assert "booking_made_provider" in told and "booking_cancelled_provider" not in told


def test_cancel_by_the_booking_shown_refuses_when_the_voucher_holds_another(build):
    alpha = build.provider(name="Mentor Alpha")
    beta = build.provider(name="Mentor Beta")
    voucher = build.voucher()
    shown = build.booking(voucher, alpha)
    person_id = voucher.entrepreneur_id
    bookings.cancel_booking(person_id, voucher.id, channel="sms")
    bookings.book_provider(person_id, beta.id, voucher.id, channel="sms")
    before = _bookings()

    with pytest.raises(errors.BookingChanged):
        bookings.cancel_booking(person_id, voucher.id, booking_id=shown.id, channel="ussd")
    db.session.rollback()

    assert _bookings() == before
    assert db.session.get(Voucher, voucher.id).status == "booked"


def test_cancel_naming_a_mentor_cancels_that_booking_and_names_it(build, client):
    alpha = build.provider(name="Mentor Alpha")
    voucher = build.voucher()
    build.booking(voucher, alpha)
    phone = voucher.entrepreneur.phone
    post_sms(client, phone, f"CANCEL {alpha.number}")
    assert outbox_to(phone, "reply")[-1].startswith("Ujuzi: your booking with Mentor Alpha is")
    assert [b.status for b in _bookings()] == [BookingStatus.CANCELLED]
