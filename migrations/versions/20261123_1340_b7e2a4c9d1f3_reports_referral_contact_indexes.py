"""reports: indexes on referrals and Lotse contacts (by tenant and time), from the plans at 1 M cases

Revision ID: b7e2a4c9d1f3
Revises: 9c1d2e3f4a5b
Create Date: 2026-11-23 13:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e2a4c9d1f3'
down_revision = '9c1d2e3f4a5b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_reports_referrals_tenant_created', ['tenant_id', 'created_dt'], unique=False)
    with op.batch_alter_table('lotse_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_reports_contacts_tenant_date', ['tenant_id', 'contact_date'], unique=False,
                              postgresql_include=['case_id'])


def downgrade():
    with op.batch_alter_table('lotse_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_contacts_tenant_date')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_referrals_tenant_created')
