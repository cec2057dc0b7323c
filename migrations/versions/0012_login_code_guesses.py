"""login code guesses, limited per client address

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_code_guesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_code_guesses")),
    )
    with op.batch_alter_table("login_code_guesses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_code_guesses_address_at", ["address", "attempted_at"], unique=False
        )
        batch_op.create_index("ix_login_code_guesses_attempted_at", ["attempted_at"], unique=False)


def downgrade():
    with op.batch_alter_table("login_code_guesses", schema=None) as batch_op:
        batch_op.drop_index("ix_login_code_guesses_attempted_at")
        batch_op.drop_index("ix_login_code_guesses_address_at")
    op.drop_table("login_code_guesses")
