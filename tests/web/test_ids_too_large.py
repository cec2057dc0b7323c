"""A number in a page's address too large for any row's id is a page that does not exist (404),
on every channel, never a query the database refuses (500)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import Builders
from tests.web.conftest import Web

TOO_LARGE = "99999999999999999999"
JUST_TOO_LARGE = str(2**31)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/admin/providers/{TOO_LARGE}"),
        ("post", f"/admin/providers/{TOO_LARGE}"),
        ("post", f"/admin/providers/{JUST_TOO_LARGE}/approve"),
        ("get", f"/admin/payouts/{TOO_LARGE}"),
        ("get", f"/admin/payouts/{TOO_LARGE}.csv"),
        ("post", f"/admin/payouts/{TOO_LARGE}/paid"),
        ("post", f"/admin/payouts/1/paid/{TOO_LARGE}"),
        ("post", f"/admin/review/{TOO_LARGE}"),
        ("get", f"/funder/programmes/{TOO_LARGE}"),
        ("get", f"/funder/programmes/{JUST_TOO_LARGE}/stats.csv"),
        ("get", f"/funder/programmes/{TOO_LARGE}/headline.csv"),
    ],
)
def test_an_officer_asking_for_an_id_too_large_for_any_row_gets_not_found(
    web: Web, client: FlaskClient, build: Builders, method: str, path: str
) -> None:
    web.staff_signin(build.staff_user("admin").email)
    client.get("/admin")  # a page with the session's CSRF token
    answer = getattr(client, method)(path, data={"decision": "uphold"})
    assert answer.status_code == 404, path
    assert answer.mimetype == "text/html"


@pytest.mark.parametrize(
    "path",
    [
        f"/mentor/sessions/{TOO_LARGE}",
        f"/mentor/sessions/{JUST_TOO_LARGE}",
        f"/mentor/bookings/{TOO_LARGE}/record",
    ],
)
def test_a_mentor_asking_for_an_id_too_large_for_any_row_gets_not_found(
    web: Web, client: FlaskClient, build: Builders, path: str
) -> None:
    web.mentor_of(build.provider())
    assert client.get(path).status_code == 404


def test_the_largest_id_a_row_can_have_still_reaches_the_page(
    app: Flask, web: Web, client: FlaskClient, build: Builders
) -> None:
    routes = app.url_map.bind("localhost")
    assert routes.match(f"/admin/providers/{2**31 - 1}") == (
        "admin.provider_detail",
        {"provider_id": 2**31 - 1},
    )
    web.staff_signin(build.staff_user("admin").email)
    provider = build.provider()
    assert client.get(f"/admin/providers/{provider.id}").status_code == 200


def test_the_api_answers_too_large_ids_in_its_own_error_shape(
    client: FlaskClient, build: Builders
) -> None:
    headers = {"Authorization": f"Bearer {build.api_key()}"}
    answer = client.get(f"/api/v1/vouchers/{TOO_LARGE}", headers=headers)
    assert answer.status_code == 404  # a voucher code, not an id: looked up and not found
    answer = client.post(f"/api/v1/sessions/{TOO_LARGE}/review", headers=headers, json={})
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"
