"""Inbound SMS: each stored once, keyed by the gateway's id, with what answered it.

The gateway re-delivers a message for minutes when it gets no 200 (and sometimes when it did): a
second delivery hits the unique id, changes nothing and is answered by nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..domain.models import InboundSms
from ..extensions import db
from . import unit

log = logging.getLogger(__name__)


def receive(
    *, gateway_id: str, from_phone: str, to_code: str, text: str, now: datetime
) -> InboundSms | None:
    """Store an inbound SMS in the current unit of work (its first 1,000 characters); None when
    this gateway id was stored before (the transaction is then rolled back: nothing else to do)."""
    row = InboundSms(
        gateway_id=gateway_id[:100],
        from_phone=from_phone,
        to_code=to_code[:20],
        text=text[:1000],
        received_at=now,
        reply_kind=None,
    )
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        unit.rollback()
        log.info("inbound SMS delivered again; ignored")
        return None
    return row


def answered(row: InboundSms, kind: str) -> None:
    """Record what answered the message: a reply's key, `find:<listing>` for a list (so a later
    BOOK counts as a pick from it), the service's own SMS (`booked`), or nothing (`throttled`)."""
    row.reply_kind = kind[:40]


def stored(row: InboundSms) -> bool:
    """The row is in the database still: committed, or in the transaction under way (not rolled
    back with a refused change)."""
    return bool(sa.inspect(row).persistent)
