"""Providers (craft workers and institutes), the trades they teach, and their staff."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import errors, limits
from ..base import Base, enum_check
from .people import Language
from .reference import Trade


class ProviderKind(StrEnum):
    CRAFT_WORKER = "craft_worker"
    INSTITUTE = "institute"


class ProviderStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"


provider_trades = sa.Table(
    "provider_trades",
    Base.metadata,
    sa.Column("provider_id", sa.ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("trade_code", sa.ForeignKey("trades.code"), primary_key=True),
    sa.Index("ix_provider_trades_trade_code", "trade_code"),
)


class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (
        enum_check("kind", "kind", ProviderKind),
        enum_check("status", "status", ProviderStatus),
        sa.CheckConstraint(f"capacity >= {limits.PROVIDER_CAPACITY.low}", name="capacity_positive"),
        sa.CheckConstraint("active_bookings >= 0", name="active_non_negative"),
        sa.CheckConstraint("active_bookings <= capacity", name="within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(8), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    town: Mapped[str] = mapped_column(sa.String(limits.TOWN_MAX), default="")
    capacity: Mapped[int]
    active_bookings: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(20), default=ProviderStatus.PENDING)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    # The average rating as listings sort by it (0 before the first rating), kept by the database
    # so that an index serves a listing page in the order it is shown.
    rating_rank: Mapped[float] = mapped_column(
        sa.Float,
        sa.Computed(
            "CASE WHEN rating_count > 0 THEN CAST(rating_sum AS FLOAT) / rating_count ELSE 0 END",
            persisted=True,
        ),
    )
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]

    trades: Mapped[list[Trade]] = relationship(secondary=provider_trades, lazy="selectin")
    staff: Mapped[list[ProviderStaff]] = relationship(back_populates="provider")

    @property
    def trade_codes(self) -> list[str]:
        return sorted(t.code for t in self.trades)

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def has_room(self) -> bool:
        return self.active_bookings < self.capacity

    def approve(self, now: datetime) -> None:
        if self.status == ProviderStatus.APPROVED:
            raise errors.IllegalTransition("The provider is already approved.")
        self.status = ProviderStatus.APPROVED
        self.approved_at = self.approved_at or now

    def suspend(self) -> None:
        if self.status != ProviderStatus.APPROVED:
            raise errors.IllegalTransition("Only an approved provider can be suspended.")
        self.status = ProviderStatus.SUSPENDED

    def ensure_bookable(self, trade: str) -> None:
        """Refusals name the provider (`provider`), for a reply that says whom."""
        if self.status != ProviderStatus.APPROVED:
            raise errors.ProviderNotBookable(
                "This provider is not taking bookings.", provider=self.name
            )
        if trade not in self.trade_codes:
            raise errors.ProviderNotBookable(
                "This provider does not teach your trade.", provider=self.name
            )
        if not self.has_room:
            raise errors.ProviderFull(provider=self.name)


# A listing page (a trade, in an area or anywhere) reads approved providers best rated first: these
# indexes give them in that order, so a page costs a few rows whatever the number of providers.
sa.Index(
    "ix_providers_listing_region",
    Provider.region_code,
    Provider.status,
    Provider.rating_rank.desc(),
    Provider.id,
)


sa.Index("ix_providers_listing", Provider.status, Provider.rating_rank.desc(), Provider.id)


class ProviderStaff(Base):
    """A person who signs in for a provider: the craft worker themself, or an institute's staff."""

    __tablename__ = "provider_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    language: Mapped[str] = mapped_column(sa.String(2), default=Language.EN)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the signed-in session's id: signing out counts it up, which ends every session.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime]

    provider: Mapped[Provider] = relationship(back_populates="staff")
