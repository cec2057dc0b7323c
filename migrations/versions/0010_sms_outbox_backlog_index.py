"""sms_outbox: the due index also carries created_at, so the outbox's backlog (a count per state and
the oldest pending message's age, read by /healthz) is answered from the index alone

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_sms_outbox_due", table_name="sms_outbox")
    op.create_index(
        "ix_sms_outbox_due", "sms_outbox", ["status", "next_attempt_at", "created_at"]
    )


def downgrade():
    op.drop_index("ix_sms_outbox_due", table_name="sms_outbox")
    op.create_index("ix_sms_outbox_due", "sms_outbox", ["status", "next_attempt_at"])
