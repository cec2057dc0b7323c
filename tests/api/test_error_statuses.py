"""A domain error's HTTP status comes from the web layer's one table (`marketplace/web/errors.py`),
not from the domain, and every one answers the API in the one error shape with the status it always
had."""

from __future__ import annotations

import pytest
from flask import Flask

from marketplace.domain import errors
from marketplace.services import mentor_auth, staff_auth

API = "/api/v1"

STATUS_BEFORE = {  # what each error answered when the domain still carried the status
    errors.NotFound: 404,
    errors.InvalidInput: 422,
    errors.NotEligible: 422,
    errors.RegisteredDifferently: 422,
    errors.Forbidden: 403,
    errors.TooManyAttempts: 429,
    staff_auth.WrongPassword: 401,
}


def _domain_errors() -> list[type[errors.DomainError]]:
    assert mentor_auth.TooManyCodes  # the services' own errors are among them
    found, todo = [], [errors.DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return sorted(set(found), key=lambda c: c.__name__)


@pytest.mark.parametrize("error", _domain_errors(), ids=lambda c: c.__name__)
def test_every_domain_error_answers_the_api_with_its_status_in_the_one_shape(
    app: Flask, error: type[errors.DomainError]
) -> None:
    from marketplace.web.api import _domain_error

    exc = error.__new__(error)
    errors.DomainError.__init__(exc, "Refused.", field="name")
    with app.test_request_context(f"{API}/programmes"):
        response = _domain_error(exc)
    expected = next((STATUS_BEFORE[c] for c in error.__mro__ if c in STATUS_BEFORE), 409)
    assert response.status_code == expected
    assert response.get_json() == {
        "error": {"code": error.code, "message": "Refused.", "details": {"name": ["Refused."]}}
    }
