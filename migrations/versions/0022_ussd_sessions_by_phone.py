"""ussd_sessions: found by phone, newest first (an interrupted session offered again)

A session cut off mid-menu (the gateway's end-of-session notice, or silence) and dialled again
within a few minutes is offered again: the new session's first hop looks up the phone's latest
session. Neither `phone` nor `created_at` changes once the row is stored, so hops still update
their row in place.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_ussd_sessions_phone_created_at", "ussd_sessions", ["phone", "created_at"]
    )


def downgrade():
    op.drop_index("ix_ussd_sessions_phone_created_at", table_name="ussd_sessions")
