"""stats_voucher_cells: vouchers booked with a co-payment asked, and those whose co-payment was
recorded (the funders' share of co-payments recorded); filled by the next refresh

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    for name in ("co_payment_booked", "co_payment_recorded"):
        op.add_column(
            "stats_voucher_cells",
            sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"),
        )


def downgrade():
    with op.batch_alter_table("stats_voucher_cells") as batch:
        batch.drop_column("co_payment_recorded")
        batch.drop_column("co_payment_booked")
