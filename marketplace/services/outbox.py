"""The outbox row: how an SMS to send is written, built one way for one message and for a bulk
issuance's thousands. Use cases queue SMS through their unit of work (`uow.sms`), which writes
them in its commit; the worker sends them after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db import bulk
from ..domain.base import utcnow
from ..domain.models import OutboxMessage, OutboxStatus, Provider
from ..extensions import db
from ..messages import outbound as texts
from ..messages.gsm import segments as count_segments
from ..messages.gsm import to_gsm7
from . import settings


def render(kind: str, language: str, /, **params: Any) -> str:
    """The text of a templated SMS (see `messages/outbound.py`). Every template may name the USSD
    code (`{ussd}`) and the mentor page's address (`{page}`): the SMS asking a mentor to act say
    how, on any phone."""
    return texts.render(
        kind, language, **{"ussd": settings.ussd_code(), "page": settings.mentor_page(), **params}
    )


def essential(kind: str) -> bool:
    """Sent even to people who opted out of reminders (codes, bookings, payments)."""
    return kind in texts.ESSENTIAL


def row(
    to_phone: str, body: str, kind: str, now: datetime, /, *, segments: int | None = None
) -> dict[str, Any]:
    """The one shape of an outbox row: pending, due `now`. The body is made GSM-7 and its parts
    counted, unless `segments` is given for a body that is so already (a bulk issuance fills one
    rendered template with each code)."""
    if kind not in texts.KINDS:  # every kind has a policy for an unknown outcome (outbound.py)
        raise ValueError(f"unknown SMS kind {kind!r}")
    if segments is None:
        body = to_gsm7(body)
        segments = count_segments(body)
    return {
        "to_phone": to_phone,
        "body": body,
        "kind": kind,
        "segments": segments,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def message(to_phone: str, body: str, kind: str, now: datetime) -> OutboxMessage:
    """An outbox row as an entity, to add to a session."""
    return OutboxMessage(**row(to_phone, body, kind, now))


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write many rows built by `row` in the session's transaction (COPY on PostgreSQL)."""
    bulk.insert(session, bulk.table_of(OutboxMessage), rows)


def queue_text(
    phone: str, body: str, kind: str = "reply", *, now: datetime | None = None
) -> OutboxMessage:
    """Add a written SMS to the current transaction at once (outside a unit of work)."""
    msg = message(phone, body, kind, now or utcnow())
    db.session.add(msg)
    return msg


def provider_language(provider: Provider) -> str:
    """The language a provider's SMS are written in: that of the staff member who answers the
    provider's phone, else of its first staff member, else English."""
    staff = sorted(provider.staff, key=lambda s: (s.phone != provider.phone, s.id))
    return staff[0].language if staff else "en"
