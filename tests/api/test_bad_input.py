"""The JSON API given bad input: a clear 4xx in the one error shape, and nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import (
    AuditEvent,
    Entrepreneur,
    OutboxMessage,
    Programme,
    Provider,
    Voucher,
)
from marketplace.extensions import db
from tests.builders import Builders

API = "/api/v1"
COUNTED = (Programme, Provider, Entrepreneur, Voucher, OutboxMessage, AuditEvent)


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) or 0
        for m in COUNTED
    }


@contextmanager
def nothing_written() -> Iterator[None]:
    before = _counts()
    yield
    assert _counts() == before


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"code", "message", "details"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if "details" in error:
        assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code
    return error  # type: ignore[no-any-return]


@pytest.fixture
def admin(build: Builders) -> dict[str, str]:
    return {"Authorization": f"Bearer {build.api_key('admin')}"}


def _programme_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Jua Kali 2027",
        "funder": "Skills Fund",
        "currency": "KES",
        "voucher_value_minor": 400_000,
        "sessions_per_voucher": 4,
        "validity_days": 90,
        "budget_minor": 40_000_000,
    }
    body.update(overrides)
    return body


def _provider_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "craft_worker",
        "name": "Mama Otieno Tailoring",
        "phone": "0722000111",
        "trades": ["tailoring"],
        "region": "nairobi",
        "capacity": 4,
    }
    body.update(overrides)
    return body


def _voucher_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "phone": "0733000222",
        "name": "Amina Wanjiru",
        "gender": "female",
        "birth_year": 1994,
        "trade": "tailoring",
        "region": "nairobi",
    }
    body.update(overrides)
    return body


# --------------------------------------------------------------------------- JSON bodies


@pytest.mark.parametrize(
    "body",
    [
        _programme_body(voucher_value_minor="400000"),
        _programme_body(voucher_value_minor=4000.5),
        _programme_body(sessions_per_voucher=True),
        _programme_body(budget_minor=-1),
        _programme_body(currency="kes"),
        _programme_body(name="x" * 121),
        _programme_body(eligible_trades="tailoring"),
        _programme_body(eligible_trades=["x" * 41]),
        {k: v for k, v in _programme_body().items() if k != "funder"},
        {},
    ],
    ids=[
        "value as text",
        "value as float",
        "sessions as bool",
        "negative budget",
        "lower-case currency",
        "oversized name",
        "trades not a list",
        "oversized trade",
        "missing funder",
        "empty object",
    ],
)
def test_creating_a_programme_with_bad_fields_is_refused(
    client: FlaskClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    with nothing_written():
        error = assert_error(client.post(f"{API}/programmes", json=body, headers=admin), 422)
    assert error["details"]


@pytest.mark.parametrize("data", ["[1, 2]", "not json", '"text"', "null", "{"])
def test_a_body_that_is_not_a_json_object_is_refused(
    client: FlaskClient, admin: dict[str, str], data: str
) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    for path in ("/programmes", "/providers"):
        with nothing_written():
            assert_error(client.post(f"{API}{path}", data=data, headers=headers), 422)


def test_unknown_trades_and_regions_in_a_programme_are_named(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    with nothing_written():
        error = assert_error(
            client.post(
                f"{API}/programmes",
                headers=admin,
                json=_programme_body(eligible_trades=["underwater-welding"]),
            ),
            422,
        )
    assert "eligible_trades" in error["details"]


@pytest.mark.parametrize(
    "phone",
    ["0711", "+1 555 0100", "07110001112222", "not a number", "0" * 33, "", "+254 711 ABC 111"],
)
def test_a_malformed_phone_is_refused_for_providers_and_vouchers(
    client: FlaskClient, admin: dict[str, str], build: Builders, phone: str
) -> None:
    programme = build.programme()
    with nothing_written():
        error = assert_error(
            client.post(f"{API}/providers", headers=admin, json=_provider_body(phone=phone)), 422
        )
        assert "phone" in error["details"]
        error = assert_error(
            client.post(
                f"{API}/programmes/{programme.id}/vouchers",
                headers=admin,
                json=_voucher_body(phone=phone),
            ),
            422,
        )
        assert "phone" in error["details"]


@pytest.mark.parametrize(
    "body",
    [
        _provider_body(kind="plumber"),
        _provider_body(capacity=0),
        _provider_body(capacity="5"),
        _provider_body(trades=[]),
        _provider_body(trades=["tailoring"] * 21),
        _provider_body(trades=["astrophysics"]),
        _provider_body(region="atlantis"),
        _provider_body(name=""),
        _provider_body(town="t" * 81),
        {k: v for k, v in _provider_body().items() if k != "phone"},
    ],
    ids=[
        "unknown kind",
        "zero capacity",
        "capacity as text",
        "no trades",
        "too many trades",
        "unknown trade",
        "unknown region",
        "empty name",
        "oversized town",
        "missing phone",
    ],
)
def test_registering_a_provider_with_bad_fields_is_refused(
    client: FlaskClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    with nothing_written():
        assert_error(client.post(f"{API}/providers", json=body, headers=admin), 422)


@pytest.mark.parametrize(
    "body",
    [
        _voucher_body(birth_year="1994"),
        _voucher_body(birth_year=1850),
        _voucher_body(birth_year=2020),
        _voucher_body(gender="x"),
        _voucher_body(trade="astrophysics"),
        _voucher_body(region="atlantis"),
        _voucher_body(language="fr"),
        _voucher_body(name="n" * 121),
        _voucher_body(ref=""),
        _voucher_body(ref="r" * 65),
        {k: v for k, v in _voucher_body().items() if k != "name"},
    ],
    ids=[
        "year as text",
        "year too old",
        "too young",
        "unknown gender",
        "unknown trade",
        "unknown region",
        "unknown language",
        "oversized name",
        "empty ref",
        "oversized ref",
        "missing name",
    ],
)
def test_issuing_a_voucher_with_bad_fields_is_refused(
    client: FlaskClient, admin: dict[str, str], build: Builders, body: dict[str, Any]
) -> None:
    programme = build.programme()
    with nothing_written():
        assert_error(
            client.post(f"{API}/programmes/{programme.id}/vouchers", json=body, headers=admin), 422
        )


def test_issuing_past_the_budget_is_refused_and_commits_nothing(
    client: FlaskClient, admin: dict[str, str], build: Builders
) -> None:
    programme = build.programme(voucher_value_minor=400_000, budget_minor=400_000)
    build.voucher(programme)
    with nothing_written():
        assert_error(
            client.post(
                f"{API}/programmes/{programme.id}/vouchers", headers=admin, json=_voucher_body()
            ),
            409,
            "budget_exceeded",
        )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/providers", {"limit": "0"}),
        ("/providers", {"limit": "many"}),
        ("/providers", {"status": "sleeping"}),
        ("/providers", {"after_id": "-1"}),
        ("/vouchers", {"status": "lost"}),
        ("/vouchers", {"programme_id": "abc"}),
        ("/vouchers", {"phone": "12"}),
        ("/sessions", {"needs_review": "perhaps"}),
        ("/entrepreneurs", {"phone": "not-a-phone"}),
        ("/entrepreneurs", {}),
    ],
)
def test_bad_query_parameters_are_refused(
    client: FlaskClient, admin: dict[str, str], path: str, params: dict[str, str]
) -> None:
    assert_error(client.get(f"{API}{path}", query_string=params, headers=admin), 422)


# --------------------------------------------------------------------------- unknown ids


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/programmes/999999", None),
        ("get", "/providers/999999", None),
        ("post", "/providers/999999/approve", None),
        ("post", "/providers/999999/suspend", None),
        ("get", "/entrepreneurs/999999", None),
        ("post", "/programmes/999999/vouchers", _voucher_body()),
        ("get", "/vouchers/1234567890", None),
        ("get", "/vouchers/not-a-code", None),
        ("post", "/vouchers/1234567890/revoke", {"reason": "x"}),
        ("post", "/sessions/999999/review", {"decision": "uphold"}),
        ("get", "/payouts/999999", None),
        ("get", "/payouts/999999/csv", None),
        ("post", "/payouts/statements/999999/paid", {"reference": "MPESA123"}),
        ("get", "/no-such-route", None),
    ],
)
def test_unknown_ids_answer_404_in_the_error_shape(
    client: FlaskClient, admin: dict[str, str], method: str, path: str, body: dict[str, Any] | None
) -> None:
    with nothing_written():
        response = getattr(client, method)(f"{API}{path}", json=body, headers=admin)
        assert_error(response, 404)


def test_a_wrong_method_answers_405_in_the_error_shape(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    assert_error(client.delete(f"{API}/programmes", headers=admin), 405)


# --------------------------------------------------------------------------- keys and roles


ADMIN_ROUTES = [
    ("post", "/programmes"),
    ("get", "/providers"),
    ("post", "/providers"),
    ("get", "/providers/1"),
    ("post", "/providers/1/approve"),
    ("post", "/providers/1/suspend"),
    ("get", "/entrepreneurs"),
    ("get", "/entrepreneurs/1"),
    ("post", "/programmes/1/vouchers"),
    ("post", "/programmes/1/vouchers/import"),
    ("get", "/vouchers"),
    ("get", "/vouchers/1234567890"),
    ("post", "/vouchers/1234567890/revoke"),
    ("get", "/sessions"),
    ("post", "/sessions/1/review"),
    ("get", "/payouts"),
    ("post", "/payouts"),
    ("get", "/payouts/1"),
    ("get", "/payouts/1/csv"),
    ("post", "/payouts/statements/1/paid"),
]
SHARED_ROUTES = [("get", "/programmes"), ("get", "/programmes/1")]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES + SHARED_ROUTES)
def test_every_route_wants_a_valid_key(client: FlaskClient, method: str, path: str) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer ujz_nope_nope"},
        {"Authorization": "Basic x"},
        {"Authorization": "Bearer "},
    ):
        with nothing_written():
            response = getattr(client, method)(f"{API}{path}", headers=headers, json={})
            assert_error(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_a_funder_key_may_not_use_admin_routes(
    client: FlaskClient, build: Builders, method: str, path: str
) -> None:
    funder = {"Authorization": f"Bearer {build.api_key('funder', funder='Skills Fund')}"}
    with nothing_written():
        response = getattr(client, method)(f"{API}{path}", headers=funder, json={})
        assert_error(response, 403, "forbidden")


def test_a_funder_key_sees_only_its_own_programmes(client: FlaskClient, build: Builders) -> None:
    ours = build.programme(funder="Skills Fund")
    theirs = build.programme(funder="Other Fund")
    funder = {"Authorization": f"Bearer {build.api_key('funder', funder='Skills Fund')}"}

    assert client.get(f"{API}/programmes/{ours.id}", headers=funder).status_code == 200
    assert_error(client.get(f"{API}/programmes/{theirs.id}", headers=funder), 404)
    listed = client.get(f"{API}/programmes", headers=funder).get_json()["items"]
    assert [p["id"] for p in listed] == [ours.id]


def test_a_revoked_key_is_refused(client: FlaskClient, build: Builders) -> None:
    from marketplace.services import access

    token = build.api_key("admin")
    key = access.authenticate_api_key(token)
    assert key is not None
    access.revoke_api_key(key.id, "test")
    assert_error(client.get(f"{API}/programmes", headers={"Authorization": f"Bearer {token}"}), 401)


@pytest.mark.parametrize(
    "path",
    [
        "/programmes/36845426528887832576",
        "/programmes/36845426528887832576/stats",
        "/providers/2147483648",
        "/entrepreneurs/99999999999999",
        "/payouts/99999999999999999999/csv",
    ],
)
def test_an_id_too_large_for_any_row_is_not_found_rather_than_an_error(
    client: FlaskClient, admin: dict[str, str], path: str
) -> None:
    assert_error(client.get(f"{API}{path}", headers=admin), 404)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/providers", {"after_id": "7515992364821016215552"}),
        ("/vouchers", {"after_id": "99999999999"}),
        ("/vouchers", {"programme_id": "99999999999"}),
        ("/sessions", {"provider_id": "99999999999"}),
    ],
)
def test_a_query_id_too_large_for_any_row_is_refused(
    client: FlaskClient, admin: dict[str, str], path: str, params: dict[str, str]
) -> None:
    assert_error(client.get(f"{API}{path}", query_string=params, headers=admin), 422)
