"""The USSD routes as the gateway sees them: secret path, service code, bad forms, failures, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from marketplace.domain.models import UssdSession
from marketplace.extensions import db
from marketplace.queries import ussd as reads
from tests.dialer import SECRET, check_body

from .conftest import counts

FORM = "application/x-www-form-urlencoded"


def post(client, form, secret=SECRET, path="ussd"):
    return client.post(f"/at/{secret}/{path}", data=urlencode(form), content_type=FORM)


def test_a_wrong_secret_is_answered_with_a_polite_end_and_does_nothing(client, build, phone_of):
    form = {
        "sessionId": "s1",
        "serviceCode": "*384*1234#",
        "phoneNumber": phone_of(build.voucher()),
        "text": "",
    }
    for secret in ("guess", ""):
        response = post(client, form, secret=secret)
        assert (response.status_code, response.mimetype) == (200, "text/plain")
        assert response.get_data(as_text=True).startswith("END Sorry")
    assert counts()["sessions"] == 0


def test_a_wrong_service_code_gets_a_polite_end(dialer, build, phone_of):
    phone = dialer(phone_of(build.voucher()), service_code="*384*9999#")
    screen = phone.dial()
    assert phone.ended and screen.startswith("This is not an Ujuzi service code.")
    assert counts()["sessions"] == 0


def test_several_service_codes_can_be_configured(app, dialer, build, phone_of):
    app.config["USSD_SERVICE_CODE"] = "*384*1234#, *483*77#"
    try:
        phone = dialer(phone_of(build.voucher()), service_code="*483*77#")
        assert phone.dial().startswith("Ujuzi: hello")
    finally:
        app.config["USSD_SERVICE_CODE"] = "*384*1234#"


def test_a_form_that_fails_validation_gets_a_polite_end_as_plain_text(client):
    for form in (
        {"serviceCode": "*384*1234#", "phoneNumber": "+254711000111"},
        {"sessionId": "s", "serviceCode": "*384*1234#", "phoneNumber": "not a phone"},
        {"sessionId": "s" * 500, "serviceCode": "*384*1234#", "phoneNumber": "+254711000111"},
        {},
    ):
        response = post(client, form)
        assert response.status_code == 200 and response.mimetype == "text/plain"
        body = response.get_data(as_text=True)
        check_body(body)
        assert body.startswith("END Sorry")


def test_an_unencoded_plus_in_the_phone_number_still_works(client, build, phone_of):
    phone = phone_of(build.voucher())
    raw = f"sessionId=raw1&serviceCode=%2A384%2A1234%23&phoneNumber={phone}&text="
    response = client.post(f"/at/{SECRET}/ussd", data=raw, content_type=FORM)
    assert response.get_data(as_text=True).startswith("CON Ujuzi: hello")


def test_a_number_without_the_plus_is_recognised(dialer, build, phone_of):
    phone = dialer(phone_of(build.voucher()).lstrip("+"))
    assert phone.dial().startswith("Ujuzi: hello")


def test_an_unexpected_failure_is_a_polite_end_and_a_repeat_gets_the_same(
    dialer, build, phone_of, monkeypatch, caplog
):
    phone = dialer(phone_of(build.voucher()))
    phone.dial()

    def broken(_entrepreneur_id):
        raise RuntimeError("database went away")

    monkeypatch.setattr(reads, "vouchers_of", broken)
    screen = phone.press("1")
    assert phone.ended and screen.startswith("Sorry, the service is busy.")
    assert "USSD hop failed" in caplog.text
    monkeypatch.undo()
    assert phone.repeat() == screen


def test_the_end_of_session_notice_is_recorded_on_the_session(client, dialer, build, phone_of):
    phone = dialer(phone_of(build.voucher()))
    phone.dial()
    last = phone.press("1")
    response = post(
        client,
        {
            "sessionId": phone.session_id,
            "phoneNumber": phone.phone,
            "status": "Incomplete",
            "cost": "KES 0.10",
            "hopsCount": "3",
            "durationInMillis": "30000",
            "errorMessage": "USER_TIMEOUT",
        },
        path="ussd/events",
    )
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    row = db.session.scalar(sa.select(UssdSession).execution_options(populate_existing=True))
    assert (row.ended_status, row.cost, row.hops) == ("Incomplete", "KES 0.10", 3)
    assert row.state["screen"] == "vouchers"  # kept: the next session may go on from there
    assert phone.repeat() == last  # a late repeat of the last hop still gets its answer


def test_an_end_notice_for_a_session_we_never_saw_is_kept(client):
    response = post(
        client,
        {
            "sessionId": "ATUid_lost",
            "phoneNumber": "254711000111",
            "status": "Failed",
            "cost": "KES 0.00",
            "hopsCount": "1",
        },
        path="ussd/events",
    )
    assert response.status_code == 200
    row = db.session.get(UssdSession, "ATUid_lost")
    assert (row.ended_status, row.phone, row.hops) == ("Failed", "+254711000111", 1)


def test_a_bad_end_notice_is_answered_200_and_ignored(client):
    response = post(client, {"status": "Success"}, path="ussd/events")
    assert response.status_code == 200
    assert counts()["sessions"] == 0


def test_the_gateway_is_answered_without_a_cookie_session(app, client, build, phone_of):
    form = {
        "sessionId": "s-cookie",
        "serviceCode": "*384*1234#",
        "phoneNumber": phone_of(build.voucher()),
        "text": "",
    }
    client.set_cookie("session", "not-a-signed-value")
    response = post(client, form)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
    sessions = app.session_interface
    with app.test_request_context(f"/at/{SECRET}/ussd", method="POST") as ctx:
        assert sessions.is_null_session(sessions.open_session(app, ctx.request))
    # The web pages still get their signed cookie session.
    with app.test_request_context("/signin") as ctx:
        assert not sessions.is_null_session(sessions.open_session(app, ctx.request))


def test_the_gateway_answers_without_browser_headers(client, build, phone_of):
    form = {
        "sessionId": "s-headers",
        "serviceCode": "*384*1234#",
        "phoneNumber": phone_of(build.voucher()),
        "text": "",
    }
    answer = post(client, form)
    assert answer.status_code == 200 and answer.get_data(as_text=True).startswith("CON ")
    assert "Content-Security-Policy" not in answer.headers
    assert "X-Frame-Options" not in answer.headers
    # A wrong address is answered in the gateway's format too: never a page to guard.
    missing = post(client, form, secret="guess", path="sms/delivery")
    assert missing.status_code == 404 and missing.mimetype == "text/plain"


def test_prune_removes_sessions_that_started_too_long_ago(runner, dialer, build, phone_of):
    started = {}
    for minutes in (45, 5):
        phone = dialer(phone_of(build.voucher()))
        phone.dial("1")  # stored: the screen after the opening menu
        started[minutes] = phone.session_id
        db.session.execute(
            sa.update(UssdSession)
            .where(UssdSession.session_id == phone.session_id)
            # Answered a moment ago, started long ago: a session's age counts from its start.
            .values(created_at=datetime.now(UTC) - timedelta(minutes=minutes))
        )
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["ops", "prune-ussd-sessions"])
    assert result.exit_code == 0 and "1 USSD sessions pruned." in result.output
    assert db.session.scalars(sa.select(UssdSession.session_id)).all() == [started[5]]
