"""Schemathesis against the served OpenAPI document, through the WSGI app with an admin key: every
check, positive and negative data, and the linked operations (stateful): no 5xx, every response as
documented, nothing the document allows refused unless the refusal is one `EXPLAINED` below (a rule
the document cannot state: it depends on stored data or ties two fields together).

Runs on every `pytest` (CI included) with few examples per operation and a deadline per example,
so the suite stays fast. A heavier pass by hand: `FUZZ_EXAMPLES=300 pytest tests/api/test_openapi_fuzz.py`.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import ignored_auth, positive_data_acceptance

from tests.builders import Builders

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "4"))
DEADLINE = timedelta(seconds=5)  # per example: an answer this slow is a failure in itself

# Refusals of requests the document allows, and why the document cannot rule them out:
# (operation, error code, field or None) -> the reason.
EXPLAINED: dict[tuple[str, str, str | None], str] = {
    ("POST /programmes", "invalid_input", "budget_minor"): (
        "the budget must cover at least one voucher: a rule tying two fields together"
    ),
    ("POST /programmes/{programme_id}/vouchers", "invalid_input", "trade"): (
        "the programme named in the path does not cover the person's trade (stored data)"
    ),
    ("POST /programmes/{programme_id}/vouchers", "invalid_input", "region"): (
        "the programme named in the path does not cover the person's region (stored data)"
    ),
    ("POST /programmes/{programme_id}/vouchers/import", "invalid_rows", None): (
        "every row is checked as one voucher would be; the report names each bad row and why"
    ),
    ("POST /programmes/{programme_id}/vouchers/import", "invalid_input", None): (
        "the file is read as CSV: a file without the header's columns, or with a header only"
    ),
}


def _refusal(response: Any) -> tuple[str, str | None]:
    error = json.loads(response.content)["error"]
    details = error.get("details") or {}
    field = next((k for k in details if k not in ("rows", "already_issued_lines")), None)
    return str(error["code"]), field


def _explained(case: Any, response: Any) -> None:
    """schemathesis' positive-data check, with the refusals explained above let through."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if response.status_code not in (400, 422):
        return
    code, field = _refusal(response)
    operation = f"{case.method.upper()} {case.path}"
    assert (operation, code, field) in EXPLAINED or (operation, code, None) in EXPLAINED, (
        f"{operation}: the document allows what the API refused ({code}, {field}): "
        f"query={case.query!r} body={case.body!r} -> {response.content[:300]!r}"
    )


def _check(case: Any, response: Any, **kwargs: Any) -> None:
    # Every call carries the admin key, so `ignored_auth` (which reads a generated key as one the
    # API should refuse) does not apply: tests/api test the keys and roles themselves.
    excluded = [positive_data_acceptance, ignored_auth]
    case.validate_response(response, excluded_checks=excluded, **kwargs)
    _explained(case, response)


def _world(build: Builders) -> dict[str, str]:
    programme = build.programme(funder="Skills Fund")
    build.voucher(programme)
    build.confirmed_session()
    return {"Authorization": f"Bearer {build.api_key('admin')}"}


_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=DEADLINE,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_the_api_never_fails_and_keeps_to_its_document(app: Flask, build: Builders) -> None:
    headers = _world(build)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @_SETTINGS
            def exercise(case: Any) -> None:
                _check(case, case.call(headers=headers))

            exercise()


def test_linked_operations_keep_to_the_document_too(app: Flask, build: Builders) -> None:
    """Stateful: create a programme, issue its vouchers, read and revoke them, register and
    approve providers, run payouts, following the document's links."""
    headers = _world(build)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    machine = schema.as_state_machine()

    class WithAnAdminKey(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            _check(case, response, recorder=getattr(self, "recorder", None))

    run_state_machine_as_test(
        WithAnAdminKey,
        settings=settings(
            max_examples=max(2, EXAMPLES_PER_OPERATION // 2),
            stateful_step_count=6,
            deadline=None,  # a whole scenario: each call keeps to DEADLINE above in spirit
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
