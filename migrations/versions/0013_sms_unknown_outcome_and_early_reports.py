"""sms_outbox: the state `unknown`; sms_early_reports: delivery reports kept until their id lands

A message the gateway may or may not have taken (it read the request, then timed out or dropped the
connection) is no longer marked sent: kinds where a second copy is harmless are sent again, the
others wait in `unknown` for an officer or a delivery report. A delivery report that comes back
before the worker has stored the message's id is kept in `sms_early_reports` and applied when the
id lands.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BEFORE = "status IN ('pending', 'sent', 'delivered', 'failed', 'parked')"
AFTER = "status IN ('pending', 'sent', 'delivered', 'failed', 'parked', 'unknown')"


def upgrade():
    with op.batch_alter_table("sms_outbox") as batch:
        batch.drop_constraint(op.f("ck_sms_outbox_status"), type_="check")
        batch.create_check_constraint(op.f("ck_sms_outbox_status"), AFTER)
    op.create_table(
        "sms_early_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("failure_reason", sa.String(length=60), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_early_reports")),
    )
    with op.batch_alter_table("sms_early_reports") as batch:
        batch.create_index(batch.f("ix_sms_early_reports_message_id"), ["message_id"])
        batch.create_index(batch.f("ix_sms_early_reports_received_at"), ["received_at"])


def downgrade():
    op.drop_table("sms_early_reports")
    op.execute("UPDATE sms_outbox SET status = 'pending' WHERE status = 'unknown'")
    with op.batch_alter_table("sms_outbox") as batch:
        batch.drop_constraint(op.f("ck_sms_outbox_status"), type_="check")
        batch.create_check_constraint(op.f("ck_sms_outbox_status"), BEFORE)
