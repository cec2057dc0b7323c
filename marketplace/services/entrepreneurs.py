"""Entrepreneurs: registered by officers when a voucher is issued; they manage language and SMS."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from ..domain import errors, text
from ..domain.base import utcnow
from ..domain.models import (
    ACTIVE_VOUCHER_STATUSES,
    Entrepreneur,
    Gender,
    Language,
    Programme,
    Voucher,
)
from ..domain.phones import normalise_phone
from ..extensions import db
from . import audit, reference, settings, unit

NAME_MAX = 120


class NewEntrepreneur(NamedTuple):
    phone: str
    name: str
    gender: str
    birth_year: int
    trade: str
    region: str
    language: str = "en"


class CleanEntrepreneur(NamedTuple):
    phone: str
    name: str
    gender: str
    birth_year: int
    trade: str
    region: str
    language: str


_GENDERS = frozenset(Gender)
_LANGUAGES = frozenset(Language)


def validate(
    person: NewEntrepreneur,
    now: datetime,
    *,
    trades: Collection[str] | None = None,
    regions: Collection[str] | None = None,
    phone_region: str | None = None,
) -> CleanEntrepreneur:
    """Every rule on an entrepreneur's details; InvalidInput names the first field that is wrong.

    Bulk callers pass what they looked up once: the trade and region codes (`trades`, `regions`)
    and the phone numbers' default region.
    """
    text.check_fields(person)
    phone = normalise_phone(person.phone, phone_region or settings.phone_region())
    name = " ".join((person.name or "").split())
    if not name:
        raise errors.InvalidInput("Name is required.", field="name")
    if len(name) > NAME_MAX:
        raise errors.InvalidInput(f"Name is longer than {NAME_MAX} characters.", field="name")
    gender = (person.gender or "").strip().lower()
    gender = {"f": "female", "m": "male", "o": "other", "woman": "female", "man": "male"}.get(
        gender, gender
    )
    if gender not in _GENDERS:
        raise errors.InvalidInput("Gender must be female, male or other.", field="gender")
    year = person.birth_year
    if not isinstance(year, int) or not (now.year - 100 <= year <= now.year - 14):
        raise errors.InvalidInput("Birth year is not plausible.", field="birth_year")
    if person.trade not in (reference.trade_codes() if trades is None else trades):
        raise errors.InvalidInput(f"Unknown trade: {person.trade}", field="trade")
    if person.region not in (reference.region_codes() if regions is None else regions):
        raise errors.InvalidInput(f"Unknown region: {person.region}", field="region")
    language = (person.language or "en").strip().lower()
    if language not in _LANGUAGES:
        raise errors.InvalidInput("Language must be en or sw.", field="language")
    return CleanEntrepreneur(phone, name, gender, year, person.trade, person.region, language)


def get_or_register(person: CleanEntrepreneur, actor: str, now: datetime) -> Entrepreneur:
    """Within the caller's transaction: the existing entrepreneur for this phone, or a new one."""
    existing = db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.phone == person.phone))
    if existing is not None:
        return existing
    entrepreneur = Entrepreneur(
        phone=person.phone,
        name=person.name,
        gender=person.gender,
        birth_year=person.birth_year,
        trade_code=person.trade,
        region_code=person.region,
        language=person.language,
        sms_opt_out=False,
        created_at=now,
    )
    db.session.add(entrepreneur)
    db.session.flush()
    audit.record(
        db.session(),
        actor,
        "entrepreneur.registered",
        "entrepreneur",
        entrepreneur.id,
        None,
        {"trade": person.trade, "region": person.region},
        now,
    )
    return entrepreneur


def by_phone(phone: str) -> Entrepreneur | None:
    return db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.phone == phone))


def get(entrepreneur_id: int) -> Entrepreneur:
    person = db.session.get(Entrepreneur, entrepreneur_id)
    if person is None:
        raise errors.NotFound("No such entrepreneur.")
    return person


def set_language(entrepreneur_id: int, language: str, now: datetime | None = None) -> Entrepreneur:
    now = now or utcnow()
    if language not in _LANGUAGES:
        raise errors.InvalidInput("Language must be en or sw.", field="language")
    person = get(entrepreneur_id)
    before = person.language
    person.language = language
    audit.record(
        db.session(),
        f"entrepreneur:{person.id}",
        "entrepreneur.language",
        "entrepreneur",
        person.id,
        {"language": before},
        {"language": language},
        now,
    )
    unit.commit()
    return person


def set_sms_opt_out(entrepreneur_id: int, opt_out: bool, now: datetime | None = None) -> None:
    now = now or utcnow()
    person = get(entrepreneur_id)
    if person.sms_opt_out == opt_out:
        return
    person.sms_opt_out = opt_out
    audit.record(
        db.session(),
        f"entrepreneur:{person.id}",
        "entrepreneur.sms_opt_out",
        "entrepreneur",
        person.id,
        {"sms_opt_out": not opt_out},
        {"sms_opt_out": opt_out},
        now,
    )
    unit.commit()


def change_trade_region(
    entrepreneur_id: int,
    actor: str,
    *,
    trade: str | None = None,
    region: str | None = None,
    now: datetime | None = None,
) -> Entrepreneur:
    """An officer changes the person's trade or region: a step of its own, audited, never a side
    effect of issuing a voucher. Trades and regions may be codes or names. Refused while the person
    holds an active voucher of a programme that would no longer cover them (revoke it first)."""
    now = now or utcnow()
    person = db.session.scalar(
        sa.select(Entrepreneur)
        .where(Entrepreneur.id == entrepreneur_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if person is None:
        raise errors.NotFound("No such entrepreneur.")
    new_trade = person.trade_code if trade is None else _code(trade, "trade")
    new_region = person.region_code if region is None else _code(region, "region")
    before = {"trade": person.trade_code, "region": person.region_code}
    after = {"trade": new_trade, "region": new_region}
    if after == before:
        unit.rollback()
        return person
    held = db.session.execute(
        sa.select(Voucher.code, Programme)
        .join(Programme, Programme.id == Voucher.programme_id)
        .where(
            Voucher.entrepreneur_id == person.id,
            Voucher.status.in_(ACTIVE_VOUCHER_STATUSES),
        )
        .order_by(Voucher.id)
    ).all()
    for code, programme in held:
        if not programme.accepts(new_trade, new_region):
            unit.rollback()
            raise errors.NotEligible(
                f"This person holds voucher {code} of {programme.name}, which does not cover"
                f" {reference.trade_name(new_trade)} in {reference.region_name(new_region)}:"
                " revoke it first, or keep the trade and region.",
                field="trade" if new_trade != before["trade"] else "region",
            )
    person.trade_code = new_trade
    person.region_code = new_region
    audit.record(
        db.session(),
        actor,
        "entrepreneur.trade_region_changed",
        "entrepreneur",
        person.id,
        before,
        after,
        now,
    )
    unit.commit()
    return person


def _code(text: str, kind: str) -> str:
    text = (text or "").strip()
    if kind == "trade":
        code = text if text in reference.trade_codes() else reference.match_trade(text)
    else:
        code = text if text in reference.region_codes() else reference.match_region(text)
    if not code:
        raise errors.InvalidInput(f"Unknown {kind}: {text}", field=kind)
    return code
