"""Changing what changes: a running programme (validity, a larger budget, who is eligible, the
window to answer a session) and a provider (phone, trades, region and town, capacity, who signs
in for it). Each is one audited service step with the bounds of creation (`domain/limits.py`,
through the same form fields); the provider's payout account has its own approval step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ...domain import errors, limits
from ...domain.models import PayoutSchedule, Programme, Provider
from ...domain.money import exponent, format_minor
from ...services import lookups, programmes, providers
from ..errors import refusals
from . import Page, _actor, _flashed, _form, _load, _problem, _programme_problem, _say, bp
from .forms import ProgrammeChangeForm, ProviderChangeForm

# --------------------------------------------------------------------------- a programme

PROGRAMME_CHANGE_FIELDS = (
    "budget",
    "validity_days",
    "confirmation_window_hours",
    "payout_schedule",
    "co_payment_percent",
    "co_payment_required",
)


def _major(minor: int, currency: str) -> str:
    """An amount as an officer types it: 1200000 cents -> '12000', 123456 -> '1234.56'."""
    amount = Decimal(minor).scaleb(-exponent(currency))
    return f"{amount:f}" if amount != amount.to_integral_value() else str(int(amount))


def _programme_page(
    programme: Programme,
    form: dict[str, str],
    chosen: dict[str, list[str]],
    errs: dict[str, str],
) -> Page:
    return render_template(
        "admin/programme_edit.html",
        programme=programme,
        form=form,
        chosen=chosen,
        errs=errs,
        schedules=list(PayoutSchedule),
    ), (422 if errs else 200)


def _chosen() -> dict[str, list[str]]:
    return {"trades": request.form.getlist("trades"), "regions": request.form.getlist("regions")}


def _programme_change_refused(exc: errors.DomainError, programme_id: int) -> Page | None:
    if isinstance(exc, errors.NotFound):
        return None
    programme = programmes.get_programme(programme_id)
    minimum = exc.context.get("minimum")
    if exc.context.get("field") == "budget_minor" and isinstance(minimum, int):
        errs = {"budget": _say("budget_only_up", amount=format_minor(minimum, programme.currency))}
    else:
        field, message = _programme_problem(exc, programme.currency)
        errs = {field: message}
    return _programme_page(programme, _form(*PROGRAMME_CHANGE_FIELDS), _chosen(), errs)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@refusals(_programme_change_refused)
def programme_edit(programme_id: int) -> Page:
    programme = programmes.get_programme(programme_id)
    if request.method == "POST":
        form, chosen = _form(*PROGRAMME_CHANGE_FIELDS), _chosen()
        command, errs = _load(ProgrammeChangeForm(programme.currency), {**form, **chosen})
        if not errs:
            programmes.change_programme(programme.id, command, _actor())
            flash(_say("programme_changed", name=programme.name), "ok")
            return redirect(url_for(".programme_list"))
        return _programme_page(programme, form, chosen, errs)
    form = {
        "budget": _major(programme.budget_minor, programme.currency),
        "validity_days": str(programme.validity_days),
        "confirmation_window_hours": str(programme.confirmation_window_hours),
        "payout_schedule": programme.payout_schedule,
        "co_payment_percent": str(programme.co_payment_percent),
        "co_payment_required": "1" if programme.co_payment_required else "",
    }
    chosen = {
        "trades": list(programme.eligible_trades or []),
        "regions": list(programme.eligible_regions or []),
    }
    return _programme_page(programme, form, chosen, {})


# --------------------------------------------------------------------------- a provider

PROVIDER_CHANGE_FIELDS = ("phone", "region", "town", "capacity")


def _provider_page(
    provider: Provider, form: dict[str, str], chosen: list[str], errs: dict[str, str]
) -> Page:
    return render_template(
        "admin/provider_edit.html",
        provider=provider,
        form=form,
        chosen=chosen,
        errs=errs,
        town_max=limits.TOWN_MAX,
    ), (422 if errs else 200)


def _provider_change_refused(exc: errors.DomainError, provider_id: int) -> Page | None:
    if isinstance(exc, errors.NotFound):
        return None
    field = str(exc.context.get("field") or "form")
    minimum = exc.context.get("minimum")
    if field == "capacity" and isinstance(minimum, int):
        message = _say("capacity_below_booked", n=minimum)
    elif field == "town":
        message = _say("town_too_long")
    else:
        message = _problem(exc)
    form = _form(*PROVIDER_CHANGE_FIELDS)
    return _provider_page(
        lookups.provider(provider_id), form, request.form.getlist("trades"), {field: message}
    )


@bp.route("/providers/<int:provider_id>/edit", methods=["GET", "POST"])
@refusals(_provider_change_refused)
def provider_edit(provider_id: int) -> Page:
    provider = lookups.provider(provider_id)
    if request.method == "POST":
        form, chosen = _form(*PROVIDER_CHANGE_FIELDS), request.form.getlist("trades")
        command, errs = _load(ProviderChangeForm(), {**form, "trades": chosen})
        if not errs:
            providers.change_provider(provider.id, command, _actor())
            flash(_say("provider_changed", name=provider.name), "ok")
            return redirect(url_for(".provider_detail", provider_id=provider.id))
        return _provider_page(provider, form, chosen, errs)
    form = {
        "phone": provider.phone,
        "region": provider.region_code,
        "town": provider.town,
        "capacity": str(provider.capacity),
    }
    return _provider_page(provider, form, provider.trade_codes, {})


def _back_to_provider(provider_id: int, **_args: Any) -> str:
    return url_for(".provider_detail", provider_id=provider_id)


@bp.post("/providers/<int:provider_id>/staff/<int:staff_id>/<any(stop, restore):action>")
@refusals(_flashed(_back_to_provider, lambda **_: "last_staff_stays"))
def staff_access(provider_id: int, staff_id: int, action: str) -> Response:
    person = providers.set_staff_active(provider_id, staff_id, action == "restore", _actor())
    flash(_say("staff_restored" if person.active else "staff_stopped", name=person.name), "ok")
    return redirect(_back_to_provider(provider_id))
