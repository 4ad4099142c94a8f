"""caseload index covers the Active and Hidden counts

The caseload index gains status and ended_on after person_id, so counting a
professional's Active or Hidden list reads the index alone (no involvement
rows), while the lookup of one person in a caseload still uses its first four
columns. Measured with `python -m bench` (docs/PERFORMANCE.md).

Revision ID: 0004_perf
Revises: 0003
Create Date: 2026-11-29 04:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004_perf'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD = ['professional_id', 'deleted_at', 'hidden_at', 'person_id']
NEW = OLD + ['status', 'ended_on']


def upgrade():
    op.drop_index('ix_involvement_caseload', table_name='involvement')
    op.create_index('ix_involvement_caseload', 'involvement', NEW, unique=False)


def downgrade():
    op.drop_index('ix_involvement_caseload', table_name='involvement')
    op.create_index('ix_involvement_caseload', 'involvement', OLD, unique=False)
