"""Guessing mentors' sign-in codes from one client address, spread over many phones: the address
has its own limit of wrong guesses, behind a trusted proxy too (the forwarded client address)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pytest import MonkeyPatch
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.domain.models import LoginCode
from marketplace.extensions import db
from marketplace.services import mentor_auth
from tests.builders import Builders
from tests.web.conftest import Web, last_login_code


def _codes_looked_at() -> int:
    db.session.rollback()
    return int(db.session.scalar(sa.select(sa.func.sum(LoginCode.attempts))) or 0)


def _guess_wrong(web: Web, phones: list[str], per_phone: int, **kwargs: object) -> list[int]:
    statuses = []
    for phone in phones:
        web.post("/mentor/signin", {"phone": phone}, token_from="/mentor", **kwargs)
        wrong = "000000" if last_login_code(phone) != "000000" else "111111"
        for _ in range(per_phone):
            statuses.append(web.post("/mentor/code", {"code": wrong}, **kwargs).status_code)
    return statuses


def test_wrong_guesses_over_many_phones_are_limited_per_address(
    client: FlaskClient, build: Builders
) -> None:
    phones = [build.provider().staff[0].phone for _ in range(6)]
    statuses = _guess_wrong(Web(client), phones, per_phone=5)
    assert len(statuses) == 30
    # Before: every guess was compared with a code (5 per phone); now the address's limit holds.
    assert _codes_looked_at() == mentor_auth.MAX_FAILURES_PER_ADDRESS
    assert statuses[mentor_auth.MAX_FAILURES_PER_ADDRESS :] == [429] * 20

    # The mentor whose code it is, on another address, still signs in with the right code.
    phone = phones[-1]
    elsewhere = Web(client)  # (one test client: requests share the fixture's app context)
    kwargs = {"environ_base": {"REMOTE_ADDR": "196.201.214.9"}}
    elsewhere.post("/mentor/signin", {"phone": phone}, token_from="/mentor", **kwargs)
    response = elsewhere.post("/mentor/code", {"code": last_login_code(phone)}, **kwargs)
    assert response.status_code == 302


def test_behind_a_trusted_proxy_the_limit_is_the_forwarded_clients(
    app: Flask, build: Builders, monkeypatch: MonkeyPatch
) -> None:
    # What `TRUSTED_PROXIES=1` sets up in `create_app`: one load balancer's X-Forwarded-For.
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    phones = [build.provider().staff[0].phone for _ in range(4)]
    attacker = {"headers": {"X-Forwarded-For": "196.201.214.7"}}
    web = Web(app.test_client())
    statuses = _guess_wrong(web, phones[:3], per_phone=5, **attacker)
    assert statuses.count(429) == 15 - mentor_auth.MAX_FAILURES_PER_ADDRESS + 2  # per code too
    assert _codes_looked_at() == mentor_auth.MAX_FAILURES_PER_ADDRESS

    # Another client behind the same load balancer is not held up by the first one's guesses.
    phone = phones[3]
    other = web
    neighbour = {"headers": {"X-Forwarded-For": "196.201.214.8"}}
    other.post("/mentor/signin", {"phone": phone}, token_from="/mentor", **neighbour)
    assert other.post("/mentor/code", {"code": "999999"}, **neighbour).status_code in (400, 302)
    response = other.post("/mentor/code", {"code": last_login_code(phone)}, **neighbour)
    assert response.status_code == 302
