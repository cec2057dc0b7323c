"""provider_staff, staff_users: session_epoch, so that signing out ends the session everywhere

A signed-in session names its account and the account's epoch; signing out counts the epoch up,
and a session cookie kept from before (copied, or left in another browser) no longer signs anyone
in. Sessions made before this revision carry no epoch and end at once: everyone signs in again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("provider_staff", "staff_users")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("session_epoch")
