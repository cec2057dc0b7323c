"""The API's routes declare their contract once (flask-smorest's decorators): the document is
made from them, and every refusal keeps the API's one error shape and its order (the key first)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import Builders

API = "/api/v1"


def test_every_api_route_is_in_the_document_and_nothing_else(
    app: Flask, client: FlaskClient
) -> None:
    routed = {
        (method.lower(), rule.rule.removeprefix(API).replace("<int:", "{").replace("<", "{"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    routed = {(method, path.replace(">", "}")) for method, path in routed}
    doc = client.get(f"{API}/openapi.json").get_json()
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    documented -= {(m, p) for m, p in documented if m == "parameters"}
    assert routed == documented
    assert len(routed) >= 20


def test_revoking_without_a_body_works_and_the_document_says_the_body_is_optional(
    client: FlaskClient, build: Builders
) -> None:
    voucher = build.voucher(build.programme())
    headers = {"Authorization": f"Bearer {build.api_key()}"}
    answer = client.post(f"{API}/vouchers/{voucher.code}/revoke", headers=headers)
    assert (answer.status_code, answer.get_json()["status"]) == (200, "revoked")
    doc = client.get(f"{API}/openapi.json").get_json()
    assert doc["paths"]["/vouchers/{code}/revoke"]["post"]["requestBody"]["required"] is False


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/programmes", {"name": ""}),
        ("get", "/vouchers?status=lost", None),
        ("patch", "/entrepreneurs/1", {"trade": 5}),
    ],
)
def test_a_request_without_a_key_is_refused_before_its_fields_are_read(
    client: FlaskClient, method: str, path: str, body: Any
) -> None:
    answer = getattr(client, method)(f"{API}{path}", json=body)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("path", "query"),
    [("/vouchers", {"colour": "red"}), ("/sessions", {"needs_review": "true", "x": "1"})],
)
def test_an_unknown_query_parameter_is_refused_naming_it(
    client: FlaskClient, build: Builders, path: str, query: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {build.api_key()}"}
    answer = client.get(f"{API}{path}", query_string=query, headers=headers)
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == set(query) - {"needs_review"}
