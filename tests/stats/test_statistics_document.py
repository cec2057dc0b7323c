"""The OpenAPI document describes every figure of GET /programmes/{id}/stats, markers included."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import Builders

from .conftest import Dataset

PATH = "/programmes/{programme_id}/stats"


def _schemas(client: FlaskClient) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "query",
    [{}, {"gender": "male"}, {"region": "mombasa"}, {"from": "2026-01-01"}],
    ids=["everything", "with hidden rows", "all <5", "nothing yet"],
)
def test_every_statistics_answer_conforms_to_the_document(
    app: Flask, dataset: Dataset, build: Builders, client: FlaskClient, query: dict[str, str]
) -> None:
    answer = client.get(
        f"/api/v1/programmes/{dataset.programme.id}/stats",
        query_string=query,
        headers={"Authorization": f"Bearer {build.api_key()}"},
    )
    assert answer.status_code == 200
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema[PATH]["GET"].validate_response(answer)  # every key, no other key, each value's type


def test_the_document_tells_booked_now_from_ever_booked(client: FlaskClient) -> None:
    schemas = _schemas(client)
    booked = schemas["StatsHeadline"]["properties"]["booked"]["description"]
    ever = schemas["BreakdownRow"]["properties"]["ever_booked"]["description"]
    assert booked.startswith("Booked now, no session confirmed yet")
    assert ever.startswith("Ever booked: vouchers booked at some time")
    assert "booked" not in schemas["BreakdownRow"]["properties"]
    figure = schemas["BreakdownRow"]["properties"]["entrepreneurs"]
    assert figure["nullable"] is True
    assert {"type": "string", "enum": ["<5", "hidden"]} in figure["anyOf"]
