"""The entrepreneur's co-payment: their share of the voucher's value (the programme's co-payment
percent, fixed when the voucher was issued), paid to the provider directly and recorded received
by the provider's mentor, from whichever channel they use (web page, USSD, SMS).

A programme may require it before the first session: then no session can be recorded until it
is (`Voucher.ensure_can_record_session`). The entrepreneur is told by SMS when it is recorded,
so that a co-payment recorded but never paid is heard of. Recorded once; audited.
"""

from __future__ import annotations

from datetime import datetime

from ..domain import errors
from ..domain.codes import format_voucher_code
from ..domain.models import Booking, BookingStatus, Voucher
from ..domain.money import format_minor
from ..extensions import db
from . import lookups, unit


def record_co_payment(staff_id: int, booking_id: int, now: datetime | None = None) -> Voucher:
    """The mentor (`staff_id`) records that the trainee of one of their provider's bookings
    paid their co-payment."""
    with unit.of_work(f"mentor:{staff_id}", now) as uow:
        staff = lookups.active_staff(staff_id)
        booking = db.session.get(Booking, booking_id)
        # A booking of another provider is reported as missing, never as someone else's.
        if booking is None or booking.provider_id != staff.provider_id:
            raise errors.NotFound("No such booking.")
        voucher = lookups.lock_voucher(booking.voucher_id)
        db.session.refresh(booking)  # as it is now that the voucher is locked
        if booking.status not in (BookingStatus.ACTIVE, BookingStatus.COMPLETED):
            raise errors.BookingNotActive("This booking is no longer active.")
        before = {"co_payment_recorded_at": None}
        voucher.record_co_payment(uow.actor, uow.now)
        uow.audit(
            "voucher.co_payment_recorded",
            voucher,
            before,
            {
                "co_payment_recorded_at": uow.now.isoformat(),
                "co_payment_minor": voucher.co_payment_minor,
                "booking_id": booking.id,
            },
        )
        person = voucher.entrepreneur
        uow.sms(
            person.phone,
            "co_payment_recorded",
            person.language,
            provider=booking.provider.name,
            share=format_minor(voucher.co_payment_minor, voucher.currency),
            code=format_voucher_code(voucher.code),
        )
    return voucher
