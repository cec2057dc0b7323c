"""Payout accounts through the API: proposed with one key, approved with another."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.builders import Builders, next_phone


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_change_proposed_with_one_key_is_approved_with_another(
    client: FlaskClient, build: Builders
) -> None:
    first, second = _auth(build.api_key()), _auth(build.api_key())
    provider = build.provider()
    number = next_phone()
    path = f"/api/v1/providers/{provider.id}/payout-account"

    proposed = client.post(f"{path}/mpesa", json={"msisdn": number[1:]}, headers=first)
    assert proposed.status_code == 201, proposed.json
    account = proposed.json
    assert (account["kind"], account["msisdn"], account["status"]) == ("mpesa", number, "pending")
    assert client.get(path, headers=first).json["approved"] is None
    waiting = client.get("/api/v1/payout-accounts", headers=first).json["items"]
    assert [a["id"] for a in waiting] == [account["id"]]

    same = client.post(f"/api/v1/payout-accounts/{account['id']}/approve", headers=first)
    assert same.status_code == 403
    assert same.json["error"]["code"] == "second_officer_required"

    approved = client.post(f"/api/v1/payout-accounts/{account['id']}/approve", headers=second)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    shown = client.get(path, headers=first).json
    assert shown["approved"]["msisdn"] == number and shown["pending"] is None


def test_a_bank_account_is_proposed_and_can_be_refused(
    client: FlaskClient, build: Builders
) -> None:
    key = _auth(build.api_key())
    provider = build.provider()
    path = f"/api/v1/providers/{provider.id}/payout-account"

    proposed = client.post(
        f"{path}/bank", json={"bank_name": "KCB", "bank_account": "1100-22/33"}, headers=key
    )
    assert proposed.status_code == 201
    assert proposed.json["bank_account"] == "1100-22/33" and proposed.json["msisdn"] is None
    refused = client.post(f"/api/v1/payout-accounts/{proposed.json['id']}/refuse", headers=key)
    assert refused.status_code == 200 and refused.json["status"] == "refused"
    assert client.get(path, headers=key).json == {"approved": None, "pending": None}


def test_what_mpesa_or_a_bank_cannot_pay_is_refused_by_field(
    client: FlaskClient, build: Builders
) -> None:
    key = _auth(build.api_key())
    provider = build.provider()
    path = f"/api/v1/providers/{provider.id}/payout-account"

    landline = client.post(f"{path}/mpesa", json={"msisdn": "0202222222"}, headers=key)
    uganda = client.post(f"{path}/mpesa", json={"msisdn": "+256772123456"}, headers=key)
    no_digits = client.post(
        f"{path}/bank", json={"bank_name": "KCB", "bank_account": "abc"}, headers=key
    )
    unknown = client.post(
        "/api/v1/providers/999999/payout-account/mpesa", json={"msisdn": next_phone()}, headers=key
    )

    for refused, field in ((landline, "msisdn"), (uganda, "msisdn"), (no_digits, "bank_account")):
        assert refused.status_code == 422
        assert field in refused.json["error"]["details"]
    assert unknown.status_code == 404
