"""Programme set-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from ..domain import errors, limits
from ..domain.models import PayoutSchedule, Programme
from ..domain.models.programmes import DEFAULT_TIME_ZONE
from ..domain.text import check_fields
from ..extensions import db
from . import reference, unit

# What a programme may be (`domain/limits.py`). The officers' form and the API both come through
# `create_programme`, which refuses anything outside these bounds, naming the field and the bound.
# field, how a message names it, its unit, its bounds
_RANGES = (
    ("voucher_value_minor", "The voucher value", "minor units", limits.VOUCHER_VALUE_MINOR),
    ("sessions_per_voucher", "Sessions per voucher", "", limits.SESSIONS_PER_VOUCHER),
    ("co_payment_percent", "The co-payment", "percent", limits.CO_PAYMENT_PERCENT),
    ("validity_days", "Validity", "days", limits.VALIDITY_DAYS),
    ("budget_minor", "The budget", "minor units", limits.BUDGET_MINOR),
    ("confirmation_window_hours", "The window", "hours", limits.CONFIRMATION_WINDOW_HOURS),
)


@dataclass(frozen=True)
class NewProgramme:
    name: str
    funder: str
    currency: str
    voucher_value_minor: int
    sessions_per_voucher: int
    validity_days: int
    budget_minor: int
    co_payment_percent: int = 0
    co_payment_required: bool = False  # recorded received before the first session
    confirmation_window_hours: int = 72
    eligible_trades: list[str] = field(default_factory=list)
    eligible_regions: list[str] = field(default_factory=list)
    time_zone: str = DEFAULT_TIME_ZONE  # whose days a session's date is


def snapshot(p: Programme) -> dict[str, object]:
    return {
        "name": p.name,
        "funder": p.funder,
        "currency": p.currency,
        "voucher_value_minor": p.voucher_value_minor,
        "sessions_per_voucher": p.sessions_per_voucher,
        "budget_minor": p.budget_minor,
        "committed_minor": p.committed_minor,
        "validity_days": p.validity_days,
        "co_payment_percent": p.co_payment_percent,
        "co_payment_required": p.co_payment_required,
        "time_zone": p.time_zone,
    }


def _check_bounds(cmd: NewProgramme) -> None:
    """Refuse the first field outside its bounds, naming the field and the bound."""
    for field_name, text in (("name", cmd.name), ("funder", cmd.funder)):
        if not text.strip():
            raise errors.InvalidInput(f"Give the programme's {field_name}.", field=field_name)
        if len(text) > limits.NAME_MAX:
            raise errors.InvalidInput(
                f"The {field_name} is longer than {limits.NAME_MAX} characters.",
                field=field_name,
                maximum=limits.NAME_MAX,
            )
    if len(cmd.currency) != 3 or not cmd.currency.isalpha():
        raise errors.InvalidInput("The currency is a three-letter code.", field="currency")
    _check_time_zone(cmd.time_zone)
    _check_ranges(cmd)


def _check_ranges(cmd: object) -> None:
    """Refuse the first of the command's fields (those it has) outside its bounds."""
    for field_name, label, unit_name, bounds in _RANGES:
        if not hasattr(cmd, field_name):
            continue
        value = getattr(cmd, field_name)
        low, high = bounds.low, bounds.high
        if value not in bounds:
            raise errors.InvalidInput(
                f"{label} must be from {low} to {high} {unit_name}".rstrip() + ".",
                field=field_name,
                **({"minimum": low} if value < low else {"maximum": high}),
            )


def _check_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.InvalidInput(
            "The time zone is not known (Africa/Nairobi, for example).", field="time_zone"
        ) from None


def _check_codes(trades: list[str], regions: list[str]) -> None:
    unknown_trades = set(trades) - reference.trade_codes()
    if unknown_trades:
        raise errors.InvalidInput(
            f"Unknown trades: {', '.join(sorted(unknown_trades))}", field="eligible_trades"
        )
    unknown_regions = set(regions) - reference.region_codes()
    if unknown_regions:
        raise errors.InvalidInput(
            f"Unknown regions: {', '.join(sorted(unknown_regions))}", field="eligible_regions"
        )


