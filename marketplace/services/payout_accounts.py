"""Where a provider's money goes, as approved: the one read every payment path asks.

`approved_payout_account(provider_id)` is the account a second officer approved (an M-Pesa number
or a bank account), or None when the provider has none: nothing is paid to an account still
waiting for approval. Proposing, approving and refusing a change are the use cases of
`payout_account_changes`; this module only reads, so that any use case that pays may import it
(it is part of the services' shared infrastructure, like `lookups`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..domain.models import PayoutAccount, PayoutAccountKind, PayoutAccountStatus
from ..extensions import db


@dataclass(frozen=True)
class ApprovedAccount:
    """An approved payout account. `kind` is 'mpesa' (then `msisdn` is the E.164 number to pay)
    or 'bank' (then `bank_name` and `bank_account`; the CSV path pays it)."""

    id: int
    provider_id: int
    kind: str
    msisdn: str | None
    bank_name: str | None
    bank_account: str | None
    approved_by: str
    approved_at: datetime
    shown: str  # masked, for a message: 'M-Pesa +2547*****111', 'KCB ...1100'
    in_full: str  # every digit, for a statement or a CSV: 'M-Pesa +254711000111'

    @property
    def is_mpesa(self) -> bool:
        return self.kind == PayoutAccountKind.MPESA


def _approved(account: PayoutAccount) -> ApprovedAccount:
    assert account.decided_by is not None and account.decided_at is not None
    return ApprovedAccount(
        id=account.id,
        provider_id=account.provider_id,
        kind=account.kind,
        msisdn=account.msisdn,
        bank_name=account.bank_name,
        bank_account=account.bank_account,
        approved_by=account.decided_by,
        approved_at=account.decided_at,
        shown=account.shown,
        in_full=account.in_full,
    )


def approved_payout_account(provider_id: int) -> ApprovedAccount | None:
    """The provider's approved payout account, or None."""
    found = db.session.scalar(
        sa.select(PayoutAccount).where(
            PayoutAccount.provider_id == provider_id,
            PayoutAccount.status == PayoutAccountStatus.APPROVED,
        )
    )
    return _approved(found) if found is not None else None


def approved_payout_accounts(provider_ids: Iterable[int]) -> dict[int, ApprovedAccount]:
    """Many providers' approved accounts at once (a payout run), by provider id; a provider with
    none is not in the answer."""
    wanted = sorted(set(provider_ids))
    found: dict[int, ApprovedAccount] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        for account in db.session.scalars(
            sa.select(PayoutAccount).where(
                PayoutAccount.provider_id.in_(chunk),
                PayoutAccount.status == PayoutAccountStatus.APPROVED,
            )
        ):
            found[account.provider_id] = _approved(account)
    return found


def pending_payout_account(provider_id: int) -> PayoutAccount | None:
    """The change waiting for a second officer, if any."""
    return db.session.scalar(
        sa.select(PayoutAccount).where(
            PayoutAccount.provider_id == provider_id,
            PayoutAccount.status == PayoutAccountStatus.PENDING,
        )
    )
