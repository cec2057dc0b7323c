"""The officers' payout-account step: one officer proposes on the provider's page, a second one
approves from the list of changes waiting (or the provider's page); the first cannot."""

from __future__ import annotations

import html

import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import OutboxMessage, PayoutAccount
from marketplace.extensions import db
from marketplace.services import payout_accounts
from tests.builders import Builders, next_phone
from tests.web.conftest import Web


def _text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def _sign_in_as(web: Web, client: FlaskClient, email: str) -> None:
    if client.get("/admin").status_code == 200:  # someone else is signed in
        web.post("/signout", token_from="/admin")
    assert web.staff_signin(email).location == "/admin"


def test_a_change_proposed_by_one_officer_is_approved_by_another(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    alice, bob = build.staff_user("admin"), build.staff_user("admin")
    provider = build.provider()
    number = next_phone()
    page = f"/admin/providers/{provider.id}"

    _sign_in_as(web, client, alice.email)
    proposed = web.post(
        f"{page}/payout-account", {"kind": "mpesa", "msisdn": number}, token_from=page
    )
    assert proposed.status_code == 302 and proposed.location.endswith("#payout-account")
    shown = _text(client.get(page))
    assert "Waiting for a second officer:" in shown and f"M-Pesa {number}" in shown
    assert "You proposed this change: another officer must approve it." in shown
    waiting = payout_accounts.pending_payout_account(provider.id)
    assert waiting is not None
    # The proposer is refused even without the button.
    refused = web.post(
        f"/admin/payout-accounts/{waiting.id}/approve", {"back": page}, token_from=page
    )
    assert refused.status_code == 302
    assert "another officer must approve it" in _text(client.get(page))
    assert payout_accounts.approved_payout_account(provider.id) is None

    _sign_in_as(web, client, bob.email)
    listing = _text(client.get("/admin/payout-accounts"))
    assert provider.name in listing and f"M-Pesa {number}" in listing
    approved = web.post(
        f"/admin/payout-accounts/{waiting.id}/approve", token_from="/admin/payout-accounts"
    )
    assert approved.location == "/admin/payout-accounts"
    assert "No change of payout account is waiting." in _text(client.get(approved.location))
    found = payout_accounts.approved_payout_account(provider.id)
    assert found is not None and found.msisdn == number and found.approved_by.endswith(bob.email)
    told = db.session.scalar(
        sa.select(sa.func.count()).where(
            OutboxMessage.kind == "payout_account_changed", OutboxMessage.to_phone == number
        )
    )
    assert told == 1


def test_a_number_that_mpesa_cannot_pay_is_refused_in_its_field(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _sign_in_as(web, client, build.staff_user("admin").email)
    provider = build.provider()
    page = f"/admin/providers/{provider.id}"

    landline = web.post(
        f"{page}/payout-account", {"kind": "mpesa", "msisdn": "020 2222222"}, token_from=page
    )
    no_bank = web.post(
        f"{page}/payout-account",
        {"kind": "bank", "bank_name": "", "bank_account": "1100"},
        token_from=page,
    )

    assert landline.status_code == no_bank.status_code == 422
    assert "Enter a Kenyan mobile number for M-Pesa." in _text(landline)
    assert 'value="020 2222222"' in _text(landline)  # what was typed stays to be corrected
    assert "Give the bank's name." in _text(no_bank)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PayoutAccount)) == 0


def test_a_waiting_change_can_be_refused_from_the_providers_page(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _sign_in_as(web, client, build.staff_user("admin").email)
    provider = build.provider()
    page = f"/admin/providers/{provider.id}"
    web.post(
        f"{page}/payout-account",
        {"kind": "bank", "bank_name": "KCB", "bank_account": "1100 2233"},
        token_from=page,
    )
    waiting = payout_accounts.pending_payout_account(provider.id)
    assert waiting is not None

    refused = web.post(
        f"/admin/payout-accounts/{waiting.id}/refuse", {"back": page}, token_from=page
    )

    assert refused.location == page
    assert "Refused: KCB 1100 2233" in _text(client.get(page))
    assert payout_accounts.pending_payout_account(provider.id) is None


def test_the_payouts_page_links_to_the_changes_waiting(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _sign_in_as(web, client, build.staff_user("admin").email)
    assert "Payout accounts awaiting approval: 0" in _text(client.get("/admin/payouts"))
