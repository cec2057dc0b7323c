"""bookings.trainee_no: the short number a mentor types for a trainee

A mentor on a basic phone names a trainee by a short number (`REC 3 60`, the USSD list's "#3"),
never by the entrepreneur's phone number. Each booking gets one when it is made, numbered per
provider in booking order, and keeps it; bookings made before are numbered the same way here.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("trainee_no", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE bookings SET trainee_no = (
            SELECT numbered.n FROM (
                SELECT id, ROW_NUMBER() OVER (PARTITION BY provider_id ORDER BY id) AS n
                FROM bookings
            ) AS numbered
            WHERE numbered.id = bookings.id
        )
        """
    )
    with op.batch_alter_table("bookings") as batch:
        batch.alter_column("trainee_no", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(
            "uq_bookings_provider_trainee_no", ["provider_id", "trainee_no"]
        )
        batch.create_check_constraint(op.f("ck_bookings_trainee_no_positive"), "trainee_no > 0")


def downgrade():
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint(op.f("ck_bookings_trainee_no_positive"), type_="check")
        batch.drop_constraint("uq_bookings_provider_trainee_no", type_="unique")
        batch.drop_column("trainee_no")
