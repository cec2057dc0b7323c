"""Provider onboarding: register, approve, suspend, staff accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..domain import errors, limits, text
from ..domain.base import utcnow
from ..domain.codes import new_provider_number
from ..domain.models import Provider, ProviderKind, ProviderStaff, ProviderStatus, Trade
from ..domain.phones import normalise_phone
from ..extensions import db
from . import audit, outbox, reference, settings, unit


@dataclass(frozen=True)
class NewProvider:
    kind: str
    name: str
    phone: str
    trades: list[str]
    region: str
    town: str = ""
    capacity: int = 5
    payout_account: str = ""
    contact_name: str = ""  # the first staff account's name; defaults to the provider's name
    language: str = "en"
    extra_staff: list[tuple[str, str]] = field(default_factory=list)  # (name, phone)


def snapshot(p: Provider) -> dict[str, object]:
    return {
        "number": p.number,
        "kind": p.kind,
        "name": p.name,
        "status": p.status,
        "capacity": p.capacity,
        "region": p.region_code,
        "trades": p.trade_codes,
    }


def _unique_number() -> str:
    for length in (5, 5, 5, 6, 6, 7):
        number = new_provider_number(length)
        if not db.session.scalar(sa.select(Provider.id).where(Provider.number == number)):
            return number
    raise RuntimeError("could not draw a free provider number")


def register_provider(cmd: NewProvider, actor: str, now: datetime | None = None) -> Provider:
    now = now or utcnow()
    text.check_fields(cmd)
    if cmd.kind not in set(ProviderKind):
        raise errors.InvalidInput("kind must be craft_worker or institute", field="kind")
    phone = normalise_phone(cmd.phone, settings.phone_region())
    if not cmd.trades:
        raise errors.InvalidInput("Give at least one trade.", field="trades")
    unknown = set(cmd.trades) - reference.trade_codes()
    if unknown:
        raise errors.InvalidInput(f"Unknown trades: {', '.join(sorted(unknown))}", field="trades")
    if cmd.region not in reference.region_codes():
        raise errors.InvalidInput(f"Unknown region: {cmd.region}", field="region")
    if cmd.capacity < limits.PROVIDER_CAPACITY.low:
        raise errors.InvalidInput(
            f"Capacity must be at least {limits.PROVIDER_CAPACITY.low}.", field="capacity"
        )
    staff = [
        (cmd.contact_name or cmd.name, phone),
        *[(n, normalise_phone(p, settings.phone_region())) for n, p in cmd.extra_staff],
    ]
    taken = db.session.scalar(
        sa.select(ProviderStaff.phone).where(ProviderStaff.phone.in_([p for _, p in staff]))
    )
    if taken:
        raise errors.AlreadyExists(
            "That phone number already signs in for a provider.", field="phone"
        )
    trades = db.session.scalars(sa.select(Trade).where(Trade.code.in_(cmd.trades))).all()
    provider = Provider(
        number=_unique_number(),
        kind=cmd.kind,
        name=cmd.name.strip(),
        phone=phone,
        region_code=cmd.region,
        town=cmd.town.strip(),
        capacity=cmd.capacity,
        active_bookings=0,
        status="pending",
        payout_account=cmd.payout_account,
        created_at=now,
        trades=list(trades),
        rating_sum=0,
        rating_count=0,
    )
    db.session.add(provider)
    for name, staff_phone in staff:
        db.session.add(
            ProviderStaff(
                provider=provider,
                name=name,
                phone=staff_phone,
                language=cmd.language,
                created_at=now,
            )
        )
    unit.flush_or(errors.AlreadyExists("That provider already exists."))
    audit.record(
        db.session(),
        actor,
        "provider.registered",
        "provider",
        provider.id,
        None,
        snapshot(provider),
        now,
    )
    unit.commit()
    return provider


def get_provider(provider_id: int, *, lock: bool = False) -> Provider:
    stmt = sa.select(Provider).where(Provider.id == provider_id)
    if lock:
        stmt = stmt.with_for_update()
    provider = db.session.scalar(stmt)
    if provider is None:
        raise errors.NotFound("No such provider.")
    return provider


def approve_provider(provider_id: int, actor: str, now: datetime | None = None) -> Provider:
    now = now or utcnow()
    provider = get_provider(provider_id, lock=True)
    before = snapshot(provider)
    provider.approve(now)
    audit.record(
        db.session(),
        actor,
        "provider.approved",
        "provider",
        provider.id,
        before,
        snapshot(provider),
        now,
    )
    outbox.queue(
        provider.phone,
        "provider_approved",
        _language(provider),
        now=now,
        provider=provider.name,
        number=provider.number,
    )
    unit.commit()
    return provider


def suspend_provider(provider_id: int, actor: str, now: datetime | None = None) -> Provider:
    now = now or utcnow()
    provider = get_provider(provider_id, lock=True)
    before = snapshot(provider)
    provider.suspend()
    audit.record(
        db.session(),
        actor,
        "provider.suspended",
        "provider",
        provider.id,
        before,
        snapshot(provider),
        now,
    )
    unit.commit()
    return provider


def add_staff(
    provider_id: int, name: str, phone: str, actor: str, now: datetime | None = None
) -> ProviderStaff:
    now = now or utcnow()
    text.check(name, "name")
    provider = get_provider(provider_id)
    staff = ProviderStaff(
        provider_id=provider.id,
        name=name.strip(),
        phone=normalise_phone(phone, settings.phone_region()),
        created_at=now,
    )
    db.session.add(staff)
    unit.flush_or(
        errors.AlreadyExists("That phone number already signs in for a provider.", field="phone")
    )
    audit.record(
        db.session(),
        actor,
        "provider.staff_added",
        "provider",
        provider.id,
        None,
        {"staff_id": staff.id, "name": staff.name},
        now,
    )
    unit.commit()
    return staff


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


def _language(provider: Provider) -> str:
    return provider.staff[0].language if provider.staff else "en"
