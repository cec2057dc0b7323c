"""Programme set-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..domain import errors
from ..domain.base import utcnow
from ..domain.models import Programme
from ..domain.text import check_fields
from ..extensions import db
from . import audit, reference, unit

# What a programme may be. The officers' form and the API both come through `create_programme`,
# which refuses anything outside these bounds (the API's schema declares the same ones for its
# document) before the database would (a name longer than its column, an amount beyond a 64-bit
# integer) or a later use would (an expiry date past the calendar's end at issuance).
NAME_MAX = 120  # the length of the name and funder columns
VOUCHER_VALUE_MAX_MINOR = 10**12
BUDGET_MAX_MINOR = 10**15
SESSIONS_PER_VOUCHER_MAX = 100
VALIDITY_DAYS_MAX = 3650  # ten years
CONFIRMATION_WINDOW_HOURS_MAX = 24 * 60  # sixty days

# field, how a message names it, its unit, the least and the most it may be
_RANGES = (
    ("voucher_value_minor", "The voucher value", "minor units", 1, VOUCHER_VALUE_MAX_MINOR),
    ("sessions_per_voucher", "Sessions per voucher", "", 1, SESSIONS_PER_VOUCHER_MAX),
    ("co_payment_percent", "The co-payment", "percent", 0, 100),
    ("validity_days", "Validity", "days", 1, VALIDITY_DAYS_MAX),
    ("budget_minor", "The budget", "minor units", 1, BUDGET_MAX_MINOR),
    ("confirmation_window_hours", "The window", "hours", 1, CONFIRMATION_WINDOW_HOURS_MAX),
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
    confirmation_window_hours: int = 72
    eligible_trades: list[str] = field(default_factory=list)
    eligible_regions: list[str] = field(default_factory=list)


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
    }


def _check_bounds(cmd: NewProgramme) -> None:
    """Refuse the first field outside its bounds, naming the field and the bound."""
    for field_name, text in (("name", cmd.name), ("funder", cmd.funder)):
        if not text.strip():
            raise errors.InvalidInput(f"Give the programme's {field_name}.", field=field_name)
        if len(text) > NAME_MAX:
            raise errors.InvalidInput(
                f"The {field_name} is longer than {NAME_MAX} characters.",
                field=field_name,
                maximum=NAME_MAX,
            )
    if len(cmd.currency) != 3 or not cmd.currency.isalpha():
        raise errors.InvalidInput("The currency is a three-letter code.", field="currency")
    for field_name, label, unit_name, low, high in _RANGES:
        value = getattr(cmd, field_name)
        if not low <= value <= high:
            raise errors.InvalidInput(
                f"{label} must be from {low} to {high} {unit_name}".rstrip() + ".",
                field=field_name,
                **({"minimum": low} if value < low else {"maximum": high}),
            )


def create_programme(cmd: NewProgramme, actor: str, now: datetime | None = None) -> Programme:
    """Set up a programme; anything outside the bounds above is refused and nothing is written."""
    now = now or utcnow()
    check_fields(cmd)
    _check_bounds(cmd)
    unknown_trades = set(cmd.eligible_trades) - reference.trade_codes()
    if unknown_trades:
        raise errors.InvalidInput(
            f"Unknown trades: {', '.join(sorted(unknown_trades))}", field="eligible_trades"
        )
    unknown_regions = set(cmd.eligible_regions) - reference.region_codes()
    if unknown_regions:
        raise errors.InvalidInput(
            f"Unknown regions: {', '.join(sorted(unknown_regions))}", field="eligible_regions"
        )
    if cmd.voucher_value_minor > cmd.budget_minor:
        raise errors.InvalidInput(
            "The budget must cover at least one voucher.", field="budget_minor"
        )
    if db.session.scalar(sa.select(Programme.id).where(Programme.name == cmd.name)):
        raise errors.AlreadyExists("A programme with that name exists.", field="name")
    programme = Programme(
        name=cmd.name,
        funder=cmd.funder,
        currency=cmd.currency.upper(),
        voucher_value_minor=cmd.voucher_value_minor,
        sessions_per_voucher=cmd.sessions_per_voucher,
        co_payment_percent=cmd.co_payment_percent,
        validity_days=cmd.validity_days,
        budget_minor=cmd.budget_minor,
        committed_minor=0,
        confirmation_window_hours=cmd.confirmation_window_hours,
        eligible_trades=sorted(cmd.eligible_trades),
        eligible_regions=sorted(cmd.eligible_regions),
        created_at=now,
    )
    db.session.add(programme)
    unit.flush_or(errors.AlreadyExists("A programme with that name exists."))
    audit.record(
        db.session(),
        actor,
        "programme.created",
        "programme",
        programme.id,
        None,
        snapshot(programme),
        now,
    )
    unit.commit()
    return programme


def get_programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise errors.NotFound("No such programme.")
    return programme
