"""ix_involvement_recent holds the live, unhidden involvements only, so PostgreSQL reads Recent in order

Migration 0006's ix_involvement_recent began (professional_id, deleted_at,
hidden_at, last_activity_at, ...). SQLite takes "deleted_at IS NULL AND
hidden_at IS NULL" as equalities and so reads Recent in the index's order,
newest first, stopping after a page. PostgreSQL does not: to it an IS NULL
test is not an equality that fixes a column, so the index's order did not
start with last_activity_at, and it joined every involvement of the view to
its person and sorted them.

As a partial index WHERE deleted_at IS NULL AND hidden_at IS NULL, on
(professional_id, last_activity_at, person_id, id, status, deleted_at,
hidden_at), both engines read Recent backwards from the newest person, in
exactly the list's order (last activity, person, involvement), and count it
from the index alone. The last two columns are there for SQLite only: it
does not take the index's WHERE as holding them, and without them read
every row of the table to count Recent. (Figures: docs/PERFORMANCE.md,
"Figures from the code's comments".)

Revision ID: 0007_recent_partial_index
Revises: 0006_involvement_last_activity
Create Date: 2026-12-02 16:55:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_recent_partial_index'
down_revision = '0006_involvement_last_activity'
branch_labels = None
depends_on = None

LIVE_UNHIDDEN = "deleted_at IS NULL AND hidden_at IS NULL"
COLUMNS = ['professional_id', 'last_activity_at', 'person_id', 'id', 'status', 'deleted_at', 'hidden_at']
OLD_COLUMNS = ['professional_id', 'deleted_at', 'hidden_at', 'last_activity_at', 'person_id', 'status']


def upgrade():
    op.drop_index('ix_involvement_recent', table_name='involvement')
    op.create_index(
        'ix_involvement_recent', 'involvement', COLUMNS, unique=False,
        sqlite_where=sa.text(LIVE_UNHIDDEN), postgresql_where=sa.text(LIVE_UNHIDDEN),
    )


def downgrade():
    op.drop_index('ix_involvement_recent', table_name='involvement')
    op.create_index('ix_involvement_recent', 'involvement', OLD_COLUMNS, unique=False)
