"""The Africa's Talking backend against a local stand-in of the HTTP API (`responses`).

The SDK itself runs for real; only the HTTP endpoint it calls is replaced.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from http.client import RemoteDisconnected
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from urllib3.exceptions import ProtocolError

from sms.africastalking import AfricasTalkingGateway, mask_phone
from sms.backends import BACKENDS, gateway_from_config
from sms.gateway import Outcome, RecipientResult

DEFAULT_URL = "https://api.africastalking.com/version1/messaging"
SANDBOX_URL = "https://api.sandbox.africastalking.com/version1/messaging"
LOCAL_BASE = "http://127.0.0.1:8765"
LOCAL_URL = LOCAL_BASE + "/version1/messaging"

ALICE = "+254711000111"
BOB = "+254722000222"
BODY = "Your Ujuzi voucher code is 4821. Show it at the training centre."


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def gateway() -> AfricasTalkingGateway:
    return AfricasTalkingGateway("ujuzi", "secret-key", sender_id="UJUZI")


def recipient(
    number: str, code: int | str, status: str, message_id: str = "None", cost: str = "0"
) -> dict[str, Any]:
    return {
        "statusCode": code,
        "number": number,
        "status": status,
        "cost": cost,
        "messageId": message_id,
    }


def reply(*recipients: dict[str, Any], message: str | None = None) -> dict[str, Any]:
    sent = sum(1 for r in recipients if r["statusCode"] in (100, 101, 102))
    return {
        "SMSMessageData": {
            "Message": message or f"Sent to {sent}/{len(recipients)} Total Cost: KES 0.8000",
            "Recipients": list(recipients),
        }
    }


def by_phone(results: list[RecipientResult]) -> dict[str, RecipientResult]:
    assert len({r.phone for r in results}) == len(results), "one result per recipient"
    return {r.phone: r for r in results}


def form(call: Any) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else body
    return {key: values[0] for key, values in parse_qs(text, strict_parsing=True).items()}


def test_a_cookie_the_api_sets_goes_back_with_the_next_send(api, gateway):
    # e.g. a load balancer's stickiness cookie: the session keeps and sends it, as requests would
    first = reply(recipient(ALICE, 101, "Success", "m1"))
    api.post(DEFAULT_URL, json=first, headers={"Set-Cookie": "lb=one; Path=/"})
    api.post(DEFAULT_URL, json=reply(recipient(BOB, 101, "Success", "m2")))

    gateway.send(BODY, [ALICE])
    gateway.send(BODY, [BOB])

    assert "Cookie" not in api.calls[0].request.headers
    assert api.calls[1].request.headers["Cookie"] == "lb=one"


def test_messages_to_two_recipients_are_accepted_with_their_message_ids(api, gateway):
    api.post(
        DEFAULT_URL,
        json=reply(
            recipient(ALICE, 101, "Success", "ATXid_alice", "KES 0.8000"),
            recipient(BOB, 102, "Queued", "ATXid_bob", "KES 0.8000"),
        ),
    )

    results = by_phone(gateway.send(BODY, [ALICE, BOB]))

    assert len(api.calls) == 1
    assert results[ALICE] == RecipientResult(ALICE, Outcome.ACCEPTED, "ATXid_alice", 101, "Success")
    assert results[BOB].outcome == Outcome.ACCEPTED
    assert results[BOB].message_id == "ATXid_bob"
    assert results[BOB].status_code == 102


def test_one_request_carries_all_recipients_the_message_username_and_api_key(api, gateway):
    api.post(
        DEFAULT_URL,
        json=reply(recipient(ALICE, 101, "Success", "m1"), recipient(BOB, 101, "Success", "m2")),
    )

    gateway.send(BODY, [ALICE, BOB])

    assert len(api.calls) == 1
    request = api.calls[0].request
    assert request.method == "POST"
    assert request.headers["apiKey"] == "secret-key"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["User-Agent"].startswith("africastalking-python/")
    assert form(api.calls[0]) == {
        "username": "ujuzi",
        "to": f"{ALICE},{BOB}",
        "message": BODY,
        "bulkSMSMode": "1",
        "from": "UJUZI",
        "enqueue": "1",
    }


def test_the_request_has_a_bounded_timeout(api, gateway):
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, 101, "Success", "m1")))

    gateway.send(BODY, [ALICE])

    timeout = api.calls[0].request.req_kwargs["timeout"]
    assert timeout is not None
    assert all(0 < part <= 30 for part in timeout)


def test_an_empty_sender_id_sends_no_from_field(api):
    gateway = AfricasTalkingGateway("ujuzi", "secret-key", sender_id="")
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, 101, "Success", "m1")))

    gateway.send(BODY, [ALICE])

    assert "from" not in form(api.calls[0])


def test_an_invalid_sender_id_with_no_recipients_alerts_for_everyone(api, gateway):
    api.post(DEFAULT_URL, json={"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}})

    results = gateway.send(BODY, [ALICE, BOB])

    assert {r.phone for r in results} == {ALICE, BOB}
    assert all(r.outcome == Outcome.ALERT for r in results)
    assert all(r.message_id is None for r in results)
    assert all("InvalidSenderId" in r.detail for r in results)


def test_an_empty_reply_without_a_known_reason_is_retried(api, gateway):
    api.post(DEFAULT_URL, json={"SMSMessageData": {"Message": "Sent to 0/0", "Recipients": []}})

    results = gateway.send(BODY, [ALICE])

    assert [r.outcome for r in results] == [Outcome.RETRY]


def test_a_blacklisted_recipient_fails_permanently_while_another_succeeds(api, gateway):
    api.post(
        DEFAULT_URL,
        json=reply(
            recipient(ALICE, 406, "UserInBlacklist"),
            recipient(BOB, 101, "Success", "ATXid_bob", "KES 0.8000"),
        ),
    )

    results = by_phone(gateway.send(BODY, [ALICE, BOB]))

    assert results[ALICE].outcome == Outcome.PERMANENT
    assert results[ALICE].status_code == 406
    assert results[ALICE].message_id is None  # the API's "None" is not an id
    assert results[ALICE].detail == "UserInBlacklist"
    assert results[BOB].outcome == Outcome.ACCEPTED
    assert results[BOB].message_id == "ATXid_bob"


@pytest.mark.parametrize(
    ("code", "status", "outcome"),
    [
        (100, "Processed", Outcome.ACCEPTED),
        (101, "Success", Outcome.ACCEPTED),
        (102, "Queued", Outcome.ACCEPTED),
        (401, "RiskHold", Outcome.ALERT),
        (402, "InvalidSenderId", Outcome.ALERT),
        (405, "InsufficientBalance", Outcome.ALERT),
        (403, "InvalidPhoneNumber", Outcome.PERMANENT),
        (404, "UnsupportedNumberType", Outcome.PERMANENT),
        (406, "UserInBlacklist", Outcome.PERMANENT),
        (407, "CouldNotRoute", Outcome.PERMANENT),
        (500, "InternalServerError", Outcome.RETRY),
        (501, "GatewayError", Outcome.RETRY),
        (502, "RejectedByGateway", Outcome.RETRY),
        (409, "DoNotDisturbRejection", Outcome.PERMANENT),
    ],
)
def test_each_status_code_maps_to_its_outcome(api, gateway, code, status, outcome):
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, code, status, "ATXid_1")))

    [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == outcome
    assert result.message_id == ("ATXid_1" if outcome == Outcome.ACCEPTED else None)


def test_a_status_code_given_as_a_string_is_understood(api, gateway):
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, "101", "Success", "m1")))

    [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == Outcome.ACCEPTED
    assert result.status_code == 101


def test_an_http_500_is_retried_and_the_next_attempt_is_accepted(api, gateway):
    api.post(DEFAULT_URL, status=500, body="Internal Server Error")
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, 101, "Success", "ATXid_second")))

    [first] = gateway.send(BODY, [ALICE])
    [second] = gateway.send(BODY, [ALICE])

    assert first.outcome == Outcome.RETRY
    assert "Internal Server Error" in first.detail
    assert second.outcome == Outcome.ACCEPTED
    assert second.message_id == "ATXid_second"
    assert len(api.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403])
def test_an_http_client_error_such_as_a_wrong_api_key_alerts_instead_of_retrying(
    api, gateway, status
):
    api.post(DEFAULT_URL, status=status, body="The supplied authentication is invalid")

    results = gateway.send(BODY, [ALICE, BOB])

    assert {r.outcome for r in results} == {Outcome.ALERT}
    assert all(f"HTTP {status}" in r.detail and "authentication" in r.detail for r in results)


@pytest.mark.parametrize("status", [408, 429, 503])
def test_an_http_timeout_throttling_or_server_error_is_retried(api, gateway, status):
    api.post(DEFAULT_URL, status=status, body="try later")

    [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == Outcome.RETRY


def test_an_http_error_detail_is_truncated(api, gateway):
    api.post(DEFAULT_URL, status=502, body="x" * 5000)

    [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == Outcome.RETRY
    assert len(result.detail) <= 200


def test_a_connection_error_is_retried(api, gateway):
    api.post(DEFAULT_URL, body=requests.exceptions.ConnectionError("connection refused"))

    results = gateway.send(BODY, [ALICE, BOB])

    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]


def test_a_connect_timeout_is_retried(api, gateway):
    api.post(DEFAULT_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))

    [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == Outcome.RETRY


def test_a_read_timeout_is_ambiguous(api, gateway):
    api.post(DEFAULT_URL, body=requests.exceptions.ReadTimeout("read timed out"))

    results = gateway.send(BODY, [ALICE, BOB])

    assert [r.outcome for r in results] == [Outcome.AMBIGUOUS, Outcome.AMBIGUOUS]


def test_a_connection_dropped_after_the_request_went_out_is_ambiguous(api, gateway):
    aborted = ProtocolError("Connection aborted.", RemoteDisconnected("closed without response"))
    api.post(DEFAULT_URL, body=requests.exceptions.ConnectionError(aborted))

    [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == Outcome.AMBIGUOUS


def test_an_unexpected_error_is_retried_and_logged_with_its_traceback(api, gateway, caplog):
    api.post(DEFAULT_URL, body=RuntimeError("boom"))

    with caplog.at_level(logging.ERROR, logger="sms.africastalking"):
        [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == Outcome.RETRY
    assert any(record.exc_info for record in caplog.records)


def test_a_reply_with_a_charset_in_its_content_type_is_parsed(api, gateway):
    # The SDK returns the raw text instead of a dict when the content type is not exactly
    # "application/json".
    api.post(
        DEFAULT_URL,
        body=json.dumps(reply(recipient(ALICE, 101, "Success", "ATXid_charset"))),
        content_type="application/json; charset=utf-8",
    )

    [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == Outcome.ACCEPTED
    assert result.message_id == "ATXid_charset"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body>Bad gateway</body></html>", "text/html"),
        ("{not json", "application/json"),
        ("{not json", "application/json; charset=utf-8"),
        ('["a list"]', "application/json"),
        ('{"SMSMessageData": "nope"}', "application/json"),
    ],
)
def test_a_garbled_reply_is_retried_for_everyone(api, gateway, body, content_type):
    api.post(DEFAULT_URL, body=body, content_type=content_type)

    results = gateway.send(BODY, [ALICE, BOB])

    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]


def test_numbers_in_the_reply_without_a_plus_are_matched_to_the_request(api, gateway):
    api.post(
        DEFAULT_URL,
        json=reply(
            recipient(BOB.lstrip("+"), 101, "Success", "ATXid_bob"),
            recipient(ALICE.lstrip("+"), 406, "UserInBlacklist"),
        ),
    )

    results = by_phone(gateway.send(BODY, [ALICE, BOB]))

    assert results[ALICE].outcome == Outcome.PERMANENT
    assert results[BOB].outcome == Outcome.ACCEPTED
    assert results[BOB].message_id == "ATXid_bob"


def test_a_recipient_missing_from_the_reply_is_retried(api, gateway):
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, 101, "Success", "ATXid_alice")))

    results = by_phone(gateway.send(BODY, [ALICE, BOB]))

    assert results[ALICE].outcome == Outcome.ACCEPTED
    assert results[BOB].outcome == Outcome.RETRY
    assert results[BOB].message_id is None


def test_a_number_that_is_not_e164_fails_permanently_without_blocking_the_others(api, gateway):
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, 101, "Success", "ATXid_alice")))

    results = by_phone(gateway.send(BODY, [ALICE, "0711000111"]))

    assert results[ALICE].outcome == Outcome.ACCEPTED
    assert results["0711000111"].outcome == Outcome.PERMANENT
    assert form(api.calls[0])["to"] == ALICE


def test_a_number_given_twice_is_sent_to_once(api, gateway):
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, 101, "Success", "ATXid_alice")))

    results = gateway.send(BODY, [ALICE, ALICE])

    assert form(api.calls[0])["to"] == ALICE
    assert [r.outcome for r in results] == [Outcome.ACCEPTED]


def test_no_recipients_means_no_request(api, gateway):
    assert gateway.send(BODY, []) == []
    assert len(api.calls) == 0


def test_a_custom_base_url_is_honoured(api):
    gateway = AfricasTalkingGateway("ujuzi", "secret-key", api_base=LOCAL_BASE + "/")
    api.post(LOCAL_URL, json=reply(recipient(ALICE, 101, "Success", "ATXid_local")))

    [result] = gateway.send(BODY, [ALICE])

    assert gateway.messaging_url == LOCAL_URL
    assert result.outcome == Outcome.ACCEPTED
    assert api.calls[0].request.url == LOCAL_URL


def test_a_custom_base_url_that_already_names_the_version_is_not_doubled(api):
    gateway = AfricasTalkingGateway("ujuzi", "secret-key", api_base=LOCAL_BASE + "/version1")
    api.post(LOCAL_URL, json=reply(recipient(ALICE, 101, "Success", "m1")))

    gateway.send(BODY, [ALICE])

    assert api.calls[0].request.url == LOCAL_URL


def test_the_sandbox_username_talks_to_the_sandbox_host(api):
    gateway = AfricasTalkingGateway("sandbox", "sandbox-key")
    api.post(SANDBOX_URL, json=reply(recipient(ALICE, 101, "Success", "m1")))

    [result] = gateway.send(BODY, [ALICE])

    assert result.outcome == Outcome.ACCEPTED


def test_two_gateways_do_not_share_credentials_or_hosts(api):
    local = AfricasTalkingGateway("one", "key-one", api_base=LOCAL_BASE)
    default = AfricasTalkingGateway("two", "key-two")
    api.post(LOCAL_URL, json=reply(recipient(ALICE, 101, "Success", "m1")))
    api.post(DEFAULT_URL, json=reply(recipient(ALICE, 101, "Success", "m2")))

    local.send(BODY, [ALICE])
    default.send(BODY, [ALICE])

    assert api.calls[0].request.headers["apiKey"] == "key-one"
    assert form(api.calls[0])["username"] == "one"
    assert api.calls[1].request.url == DEFAULT_URL
    assert api.calls[1].request.headers["apiKey"] == "key-two"


def test_logs_show_neither_the_body_nor_full_phone_numbers(api, gateway, caplog):
    api.post(
        DEFAULT_URL,
        json=reply(recipient(ALICE, 101, "Success", "m1"), recipient(BOB, 406, "UserInBlacklist")),
    )

    with caplog.at_level(logging.DEBUG, logger="sms.africastalking"):
        gateway.send(BODY, [ALICE, BOB, "0711000111"])

    logged = caplog.text
    assert caplog.records
    assert BODY not in logged and "4821" not in logged
    for phone in (ALICE, BOB, ALICE.lstrip("+"), "0711000111"):
        assert phone not in logged
    assert mask_phone(ALICE) in logged


def test_gateway_from_config_builds_the_africastalking_gateway(api):
    gateway = gateway_from_config(
        {
            "SMS_BACKEND": "africastalking",
            "AT_USERNAME": "ujuzi",
            "AT_API_KEY": "secret-key",
            "AT_SENDER_ID": "UJUZI",
            "AT_API_BASE": LOCAL_BASE,
        }
    )
    api.post(LOCAL_URL, json=reply(recipient(ALICE, 101, "Success", "m1")))

    assert isinstance(gateway, AfricasTalkingGateway)
    assert gateway.name == "africastalking"
    [result] = gateway.send(BODY, [ALICE])
    assert result.outcome == Outcome.ACCEPTED
    assert form(api.calls[0])["from"] == "UJUZI"
    assert api.calls[0].request.headers["apiKey"] == "secret-key"


def test_every_backend_the_configuration_accepts_can_be_built():
    from config import SMS_BACKENDS

    assert sorted(BACKENDS) == sorted(SMS_BACKENDS)
    with pytest.raises(ValueError, match="unknown SMS_BACKEND"):
        gateway_from_config({"SMS_BACKEND": "carrier-pigeon"})


def test_gateway_from_config_without_an_api_base_uses_the_sdk_default_host():
    gateway = AfricasTalkingGateway.from_config(
        {"AT_USERNAME": "ujuzi", "AT_API_KEY": "k", "AT_SENDER_ID": "", "AT_API_BASE": None}
    )

    assert gateway.messaging_url == DEFAULT_URL
    assert gateway.sender_id is None


def test_a_missing_api_key_is_refused_at_construction():
    with pytest.raises(ValueError, match="API key"):
        AfricasTalkingGateway.from_config({"AT_USERNAME": "ujuzi", "AT_API_KEY": ""})


def test_the_http_session_takes_proxies_and_ca_bundle_from_the_environment_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = AfricasTalkingGateway("ujuzi", "secret-key")._service._session()
    assert session.trust_env is False  # no .netrc or CA lookups on every send
    assert session.proxies["https"] == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/certs/ca-certificates.crt"
