"""impressions: an append-only log of what was shown, written without foreign-key checks

A USSD list page inserts one impression per provider shown, in the statement that stores the hop.
Each row carried three foreign keys (entrepreneur, programme, provider): fifteen checks and row locks
on the parents per page, measured at about 70% of the database time of that statement. The ids
are those of rows the same hop has just read, and entrepreneurs, programmes and providers are never
deleted; the columns keep their types and the log its indexes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("fk_impressions_entrepreneur_id_entrepreneurs", "entrepreneur_id", "entrepreneurs"),
    ("fk_impressions_programme_id_programmes", "programme_id", "programmes"),
    ("fk_impressions_provider_id_providers", "provider_id", "providers"),
)


def upgrade():
    with op.batch_alter_table("impressions", schema=None) as batch_op:
        for name, _column, _table in FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade():
    with op.batch_alter_table("impressions", schema=None) as batch_op:
        for name, column, table in FOREIGN_KEYS:
            batch_op.create_foreign_key(name, table, [column], ["id"])
