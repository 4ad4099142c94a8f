"""involvement.last_activity_at: Recent reads the professional's involvements in order

The Recent (18 months) view lists a professional's people by the latest
activity on each person's record, most recent first. The time was on the
person only, so Recent joined every involvement of the caseload to its
person, then sorted them all (docs/PERFORMANCE.md, "Figures from the
code's comments"). This revision adds:

- involvement.last_activity_at: a copy of the person's, written only by the
  triggers below (whoever writes: the ORM, raw SQL, the bench's bulk
  inserts), filled here for the existing rows.
- ix_involvement_recent (professional_id, deleted_at, hidden_at,
  last_activity_at, person_id, status): Recent is a range of it, read
  backwards from the newest and stopped after a page, and counted from the
  index alone.
- Triggers: a new involvement and one moved to another person take the
  person's time; a change to a person's time is copied to their
  involvements. (0005's involvement triggers watch other columns, so these
  copies do not rewrite caseload_name_token.) Defined in
  send_portal.triggers (group involvement_last_activity).

Revision ID: 0006_involvement_last_activity
Revises: 0005_caseload_name_token
Create Date: 2026-12-02 10:40:00

"""
import sqlalchemy as sa
from alembic import op

from send_portal import triggers

revision = '0006_involvement_last_activity'
down_revision = '0005_caseload_name_token'
branch_labels = None
depends_on = None

INDEX_COLUMNS = ['professional_id', 'deleted_at', 'hidden_at', 'last_activity_at', 'person_id', 'status']

def upgrade():
    # A plain ADD COLUMN: SQLite does not rebuild the table (see 0005 on why that matters).
    op.add_column('involvement', sa.Column('last_activity_at', sa.DateTime(), nullable=True))
    op.execute(f"UPDATE involvement SET last_activity_at = {triggers.person_time('involvement.person_id')}")
    op.create_index('ix_involvement_recent', 'involvement', INDEX_COLUMNS, unique=False)
    triggers.create(op, triggers.INVOLVEMENT_LAST_ACTIVITY)


def downgrade():
    triggers.drop(op, triggers.INVOLVEMENT_LAST_ACTIVITY)
    op.drop_index('ix_involvement_recent', table_name='involvement')
    op.drop_column('involvement', 'last_activity_at')
