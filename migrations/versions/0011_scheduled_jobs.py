"""scheduled_jobs, job_runs, heartbeats: the scheduler claims, records and watches its runs

A row per periodic job holds the period last claimed and the lease of the run under way (claims are
compare-and-set updates of it); a row per run records when, where and how it ended; a row per kind
of long-running process holds its last heartbeat.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('heartbeats',
    sa.Column('component', sa.String(length=40), nullable=False),
    sa.Column('instance', sa.String(length=120), nullable=False),
    sa.Column('beat_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('component', name=op.f('pk_heartbeats'))
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('period_at', sa.DateTime(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('instance', sa.String(length=120), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.CheckConstraint("outcome IN ('running', 'succeeded', 'failed', 'abandoned')", name=op.f('ck_job_runs_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'period_at', 'attempt', name='uq_job_runs_job_period_attempt')
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_started', ['job', 'started_at'], unique=False)

    op.create_table('scheduled_jobs',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('period_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('last_success_at', sa.DateTime(), nullable=True),
    sa.Column('succeeded', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('failed', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('abandoned', sa.Integer(), nullable=False, server_default='0'),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduled_jobs'))
    )


def downgrade():
    op.drop_table('scheduled_jobs')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_started')

    op.drop_table('job_runs')
    op.drop_table('heartbeats')
