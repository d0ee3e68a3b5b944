"""cases: report milestones (first review decision, first Lotse, first contact), filled from the history

Revision ID: c3d4e5f6a7b8
Revises: 9f11cc050209
Create Date: 2026-11-23 14:40:00

"""
import sqlalchemy as sa
from alembic import op

import praevcase.database

# revision identifiers, used by Alembic.
revision = 'c3d4e5f6a7b8'
down_revision = '9f11cc050209'
branch_labels = None
depends_on = None

_DECISIONS = "('assign_lotse', 'defer', 'close', 'withdraw_consent', 'escalate')"


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_dt', praevcase.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_lotse_dt', praevcase.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_contact_on', sa.Date(), nullable=True))
    op.execute(f"""
        UPDATE cases SET reviewed_dt = (
            SELECT min(h.occurred_dt) FROM transition_history h
            WHERE h.object_id = cases.id AND h.workflow = 'case' AND h.from_state = 'on_agenda'
              AND h.trigger IN {_DECISIONS})""")
    op.execute("""
        UPDATE cases SET first_lotse_dt = (
            SELECT min(h.occurred_dt) FROM transition_history h
            WHERE h.object_id = cases.id AND h.workflow = 'case' AND h.trigger = 'assign_lotse')""")
    op.execute("""
        UPDATE cases SET first_contact_on = (
            SELECT min(c.contact_date) FROM lotse_contacts c WHERE c.case_id = cases.id)""")


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('first_contact_on')
        batch_op.drop_column('first_lotse_dt')
        batch_op.drop_column('reviewed_dt')