def create_programme(cmd: NewProgramme, actor: str, now: datetime | None = None) -> Programme:
    """Set up a programme; anything outside the bounds above is refused and nothing is written."""
    check_fields(cmd)
    _check_bounds(cmd)
    _check_codes(cmd.eligible_trades, cmd.eligible_regions)
    if cmd.voucher_value_minor > cmd.budget_minor:
        raise errors.InvalidInput(
            "The budget must cover at least one voucher.", field="budget_minor"
        )
    if db.session.scalar(sa.select(Programme.id).where(Programme.name == cmd.name)):
        raise errors.AlreadyExists("A programme with that name exists.", field="name")
    with unit.of_work(actor, now) as uow:
        programme = _new_programme(cmd, uow.now)
        uow.flush_or(errors.AlreadyExists("A programme with that name exists."))
        uow.audit("programme.created", programme, None, snapshot(programme))
    return programme


def _new_programme(cmd: NewProgramme, now: datetime) -> Programme:
    programme = Programme(
        name=cmd.name,
        funder=cmd.funder,
        currency=cmd.currency.upper(),
        voucher_value_minor=cmd.voucher_value_minor,
        sessions_per_voucher=cmd.sessions_per_voucher,
        co_payment_percent=cmd.co_payment_percent,
        co_payment_required=cmd.co_payment_required,
        validity_days=cmd.validity_days,
        budget_minor=cmd.budget_minor,
        committed_minor=0,
        confirmation_window_hours=cmd.confirmation_window_hours,
        eligible_trades=sorted(cmd.eligible_trades),
        eligible_regions=sorted(cmd.eligible_regions),
        time_zone=cmd.time_zone,
        created_at=now,
    )
    db.session.add(programme)
    return programme


@dataclass(frozen=True)
class ProgrammeChange:
    """What may change once a programme runs: how long vouchers issued from now on last, a larger
    budget, who is eligible for vouchers issued from now on and the co-payment they carry, the
    window to answer a session, and how often its providers are paid.
    (What a voucher is worth, its sessions and currency stay: vouchers out there hold them.)"""

    validity_days: int
    budget_minor: int
    confirmation_window_hours: int
    eligible_trades: list[str] = field(default_factory=list)
    eligible_regions: list[str] = field(default_factory=list)
    payout_schedule: str = PayoutSchedule.DAILY
    co_payment_percent: int = 0  # of the vouchers issued from now on (each keeps its own share)
    co_payment_required: bool = False


def terms(p: Programme) -> dict[str, object]:
    """What `change_programme` may change, as the audit log records it."""
    return {
        "validity_days": p.validity_days,
        "budget_minor": p.budget_minor,
        "confirmation_window_hours": p.confirmation_window_hours,
        "eligible_trades": sorted(p.eligible_trades or []),
        "eligible_regions": sorted(p.eligible_regions or []),
        "payout_schedule": p.payout_schedule,
        "co_payment_percent": p.co_payment_percent,
        "co_payment_required": p.co_payment_required,
    }


def change_programme(
    programme_id: int, cmd: ProgrammeChange, actor: str, now: datetime | None = None
) -> Programme:
    """Change a running programme within the same bounds as its creation; the budget only goes
    up. One audit event with what changed (before and after); nothing changed, no event."""
    check_fields(cmd)
    _check_ranges(cmd)
    _check_codes(cmd.eligible_trades, cmd.eligible_regions)
    if cmd.payout_schedule not in set(PayoutSchedule):
        raise errors.InvalidInput(
            f"The payout schedule is one of: {', '.join(PayoutSchedule)}.", field="payout_schedule"
        )
    with unit.of_work(actor, now) as uow:
        # Locked as issuance locks it: the budget read here is the one the change raises.
        programme = db.session.scalar(
            sa.select(Programme).where(Programme.id == programme_id).with_for_update()
        )
        if programme is None:
            raise errors.NotFound("No such programme.")
        db.session.refresh(programme)
        if cmd.budget_minor < programme.budget_minor:
            raise errors.InvalidInput(
                "The budget can only go up: vouchers were issued against it.",
                field="budget_minor",
                minimum=programme.budget_minor,
            )
        before = terms(programme)
        programme.validity_days = cmd.validity_days
        programme.budget_minor = cmd.budget_minor
        programme.confirmation_window_hours = cmd.confirmation_window_hours
        programme.eligible_trades = sorted(set(cmd.eligible_trades))
        programme.eligible_regions = sorted(set(cmd.eligible_regions))
        programme.payout_schedule = cmd.payout_schedule
        programme.co_payment_percent = cmd.co_payment_percent
        programme.co_payment_required = cmd.co_payment_required
        after = terms(programme)
        changed = [k for k in after if after[k] != before[k]]
        if changed:
            uow.audit(
                "programme.changed",
                programme,
                {k: before[k] for k in changed},
                {k: after[k] for k in changed},
            )
    return programme


def get_programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise errors.NotFound("No such programme.")
    return programme
