"""One person or one voucher, found and acted on: the search (voucher code, phone as people write
it, or name), the person's page (vouchers, bookings, sessions, the SMS written to them with their
state, the audit trail), revoking a voucher with a reason, and sending its SMS again. The same
services as the API's revoke and the SMS page's resend."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ...domain import errors, limits, text
from ...domain.codes import format_voucher_code
from ...domain.money import format_minor
from ...queries import admin as queries
from ...services import lookups, resend, settings, vouchers
from ..errors import refusals
from . import Page, _actor, _load, _say, bp
from .forms import RevokeForm


@bp.get("/people")
def people() -> Page:
    search = text.clean(request.args.get("q", ""))[:80]
    found = queries.find_people(search, settings.phone_region()) if search.strip() else []
    if len(found) == 1:
        return redirect(url_for(".person", entrepreneur_id=found[0].id, code=found[0].matched_code))
    return render_template("admin/people.html", search=search, found=found)


@bp.get("/people/<int:entrepreneur_id>")
def person(entrepreneur_id: int) -> Page:
    page = queries.person(entrepreneur_id)
    if page is None:
        abort(404)
    return render_template(
        "admin/person.html",
        page=page,
        shown=format_voucher_code,
        highlight=request.args.get("code", "")[:20],
        reason_max=limits.REASON_MAX,
        errs={},
    )


def _back(**_args: Any) -> str:
    """The person's page the form was on (its hidden field), else the search."""
    owner = request.form.get("person", "")
    if owner.isdigit() and len(owner) <= 12:
        return url_for(".person", entrepreneur_id=int(owner))
    return url_for(".people")


# A voucher's refusal on these forms, in the page's words, by the error's code.
_VOUCHER_PROBLEMS = {
    "illegal_transition": "cannot_revoke",
    "voucher_revoked": "voucher_not_usable",
    "voucher_expired": "voucher_not_usable",
    "voucher_fully_used": "voucher_not_usable",
    "not_found": "voucher_sms_missing",
}


def _voucher_refused(exc: errors.DomainError, code: str, **_args: Any) -> Response | None:
    if isinstance(exc, errors.NotFound) and exc.context.get("field") != "sms":
        return None  # no such voucher: the 404 page
    key = _VOUCHER_PROBLEMS.get(exc.code)
    flash(_say(key) if key else _say("refused", detail=exc.message), "error")
    return redirect(_back())


@bp.post("/vouchers/<code>/revoke")
@refusals(_voucher_refused)
def revoke(code: str) -> Response:
    reason, errs = _load(RevokeForm(), {"reason": request.form.get("reason", "")[:1000]})
    if errs:
        flash(errs["reason"], "error")
        return redirect(_back())
    voucher = vouchers.revoke_voucher(code, _actor(), reason)
    flash(
        _say(
            "voucher_revoked",
            code=format_voucher_code(voucher.code),
            amount=format_minor(voucher.unspent_minor, voucher.currency),
            name=voucher.entrepreneur.name,
        ),
        "ok",
    )
    return redirect(url_for(".person", entrepreneur_id=voucher.entrepreneur_id))


@bp.post("/vouchers/<code>/resend")
@refusals(_voucher_refused)
def resend_voucher(code: str) -> Response:
    done = resend.resend_voucher(code, _actor())
    voucher = lookups.find_voucher(code)
    shown = format_voucher_code(voucher.code)
    if done.total:
        flash(_say("voucher_sms_requeued", code=shown, phone=voucher.entrepreneur.phone), "ok")
    else:
        flash(_say("voucher_sms_queued", code=shown), "ok")
    return redirect(url_for(".person", entrepreneur_id=voucher.entrepreneur_id))
