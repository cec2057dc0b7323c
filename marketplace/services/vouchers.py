"""A voucher's end: revoked by an officer, expired past its date (unspent value back to the
programme's budget), and the reminder before it expires. Issuing is `issuance`."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..domain import limits
from ..domain.base import utcnow
from ..domain.codes import format_voucher_code
from ..domain.models import (
    ACTIVE_VOUCHER_STATUSES,
    Booking,
    BookingStatus,
    Programme,
    Voucher,
)
from ..domain.text import check as check_text
from ..extensions import db
from . import lookups, settings, unit


def snapshot(v: Voucher) -> dict[str, object]:
    return {"status": v.status, "sessions_confirmed": v.sessions_confirmed}


# --------------------------------------------------------------------------- ending vouchers


def _end_booking(voucher: Voucher, now: datetime) -> None:
    """Close the voucher's active booking (if any) and free the provider's place."""
    booking = db.session.scalar(
        sa.select(Booking)
        .where(Booking.voucher_id == voucher.id, Booking.status == BookingStatus.ACTIVE)
        .with_for_update(of=Booking)
    )
    if booking is None:
        return
    booking.close(now)
    lookups.free_place(booking.provider_id)


def _return_budget(voucher: Voucher, amount: int) -> None:
    if amount <= 0:
        return
    db.session.execute(
        sa.update(Programme)
        .where(Programme.id == voucher.programme_id)
        .values(committed_minor=Programme.committed_minor - amount)
        .execution_options(synchronize_session=False)
    )


def revoke_voucher(code: str, actor: str, reason: str = "", now: datetime | None = None) -> Voucher:
    check_text(reason, "reason", multiline=True)
    with unit.of_work(actor, now) as uow:
        voucher = lookups.find_voucher(code, lock=True)
        before = snapshot(voucher)
        returned = voucher.revoke(uow.now)
        _end_booking(voucher, uow.now)
        _return_budget(voucher, returned)
        uow.audit(
            "voucher.revoked",
            voucher,
            before,
            {
                **snapshot(voucher),
                "returned_minor": returned,
                "reason": reason[: limits.REASON_MAX],
            },
        )
        person = voucher.entrepreneur
        uow.sms(
            person.phone,
            "voucher_revoked",
            person.language,
            opted_out=person.sms_opt_out,
            code=format_voucher_code(voucher.code),
        )
    return voucher


def expire_vouchers(now: datetime | None = None, batch: int = 500) -> int:
    """Expire every active voucher past its date; unspent value goes back to the budget."""
    now = now or utcnow()
    expired = 0
    while True:
        ids = db.session.scalars(
            sa.select(Voucher.id)
            .where(Voucher.status.in_(ACTIVE_VOUCHER_STATUSES), Voucher.expires_at <= now)
            .order_by(Voucher.id)
            .limit(batch)
        ).all()
        if not ids:
            return expired
        with unit.of_work("system", now) as uow:
            for voucher_id in ids:
                voucher = lookups.lock_voucher(voucher_id)
                if voucher.status not in ACTIVE_VOUCHER_STATUSES:
                    continue  # another worker got there first
                before = snapshot(voucher)
                returned = voucher.expire(now)
                _end_booking(voucher, now)
                _return_budget(voucher, returned)
                uow.audit(
                    "voucher.expired",
                    voucher,
                    before,
                    {**snapshot(voucher), "returned_minor": returned},
                )
                expired += 1


def send_expiry_reminders(now: datetime | None = None, days: int | None = None) -> int:
    """Remind entrepreneurs a few days before a voucher with unused sessions expires."""
    now = now or utcnow()
    days = days if days is not None else int(settings.get("EXPIRY_REMINDER_DAYS", 7))
    with unit.of_work("system", now) as uow:
        vouchers = db.session.scalars(
            sa.select(Voucher)
            .where(
                Voucher.status.in_(ACTIVE_VOUCHER_STATUSES),
                Voucher.expires_at > now,
                Voucher.expires_at <= now + timedelta(days=days),
                Voucher.reminder_sent_at.is_(None),
            )
            .with_for_update(of=Voucher, skip_locked=True)
        ).all()
        for voucher in vouchers:
            person = voucher.entrepreneur
            voucher.reminder_sent_at = now
            uow.sms(
                person.phone,
                "voucher_expiring",
                person.language,
                opted_out=person.sms_opt_out,
                code=format_voucher_code(voucher.code),
                expiry=voucher.expires_at.strftime("%d/%m/%Y"),
                left=voucher.sessions_left,
                ussd=settings.ussd_code(),
            )
    return len(vouchers)
