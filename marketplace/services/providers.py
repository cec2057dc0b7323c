"""Provider onboarding: register, approve, suspend, staff accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..domain import errors, limits, text
from ..domain.codes import new_provider_number
from ..domain.models import Provider, ProviderKind, ProviderStaff, Trade
from ..domain.phones import normalise_phone
from ..extensions import db
from . import lookups, reference, settings, unit


@dataclass(frozen=True)
class NewProvider:
    kind: str
    name: str
    phone: str
    trades: list[str]
    region: str
    town: str = ""
    capacity: int = 5
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
    if cmd.capacity not in limits.PROVIDER_CAPACITY:
        bounds = limits.PROVIDER_CAPACITY
        raise errors.InvalidInput(
            f"Capacity must be from {bounds.low} to {bounds.high}.", field="capacity"
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
    with unit.of_work(actor, now) as uow:
        provider = _new_provider(cmd, phone, staff, uow.now)
        uow.flush_or(errors.AlreadyExists("That provider already exists."))
        uow.audit("provider.registered", provider, None, snapshot(provider))
    return provider


def _new_provider(
    cmd: NewProvider, phone: str, staff: list[tuple[str, str]], now: datetime
) -> Provider:
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
    return provider


def approve_provider(provider_id: int, actor: str, now: datetime | None = None) -> Provider:
    with unit.of_work(actor, now) as uow:
        provider = lookups.provider(provider_id, lock=True)
        before = snapshot(provider)
        provider.approve(uow.now)
        uow.audit("provider.approved", provider, before, snapshot(provider))
        uow.sms(
            provider.phone,
            "provider_approved",
            _language(provider),
            provider=provider.name,
            number=provider.number,
        )
    return provider


def suspend_provider(provider_id: int, actor: str, now: datetime | None = None) -> Provider:
    with unit.of_work(actor, now) as uow:
        provider = lookups.provider(provider_id, lock=True)
        before = snapshot(provider)
        provider.suspend()
        uow.audit("provider.suspended", provider, before, snapshot(provider))
    return provider


def add_staff(
    provider_id: int, name: str, phone: str, actor: str, now: datetime | None = None
) -> ProviderStaff:
    text.check(name, "name")
    with unit.of_work(actor, now) as uow:
        provider = lookups.provider(provider_id)
        staff = ProviderStaff(
            provider_id=provider.id,
            name=name.strip(),
            phone=normalise_phone(phone, settings.phone_region()),
            created_at=uow.now,
        )
        db.session.add(staff)
        uow.flush_or(
            errors.AlreadyExists(
                "That phone number already signs in for a provider.", field="phone"
            )
        )
        uow.audit(
            "provider.staff_added", provider, None, {"staff_id": staff.id, "name": staff.name}
        )
    return staff


def _language(provider: Provider) -> str:
    return provider.staff[0].language if provider.staff else "en"
