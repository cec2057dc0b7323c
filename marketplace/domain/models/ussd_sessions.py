"""The server-side state of USSD sessions, shared by every app server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, JSONType


class UssdSession(Base):
    """Server-side state of one USSD session, shared by every app server; rows expire (pruned by
    age). Every hop updates its row: no index covers a column a hop changes, so the update stays on
    its page (PostgreSQL keeps room there: fillfactor 50, set by migration 0006)."""

    __tablename__ = "ussd_sessions"
    # A phone's latest session, for resuming one cut off (neither column changes after the
    # session's first stored hop, so the hops' updates stay on their page).
    __table_args__ = (sa.Index("ix_ussd_sessions_phone_created_at", "phone", "created_at"),)

    session_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    last_text: Mapped[str] = mapped_column(sa.String(400), default="")
    last_reply: Mapped[str] = mapped_column(sa.String(400), default="")
    hops: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    ended_status: Mapped[str | None] = mapped_column(sa.String(20))
    cost: Mapped[str | None] = mapped_column(sa.String(20))
