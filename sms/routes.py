"""The routes Africa's Talking calls. A secret path segment authenticates them.

Each route validates its form with a schema and hands it to one handler. The USSD route always answers
200 `text/plain` starting `CON `/`END `; the others answer 200 quickly (the gateway retries otherwise)
and are idempotent on the gateway's ids. Whatever fails on the way (a wrong secret or method, a body
too large or unreadable, an unexpected error) is answered in the route's own format, never with a
web page: `END` and a polite sorry on the USSD route, a plain status line on the others.
"""

from __future__ import annotations

import hmac
import logging
from functools import cache
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from marketplace import http, metrics
from marketplace.extensions import csrf

from . import schemas
from .ussd.engine import FAILED_HOP

log = logging.getLogger(__name__)

PREFIX = "/at/"
bp = Blueprint("gateway", __name__, url_prefix=PREFIX + "<secret>")


@bp.url_value_preprocessor
def _check_secret(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    given = (values or {}).pop("secret", "")
    expected = str(current_app.config["AT_CALLBACK_SECRET"])
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(404)  # nothing personal is logged, and nothing says the route exists


def _form(schema: schemas.Schema) -> dict[str, Any] | None:
    try:
        return schema.load(request.form.to_dict())
    except ValidationError as exc:
        log.warning(
            "gateway callback %s rejected: %s",
            request.path.rsplit("/", 1)[-1],
            sorted(exc.messages),
        )
        return None


def plain(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def failure(status: int) -> Response:
    """What a gateway route answers when something failed before or outside its handler.

    A USSD hop is answered 200 `END` with a polite sorry, the only answer that shows the person a
    message (a 4xx ends the session with the operator's own error); the other routes answer a
    plain status line the gateway can log (a 5xx makes it send the callback again).
    """
    if request.path.rstrip("/").endswith("/ussd"):
        from .ussd.engine import polite_end

        return plain(polite_end(None))
    return plain(f"{status} {HTTP_STATUS_CODES.get(status, 'Error')}", status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return failure(exc.code or 500)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):  # pragma: no cover (the handler above takes these)
        return failure(exc.code or 500)
    log.exception("gateway callback %s failed", request.path.rsplit("/", 1)[-1])
    try:
        from marketplace.extensions import db

        db.session.rollback()
    except Exception:  # the answer must go out whatever the database does
        log.exception("rollback after a failed gateway callback")
    return failure(InternalServerError.code)


@cache
def _hop_schema() -> schemas.UssdHop:
    return schemas.UssdHop()  # made once: a schema keeps no state between loads


@bp.post("/ussd")
def ussd_hop() -> Response:
    from .ussd.engine import answer_hop, polite_end

    hop = _form(_hop_schema())
    if hop is None:
        metrics.ussd_hop("refused")
        return plain(polite_end(None))
    body = answer_hop(hop)
    metrics.ussd_hop(
        "continued" if body.startswith("CON") else "failed" if g.get(FAILED_HOP) else "ended"
    )
    return plain(body)


@bp.post("/ussd/events")
def ussd_event() -> Response:
    from .ussd.engine import record_event

    event = _form(schemas.UssdEvent())
    if event is not None:
        record_event(event)
    return plain("")


@bp.post("/sms/inbound")
def sms_inbound() -> Response:
    from .commands import handle_inbound

    message = _form(schemas.InboundSms())
    if message is not None and not _our_short_code(str(message.get("to") or "")):
        log.warning("inbound SMS for a short code that is not ours: ignored")
        message = None
    if message is not None:
        handle_inbound(message)
    return plain("")


def _our_short_code(to: str) -> bool:
    """The SMS was sent to our configured short code (or the gateway did not say where)."""
    ours = str(current_app.config.get("AT_SHORT_CODE") or "").strip()
    return not ours or not to or to.strip().lstrip("+") == ours.lstrip("+")


@bp.post("/sms/delivery")
def sms_delivery() -> Response:
    from .worker import record_delivery_report

    report = _form(schemas.DeliveryReport())
    if report is not None:
        record_delivery_report(report)
    return plain("")


class _NoCookieSessionForTheGateway(SecureCookieSessionInterface):
    """The gateway's callbacks carry no cookie and must not be given one: their requests get the
    null session (nothing to verify on the way in, nothing to sign on the way out)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)  # the gateway posts forms of its own: no CSRF token
    http.not_for_browsers(bp)  # the gateway is no browser: no page headers on its answers
    http.answer_errors_under(PREFIX, failure)  # no route matched (a wrong method or path): ours
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _NoCookieSessionForTheGateway()
