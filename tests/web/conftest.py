"""Helpers for the web pages: read the CSRF token from a page, sign in the way people do."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import OutboxMessage, Provider
from marketplace.extensions import db
from tests.concurrency.conftest import _close_pooled_connections

__all__ = ["TOKEN", "Web", "_close_pooled_connections", "csrf_from", "last_login_code"]

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def last_login_code(phone: str) -> str | None:
    body = db.session.scalar(
        sa.select(OutboxMessage.body)
        .where(OutboxMessage.to_phone == phone, OutboxMessage.kind == "login_code")
        .order_by(OutboxMessage.id.desc())
    )
    if body is None:
        return None
    found = re.search(r"\b(\d{6})\b", body)
    return found.group(1) if found else None


class Web:
    """Signs people in through the real pages."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        token_from: str | None = None,
        **kwargs: Any,
    ) -> Any:
        token = csrf_from(self.client, token_from or path)
        return self.client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)

    def mentor_signin(self, phone: str) -> Any:
        self.post("/mentor/signin", {"phone": phone}, token_from="/mentor")
        code = last_login_code(phone)
        assert code is not None, "no sign-in SMS was queued"
        response = self.post("/mentor/code", {"code": code})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def mentor_of(self, provider: Provider) -> Any:
        return self.mentor_signin(provider.staff[0].phone)

    def staff_signin(self, email: str, password: str = "correct horse battery") -> Any:
        return self.post("/signin", {"email": email, "password": password})


@pytest.fixture
def web(client: FlaskClient) -> Web:
    return Web(client)
