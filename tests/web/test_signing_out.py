"""Signing out ends the account's sessions everywhere: a copy of the session cookie kept from
before (another browser, a shared computer, a stolen cookie) no longer signs anyone in."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import Builders
from tests.web.conftest import Web


def _replayed(app: Flask, cookie: object, path: str) -> str | None:
    """Where another browser holding a copy of the cookie is sent (None: it is signed in)."""
    elsewhere = app.test_client()
    elsewhere.set_cookie("session", cookie.value, domain=cookie.domain)  # type: ignore[attr-defined]
    with app.app_context():  # its own `g`, as each request has outside tests
        return elsewhere.get(path).location


def test_a_mentors_cookie_kept_from_before_signing_out_signs_nobody_in(
    app: Flask, web: Web, client: FlaskClient, build: Builders
) -> None:
    web.mentor_of(build.provider())
    kept = client.get_cookie("session")
    assert _replayed(app, kept, "/mentor/sessions") is None  # the copy works while signed in

    web.post("/signout", token_from="/mentor")

    assert _replayed(app, kept, "/mentor/sessions") == "/mentor"


def test_an_officers_cookie_kept_from_before_signing_out_signs_nobody_in(
    app: Flask, web: Web, client: FlaskClient, build: Builders
) -> None:
    officer = build.staff_user("admin")
    web.staff_signin(officer.email)
    kept = client.get_cookie("session")
    assert _replayed(app, kept, "/admin") is None

    web.post("/signout", token_from="/admin")

    assert _replayed(app, kept, "/admin") == "/signin?next=/admin"


def test_signing_in_again_after_signing_out_works(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    web.mentor_of(provider)
    web.post("/signout", token_from="/mentor")
    web.mentor_of(provider)
    assert client.get("/mentor/sessions").status_code == 200
