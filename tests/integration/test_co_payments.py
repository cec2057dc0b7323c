"""The entrepreneur's co-payment: fixed on the voucher when issued, recorded received by the
mentor once (the entrepreneur told by SMS), and, where the programme requires it, recorded before
the first session can be."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from marketplace.domain import errors
from marketplace.domain.models import (
    AuditEvent,
    OutboxMessage,
    Provider,
    TrainingSession,
    Voucher,
)
from marketplace.extensions import db
from marketplace.services import co_payments, sessions
from marketplace.services.sessions import NewSession
from tests.builders import Builders


def _staff_id(booking: object) -> int:
    provider = db.session.get(Provider, booking.provider_id)  # type: ignore[attr-defined]
    assert provider is not None
    return provider.staff[0].id


def _record_session(booking: object) -> object:
    return sessions.record_session(
        _staff_id(booking),
        NewSession(
            booking_id=booking.id,  # type: ignore[attr-defined]
            delivered_on=datetime.now(UTC).date(),
            duration_minutes=60,
            topic="Measuring and cutting",
        ),
    )


def test_the_share_is_the_programmes_percent_of_the_value_fixed_when_issued(
    build: Builders,
) -> None:
    tenth = build.voucher(build.programme(voucher_value_minor=399_999, co_payment_percent=10))
    none = build.voucher(build.programme(co_payment_percent=0))

    assert tenth.co_payment_minor == 39_999  # rounded down: never a cent more than 10%
    assert none.co_payment_minor == 0


def test_the_voucher_sms_states_the_share_when_the_programme_asks_one(build: Builders) -> None:
    asked = build.voucher(build.programme(co_payment_percent=15))
    free = build.voucher(build.programme(co_payment_percent=0))

    def body(voucher: Voucher) -> str:
        found = db.session.scalar(
            sa.select(OutboxMessage.body).where(
                OutboxMessage.to_phone == voucher.entrepreneur.phone,
                OutboxMessage.kind == "voucher_issued",
            )
        )
        assert found is not None
        return found

    assert "you pay the mentor KES 600" in body(asked)
    assert "pay" not in body(free) and "KES 4,000" in body(free)


def test_the_mentor_records_the_co_payment_once_and_the_entrepreneur_is_told(
    build: Builders,
) -> None:
    booking = build.booking()
    staff_id = _staff_id(booking)

    voucher = co_payments.record_co_payment(staff_id, booking.id)

    assert voucher.co_payment_recorded_at is not None
    assert voucher.co_payment_recorded_by == f"mentor:{staff_id}"
    told = db.session.scalars(
        sa.select(OutboxMessage.body).where(
            OutboxMessage.to_phone == voucher.entrepreneur.phone,
            OutboxMessage.kind == "co_payment_recorded",
        )
    ).all()
    assert len(told) == 1 and "co-payment of KES 400" in told[0]
    assert (
        db.session.scalar(
            sa.select(AuditEvent.actor).where(AuditEvent.action == "voucher.co_payment_recorded")
        )
        == f"mentor:{staff_id}"
    )
    with pytest.raises(errors.CoPaymentAlreadyRecorded):
        co_payments.record_co_payment(staff_id, booking.id)


def test_another_providers_mentor_cannot_record_it(build: Builders) -> None:
    booking = build.booking()
    other = build.provider()

    with pytest.raises(errors.NotFound):
        co_payments.record_co_payment(other.staff[0].id, booking.id)
    db.session.expire_all()
    assert db.session.get(Voucher, booking.voucher_id).co_payment_recorded_at is None  # type: ignore[union-attr]


def test_a_programme_without_a_co_payment_has_none_to_record(build: Builders) -> None:
    booking = build.booking(build.voucher(build.programme(co_payment_percent=0)))

    with pytest.raises(errors.NoCoPayment):
        co_payments.record_co_payment(_staff_id(booking), booking.id)


def test_a_cancelled_booking_takes_no_co_payment(build: Builders) -> None:
    from marketplace.services import bookings

    booking = build.booking()
    voucher = db.session.get(Voucher, booking.voucher_id)
    assert voucher is not None
    bookings.cancel_booking(voucher.entrepreneur_id, voucher.id)

    with pytest.raises(errors.BookingNotActive):
        co_payments.record_co_payment(_staff_id(booking), booking.id)


def test_a_programme_that_requires_it_counts_no_session_before_it_is_recorded(
    build: Builders,
) -> None:
    programme = build.programme(co_payment_required=True)
    booking = build.booking(build.voucher(programme))

    with pytest.raises(errors.CoPaymentDue) as refused:
        _record_session(booking)
    assert refused.value.context["share"] == "KES 400"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingSession)) == 0

    co_payments.record_co_payment(_staff_id(booking), booking.id)
    recorded = _record_session(booking)
    assert recorded.status == "recorded"  # type: ignore[attr-defined]


def test_a_programme_that_does_not_require_it_counts_sessions_either_way(
    build: Builders,
) -> None:
    booking = build.booking(build.voucher(build.programme(co_payment_required=False)))

    assert _record_session(booking).status == "recorded"  # type: ignore[attr-defined]
    co_payments.record_co_payment(_staff_id(booking), booking.id)  # later is fine too
