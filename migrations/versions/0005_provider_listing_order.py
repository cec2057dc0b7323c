"""providers: the average rating as a stored column, and indexes in listing order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RATING_RANK = "CASE WHEN rating_count > 0 THEN CAST(rating_sum AS FLOAT) / rating_count ELSE 0 END"


def upgrade():
    # Stored on PostgreSQL; SQLite can only add a virtual one to an existing table.
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    rank = sa.Column("rating_rank", sa.Float(), sa.Computed(RATING_RANK, persisted=stored))
    op.add_column("providers", rank)
    op.create_index(
        "ix_providers_listing_region",
        "providers",
        ["region_code", "status", sa.text("rating_rank DESC"), "id"],
    )
    op.create_index(
        "ix_providers_listing", "providers", ["status", sa.text("rating_rank DESC"), "id"]
    )
    op.drop_index("ix_providers_region_status", table_name="providers")


def downgrade():
    op.create_index("ix_providers_region_status", "providers", ["region_code", "status"])
    op.drop_index("ix_providers_listing", table_name="providers")
    op.drop_index("ix_providers_listing_region", table_name="providers")
    op.drop_column("providers", "rating_rank")
