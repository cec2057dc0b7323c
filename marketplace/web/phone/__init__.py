"""The phone simulator as a web page, for development and training: `/dev/phone`.

The page drives the gateway's own routes in-process with the forms Africa's Talking sends, through
`marketplace.simulator.phone.Phone` (the same phone as the `flask phone` command). The number, the
open USSD session's id, its accumulated `text` and the last screen are kept in the browser's signed
session; every action posts a form and comes back to the page (no JavaScript), which lists the SMS
the outbox holds for the number.

Registered only in development (see `marketplace/simulator/`): elsewhere `/dev/phone` is a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from ...domain.phones import try_normalise
from ...messages.pages import phone as t
from ...queries import mentor as mentor_queries
from ...simulator.phone import InProcessTransport, NoAnswer, Phone, screen_lines
from ..i18n import current_language, switch_language

log = logging.getLogger(__name__)

bp = Blueprint("phone", __name__, url_prefix="/dev/phone")

Page = str | tuple[str, int] | Response
STATE = "dev_phone"
MAX_INPUT = 160  # what a phone's USSD input box takes
MAX_SMS = 480  # three SMS
INBOX_SIZE = 30


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = current_language()
    return {"lang": lang, "_": lambda key, **params: t(key, lang, **params)}


def _say(key: str, **params: Any) -> str:
    return t(key, current_language(), **params)


def _typed(field: str, limit: int) -> str:
    """What a phone's keypad could have typed: printable characters (and line breaks), cut short."""
    raw = request.form.get(field, "")[: limit * 2]
    return "".join(ch for ch in raw if ch.isprintable() or ch == "\n")[:limit]


# --------------------------------------------------------------------------- state


def _state() -> dict[str, Any]:
    saved = session.get(STATE)
    return dict(saved) if isinstance(saved, dict) else {}


def _phone(state: dict[str, Any]) -> Phone | None:
    number = state.get("number")
    if not isinstance(number, str) or not number:
        return None
    session_id = state.get("session_id")
    return Phone.from_config(
        number,
        InProcessTransport(current_app._get_current_object()),  # type: ignore[attr-defined]
        current_app.config,
        session_id=session_id if isinstance(session_id, str) and session_id else None,
        text=str(state.get("text") or ""),
    )


def _save(phone: Phone | None, **shown: Any) -> None:
    state = _state()
    if phone is not None:
        state.update(number=phone.number, session_id=phone.session_id, text=phone.text)
    state.update(shown)
    session[STATE] = state


def _back() -> Response:
    return redirect(url_for("phone.index"))


# --------------------------------------------------------------------------- the page


def _page(error: str | None = None, status: int = 200, number: str | None = None) -> Page:
    state = _state()
    phone = _phone(state)
    answer = str(state.get("answer") or "")
    is_screen = answer[:4] in ("CON ", "END ")
    return render_template(
        "phone/index.html",
        error=error,
        notice=state.get("notice"),
        number=number if number is not None else (phone.number if phone else ""),
        phone=phone,
        service_code=str(current_app.config["USSD_SERVICE_CODE"]),
        short_code=str(current_app.config.get("AT_SHORT_CODE") or ""),
        lines=screen_lines(answer) if is_screen else [],
        ended=answer.startswith("END "),
        odd_answer=answer[:300] if answer and not is_screen else None,
        inbox=phone.latest_messages(INBOX_SIZE) if phone else [],
        demo=mentor_queries.demo_pair(),  # a trainee and their mentor, to switch between
    ), status


@bp.get("")
def index() -> Page:
    page = _page()
    if _state().get("notice"):
        _save(None, notice=None)  # a notice is shown once
    return page


@bp.post("/number")
def choose_number() -> Page:
    raw = request.form.get("number", "")[:40]
    number = try_normalise(raw, str(current_app.config.get("DEFAULT_PHONE_REGION", "KE")))
    if number is None:
        return _page(_say("bad_phone"), 422, number=raw)
    old = _phone(_state())
    if old is not None and old.number != number:
        _hang_up(old)
    session[STATE] = {"number": number}
    return _back()


@bp.post("/dial")
def dial() -> Page:
    phone = _phone(_state())
    if phone is None:
        return _page(_say("number_first"), 400)
    _hang_up(phone)  # a phone holds one USSD session at a time
    return _hop(phone, None)


@bp.post("/send")
def send() -> Page:
    phone = _phone(_state())
    if phone is None:
        return _page(_say("number_first"), 400)
    if not phone.in_session:
        return _page(_say("dial_first"), 409)
    return _hop(phone, _typed("input", MAX_INPUT).replace("\n", " ").strip())


@bp.post("/hangup")
def hang_up() -> Page:
    phone = _phone(_state())
    if phone is not None:
        _hang_up(phone)
        _save(phone, answer="")
    return _back()


@bp.post("/sms")
def sms() -> Page:
    phone = _phone(_state())
    if phone is None:
        return _page(_say("number_first"), 400)
    text = _typed("text", MAX_SMS).strip()
    if not text:
        return _page(_say("empty_sms"), 422)
    try:
        status = phone.sms(text)
    except NoAnswer as exc:
        return _page(_say("no_answer", reason=str(exc)), 502)
    _save(phone, notice=_say("sms_sent", status=status))
    return _back()


@bp.post("/language")
def set_language() -> Response:
    return switch_language(url_for("phone.index"))


def _hop(phone: Phone, typed: str | None) -> Page:
    try:
        answer = phone.dial(typed)
    except NoAnswer as exc:
        _save(phone, answer="")
        return _page(_say("no_answer", reason=str(exc)), 502)
    _save(phone, answer=answer)
    return _back()


def _hang_up(phone: Phone) -> None:
    try:
        phone.hang_up()
    except NoAnswer:
        log.info("phone simulator: the end-of-session event was not answered")
