"""The rows use cases load and lock, one way each, so that no use case imports another for them.

A lock is taken for the rest of the caller's transaction (`SELECT … FOR UPDATE`, re-read from the
database: what another transaction committed before the lock was granted is what the rule sees).
The order use cases take them in is voucher, then booking, then session rows of that voucher.
"""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa

from ..domain import errors
from ..domain.codes import normalise_voucher_code
from ..domain.models import (
    Entrepreneur,
    Provider,
    ProviderStaff,
    ProviderStatus,
    TrainingSession,
    Voucher,
)
from ..extensions import db

_Locked = TypeVar("_Locked", Voucher, TrainingSession)


def entrepreneur(entrepreneur_id: int) -> Entrepreneur:
    person = db.session.get(Entrepreneur, entrepreneur_id)
    if person is None:
        raise errors.NotFound("No such entrepreneur.")
    return person


def active_staff(staff_id: int) -> ProviderStaff:
    """A provider's staff member who may act (a deactivated account is refused)."""
    staff = db.session.get(ProviderStaff, staff_id)
    if staff is None or not staff.active:
        raise errors.Forbidden()
    return staff


def provider(provider_id: int, *, lock: bool = False) -> Provider:
    stmt = sa.select(Provider).where(Provider.id == provider_id)
    if lock:
        stmt = stmt.with_for_update()
    found = db.session.scalar(stmt)
    if found is None:
        raise errors.NotFound("No such provider.")
    return found


def find_voucher(code: str, *, lock: bool = False) -> Voucher:
    """The voucher with a code as people type it (dashes, spaces)."""
    normal = normalise_voucher_code(code)
    if normal is None:
        raise errors.NotFound("No voucher has that code. Check the digits.")
    stmt = sa.select(Voucher).where(Voucher.code == normal)
    if lock:
        stmt = stmt.with_for_update(of=Voucher)
    voucher = db.session.scalar(stmt)
    if voucher is None:
        raise errors.NotFound("No voucher has that code. Check the digits.")
    return voucher


def lock_voucher(voucher_id: int) -> Voucher:
    """The voucher, locked: every change to a voucher, its bookings and its sessions takes it."""
    return _locked(Voucher, voucher_id, "No such voucher.")


def lock_session(session_id: int) -> TrainingSession:
    """A training session, locked (an answer, a code or a review decides it once)."""
    return _locked(TrainingSession, session_id, "No such session.")


def _locked(model: type[_Locked], row_id: int, missing: str) -> _Locked:
    """A row locked for this transaction, read afresh (not what the session held before)."""
    row = db.session.scalar(
        sa.select(model)
        .where(model.id == row_id)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise errors.NotFound(missing)
    return row


def take_place(provider_id: int) -> bool:
    """Take one of an approved provider's free places in the current transaction; False when none
    is left. One conditional UPDATE, so concurrent bookings can never pass the capacity."""
    taken = db.session.execute(
        sa.update(Provider)
        .where(
            Provider.id == provider_id,
            Provider.status == ProviderStatus.APPROVED,
            Provider.active_bookings < Provider.capacity,
        )
        .values(active_bookings=Provider.active_bookings + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1  # type: ignore[attr-defined]


def free_place(provider_id: int) -> None:
    """Give a place back when a booking ends (cancelled, completed, or its voucher ended)."""
    db.session.execute(
        sa.update(Provider)
        .where(Provider.id == provider_id)
        .values(active_bookings=Provider.active_bookings - 1)
        .execution_options(synchronize_session=False)
    )
