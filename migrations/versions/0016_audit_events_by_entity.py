"""audit_events: an index by entity, for the trail of one person, voucher or session

The officers' page of one entrepreneur shows the audit events of the person, their vouchers and
their sessions; without this index each look would read the whole log.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
