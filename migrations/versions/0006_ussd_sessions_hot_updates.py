"""ussd_sessions: updated in place (no index on the column every hop changes), pruned by age

Every hop updates its session row. With `updated_at` indexed, no update could stay on its page
without new index entries (a HOT update); the prune now goes by `created_at` (a USSD session lasts
minutes), and on PostgreSQL pages keep room for the next versions of their rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_ussd_sessions_updated_at", table_name="ussd_sessions")
    op.create_index("ix_ussd_sessions_created_at", "ussd_sessions", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ussd_sessions SET (fillfactor = 50)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ussd_sessions RESET (fillfactor)")
    op.drop_index("ix_ussd_sessions_created_at", table_name="ussd_sessions")
    op.create_index("ix_ussd_sessions_updated_at", "ussd_sessions", ["updated_at"])
