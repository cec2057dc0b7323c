"""Sessions judged by the day where the programme runs: a programme's time zone, a session's start
time, a `held` mark (what payouts skip and the review queue shows, set from the flags sessions
already carry), and the indexes behind the day rules and the review queue

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(
            sa.Column(
                "time_zone", sa.String(40), nullable=False, server_default="Africa/Nairobi"
            )
        )
    with op.batch_alter_table("training_sessions") as batch:
        batch.add_column(sa.Column("starts_at", sa.Time(), nullable=True))
        batch.add_column(
            sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # What was held before: flagged and not reviewed (an empty list is "[]" on both databases).
    op.execute(
        "UPDATE training_sessions SET held = TRUE "
        "WHERE reviewed_at IS NULL AND flags IS NOT NULL "
        "AND CAST(flags AS VARCHAR) <> '[]' AND status IN ('recorded', 'confirmed') "
        "AND payout_id IS NULL"
    )
    op.create_index(
        "ix_training_sessions_provider_day",
        "training_sessions",
        ["provider_id", "delivered_on", "entrepreneur_id"],
    )
    op.create_index("ix_training_sessions_held", "training_sessions", ["held", "recorded_at"])


def downgrade():
    op.drop_index("ix_training_sessions_held", table_name="training_sessions")
    op.drop_index("ix_training_sessions_provider_day", table_name="training_sessions")
    with op.batch_alter_table("training_sessions") as batch:
        batch.drop_column("held")
        batch.drop_column("starts_at")
    with op.batch_alter_table("programmes") as batch:
        batch.drop_column("time_zone")
