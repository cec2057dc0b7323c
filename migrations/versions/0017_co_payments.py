"""vouchers: the entrepreneur's co-payment and when it was recorded; programmes: whether it is
taken before the first session

Each voucher keeps its share as issued (the programme's co-payment percent of its value, rounded
down to a whole minor unit), so a later change of the percent does not change what the
entrepreneur was told; vouchers issued before are given their programme's share now.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "programmes",
        sa.Column("co_payment_required", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "vouchers",
        sa.Column("co_payment_minor", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column("vouchers", sa.Column("co_payment_recorded_at", sa.DateTime(), nullable=True))
    op.add_column(
        "vouchers", sa.Column("co_payment_recorded_by", sa.String(length=120), nullable=True)
    )
    op.execute(
        "UPDATE vouchers SET co_payment_minor = value_minor * (SELECT co_payment_percent"
        " FROM programmes WHERE programmes.id = vouchers.programme_id) / 100"
    )


def downgrade():
    with op.batch_alter_table("vouchers") as batch:
        batch.drop_column("co_payment_recorded_by")
        batch.drop_column("co_payment_recorded_at")
        batch.drop_column("co_payment_minor")
    with op.batch_alter_table("programmes") as batch:
        batch.drop_column("co_payment_required")
