"""Entrepreneurs: registered by officers when a voucher is issued (`issuance`); they manage their
language and SMS, officers their trade and region."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..domain import errors
from ..domain.models import (
    ACTIVE_VOUCHER_STATUSES,
    Entrepreneur,
    Programme,
    Voucher,
)
from ..domain.people import LANGUAGES
from ..extensions import db
from . import reference, unit


def by_phone(phone: str) -> Entrepreneur | None:
    return db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.phone == phone))


def get(entrepreneur_id: int) -> Entrepreneur:
    person = db.session.get(Entrepreneur, entrepreneur_id)
    if person is None:
        raise errors.NotFound("No such entrepreneur.")
    return person


def set_language(entrepreneur_id: int, language: str, now: datetime | None = None) -> Entrepreneur:
    if language not in LANGUAGES:
        raise errors.InvalidInput("Language must be en or sw.", field="language")
    with unit.of_work(f"entrepreneur:{entrepreneur_id}", now) as uow:
        person = get(entrepreneur_id)
        before = person.language
        person.language = language
        uow.audit("entrepreneur.language", person, {"language": before}, {"language": language})
    return person


def set_sms_opt_out(entrepreneur_id: int, opt_out: bool, now: datetime | None = None) -> None:
    with unit.of_work(f"entrepreneur:{entrepreneur_id}", now) as uow:
        person = get(entrepreneur_id)
        if person.sms_opt_out == opt_out:
            return
        person.sms_opt_out = opt_out
        uow.audit(
            "entrepreneur.sms_opt_out",
            person,
            {"sms_opt_out": not opt_out},
            {"sms_opt_out": opt_out},
        )


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
    with unit.of_work(actor, now) as uow:
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
            return person
        _ensure_still_covered(person, new_trade, new_region)
        person.trade_code = new_trade
        person.region_code = new_region
        uow.audit("entrepreneur.trade_region_changed", person, before, after)
    return person


def _ensure_still_covered(person: Entrepreneur, trade: str, region: str) -> None:
    """Every active voucher the person holds is of a programme that covers the new trade and
    region."""
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
        if not programme.accepts(trade, region):
            raise errors.NotEligible(
                f"This person holds voucher {code} of {programme.name}, which does not cover"
                f" {reference.trade_name(trade)} in {reference.region_name(region)}:"
                " revoke it first, or keep the trade and region.",
                field="trade" if trade != person.trade_code else "region",
            )


def _code(text: str, kind: str) -> str:
    text = (text or "").strip()
    if kind == "trade":
        code = text if text in reference.trade_codes() else reference.match_trade(text)
    else:
        code = text if text in reference.region_codes() else reference.match_region(text)
    if not code:
        raise errors.InvalidInput(f"Unknown {kind}: {text}", field=kind)
    return code
