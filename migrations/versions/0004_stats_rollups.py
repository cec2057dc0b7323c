"""statistics roll-ups for the funder dashboard

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_DIMS = ("region_code", "trade_code", "gender")


def _fk(table):
    return sa.ForeignKeyConstraint(
        ["programme_id"],
        ["programmes.id"],
        name=op.f(f"fk_{table}_programme_id_programmes"),
        ondelete="CASCADE",
    )


def upgrade():
    big = sa.BigInteger()
    op.create_table(
        "stats_voucher_cells",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("issue_month", sa.String(length=7), nullable=False),
        sa.Column("region_code", sa.String(length=40), nullable=False),
        sa.Column("trade_code", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("age_band", sa.String(length=20), nullable=False),
        *(
            sa.Column(name, big, nullable=False)
            for name in (
                "vouchers",
                "people",
                "value_issued",
                "value_redeemed",
                "ever_booked",
                "status_issued",
                "status_booked",
                "status_in_progress",
                "status_completed",
                "status_expired",
                "status_revoked",
                "sessions_confirmed",
                "sessions_awaiting",
                "sessions_disputed",
                "sessions_lapsed",
                "switches",
                "sessions_paid",
                "paid_people",
            )
        ),
        sa.Column("paid_days_sum", sa.Float(), nullable=False),
        sa.Column("paid_days_max", sa.Float(), nullable=True),
        _fk("stats_voucher_cells"),
        sa.PrimaryKeyConstraint(
            "programme_id",
            "issue_month",
            "region_code",
            "trade_code",
            "gender",
            "age_band",
            name=op.f("pk_stats_voucher_cells"),
        ),
    )
    op.create_table(
        "stats_event_cells",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=40), nullable=False),
        sa.Column("trade_code", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("issue_month", sa.String(length=7), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("n", big, nullable=False),
        sa.Column("total", big, nullable=False),
        sa.Column("people", big, nullable=False),
        _fk("stats_event_cells"),
        sa.PrimaryKeyConstraint(
            "programme_id",
            "subject",
            "region_code",
            "trade_code",
            "gender",
            "issue_month",
            "key",
            name=op.f("pk_stats_event_cells"),
        ),
    )
    op.create_table(
        "stats_refreshes",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        _fk("stats_refreshes"),
        sa.PrimaryKeyConstraint("programme_id", name=op.f("pk_stats_refreshes")),
    )


def downgrade():
    op.drop_table("stats_refreshes")
    op.drop_table("stats_event_cells")
    op.drop_table("stats_voucher_cells")
