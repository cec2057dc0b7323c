"""Schemathesis against the served OpenAPI document, through the WSGI app with an admin key:
no 5xx, and every response conforms to the document. Runs on every `pytest` (CI included);
the example count per operation stays small so the suite stays fast."""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.builders import Builders

EXAMPLES_PER_OPERATION = 12


def test_the_api_never_fails_and_keeps_to_its_document(app: Flask, build: Builders) -> None:
    programme = build.programme(funder="Skills Fund")
    build.voucher(programme)
    build.confirmed_session()
    headers = {"Authorization": f"Bearer {build.api_key('admin')}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            # Values the document allows can still break a business rule (an unknown trade, a
            # phone that is not a number): a 4xx for those is right, so that check is left out.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        exercise()
