"""A provider's payout account: proposed by one officer, approved by another before any payment
uses it, the provider told by SMS at the old and the new number, every step audited."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from marketplace.app import create_app
from marketplace.domain import errors
from marketplace.domain.models import AuditEvent, OutboxMessage, PayoutAccount
from marketplace.extensions import db
from marketplace.services import payout_accounts
from marketplace.services.payout_account_changes import (
    NewPayoutAccount,
    approve_payout_account,
    propose_payout_account,
    refuse_payout_account,
)
from tests.builders import Builders, next_phone

ALICE = "staff:alice@example.org"
BOB = "staff:bob@example.org"


def _mpesa(number: str) -> NewPayoutAccount:
    return NewPayoutAccount(kind="mpesa", msisdn=number)


def _sms_to(phone: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.body).where(
                OutboxMessage.to_phone == phone, OutboxMessage.kind == "payout_account_changed"
            )
        )
    )


def _actions(account_id: int) -> list[tuple[str, str]]:
    return [
        (e.action, e.actor)
        for e in db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == "payout_account")
            .where(AuditEvent.entity_id == str(account_id))
            .order_by(AuditEvent.seq)
        )
    ]


def test_a_proposed_account_is_not_used_until_a_second_officer_approves_it(
    build: Builders,
) -> None:
    provider = build.provider()
    number = next_phone()

    proposed = propose_payout_account(provider.id, _mpesa(number.replace("+254", "0")), ALICE)

    assert proposed.status == "pending" and proposed.msisdn == number  # stored in E.164
    assert payout_accounts.approved_payout_account(provider.id) is None
    approved = approve_payout_account(proposed.id, BOB)
    found = payout_accounts.approved_payout_account(provider.id)
    assert approved.status == "approved"
    assert found is not None
    assert (found.kind, found.msisdn, found.bank_name, found.approved_by) == (
        "mpesa",
        number,
        None,
        BOB,
    )
    assert _actions(proposed.id) == [
        ("payout_account.proposed", ALICE),
        ("payout_account.approved", BOB),
    ]


def test_the_officer_who_proposed_a_change_cannot_approve_it(build: Builders) -> None:
    provider = build.provider()
    old = build.payout_account(provider)
    proposed = propose_payout_account(provider.id, _mpesa(next_phone()), ALICE)

    with pytest.raises(errors.SecondOfficerRequired):
        approve_payout_account(proposed.id, ALICE)

    db.session.expire_all()
    assert db.session.get(PayoutAccount, proposed.id).status == "pending"  # type: ignore[union-attr]
    still = payout_accounts.approved_payout_account(provider.id)
    assert still is not None and still.id == old.id  # the old account is still the one paid
    assert _sms_to(proposed.msisdn or "") == []


def test_an_approved_change_is_told_at_the_old_number_and_the_new_one(build: Builders) -> None:
    provider = build.provider()
    old_number, new_number = next_phone(), next_phone()
    old = build.payout_account(provider, msisdn=old_number)
    before = len(_sms_to(old_number))

    proposed = propose_payout_account(provider.id, _mpesa(new_number), ALICE)
    approve_payout_account(proposed.id, BOB)

    told_old, told_new = _sms_to(old_number)[before:], _sms_to(new_number)
    assert len(told_old) == len(told_new) == 1
    assert told_old == told_new
    assert new_number[-3:] in told_new[0] and new_number not in told_new[0]  # masked
    assert provider.name in told_new[0]
    db.session.refresh(old)
    assert old.status == "superseded" and old.ended_at is not None
    now_paid = payout_accounts.approved_payout_account(provider.id)
    assert now_paid is not None and now_paid.msisdn == new_number
    assert ("payout_account.superseded", BOB) in _actions(old.id)


def test_a_bank_account_is_told_at_the_providers_phone(build: Builders) -> None:
    provider = build.provider()
    mpesa_number = next_phone()
    build.payout_account(provider, msisdn=mpesa_number)
    bank = NewPayoutAccount(kind="bank", bank_name=" Equity  Bank ", bank_account="0170 2999 1234")

    approve_payout_account(propose_payout_account(provider.id, bank, ALICE).id, BOB)

    found = payout_accounts.approved_payout_account(provider.id)
    assert found is not None
    assert (found.kind, found.msisdn, found.bank_name, found.bank_account) == (
        "bank",
        None,
        "Equity Bank",
        "0170 2999 1234",
    )
    assert len(_sms_to(mpesa_number)) == 2  # when it was set, and now that it moved away
    assert "Equity Bank ...1234" in _sms_to(provider.phone)[-1]


@pytest.mark.parametrize(
    ("account", "field"),
    [
        (NewPayoutAccount(kind="mpesa", msisdn="020 2222222"), "msisdn"),  # a Nairobi landline
        (NewPayoutAccount(kind="mpesa", msisdn="+256 772 123456"), "msisdn"),  # Uganda
        (NewPayoutAccount(kind="mpesa", msisdn="not a number"), "msisdn"),
        (NewPayoutAccount(kind="mpesa", msisdn=""), "msisdn"),
        (NewPayoutAccount(kind="bank", bank_name="", bank_account="1234"), "bank_name"),
        (NewPayoutAccount(kind="bank", bank_name="KCB", bank_account="no digits"), "bank_account"),
        (NewPayoutAccount(kind="bank", bank_name="KCB", bank_account="12;34"), "bank_account"),
        (NewPayoutAccount(kind="bank", bank_name="KCB", bank_account="1" * 35), "bank_account"),
        (NewPayoutAccount(kind="paypal"), "kind"),
    ],
)
def test_an_account_that_cannot_be_paid_is_refused_and_nothing_is_written(
    build: Builders, account: NewPayoutAccount, field: str
) -> None:
    provider = build.provider()

    with pytest.raises(errors.InvalidInput) as refused:
        propose_payout_account(provider.id, account, ALICE)

    assert refused.value.context["field"] == field
    assert payout_accounts.pending_payout_account(provider.id) is None


def test_a_newer_proposal_replaces_the_one_waiting(build: Builders) -> None:
    provider = build.provider()
    first = propose_payout_account(provider.id, _mpesa(next_phone()), ALICE)
    second = propose_payout_account(provider.id, _mpesa(next_phone()), BOB)

    db.session.refresh(first)
    assert first.status == "withdrawn"
    waiting = payout_accounts.pending_payout_account(provider.id)
    assert waiting is not None and waiting.id == second.id
    with pytest.raises(errors.IllegalTransition):
        approve_payout_account(first.id, BOB)
    with pytest.raises(errors.SecondOfficerRequired):  # BOB proposed the second
        approve_payout_account(second.id, BOB)
    approve_payout_account(second.id, ALICE)


def test_a_refused_change_leaves_the_account_as_it_was(build: Builders) -> None:
    provider = build.provider()
    old = build.payout_account(provider)
    proposed = propose_payout_account(provider.id, _mpesa(next_phone()), ALICE)

    refused = refuse_payout_account(proposed.id, BOB)

    assert refused.status == "refused" and refused.decided_by == BOB
    still = payout_accounts.approved_payout_account(provider.id)
    assert still is not None and still.id == old.id
    with pytest.raises(errors.IllegalTransition):
        approve_payout_account(proposed.id, ALICE)
    assert _actions(proposed.id)[-1] == ("payout_account.refused", BOB)


def test_proposing_the_account_already_approved_is_refused(build: Builders) -> None:
    provider = build.provider()
    build.payout_account(provider)

    with pytest.raises(errors.AlreadyExists):
        propose_payout_account(provider.id, _mpesa(provider.phone), ALICE)


def test_the_database_holds_one_approved_account_per_provider(build: Builders) -> None:
    provider = build.provider()
    account = build.payout_account(provider)
    db.session.add(
        PayoutAccount(
            provider_id=provider.id,
            kind="mpesa",
            msisdn=next_phone(),
            status="approved",
            proposed_by=ALICE,
            proposed_at=account.proposed_at,
            decided_by=BOB,
            decided_at=account.proposed_at,
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_many_providers_accounts_are_read_at_once(build: Builders) -> None:
    paid, unpaid = build.provider(), build.provider()
    build.payout_account(paid)
    propose_payout_account(unpaid.id, _mpesa(next_phone()), ALICE)  # waiting: not used

    found = payout_accounts.approved_payout_accounts([paid.id, unpaid.id, paid.id])

    assert set(found) == {paid.id}
    assert found[paid.id].msisdn == paid.phone and found[paid.id].is_mpesa


# --------------------------------------------------------------------------- the migration


def _migration() -> object:
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions"
    spec = importlib.util.spec_from_file_location("m0014", path / "0014_payout_accounts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("   ", None),
        ("0711 000111", ("mpesa", "+254711000111", None, None)),
        ("+254110123456", ("mpesa", "+254110123456", None, None)),
        ("M-PESA", ("mpesa", "+254722000333", None, None)),
        ("mpesa", ("mpesa", "+254722000333", None, None)),
        ("KCB 1100", ("bank", None, "KCB", "1100")),
        ("Equity Bank: 0170-2999-1234", ("bank", None, "Equity Bank", "0170-2999-1234")),
        ("1100223344", ("bank", None, "Bank", "1100223344")),
        ("cash", None),
    ],
)
def test_the_migration_carries_the_free_text_over_as_it_was_meant(
    text: str, expected: tuple[str, str | None, str | None, str | None] | None
) -> None:
    carried = _migration().carried_over(text, "+254722000333")  # type: ignore[attr-defined]
    if expected is None:
        assert carried is None
    else:
        kind, msisdn, bank, account = expected
        assert carried == {
            "kind": kind,
            "msisdn": msisdn,
            "bank_name": bank,
            "bank_account": account,
        }


@pytest.fixture
def database_before_accounts(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SMS_BACKEND": "fake",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "AUDIT_CHECKPOINT_PATH": str(tmp_path / "checkpoints.log"),
        }
    )
    with app.app_context():
        upgrade(revision="0013")
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upgrading_turns_the_free_text_into_changes_waiting_for_an_officer(
    database_before_accounts: Flask,
) -> None:
    db.session.execute(sa.text("INSERT INTO regions VALUES ('nairobi', 'Nairobi', 'KE')"))
    texts = {1: "0711 000111", 2: "M-PESA", 3: "KCB 1100", 4: "", 5: "cash"}
    for provider_id, text in texts.items():
        db.session.execute(
            sa.text(
                "INSERT INTO providers (id, number, kind, name, phone, region_code, town,"
                " capacity, active_bookings, status, rating_sum, rating_count, payout_account,"
                " created_at) VALUES (:id, :number, 'craft_worker', 'Fundi', :phone, 'nairobi',"
                " '', 5, 0, 'approved', 0, 0, :text, '2026-01-01 00:00:00')"
            ),
            {
                "id": provider_id,
                "number": f"1000{provider_id}",
                "phone": f"+25472200033{provider_id}",
                "text": text,
            },
        )
    db.session.commit()
    db.session.remove()

    upgrade(revision="0014")

    rows = db.session.execute(
        sa.text(
            "SELECT provider_id, kind, msisdn, bank_name, bank_account, status, proposed_by"
            " FROM payout_accounts ORDER BY provider_id"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (1, "mpesa", "+254711000111", None, None, "pending", "migration:0014"),
        (2, "mpesa", "+254722000332", None, None, "pending", "migration:0014"),
        (3, "bank", None, "KCB", "1100", "pending", "migration:0014"),
    ]
    db.session.remove()
    downgrade(revision="0013")
    back = db.session.execute(sa.text("SELECT id, payout_account FROM providers ORDER BY id")).all()
    assert [tuple(r) for r in back] == [
        (1, "+254711000111"),
        (2, "+254722000332"),
        (3, "KCB 1100"),
        (4, ""),
        (5, ""),
    ]
