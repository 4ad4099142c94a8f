"""person_draft: what a professional typed on Add Person, kept on the server
instead of in the signed (readable) session cookie

Revision ID: 0008_person_draft
Revises: 0007_recent_partial_index
Create Date: 2026-12-06 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008_person_draft'
down_revision = '0007_recent_partial_index'
branch_labels = None
depends_on = None


def upgrade():
    # A new table only: no batch mode over tables that carry triggers.
    op.create_table(
        'person_draft',
        sa.Column('professional_id', sa.Integer(), nullable=False),
        sa.Column('given_name', sa.String(length=100), nullable=False),
        sa.Column('family_name', sa.String(length=100), nullable=False),
        sa.Column('date_of_birth', sa.Date(), nullable=False),
        sa.Column('gender', sa.String(length=20), nullable=False),
        sa.Column('upn', sa.String(length=13), nullable=True),
        sa.Column('postcode_key', sa.String(length=8), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['professional_id'], ['portal_user.id'], name=op.f('fk_person_draft_professional_id_portal_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('professional_id', name=op.f('pk_person_draft')),
    )
    op.create_index(op.f('ix_person_draft_updated_at'), 'person_draft', ['updated_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_person_draft_updated_at'), table_name='person_draft')
    op.drop_table('person_draft')
