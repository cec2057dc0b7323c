"""Queue SMS in the current transaction; the worker sends them after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sms import texts
from sms.gsm import segments, to_gsm7

from ..domain.base import utcnow
from ..domain.models import OutboxMessage, Provider
from ..extensions import db


def queue(
    to_phone: str,
    kind: str,
    language: str,
    /,
    *,
    opted_out: bool = False,
    now: datetime | None = None,
    **params: Any,
) -> OutboxMessage | None:
    """Render a template and add it to the outbox; None when the person opted out of this kind."""
    if opted_out and kind not in texts.ESSENTIAL:
        return None
    return queue_text(to_phone, texts.render(kind, language, **params), kind, now=now)


def provider_language(provider: Provider) -> str:
    """The language a provider's SMS are written in: that of the staff member who answers the
    provider's phone, else of its first staff member, else English."""
    staff = sorted(provider.staff, key=lambda s: (s.phone != provider.phone, s.id))
    return staff[0].language if staff else "en"


def queue_text(
    phone: str, body: str, kind: str = "reply", *, now: datetime | None = None
) -> OutboxMessage:
    if kind not in texts.KINDS:  # every kind has a policy for an unknown outcome (texts.py)
        raise ValueError(f"unknown SMS kind {kind!r}")
    now = now or utcnow()
    body = to_gsm7(body)
    msg = OutboxMessage(
        to_phone=phone,
        body=body,
        kind=kind,
        segments=segments(body),
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(msg)
    return msg


def outbox_row(
    to_phone: str, kind: str, language: str, now: datetime, /, **params: Any
) -> dict[str, Any]:
    """A row for bulk insert (bulk issuance), same rendering as `queue`."""
    body = texts.render(kind, language, **params)
    return {
        "to_phone": to_phone,
        "body": body,
        "kind": kind,
        "segments": segments(body),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
