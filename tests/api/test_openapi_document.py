"""The OpenAPI document describes what the API really answers: every success status, and the
shape of lists (items, next page). Real answers are checked against it with schemathesis."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import Builders

API = "/api/v1"
PERSON = {
    "phone": "0722000999",
    "name": "Amina Wanjiru",
    "gender": "female",
    "birth_year": 1994,
    "trade": "tailoring",
    "region": "nairobi",
}


def _document(client: FlaskClient) -> dict[str, Any]:
    return client.get(f"{API}/openapi.json").get_json()  # type: ignore[no-any-return]


def _component(doc: dict[str, Any], ref: dict[str, str]) -> dict[str, Any]:
    return doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]  # type: ignore[no-any-return]


def _conforms(app: Flask, path: str, method: str, answer: Any) -> None:
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    schema[path][method].validate_response(answer)  # raises when the answer strays


def test_issuing_the_same_ref_again_answers_200_as_documented(
    app: Flask, client: FlaskClient, build: Builders
) -> None:
    headers = {"Authorization": f"Bearer {build.api_key()}"}
    programme = build.programme()
    url = f"{API}/programmes/{programme.id}/vouchers"
    first = client.post(url, json={**PERSON, "ref": "row-1"}, headers=headers)
    again = client.post(url, json={**PERSON, "ref": "row-1"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["code"] == first.get_json()["code"]

    responses = _document(client)["paths"]["/programmes/{programme_id}/vouchers"]["post"][
        "responses"
    ]
    assert {"200", "201"} <= set(responses)
    assert "sent before" in responses["200"]["description"]
    _conforms(app, "/programmes/{programme_id}/vouchers", "POST", again)


def test_importing_the_same_csv_again_answers_200_as_documented(
    app: Flask, client: FlaskClient, build: Builders
) -> None:
    headers = {"Authorization": f"Bearer {build.api_key()}", "Content-Type": "text/csv"}
    programme = build.programme()
    url = f"{API}/programmes/{programme.id}/vouchers/import"
    body = "phone,name,gender,birth_year,trade,region\n0722000998,Juma Ali,male,1990,tailoring,nairobi\n"
    first = client.post(url, data=body, headers=headers)
    again = client.post(url, data=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["already_issued_count"] == 1

    path = "/programmes/{programme_id}/vouchers/import"
    responses = _document(client)["paths"][path]["post"]["responses"]
    assert {"200", "201"} <= set(responses)
    _conforms(app, path, "POST", again)


@pytest.mark.parametrize(
    ("path", "paged"),
    [
        ("/programmes", False),
        ("/providers", True),
        ("/entrepreneurs", False),
        ("/vouchers", True),
        ("/sessions", True),
        ("/payouts", False),
    ],
)
def test_every_list_documents_its_items_and_next_page(
    client: FlaskClient, path: str, paged: bool
) -> None:
    doc = _document(client)
    ok = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    listed = _component(doc, ok)
    assert listed["properties"]["items"]["type"] == "array"
    assert "$ref" in listed["properties"]["items"]["items"]  # each item has a schema of its own
    assert ("next_after_id" in listed["properties"]) is paged


def test_lists_with_rows_conform_to_the_document(
    app: Flask, client: FlaskClient, build: Builders
) -> None:
    session = build.confirmed_session()
    headers = {"Authorization": f"Bearer {build.api_key()}"}
    for path, query in (
        ("/programmes", {}),
        ("/providers", {"limit": "1"}),
        ("/entrepreneurs", {"phone": session.booking.voucher.entrepreneur.phone}),
        ("/vouchers", {}),
        ("/sessions", {}),
        ("/payouts", {}),
    ):
        answer = client.get(f"{API}{path}", query_string=query, headers=headers)
        assert answer.status_code == 200, path
        if path != "/payouts":
            assert answer.get_json()["items"], path
        _conforms(app, path, "GET", answer)
    assert client.get(f"{API}/providers?limit=1", headers=headers).get_json()["next_after_id"]


def test_every_text_an_api_input_takes_refuses_control_characters(app: Flask) -> None:
    """Every string field of a request body or query is a `Line` or `Lines` (the one rule of
    `domain.text`), so a new field cannot forget it."""
    from marshmallow import Schema, fields

    from marketplace.web.fields import Line

    def strings(schema: Schema, where: str) -> list[tuple[str, fields.Field]]:
        found = []
        for name, field in schema.fields.items():
            inner = field.inner if isinstance(field, fields.List) else field
            if isinstance(inner, fields.Nested):
                found += strings(inner.schema, f"{where}.{name}")
            elif isinstance(inner, fields.String):
                found.append((f"{where}.{name}", inner))
        return found

    inputs = {  # what each API route's `@bp.arguments` validates with
        type(parameter["schema"])
        if isinstance(parameter["schema"], Schema)
        else parameter["schema"]
        for endpoint, view in app.view_functions.items()
        if endpoint.startswith("api.")
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    }
    assert len(inputs) >= 10
    checked = [found for schema in inputs for found in strings(schema(), schema.__name__)]
    assert checked and all(isinstance(field, Line) for _name, field in checked), [
        name for name, field in checked if not isinstance(field, Line)
    ]
