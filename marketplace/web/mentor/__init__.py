"""The mentor pages: sign in by SMS code, trainees, record a session, confirm it with the trainee's
code, sessions and payments. Small server-rendered pages that work without JavaScript.

Every lookup goes through `queries.mentor` or a service with the signed-in mentor's provider, so
an id of another provider's booking or session answers 404. A service's refusal is shown on the
page as each view declares with `@refusals` (`web/errors.py`), in words chosen by the most specific
class of the error each table below lists.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from ...domain import errors
from ...domain.base import utcnow
from ...domain.money import format_minor
from ...domain.phones import mask_phone
from ...messages.pages import mentor as t
from ...queries import mentor as queries
from ...services import co_payments, mentor_auth
from ...services import sessions as session_service
from ..auth import SignedInMentor, mentor_required, signed_in_mentor, start_session
from ..errors import page_status_of, refusals
from ..i18n import counted_up_to, current_language, switch_language

bp = Blueprint("mentor", __name__, url_prefix="/mentor")

Page = str | tuple[str, int] | Response
SIGNIN_PHONE = "mentor_signin_phone"


def language() -> str:
    return current_language()


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = language()
    return {
        "lang": lang,
        "_": lambda key, **params: t(key, lang, **params),
        "money": format_minor,
        "day": _day,
        "up_to": lambda end: counted_up_to(end, _day),
    }


def _day(d: date | datetime) -> str:
    return d.strftime("%d/%m/%Y")


def _say(key: str, **params: Any) -> str:
    return t(key, language(), **params)


# --------------------------------------------------------------------------- sign-in


def _signin_page(error: str | None = None, status: int = 200, phone: str = "") -> Page:
    return render_template("mentor/signin.html", error=error, phone=phone), status


def _code_page(error: str | None = None, status: int = 200) -> Page:
    phone = session.get(SIGNIN_PHONE)
    if not phone:
        return redirect(url_for("mentor.index"))
    return render_template(
        "mentor/code.html",
        error=error,
        phone=phone,
        masked=mask_phone(phone),
        minutes=mentor_auth.CODE_TTL_MINUTES,
    ), status


@bp.get("")
def index() -> Page:
    if not getattr(current_user, "is_mentor", False):
        return _signin_page()
    me = signed_in_mentor()
    return render_template(
        "mentor/bookings.html", bookings=queries.bookings(me.provider_id, me.language)
    )


_SIGNIN_WORDS = {errors.InvalidInput: "bad_phone", errors.TooManyAttempts: "too_many_codes"}
_CODE_WORDS = {errors.TooManyAttempts: "signin_locked", errors.CodeInvalid: "code_invalid"}


def _signin_refused(exc: errors.DomainError) -> Page | None:
    key = errors.most_specific(_SIGNIN_WORDS, exc)
    if key is None:
        return None
    return _signin_page(_say(key), page_status_of(exc), request.form.get("phone", "")[:40])


def _code_refused(exc: errors.DomainError) -> Page | None:
    key = errors.most_specific(_CODE_WORDS, exc)
    return _code_page(_say(key), page_status_of(exc)) if key is not None else None


@bp.post("/signin")
@refusals(_signin_refused)
def request_code() -> Page:
    raw = request.form.get("phone", "")[:40]
    phone = mentor_auth.request_login_code(raw, request.remote_addr or "")
    session[SIGNIN_PHONE] = phone
    return redirect(url_for("mentor.enter_code"))


@bp.route("/code", methods=["GET", "POST"])
@refusals(_code_refused)
def enter_code() -> Page:
    if request.method == "GET":
        return _code_page()
    phone = session.get(SIGNIN_PHONE)
    if not phone:
        return redirect(url_for("mentor.index"))
    staff = mentor_auth.verify_login_code(
        phone, request.form.get("code", "")[:20], request.remote_addr or ""
    )
    start_session(SignedInMentor(staff), staff.language)
    return redirect(url_for("mentor.index"))


@bp.post("/language")
def set_language() -> Response:
    return switch_language(url_for(".index"))


# --------------------------------------------------------------------------- sessions


def _parse_time(raw: str) -> time | None:
    """A time of day as a keypad gives it: 14:30, 14.30, 1430, 9:05."""
    digits = raw.strip().replace(".", ":").replace("h", ":")
    if ":" not in digits and digits.isdigit() and len(digits) in (3, 4):
        digits = f"{digits[:-2]}:{digits[-2:]}"
    try:
        return datetime.strptime(digits, "%H:%M").time()
    except ValueError:
        return None


def _parse_day(raw: str) -> date | None:
    raw = raw.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


_FIELD_ERRORS = {
    "delivered_on": "bad_date",
    "duration_minutes": "bad_duration",
    "topic": "bad_topic",
}

_DOMAIN_MESSAGES = {
    "voucher_expired": "voucher_expired",
    "voucher_revoked": "voucher_revoked",
    "voucher_fully_used": "voucher_fully_used",
    "illegal_transition": "not_active",
}
RECORD_FIELDS = (
    "delivered_on",
    "starts_at",
    "duration_minutes",
    "topic",
    "outcomes",
    "action_points",
)


def _record_page(booking: Any, form: dict[str, str], errs: dict[str, str]) -> Page:
    status = (409 if "form" in errs else 422) if errs else 200
    return render_template("mentor/record.html", booking=booking, form=form, errs=errs), status


def _record_refused(exc: errors.DomainError, booking_id: int) -> Page | None:
    me = signed_in_mentor()
    booking = queries.booking(me.provider_id, booking_id, me.language)
    if isinstance(exc, errors.NotFound) or booking is None:
        return None
    if isinstance(exc, errors.InvalidInput):
        field = str(exc.context.get("field") or "topic")
        key = _FIELD_ERRORS.get(field, "bad_notes")
        errs = {field: _say("control_characters" if exc.code == "control_characters" else key)}
    elif isinstance(exc, errors.CoPaymentDue):
        errs = {"form": _say("co_payment_due", share=exc.context.get("share", ""))}
    else:
        known = exc.code in _DOMAIN_MESSAGES
        errs = {"form": _say(_DOMAIN_MESSAGES[exc.code]) if known else exc.message}
    return _record_page(booking, {k: request.form.get(k, "")[:2100] for k in RECORD_FIELDS}, errs)


@bp.route("/bookings/<int:booking_id>/record", methods=["GET", "POST"])
@refusals(_record_refused)
@mentor_required
def record(booking_id: int) -> Page:
    me = signed_in_mentor()
    booking = queries.booking(me.provider_id, booking_id, me.language)
    if booking is None:
        abort(404)
    form = {
        "delivered_on": booking.today(utcnow()).strftime("%d/%m/%Y"),
        "starts_at": "",
        "duration_minutes": "60",
        "topic": "",
        "outcomes": "",
        "action_points": "",
    }
    if request.method == "GET":
        return _record_page(booking, form, {})
    form.update({k: request.form.get(k, "")[:2100] for k in RECORD_FIELDS})
    errs: dict[str, str] = {}
    day = _parse_day(form["delivered_on"])
    if day is None:
        errs["delivered_on"] = _say("bad_date")
    starts_at = _parse_time(form["starts_at"])
    if form["starts_at"].strip() and starts_at is None:
        errs["starts_at"] = _say("bad_time")
    minutes = form["duration_minutes"].strip()
    if not minutes.isdigit() or not 1 <= int(minutes) <= 720:
        errs["duration_minutes"] = _say("bad_duration")
    if not form["topic"].strip():
        errs["topic"] = _say("bad_topic")
    if not errs:
        assert day is not None
        command = session_service.NewSession(
            booking_id=booking.id,
            delivered_on=day,
            starts_at=starts_at,
            duration_minutes=int(minutes),
            topic=form["topic"],
            outcomes=form["outcomes"],
            action_points=form["action_points"],
        )
        recorded = session_service.record_session(me.id, command)
        flash(_say("recorded_ok", ref=recorded.ref, name=booking.first_name), "ok")
        return redirect(url_for(".session_detail", session_id=recorded.id))
    return _record_page(booking, form, errs)


_CO_PAYMENT_WORDS = {
    errors.CoPaymentAlreadyRecorded: "co_payment_already",
    errors.NoCoPayment: "no_co_payment",
    errors.IllegalTransition: "not_active",
}


def _co_payment_refused(exc: errors.DomainError, booking_id: int) -> Page | None:
    key = errors.most_specific(_CO_PAYMENT_WORDS, exc)
    if key is None:
        return None
    flash(_say(key), "error")
    return redirect(url_for(".index"))


@bp.post("/bookings/<int:booking_id>/co-payment")
@refusals(_co_payment_refused)
@mentor_required
def record_co_payment(booking_id: int) -> Page:
    """The trainee paid their share: recorded once (the trainee is told by SMS)."""
    me = signed_in_mentor()
    booking = queries.booking(me.provider_id, booking_id, me.language)
    if booking is None:
        abort(404)
    voucher = co_payments.record_co_payment(me.id, booking.id)
    share = format_minor(voucher.co_payment_minor, voucher.currency)
    flash(_say("co_payment_recorded_ok", share=share, name=booking.first_name), "ok")
    return redirect(url_for(".index"))


@bp.get("/sessions")
@mentor_required
def sessions() -> Page:
    me = signed_in_mentor()
    return render_template("mentor/sessions.html", sessions=queries.sessions(me.provider_id))


def _session_page(session_id: int, error: str | None = None, status: int = 200) -> Page:
    row = queries.session(signed_in_mentor().provider_id, session_id)
    if row is None:
        abort(404)
    return render_template("mentor/session.html", s=row, error=error), status


@bp.get("/sessions/<int:session_id>")
@mentor_required
def session_detail(session_id: int) -> Page:
    return _session_page(session_id)


_CONFIRM_WORDS = {
    errors.TooManyAttempts: "code_locked",
    errors.CodeInvalid: "trainee_code_invalid",  # not the sign-in code: the trainee's
    errors.IllegalTransition: "already_answered",
    errors.VoucherNotUsable: "not_active",
    errors.VoucherExpired: "voucher_expired",
    errors.VoucherRevoked: "voucher_revoked",
    errors.VoucherFullyUsed: "voucher_fully_used",
}


def _confirm_refused(exc: errors.DomainError, session_id: int) -> Page | None:
    key = errors.most_specific(_CONFIRM_WORDS, exc)
    return _session_page(session_id, _say(key), page_status_of(exc)) if key else None


@bp.post("/sessions/<int:session_id>/confirm")
@refusals(_confirm_refused)
@mentor_required
def confirm(session_id: int) -> Page:
    me = signed_in_mentor()
    code = request.form.get("code", "")[:20]
    confirmed = session_service.confirm_with_code(me.id, session_id, code)
    flash(_say("confirmed_ok", value=format_minor(confirmed.value_minor, confirmed.currency)), "ok")
    return redirect(url_for(".session_detail", session_id=session_id))


@bp.get("/statement")
@mentor_required
def statement() -> Page:
    me = signed_in_mentor()
    return render_template("mentor/statement.html", statement=queries.statement(me.provider_id))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
