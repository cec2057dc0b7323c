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
    _check_where_and_what(cmd.trades, cmd.region, cmd.town, cmd.capacity)
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


def _check_where_and_what(trades: list[str], region: str, town: str, capacity: int) -> None:
    """The rules a provider's trades, place and capacity meet, at registration and on a change."""
    if not trades:
        raise errors.InvalidInput("Give at least one trade.", field="trades")
    unknown = set(trades) - reference.trade_codes()
    if unknown:
        raise errors.InvalidInput(f"Unknown trades: {', '.join(sorted(unknown))}", field="trades")
    if region not in reference.region_codes():
        raise errors.InvalidInput(f"Unknown region: {region}", field="region")
    if len(town.strip()) > limits.TOWN_MAX:
        raise errors.InvalidInput(
            f"The town is longer than {limits.TOWN_MAX} characters.",
            field="town",
            maximum=limits.TOWN_MAX,
        )
    if capacity not in limits.PROVIDER_CAPACITY:
        bounds = limits.PROVIDER_CAPACITY
        raise errors.InvalidInput(
            f"Capacity must be from {bounds.low} to {bounds.high}.", field="capacity"
        )


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


@dataclass(frozen=True)
class ProviderChange:
    """What changes about a provider: where they are, what they teach, how many they take at
    once, the phone that gets their SMS. (The payout account has its own step.)"""

    phone: str
    trades: list[str]
    region: str
    town: str
    capacity: int


def details(p: Provider) -> dict[str, object]:
    """What `change_provider` may change, as the audit log records it."""
    return {
        "phone": p.phone,
        "trades": p.trade_codes,
        "region": p.region_code,
        "town": p.town,
        "capacity": p.capacity,
    }


def change_provider(
    provider_id: int, cmd: ProviderChange, actor: str, now: datetime | None = None
) -> Provider:
    """Change a provider within the same limits as registration; the capacity never below the
    trainees booked now. A new phone moves the sign-in of the person who signed in with the old
    one (a craft worker's own phone). One audit event with what changed; nothing changed, none."""
    text.check_fields(cmd)
    phone = normalise_phone(cmd.phone, settings.phone_region())
    _check_where_and_what(cmd.trades, cmd.region, cmd.town, cmd.capacity)
    with unit.of_work(actor, now) as uow:
        provider = lookups.provider(provider_id, lock=True)
        db.session.refresh(provider)
        if cmd.capacity < provider.active_bookings:
            raise errors.InvalidInput(
                f"{provider.active_bookings} trainees are booked now: the capacity cannot be less.",
                field="capacity",
                minimum=provider.active_bookings,
            )
        before = details(provider)
        if phone != provider.phone:
            _move_sign_in(provider, provider.phone, phone)
        provider.phone = phone
        provider.region_code = cmd.region
        provider.town = cmd.town.strip()
        provider.capacity = cmd.capacity
        if set(cmd.trades) != set(provider.trade_codes):
            provider.trades = list(
                db.session.scalars(sa.select(Trade).where(Trade.code.in_(cmd.trades)))
            )
        uow.flush_or(
            errors.AlreadyExists(
                "That phone number already signs in for a provider.", field="phone"
            )
        )
        after = details(provider)
        changed = [k for k in after if after[k] != before[k]]
        if changed:
            uow.audit(
                "provider.changed",
                provider,
                {k: before[k] for k in changed},
                {k: after[k] for k in changed},
            )
    return provider


def _move_sign_in(provider: Provider, old: str, new: str) -> None:
    """The person who signed in with the provider's old phone signs in with the new one; the new
    phone must not sign in for anyone else."""
    taken = db.session.scalar(
        sa.select(ProviderStaff.provider_id).where(ProviderStaff.phone == new)
    )
    if taken is not None:
        raise errors.AlreadyExists(
            "That phone number already signs in for a provider.", field="phone"
        )
    for person in provider.staff:
        if person.phone == old:
            person.phone = new
            person.session_epoch += 1  # signed in with the old number: signed out


def set_staff_active(
    provider_id: int, staff_id: int, active: bool, actor: str, now: datetime | None = None
) -> ProviderStaff:
    """Let a person sign in for the provider again, or no longer (signed out at once); the last
    person who signs in for a provider stays."""
    with unit.of_work(actor, now) as uow:
        provider = lookups.provider(provider_id, lock=True)
        person = next((s for s in provider.staff if s.id == staff_id), None)
        if person is None:
            raise errors.NotFound("No such person signs in for this provider.")
        if person.active == active:
            return person
        if not active and sum(s.active for s in provider.staff) <= 1:
            raise errors.IllegalTransition(
                "The last person who signs in for a provider cannot be stopped.", field="staff"
            )
        person.active = active
        if not active:
            person.session_epoch += 1
        uow.audit(
            "provider.staff_reactivated" if active else "provider.staff_deactivated",
            provider,
            {"staff_id": person.id, "active": not active},
            {"staff_id": person.id, "active": active},
        )
    return person


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
