"""reports: indexes for the report queries (cases by tenant and intake time, case transitions by trigger)

Revision ID: 9c1d2e3f4a5b
Revises: f399654d25c6
Create Date: 2026-11-23 12:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c1d2e3f4a5b'
down_revision = 'f399654d25c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_reports_cases_tenant_created', ['tenant_id', 'created_dt'], unique=False)
    with op.batch_alter_table('transition_history', schema=None) as batch_op:
        batch_op.create_index('ix_reports_history_tenant_trigger_occurred',
                              ['tenant_id', 'workflow', 'trigger', 'occurred_dt'], unique=False,
                              postgresql_include=['object_id', 'from_state'])


def downgrade():
    with op.batch_alter_table('transition_history', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_history_tenant_trigger_occurred')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_cases_tenant_created')
