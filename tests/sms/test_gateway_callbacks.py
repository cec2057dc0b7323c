"""The gateway's callbacks as Africa's Talking sends them (fields as in its documentation):
what the service uses is validated, what it only records is kept (cut if need be), and every
route answers in its own format whatever fails, never with a web page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import BadRequest

from marketplace.domain.models import InboundSms, OutboxMessage, UssdSession
from marketplace.extensions import db
from tests.builders import Builders

SECRET = "test-callback-secret"
FORM = "application/x-www-form-urlencoded"


def post(client: FlaskClient, path: str, form: dict[str, str], secret: str = SECRET) -> Any:
    return client.post(f"/at/{secret}/{path}", data=urlencode(form), content_type=FORM)


def inbound(phone: str, **fields: str) -> dict[str, str]:
    form = {
        "id": "ATXid_in_1",
        "from": phone,
        "to": "20880",
        "text": "BAL",
        "date": "2017-05-03T06:04:45Z",
        "networkCode": "63902",
        "linkId": "",
    }
    form.update(fields)
    return form


def _stored_and_answered(phone: str) -> tuple[InboundSms, list[str]]:
    db.session.rollback()
    row = db.session.scalars(sa.select(InboundSms)).one()
    replies = db.session.scalars(
        sa.select(OutboxMessage.kind).where(OutboxMessage.to_phone == phone)
    ).all()
    return row, list(replies)


# --------------------------------------------------------------------------- item: fields used


@pytest.mark.parametrize("date", ["", "yesterday", "2017-13-45 99:00:00", "x" * 300])
def test_an_inbound_sms_whose_date_cannot_be_read_is_still_stored_and_answered(
    client: FlaskClient, build: Builders, date: str
) -> None:
    phone = build.voucher().entrepreneur.phone
    response = post(client, "sms/inbound", inbound(phone, date=date))
    assert response.status_code == 200 and response.mimetype == "text/plain"
    row, replies = _stored_and_answered(phone)
    assert row.text == "BAL" and "reply" in replies


def test_an_inbound_sms_over_a_thousand_characters_is_kept_cut_and_answered(
    client: FlaskClient, build: Builders
) -> None:
    phone = build.voucher().entrepreneur.phone
    long_text = "BAL " + "please tell me my balance " * 60  # a long multi-part message
    assert len(long_text) > 1000
    response = post(client, "sms/inbound", inbound(phone, text=long_text))
    assert response.status_code == 200
    row, replies = _stored_and_answered(phone)
    assert row.text == long_text[:1000] and "reply" in replies


def test_fields_an_inbound_sms_only_records_never_drop_it(
    client: FlaskClient, build: Builders
) -> None:
    phone = build.voucher().entrepreneur.phone
    form = inbound(phone, networkCode="6" * 40, linkId="L" * 500)
    assert post(client, "sms/inbound", form).status_code == 200
    _row, replies = _stored_and_answered(phone)
    assert "reply" in replies


def test_an_end_of_session_event_with_a_long_error_message_is_recorded(
    client: FlaskClient,
) -> None:
    form = {
        "date": "2024-01-01 10:00:00",
        "sessionId": "ATUid_long_error",
        "serviceCode": "*384*1234#",
        "networkCode": "63902",
        "phoneNumber": "+254711000111",
        "status": "Failed",
        "cost": "KES 0.00",
        "durationInMillis": "1" * 40,
        "hopsCount": "1",
        "input": "1*2",
        "lastAppResponse": "CON " + "x" * 400,
        "errorMessage": "MNO_ERROR: " + "the operator said something long " * 20,
    }
    assert len(form["errorMessage"]) > 300
    response = post(client, "ussd/events", form)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    db.session.rollback()
    row = db.session.get(UssdSession, "ATUid_long_error")
    assert row is not None and (row.ended_status, row.hops) == ("Failed", 1)


def test_a_delivery_report_with_long_recorded_fields_is_answered_200(client: FlaskClient) -> None:
    form = {
        "id": "ATXid_unknown",
        "status": "Failed",
        "phoneNumber": "+254711000111",
        "networkCode": "63902",
        "failureReason": "DeliveryFailure " * 10,
        "retryCount": "1" * 20,
    }
    response = post(client, "sms/delivery", form)
    assert response.status_code == 200 and response.mimetype == "text/plain"


# --------------------------------------------------------------------------- item: own format

ROUTES = ["ussd", "ussd/events", "sms/inbound", "sms/delivery"]


def _is_ours(path: str, response: Any, status: int) -> None:
    """USSD: 200 `END …` text/plain; the others: their plain status line, never a page."""
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/plain", (path, response.status_code, body[:80])
    assert "<" not in body
    if path == "ussd":
        assert response.status_code == 200 and body.startswith("END ")
    else:
        assert response.status_code == status and body.startswith(str(status))


@pytest.mark.parametrize("path", ROUTES)
def test_a_body_over_the_size_limit_is_answered_in_the_routes_own_format(
    app: Flask, client: FlaskClient, path: str
) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = post(client, path, {"sessionId": "s", "id": "i", "text": "x" * 2000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    _is_ours(path, response, 413)


@pytest.mark.parametrize("path", ROUTES)
def test_a_wrong_secret_is_answered_in_the_routes_own_format(
    client: FlaskClient, path: str
) -> None:
    response = post(client, path, {"sessionId": "s", "id": "i"}, secret="guessed-secret")
    _is_ours(path, response, 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UssdSession)) == 0


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_a_wrong_method_is_answered_in_the_routes_own_format(
    client: FlaskClient, path: str, method: str
) -> None:
    response = getattr(client, method)(f"/at/{SECRET}/{path}")
    _is_ours(path, response, 405)


def test_an_unknown_gateway_path_is_a_plain_not_found(client: FlaskClient) -> None:
    response = client.post(f"/at/{SECRET}/sms/nothing")
    assert (response.status_code, response.mimetype) == (404, "text/plain")


HANDLERS = {
    "ussd": ("sms.ussd.engine", "answer_hop"),
    "ussd/events": ("sms.ussd.engine", "record_event"),
    "sms/inbound": ("sms.commands", "handle_inbound"),
    "sms/delivery": ("sms.worker", "record_delivery_report"),
}


def _valid_form(path: str, build: Builders) -> dict[str, str]:
    phone = build.voucher().entrepreneur.phone
    return {
        "ussd": {"sessionId": "S1", "serviceCode": "*384*1234#", "phoneNumber": phone, "text": ""},
        "ussd/events": {"sessionId": "S1", "status": "Success"},
        "sms/inbound": inbound(phone),
        "sms/delivery": {"id": "ATXid_1", "status": "Success"},
    }[path]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    ("failure", "status"),
    [(RuntimeError("the handler broke"), 500), (BadRequest(), 400)],
    ids=["unexpected", "bad-request"],
)
def test_a_failure_inside_a_route_is_answered_in_the_routes_own_format(
    app: Flask,
    client: FlaskClient,
    build: Builders,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    failure: Exception,
    status: int,
) -> None:
    module, name = HANDLERS[path]

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise failure

    form = _valid_form(path, build)
    monkeypatch.setattr(f"{module}.{name}", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = post(client, path, form)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    _is_ours(path, response, status)
