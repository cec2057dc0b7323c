from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import Booking, Impression, OutboxMessage, UssdSession
from marketplace.extensions import db
from tests.dialer import Dialer


@pytest.fixture
def phone_of() -> Callable[[object], str]:
    def phone(voucher: object) -> str:
        return voucher.entrepreneur.phone  # type: ignore[attr-defined, no-any-return]

    return phone


@pytest.fixture
def dialer(client: FlaskClient) -> Callable[..., Dialer]:
    def make(phone: str, **kwargs: object) -> Dialer:
        return Dialer(client, phone, **kwargs)  # type: ignore[arg-type]

    return make


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        "bookings": count(Booking),
        "impressions": count(Impression),
        "outbox": count(OutboxMessage),
        "sessions": count(UssdSession),
    }
