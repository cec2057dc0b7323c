"""Every inbound SMS once, so that a re-delivery changes nothing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class InboundSms(Base):
    """Every inbound SMS once, keyed by the gateway's id, so a re-delivery changes nothing."""

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    from_phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    to_code: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str] = mapped_column(sa.String(1000))
    received_at: Mapped[datetime]
    reply_kind: Mapped[str | None] = mapped_column(sa.String(40))
