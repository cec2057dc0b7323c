"""staff sign-in attempts for the password lockout

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_signin_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_signin_attempts")),
    )
    with op.batch_alter_table("staff_signin_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_signin_attempts_email_at", ["email", "attempted_at"], unique=False
        )
        batch_op.create_index(
            "ix_staff_signin_attempts_address_at", ["address", "attempted_at"], unique=False
        )
        batch_op.create_index(
            "ix_staff_signin_attempts_attempted_at", ["attempted_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("staff_signin_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_signin_attempts_attempted_at")
        batch_op.drop_index("ix_staff_signin_attempts_address_at")
        batch_op.drop_index("ix_staff_signin_attempts_email_at")
    op.drop_table("staff_signin_attempts")
