"""payments: each payment of a statement with its state, the callbacks as received, the payee
name checks, each payment channel's shared token, pause and balance; a programme's payout schedule

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('originator_id', sa.String(length=60), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_callbacks'))
    )
    with op.batch_alter_table('payment_callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_callbacks_originator_id'), ['originator_id'], unique=False)

    op.create_table('payment_channels',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('token', sa.String(length=200), nullable=True),
    sa.Column('token_expires_at', sa.DateTime(), nullable=True),
    sa.Column('token_fetches', sa.Integer(), nullable=False),
    sa.Column('paused_reason', sa.String(length=300), nullable=False),
    sa.Column('paused_at', sa.DateTime(), nullable=True),
    sa.Column('backoff_until', sa.DateTime(), nullable=True),
    sa.Column('proven_at', sa.DateTime(), nullable=True),
    sa.Column('balance_minor', sa.BigInteger(), nullable=True),
    sa.Column('balance_at', sa.DateTime(), nullable=True),
    sa.Column('balance_requested_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_payment_channels'))
    )
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payout_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('originator_id', sa.String(length=40), nullable=False),
    sa.Column('msisdn', sa.String(length=16), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('sends', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('conversation_id', sa.String(length=60), nullable=True),
    sa.Column('receipt', sa.String(length=30), nullable=True),
    sa.Column('registered_name', sa.String(length=120), nullable=True),
    sa.Column('result_code', sa.String(length=30), nullable=True),
    sa.Column('result_desc', sa.String(length=300), nullable=False),
    sa.Column('failure_class', sa.String(length=15), nullable=True),
    sa.Column('hold_reason', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state IN ('held', 'queued', 'submitting', 'accepted', 'timed_out', 'unknown', 'succeeded', 'failed')", name=op.f('ck_payments_state')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payments_amount_positive')),
    sa.CheckConstraint('attempt >= 1', name=op.f('ck_payments_attempt_positive')),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_payments_payout_id_payouts')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_payments_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('originator_id', name='uq_payments_originator_id'),
    sa.UniqueConstraint('payout_id', 'attempt', name='uq_payments_payout_attempt'),
    sa.UniqueConstraint('receipt', name=op.f('uq_payments_receipt'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_msisdn'), ['msisdn'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_payments_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index('uq_payments_one_live_attempt', ['payout_id'], unique=True, sqlite_where=sa.text("state <> 'failed'"), postgresql_where=sa.text("state <> 'failed'"))

    op.create_table('payee_checks',
    sa.Column('msisdn', sa.String(length=16), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('expected_name', sa.String(length=120), nullable=False),
    sa.Column('registered_name', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('matched', 'mismatch', 'accepted', 'rejected')", name=op.f('ck_payee_checks_status')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payee_checks_payment_id_payments')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_payee_checks_provider_id_providers')),
    sa.PrimaryKeyConstraint('msisdn', name=op.f('pk_payee_checks'))
    )
    with op.batch_alter_table('payee_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payee_checks_provider_id'), ['provider_id'], unique=False)

    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_schedule', sa.String(length=10), server_default='daily', nullable=False))
        batch_op.create_check_constraint(op.f('ck_programmes_payout_schedule'), "payout_schedule IN ('daily', 'weekly')")



def downgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_programmes_payout_schedule'), type_='check')
        batch_op.drop_column('payout_schedule')

    with op.batch_alter_table('payee_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payee_checks_provider_id'))

    op.drop_table('payee_checks')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('uq_payments_one_live_attempt', sqlite_where=sa.text("state <> 'failed'"), postgresql_where=sa.text("state <> 'failed'"))
        batch_op.drop_index('ix_payments_state_due')
        batch_op.drop_index(batch_op.f('ix_payments_provider_id'))
        batch_op.drop_index(batch_op.f('ix_payments_msisdn'))

    op.drop_table('payments')
    op.drop_table('payment_channels')
    with op.batch_alter_table('payment_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_callbacks_originator_id'))

    op.drop_table('payment_callbacks')
