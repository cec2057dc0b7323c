"""A page's refusal goes through the pages' one handler (`marketplace/web/errors.py`): no page
catches a domain error itself, and the status comes from the web layer's table."""

from __future__ import annotations

import ast
from pathlib import Path

from marketplace.domain import errors
from marketplace.web.errors import page_status_of, status_of

WEB = Path(__file__).resolve().parents[2] / "marketplace" / "web"


def _domain_error_names() -> set[str]:
    from marketplace.services import mentor_auth, staff_auth

    assert mentor_auth.TooManyCodes and staff_auth.WrongPassword  # the services' own, too
    found, todo = set(), [errors.DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found


def _caught_domain_errors(path: Path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            caught = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
            caught |= {n.attr for n in ast.walk(node.type) if isinstance(n, ast.Attribute)}
            if caught & names:
                found.append(f"{path.relative_to(WEB)}:{node.lineno}")
    return found


def test_no_page_catches_a_domain_error_itself() -> None:
    names = _domain_error_names()
    assert len(names) > 20
    pages = [p for p in WEB.rglob("*.py") if "api" not in p.relative_to(WEB).parts]
    assert [hit for p in pages for hit in _caught_domain_errors(p, names)] == []


def test_a_wrong_code_is_a_bad_request_on_the_pages_and_a_conflict_in_the_api() -> None:
    assert page_status_of(errors.CodeInvalid()) == 400
    assert status_of(errors.CodeInvalid()) == 409
    assert page_status_of(errors.VoucherExpired()) == status_of(errors.VoucherExpired()) == 409
    assert page_status_of(errors.NotEligible()) == 422
