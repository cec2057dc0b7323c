"""Helpers for the SMS tests: send an SMS through the real callback route, read the outbox."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marketplace.db import reading
from marketplace.domain.models import OutboxMessage
from marketplace.extensions import db

SECRET = "test-callback-secret"
_ids = itertools.count(1)


def post_sms(client: FlaskClient, phone: str, text: str, gateway_id: str | None = None) -> str:
    """Deliver an inbound SMS the way Africa's Talking does; returns the gateway id used."""
    gateway_id = gateway_id or f"ATXid_in_{next(_ids)}"
    body = urlencode(
        {
            "id": gateway_id,
            "from": phone,
            "to": "20880",
            "text": text,
            "date": "2025-05-03 06:04:45",
            "networkCode": "63902",
            "linkId": "",
        }
    )
    response = client.post(
        f"/at/{SECRET}/sms/inbound",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    return gateway_id


def outbox_to(phone: str, kind: str | None = None) -> list[str]:
    stmt = sa.select(OutboxMessage.body).where(OutboxMessage.to_phone == phone)
    if kind is not None:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(stmt.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)))


def outbox_kinds(phone: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.kind)
            .where(OutboxMessage.to_phone == phone)
            .order_by(OutboxMessage.id)
        )
    )


@pytest.fixture
def sms(client: FlaskClient) -> Callable[..., list[str]]:
    """sms(phone, text) sends an SMS and returns the replies it produced (kind 'reply' and the
    notifications the command caused to that phone), in order."""

    def send(phone: str, text: str, gateway_id: str | None = None) -> list[str]:
        before = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
        post_sms(client, phone, text, gateway_id)
        db.session.rollback()  # see what the request committed
        return list(
            db.session.scalars(
                sa.select(OutboxMessage.body)
                .where(OutboxMessage.to_phone == phone, OutboxMessage.id > before)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            )
        )

    return send


@pytest.fixture(scope="session", autouse=True)
def _close_pooled_connections(_app: Flask) -> Iterator[None]:
    """Threads in these tests open extra pooled connections: close them at the end of the run
    rather than leave them to the garbage collector (psycopg warns, and warnings are errors)."""
    yield
    with _app.app_context():
        reading.dispose_engines()
