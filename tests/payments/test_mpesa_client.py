"""The M-Pesa backend's pieces on their own: the SecurityCredential (decrypted for real with a
throwaway key pair), the callbacks' tolerant readers, the result codes' classes, the names."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask

from bench.mpesa_standin import make_key_pair
from marketplace.domain.models import FailureClass, PaymentCallback
from marketplace.domain.payments import Outcome, names_match, originator_id
from marketplace.extensions import db
from payments import mpesa


def test_the_security_credential_decrypts_to_the_initiator_password(tmp_path: Path) -> None:
    key, cert_path = make_key_pair(str(tmp_path))
    credential = mpesa.security_credential("Pa55#word", Path(cert_path).read_bytes())
    assert len(credential) == 344  # a 2048-bit key, as Safaricom's certificates
    assert key.decrypt(base64.b64decode(credential), padding.PKCS1v15()) == b"Pa55#word"
    # PKCS #1 v1.5 is randomised: the same password encrypts differently each time.
    assert credential != mpesa.security_credential("Pa55#word", Path(cert_path).read_bytes())


def test_a_der_certificate_works_as_well(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key, cert_path = make_key_pair(str(tmp_path))
    der = x509.load_pem_x509_certificate(Path(cert_path).read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    credential = mpesa.security_credential("secret", der)
    assert key.decrypt(base64.b64decode(credential), padding.PKCS1v15()) == b"secret"


SUCCESS = {
    "Result": {
        "ResultType": 0,
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "OriginatorConversationID": "UJZ1A1Xabc",
        "ConversationID": "AG_20240706_2010364430d9bbdaf872",
        "TransactionID": "SG632NMUAB",
        "ResultParameters": {
            "ResultParameter": [
                {"Key": "TransactionAmount", "Value": 10},
                {"Key": "TransactionReceipt", "Value": "SG632NMUAB"},
                {"Key": "ReceiverPartyPublicName", "Value": "254705912645 - NICHOLAS JOHN SONGOK"},
                {"Key": "B2CUtilityAccountAvailableFunds", "Value": 8959269.60},
                {"Key": "TransactionReason"},
            ]
        },
    }
}


def test_a_success_result_is_read_with_its_receipt_name_amount_and_balance() -> None:
    result = mpesa.parse_b2c_result(SUCCESS)
    assert result is not None and result.outcome is Outcome.SUCCEEDED
    assert result.receipt == "SG632NMUAB"
    assert result.registered_name == "NICHOLAS JOHN SONGOK"
    assert result.amount_minor == 1000
    assert result.balance_minor == 895926960


def test_a_failure_with_a_transaction_id_is_still_a_failure_of_its_class() -> None:
    body = {
        "Result": {
            "ResultType": 0,
            "ResultCode": "2040",
            "ResultDesc": "Credit Party customer type can't be supported by the service.",
            "OriginatorConversationID": "UJZ1A1Xabc",
            "TransactionID": "SG722NMVXQ",
        }
    }
    result = mpesa.parse_b2c_result(body)
    assert result is not None and result.outcome is Outcome.FAILED
    assert result.failure is FailureClass.RECIPIENT and result.receipt is None


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        ("2040", FailureClass.RECIPIENT),
        ("SFC_IC0003", FailureClass.RECIPIENT),
        ("8", FailureClass.RECIPIENT),
        ("4", FailureClass.RECIPIENT),
        ("1", FailureClass.FUNDS),
        ("2001", FailureClass.CONFIGURATION),
        ("8006", FailureClass.CONFIGURATION),
        ("2028", FailureClass.CONFIGURATION),
        ("21", FailureClass.CONFIGURATION),
        ("17", FailureClass.TRANSIENT),
        ("26", FailureClass.TRANSIENT),
        ("99999", FailureClass.TRANSIENT),
    ],
)
def test_every_result_code_has_its_class(code: str, failure: FailureClass) -> None:
    assert mpesa.classify(code) is failure


def test_one_result_parameter_object_and_values_missing_are_read() -> None:
    body = {
        "Result": {
            **SUCCESS["Result"],
            "ResultCode": "0",
            "ResultParameters": {"ResultParameter": {"Key": "TransactionAmount", "Value": "10"}},
        }
    }
    result = mpesa.parse_b2c_result(body)
    assert result is not None and result.outcome is Outcome.SUCCEEDED
    assert result.receipt == "SG632NMUAB" and result.registered_name is None


@pytest.mark.parametrize(
    "body",
    [
        {"OriginatorConversationID": "UJZ1A1Xabc", "InitiatorName": "x", "Amount": 10},
        {"Result": {"ResultType": 0, "ResultCode": 1, "OriginatorConversationID": "UJZ1A1Xabc"}},
    ],
)
def test_a_timeout_notice_in_either_shape_is_a_timeout(body: dict) -> None:
    result = mpesa.parse_b2c_timeout(body)
    assert result is not None and result.outcome is Outcome.TIMED_OUT
    assert result.originator_id == "UJZ1A1Xabc"


@pytest.mark.parametrize("body", [None, [], "x", 3, {}, {"Result": "x"}, {"Result": {}}])
def test_bodies_of_no_known_shape_are_read_as_nothing(body: object) -> None:
    assert mpesa.parse_b2c_result(body) is None
    assert mpesa.parse_b2c_timeout(body) is None
    assert mpesa.parse_status_result("UJZ1", body) is None
    assert mpesa.parse_balance(body) is None


def test_a_status_answer_for_an_id_never_seen_is_not_found_not_failed() -> None:
    body = {"Result": {"ResultType": 0, "ResultCode": "SFC_IC0003", "ResultDesc": "x"}}
    result = mpesa.parse_status_result("UJZ1", body)
    assert result is not None and result.outcome is Outcome.NOT_FOUND


def test_the_utility_balance_is_read_from_the_account_list() -> None:
    accounts = (
        "Working Account|KES|700000.00|700000.00|0.00|0.00&Float Account|KES|0.00|0.00|0.00|0.00"
        "&Utility Account|KES|228037.00|228037.00|0.00|0.00&Charges Paid Account|KES|-1540.00|"
        "-1540.00|0.00|0.00"
    )
    body = {
        "Result": {
            "ResultCode": 0,
            "ResultParameters": {"ResultParameter": [{"Key": "AccountBalance", "Value": accounts}]},
        }
    }
    assert mpesa.parse_balance(body) == 22803700


def test_ids_are_derived_from_the_statement_and_the_attempt() -> None:
    assert originator_id(7, 1) == originator_id(7, 1)
    assert len({originator_id(7, 1), originator_id(7, 2), originator_id(8, 1)}) == 3
    assert len(originator_id(2**31 - 1, 99)) <= 40


@pytest.mark.parametrize(
    ("ours", "theirs", "same"),
    [
        ("John Songok", "NICHOLAS JOHN SONGOK", True),
        ("Grace Wanjiku Kamau", "GRACE KAMAU", True),
        ("Amina", "AMINA", True),
        ("Grace Wanjiku", "PETER OTIENO", False),
        ("Grace Wanjiku", "GRACE OTIENO", False),
        ("Mama Mboga Tailors", "", False),
    ],
)
def test_registered_names_are_compared_by_words(ours: str, theirs: str, same: bool) -> None:
    assert names_match(ours, theirs) is same


ROUTES = [
    "b2c/result",
    "b2c/timeout",
    "status/result/UJZ1",
    "status/timeout/UJZ1",
    "balance/result",
    "balance/timeout",
]
BODIES = [
    b"",
    b"not json",
    b"[]",
    b"{}",
    b'{"Result": 5}',
    b'{"Result": {"ResultCode": "0"}}',
    b"\xff\xfe" * 50,
]


@pytest.mark.parametrize("route", ROUTES)
def test_every_callback_is_stored_and_answered_at_once_whatever_its_body(
    app: Flask, route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MPESA_CALLBACK_SECRET", "a-callback-secret-for-tests")
    client = app.test_client()
    for body in BODIES:
        started = time.monotonic()
        answer = client.post(
            f"/mpesa/a-callback-secret-for-tests/{route}",
            data=body,
            content_type="application/json",
        )
        assert answer.status_code == 200 and time.monotonic() - started < 1.0
        assert answer.get_json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert db.session.query(PaymentCallback).count() == len(BODIES)
    assert client.post(f"/mpesa/wrong/{route}", data=b"{}").status_code == 404
    assert client.get(f"/mpesa/a-callback-secret-for-tests/{route}").status_code == 405
