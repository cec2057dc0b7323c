"""payout_accounts: where a provider's money goes, approved by a second officer

Replaces the free-text `providers.payout_account`. What it held is carried over as changes
waiting for approval (no second officer ever approved it), proposed by `migration:0014`, so that
any officer may approve them:

- a Kenyan mobile number -> an M-Pesa account at that number;
- "M-Pesa" (however written) with no number -> an M-Pesa account at the provider's phone;
- anything else with a number in it -> a bank account: the words before the first digit are the
  bank's name, the rest the account number;
- an empty text, or one with no number in it, named no account: nothing is carried over.

The downgrade writes each provider's approved account (else its waiting one) back as text.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

"""

from datetime import UTC, datetime

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

PROPOSER = "migration:0014"
BANK_CHARACTERS = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -/")


def _kenyan_mobile(text):
    try:
        number = phonenumbers.parse(text, "KE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != "KE":
        return None
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def carried_over(text, provider_phone):
    """The account a free text named, as the columns of a payout account, or None."""
    text = " ".join((text or "").split())
    if not text:
        return None
    if any(ch.isdigit() for ch in text) and len(text) <= 32:
        msisdn = _kenyan_mobile(text)
        if msisdn:
            return {"kind": "mpesa", "msisdn": msisdn, "bank_name": None, "bank_account": None}
    if "".join(ch for ch in text.lower() if ch.isalpha()) == "mpesa":
        msisdn = _kenyan_mobile(provider_phone)
        if msisdn is None:
            return None
        return {"kind": "mpesa", "msisdn": msisdn, "bank_name": None, "bank_account": None}
    first = next((i for i, ch in enumerate(text) if ch.isdigit()), None)
    if first is None:
        return None
    bank = " ".join(text[:first].split()).strip(" -:/,") or "Bank"
    account = "".join(ch for ch in text[first:].upper() if ch in BANK_CHARACTERS).strip()
    if not account:
        return None
    return {"kind": "bank", "msisdn": None, "bank_name": bank[:60], "bank_account": account[:34]}


def upgrade():
    op.create_table(
        "payout_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("msisdn", sa.String(length=20), nullable=True),
        sa.Column("bank_name", sa.String(length=60), nullable=True),
        sa.Column("bank_account", sa.String(length=34), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposed_by", sa.String(length=120), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('mpesa', 'bank')", name=op.f("ck_payout_accounts_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused', 'withdrawn', 'superseded')",
            name=op.f("ck_payout_accounts_status"),
        ),
        sa.CheckConstraint(
            "(kind = 'mpesa' AND msisdn IS NOT NULL AND bank_name IS NULL AND bank_account IS NULL)"
            " OR (kind = 'bank' AND msisdn IS NULL AND bank_name IS NOT NULL"
            " AND bank_account IS NOT NULL)",
            name=op.f("ck_payout_accounts_kind_fields"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_payout_accounts_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_accounts")),
    )
    op.create_index(
        op.f("ix_payout_accounts_provider_id"), "payout_accounts", ["provider_id"], unique=False
    )
    op.create_index(
        "ix_payout_accounts_status_proposed", "payout_accounts", ["status", "proposed_at"]
    )
    for name, status in (("approved", "approved"), ("pending", "pending")):
        op.create_index(
            f"uq_payout_accounts_one_{name}",
            "payout_accounts",
            ["provider_id"],
            unique=True,
            sqlite_where=sa.text(f"status = '{status}'"),
            postgresql_where=sa.text(f"status = '{status}'"),
        )

    bind = op.get_bind()
    providers = sa.table(
        "providers",
        sa.column("id", sa.Integer()),
        sa.column("phone", sa.String()),
        sa.column("payout_account", sa.String()),
    )
    accounts = sa.table(
        "payout_accounts",
        sa.column("provider_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("msisdn", sa.String()),
        sa.column("bank_name", sa.String()),
        sa.column("bank_account", sa.String()),
        sa.column("status", sa.String()),
        sa.column("proposed_by", sa.String()),
        sa.column("proposed_at", sa.DateTime()),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = bind.execute(
        sa.select(providers.c.id, providers.c.phone, providers.c.payout_account).where(
            providers.c.payout_account != ""
        )
    ).all()
    carried = []
    for provider_id, phone, text in rows:
        columns = carried_over(text, phone)
        if columns is not None:
            carried.append(
                {
                    "provider_id": provider_id,
                    **columns,
                    "status": "pending",
                    "proposed_by": PROPOSER,
                    "proposed_at": now,
                }
            )
    for start in range(0, len(carried), 1000):
        bind.execute(sa.insert(accounts), carried[start : start + 1000])
    op.execute("ALTER TABLE providers DROP COLUMN payout_account")


def downgrade():
    op.add_column(
        "providers",
        sa.Column("payout_account", sa.String(length=60), nullable=False, server_default=""),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT provider_id, kind, msisdn, bank_name, bank_account FROM payout_accounts"
            " WHERE status IN ('approved', 'pending') ORDER BY status"
        )
    ).all()
    written = {}
    for provider_id, kind, msisdn, bank_name, bank_account in rows:
        # 'approved' sorts before 'pending': the approved one wins.
        written.setdefault(
            provider_id, msisdn if kind == "mpesa" else f"{bank_name} {bank_account}"[:60]
        )
    for provider_id, text in written.items():
        bind.execute(
            sa.text("UPDATE providers SET payout_account = :text WHERE id = :id"),
            {"text": text, "id": provider_id},
        )
    op.drop_table("payout_accounts")
