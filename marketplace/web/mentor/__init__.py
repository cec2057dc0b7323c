"""The mentor pages: sign in by SMS code, trainees, record a session, confirm it with the trainee's
code, sessions and payments. Small server-rendered pages that work without JavaScript.

Every lookup goes through `queries.mentor` or a service with the signed-in mentor's provider, so
an id of another provider's booking or session answers 404.
"""

from __future__ import annotations

from datetime import date, datetime
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
from ...queries import mentor as queries
from ...services import mentor_auth
from ...services import sessions as session_service
from ..auth import SignedInMentor, mentor_required, signed_in_mentor, start_session
from ..i18n import current_language, switch_language
from .texts import t

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
        "day": lambda d: d.strftime("%d/%m/%Y"),
    }


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


@bp.post("/signin")
def request_code() -> Page:
    raw = request.form.get("phone", "")[:40]
    try:
        phone = mentor_auth.request_login_code(raw, request.remote_addr or "")
    except errors.InvalidInput:
        return _signin_page(_say("bad_phone"), 422, raw)
    except errors.TooManyAttempts:
        return _signin_page(_say("too_many_codes"), 429, raw)
    session[SIGNIN_PHONE] = phone
    return redirect(url_for("mentor.enter_code"))


@bp.route("/code", methods=["GET", "POST"])
def enter_code() -> Page:
    if request.method == "GET":
        return _code_page()
    phone = session.get(SIGNIN_PHONE)
    if not phone:
        return redirect(url_for("mentor.index"))
    try:
        staff = mentor_auth.verify_login_code(
            phone, request.form.get("code", "")[:20], request.remote_addr or ""
        )
    except errors.TooManyAttempts:
        return _code_page(_say("signin_locked"), 429)
    except errors.CodeInvalid:
        return _code_page(_say("code_invalid"), 400)
    start_session(SignedInMentor(staff), staff.language)
    return redirect(url_for("mentor.index"))


@bp.post("/language")
def set_language() -> Response:
    return switch_language(url_for(".index"))


# --------------------------------------------------------------------------- sessions


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


@bp.route("/bookings/<int:booking_id>/record", methods=["GET", "POST"])
@mentor_required
def record(booking_id: int) -> Page:
    me = signed_in_mentor()
    booking = queries.booking(me.provider_id, booking_id, me.language)
    if booking is None:
        abort(404)
    form = {
        "delivered_on": utcnow().date().strftime("%d/%m/%Y"),
        "duration_minutes": "60",
        "topic": "",
        "outcomes": "",
        "action_points": "",
    }
    if request.method == "GET":
        return render_template("mentor/record.html", booking=booking, form=form, errs={})
    form.update({k: request.form.get(k, "")[:2100] for k in form})
    errs: dict[str, str] = {}
    day = _parse_day(form["delivered_on"])
    if day is None:
        errs["delivered_on"] = _say("bad_date")
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
            duration_minutes=int(minutes),
            topic=form["topic"],
            outcomes=form["outcomes"],
            action_points=form["action_points"],
        )
        try:
            recorded = session_service.record_session(me.id, command)
        except errors.NotFound:
            abort(404)
        except errors.InvalidInput as exc:
            field = str(exc.context.get("field") or "topic")
            key = _FIELD_ERRORS.get(field, "bad_notes")
            errs[field] = _say("control_characters" if exc.code == "control_characters" else key)
        except errors.DomainError as exc:
            errs["form"] = (
                _say(_DOMAIN_MESSAGES[exc.code]) if exc.code in _DOMAIN_MESSAGES else exc.message
            )
        else:
            flash(_say("recorded_ok", ref=recorded.ref, name=booking.first_name), "ok")
            return redirect(url_for(".session_detail", session_id=recorded.id))
    status = 409 if "form" in errs else 422
    return render_template("mentor/record.html", booking=booking, form=form, errs=errs), status


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


@bp.post("/sessions/<int:session_id>/confirm")
@mentor_required
def confirm(session_id: int) -> Page:
    me = signed_in_mentor()
    code = request.form.get("code", "")[:20]
    try:
        confirmed = session_service.confirm_with_code(me.id, session_id, code)
    except errors.NotFound:
        abort(404)
    except errors.TooManyAttempts:
        return _session_page(session_id, _say("code_locked"), 429)
    except errors.CodeInvalid:
        return _session_page(session_id, _say("code_invalid"), 400)
    except errors.IllegalTransition:
        return _session_page(session_id, _say("already_answered"), 409)
    except errors.VoucherNotUsable as exc:
        return _session_page(session_id, _say(_DOMAIN_MESSAGES.get(exc.code, "not_active")), 409)
    flash(_say("confirmed_ok", value=format_minor(confirmed.value_minor, confirmed.currency)), "ok")
    return redirect(url_for(".session_detail", session_id=session_id))


@bp.get("/statement")
@mentor_required
def statement() -> Page:
    me = signed_in_mentor()
    return render_template("mentor/statement.html", statement=queries.statement(me.provider_id))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
