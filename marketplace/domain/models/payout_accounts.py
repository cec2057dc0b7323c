"""Where a provider's money goes: an M-Pesa number or a bank account, approved by a second officer.

A change of payout account is a proposal (`pending`) until an officer other than the one who
proposed it approves it; only then is it the provider's account (`approved`), and the account it
replaces becomes `superseded`. A proposal can be refused, or replaced by a newer one
(`withdrawn`). The database holds at most one approved and one pending account per provider.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import errors
from ..base import Base, enum_check
from ..phones import mask_phone
from .providers import Provider

BANK_NAME_MAX = 60
BANK_ACCOUNT_MAX = 34  # an IBAN's longest


class PayoutAccountKind(StrEnum):
    MPESA = "mpesa"
    BANK = "bank"


class PayoutAccountStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # replaced by a newer proposal before anyone decided
    SUPERSEDED = "superseded"  # was approved; a newer approved account took its place


class PayoutAccount(Base):
    __tablename__ = "payout_accounts"
    __table_args__ = (
        enum_check("kind", "kind", PayoutAccountKind),
        enum_check("status", "status", PayoutAccountStatus),
        sa.CheckConstraint(
            "(kind = 'mpesa' AND msisdn IS NOT NULL AND bank_name IS NULL AND bank_account IS NULL)"
            " OR (kind = 'bank' AND msisdn IS NULL AND bank_name IS NOT NULL"
            " AND bank_account IS NOT NULL)",
            name="kind_fields",
        ),
        # The database's own word: one account in use and one change waiting, per provider.
        sa.Index(
            "uq_payout_accounts_one_approved",
            "provider_id",
            unique=True,
            sqlite_where=sa.text("status = 'approved'"),
            postgresql_where=sa.text("status = 'approved'"),
        ),
        sa.Index(
            "uq_payout_accounts_one_pending",
            "provider_id",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_payout_accounts_status_proposed", "status", "proposed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    msisdn: Mapped[str | None] = mapped_column(sa.String(20))  # E.164, a Kenyan mobile number
    bank_name: Mapped[str | None] = mapped_column(sa.String(BANK_NAME_MAX))
    bank_account: Mapped[str | None] = mapped_column(sa.String(BANK_ACCOUNT_MAX))
    status: Mapped[str] = mapped_column(sa.String(12), default=PayoutAccountStatus.PENDING)
    proposed_by: Mapped[str] = mapped_column(sa.String(120))
    proposed_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(sa.String(120))
    decided_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]  # withdrawn or superseded

    provider: Mapped[Provider] = relationship()

    def snapshot(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "msisdn": self.msisdn,
            "bank_name": self.bank_name,
            "bank_account": self.bank_account,
            "status": self.status,
        }

    @property
    def shown(self) -> str:
        """The account as an SMS or a list names it: a number masked, a bank's last digits."""
        if self.kind == PayoutAccountKind.MPESA:
            return f"M-Pesa {mask_phone(self.msisdn or '')}"
        bank = (self.bank_name or "")[:24].rstrip()
        return f"{bank} ...{(self.bank_account or '')[-4:]}"

    @property
    def in_full(self) -> str:
        """The account as an officer reads it to check it: every digit."""
        if self.kind == PayoutAccountKind.MPESA:
            return f"M-Pesa {self.msisdn}"
        return f"{self.bank_name} {self.bank_account}"

    def approve(self, officer: str, now: datetime) -> None:
        if self.status != PayoutAccountStatus.PENDING:
            raise errors.IllegalTransition(f"This payout account is {self.status}, not pending.")
        if officer == self.proposed_by:
            raise errors.SecondOfficerRequired()
        self.status = PayoutAccountStatus.APPROVED
        self.decided_by = officer
        self.decided_at = now

    def refuse(self, officer: str, now: datetime) -> None:
        if self.status != PayoutAccountStatus.PENDING:
            raise errors.IllegalTransition(f"This payout account is {self.status}, not pending.")
        self.status = PayoutAccountStatus.REFUSED
        self.decided_by = officer
        self.decided_at = now

    def withdraw(self, now: datetime) -> None:
        if self.status != PayoutAccountStatus.PENDING:
            raise errors.IllegalTransition(f"This payout account is {self.status}, not pending.")
        self.status = PayoutAccountStatus.WITHDRAWN
        self.ended_at = now

    def supersede(self, now: datetime) -> None:
        if self.status != PayoutAccountStatus.APPROVED:
            raise errors.IllegalTransition(f"This payout account is {self.status}, not approved.")
        self.status = PayoutAccountStatus.SUPERSEDED
        self.ended_at = now
