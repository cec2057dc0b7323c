"""The routes M-Pesa posts results to, under `/mpesa/<MPESA_CALLBACK_SECRET>/`.

Daraja signs nothing: the secret path segment authenticates (a wrong one is a plain 404), and an
outcome counts only for an id we sent, with our amount. Every body is stored as it came first; the
answer is then always `200 {"ResultCode": 0, "ResultDesc": "Accepted"}` at once, whatever the body
holds (malformed JSON, an unknown shape, an id never sent, a duplicate), and the body is applied
once the answer has gone (a failure there leaves the stored body to reconciliation). Only a
body that could not be stored is answered 503. A result may come before the acknowledgement
(the payment's row was committed before the request went), more than once, or never
(reconciliation asks); none of them moves a final state.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from marketplace import http
from marketplace.extensions import csrf
from marketplace.services import payments

from . import mpesa

log = logging.getLogger(__name__)

PREFIX = "/mpesa/"
bp = Blueprint("mpesa", __name__, url_prefix=PREFIX + "<secret>")
BODY_LIMIT = 64 * 1024
ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


@bp.url_value_preprocessor
def _check_secret(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    given = (values or {}).pop("secret", "")
    expected = str(current_app.config.get("MPESA_CALLBACK_SECRET") or "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(404)


def failure(status: int) -> Response:
    return Response(
        f"{status} {HTTP_STATUS_CODES.get(status, 'Error')}", status, mimetype="text/plain"
    )


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return failure(exc.code or 500)


def _accepted() -> Response:
    return Response(json.dumps(ACCEPTED), 200, mimetype="application/json")


def _receive(kind: str, originator: str | None = None) -> Response:
    """Store the body, answer, then apply it (after the answer has gone)."""
    raw = request.get_data(cache=False, as_text=True)[:BODY_LIMIT]
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = None
    named = originator or mpesa.originator_of(body)
    try:
        callback_id = payments.store_callback(kind, named, raw)
    except Exception:
        log.exception("M-Pesa %s callback could not be stored", kind)
        return failure(503)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def apply() -> None:
        with app.app_context():
            _apply(kind, originator, body, callback_id)

    answer = _accepted()
    answer.call_on_close(apply)
    return answer


def _apply(kind: str, originator: str | None, body: Any, callback_id: int) -> None:
    try:
        if kind == "balance-result":
            balance = mpesa.parse_balance(body)
            if balance is not None:
                payments.record_balance("mpesa", balance)
            payments.note_callback(callback_id, "balance" if balance is not None else "unread")
            return
        if kind == "b2c-result":
            result = mpesa.parse_b2c_result(body)
        elif kind == "b2c-timeout":
            result = mpesa.parse_b2c_timeout(body)
        elif kind == "status-result" and originator:
            result = mpesa.parse_status_result(originator, body)
        else:
            result = None  # a status or balance query's own queue timeout: asked again later
        if result is None:
            payments.note_callback(callback_id, "unread")
        else:
            payments.record_result(result, callback_id)
    except Exception:
        # Stored already: an officer (or a replay) can read it; reconciliation settles it.
        log.exception("M-Pesa %s callback %s not applied", kind, callback_id)


@bp.post("/b2c/result")
def b2c_result() -> Response:
    return _receive("b2c-result")


@bp.post("/b2c/timeout")
def b2c_timeout() -> Response:
    return _receive("b2c-timeout")


@bp.post("/status/result/<originator>")
def status_result(originator: str) -> Response:
    return _receive("status-result", originator[:60])


@bp.post("/status/timeout/<originator>")
def status_timeout(originator: str) -> Response:
    return _receive("status-timeout", originator[:60])


@bp.post("/balance/result")
def balance_result() -> Response:
    return _receive("balance-result")


@bp.post("/balance/timeout")
def balance_timeout() -> Response:
    return _receive("balance-timeout")


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)  # Daraja posts JSON of its own: no CSRF token
    http.not_for_browsers(bp)
    http.answer_errors_under(PREFIX, failure)
