"""stats_changes: the cells a committed change moved, drained into the roll-ups within seconds

Each change that moves a funder figure writes the cells it touched beside it; a drainer recounts
those cells and adds the differences to the roll-ups. `stats_refreshes.applied_at` is the time of
the latest change the roll-ups hold (the dashboard's "as of"). The indexes let a cell's vouchers,
bookings, ratings and impressions be found without scanning the programme.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stats_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("issue_month", sa.String(length=7), nullable=False),
        sa.Column("region_code", sa.String(length=40), nullable=False),
        sa.Column("trade_code", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_changes")),
    )
    with op.batch_alter_table("stats_refreshes") as batch:
        batch.add_column(sa.Column("applied_at", sa.DateTime(), nullable=True))
    op.create_index("ix_entrepreneurs_cell", "entrepreneurs", ["region_code", "trade_code", "gender"])
    op.create_index("ix_bookings_voucher", "bookings", ["voucher_id"])
    op.create_index("ix_ratings_voucher", "ratings", ["voucher_id"])
    op.create_index("ix_impressions_entrepreneur", "impressions", ["entrepreneur_id"])


def downgrade():
    op.drop_index("ix_impressions_entrepreneur", table_name="impressions")
    op.drop_index("ix_ratings_voucher", table_name="ratings")
    op.drop_index("ix_bookings_voucher", table_name="bookings")
    op.drop_index("ix_entrepreneurs_cell", table_name="entrepreneurs")
    with op.batch_alter_table("stats_refreshes") as batch:
        batch.drop_column("applied_at")
    op.drop_table("stats_changes")
