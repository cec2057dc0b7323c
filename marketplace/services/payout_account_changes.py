"""Changing where a provider's money goes: propose, approve (a second officer), refuse.

Whoever proposes a payout account cannot alone approve it: the approval must come from another
officer (`SecondOfficerRequired` otherwise), and until then payments ignore it (they read
`payout_accounts.approved_payout_account`). A newer proposal replaces one still waiting. When a
change is approved the provider is told by SMS at the old number and the new one (the provider's
phone stands in for a bank account), so that a change nobody asked for is heard of at once.
Every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..domain import errors, text
from ..domain.models import PayoutAccount, PayoutAccountKind, PayoutAccountStatus, Provider
from ..domain.models.payout_accounts import BANK_ACCOUNT_MAX, BANK_NAME_MAX
from ..domain.phones import kenyan_mobile
from ..extensions import db
from . import lookups, unit

_BANK_ACCOUNT_CHARACTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -/")


@dataclass(frozen=True)
class NewPayoutAccount:
    kind: str  # 'mpesa' or 'bank'
    msisdn: str = ""  # for 'mpesa': a Kenyan mobile number, as typed
    bank_name: str = ""  # for 'bank'
    bank_account: str = ""  # for 'bank'


def _checked(cmd: NewPayoutAccount) -> dict[str, str | None]:
    """The account's columns, or InvalidInput naming the field that is wrong."""
    text.check_fields(cmd)
    if cmd.kind == PayoutAccountKind.MPESA:
        return {"msisdn": kenyan_mobile(cmd.msisdn), "bank_name": None, "bank_account": None}
    if cmd.kind != PayoutAccountKind.BANK:
        raise errors.InvalidInput("kind must be mpesa or bank", field="kind")
    name = " ".join(cmd.bank_name.split())
    account = " ".join(cmd.bank_account.upper().split())
    if not name or len(name) > BANK_NAME_MAX:
        raise errors.InvalidInput(
            f"Give the bank's name (at most {BANK_NAME_MAX} characters).", field="bank_name"
        )
    if (
        not account
        or len(account) > BANK_ACCOUNT_MAX
        or not set(account) <= _BANK_ACCOUNT_CHARACTERS
        or not any(ch.isdigit() for ch in account)
    ):
        raise errors.InvalidInput(
            f"Give the account number (digits and letters, at most {BANK_ACCOUNT_MAX}).",
            field="bank_account",
        )
    return {"msisdn": None, "bank_name": name, "bank_account": account}


def _account(account_id: int) -> PayoutAccount:
    found = db.session.get(PayoutAccount, account_id)
    if found is None:
        raise errors.NotFound("No such payout account.")
    return found


def _current(provider_id: int, status: PayoutAccountStatus) -> PayoutAccount | None:
    return db.session.scalar(
        sa.select(PayoutAccount).where(
            PayoutAccount.provider_id == provider_id, PayoutAccount.status == status
        )
    )


def _same(account: PayoutAccount | None, columns: dict[str, str | None], kind: str) -> bool:
    return (
        account is not None
        and account.kind == kind
        and all(getattr(account, name) == value for name, value in columns.items())
    )


def propose_payout_account(
    provider_id: int, cmd: NewPayoutAccount, actor: str, now: datetime | None = None
) -> PayoutAccount:
    """A change of payout account, waiting for a second officer; replaces one already waiting."""
    columns = _checked(cmd)
    with unit.of_work(actor, now) as uow:
        provider = lookups.provider(provider_id, lock=True)
        if _same(_current(provider.id, PayoutAccountStatus.APPROVED), columns, cmd.kind):
            raise errors.AlreadyExists("That is the provider's payout account already.")
        waiting = _current(provider.id, PayoutAccountStatus.PENDING)
        if waiting is not None:
            before = waiting.snapshot()
            waiting.withdraw(uow.now)
            uow.audit("payout_account.withdrawn", waiting, before, waiting.snapshot())
            uow.session.flush()
        account = PayoutAccount(
            provider_id=provider.id,
            kind=cmd.kind,
            status=PayoutAccountStatus.PENDING,
            proposed_by=uow.actor,
            proposed_at=uow.now,
            **columns,
        )
        db.session.add(account)
        uow.flush_or(errors.AlreadyExists("A change of payout account is waiting already."))
        uow.audit(
            "payout_account.proposed",
            account,
            None,
            {**account.snapshot(), "provider": provider.number},
        )
    return account


def approve_payout_account(
    account_id: int, actor: str, now: datetime | None = None
) -> PayoutAccount:
    """The second officer's approval: the account is the provider's from now on, and the
    provider hears of it at the old number and the new one."""
    with unit.of_work(actor, now) as uow:
        provider = lookups.provider(_account(account_id).provider_id, lock=True)
        account = _account(account_id)
        db.session.refresh(account)  # as it is now that the provider is locked
        before = account.snapshot()
        old = _current(provider.id, PayoutAccountStatus.APPROVED)
        if old is not None:  # it stops being the approved one before the new one starts
            old_before = old.snapshot()
            old.supersede(uow.now)
            uow.audit("payout_account.superseded", old, old_before, old.snapshot())
            uow.session.flush()
        # Refuses the officer who proposed it (the unit then undoes the line above).
        account.approve(uow.actor, uow.now)
        uow.flush_or(errors.AlreadyExists("The provider's payout account changed meanwhile."))
        uow.audit(
            "payout_account.approved",
            account,
            before,
            {**account.snapshot(), "provider": provider.number},
        )
        _tell_provider(uow, provider, old, account)
    return account


def refuse_payout_account(
    account_id: int, actor: str, now: datetime | None = None
) -> PayoutAccount:
    """A proposed change turned down (by any officer, the proposer included: a withdrawal)."""
    with unit.of_work(actor, now) as uow:
        lookups.provider(_account(account_id).provider_id, lock=True)
        account = _account(account_id)
        db.session.refresh(account)
        before = account.snapshot()
        account.refuse(uow.actor, uow.now)
        uow.audit("payout_account.refused", account, before, account.snapshot())
    return account


def _number(account: PayoutAccount | None, provider: Provider) -> str:
    """Where an account's holder hears of a change: its M-Pesa number, else the provider's
    phone."""
    if account is not None and account.kind == PayoutAccountKind.MPESA and account.msisdn:
        return account.msisdn
    return provider.phone


def _tell_provider(
    uow: unit.UnitOfWork, provider: Provider, old: PayoutAccount | None, new: PayoutAccount
) -> None:
    language = provider.staff[0].language if provider.staff else "en"
    for phone in dict.fromkeys([_number(old, provider), _number(new, provider)]):
        uow.sms(
            phone,
            "payout_account_changed",
            language,
            provider=provider.name,
            account=new.shown,
        )
