"""kept_answers: what a person typed on a SEND form page and sent after their
session had ended, kept for them alone until they sign in and save it
(send_portal/timeout.py)

Revision ID: 0010_kept_answers
Revises: 0009_revocable_sessions
Create Date: 2026-12-06 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010_kept_answers'
down_revision = '0009_revocable_sessions'
branch_labels = None
depends_on = None


def upgrade():
    # A new table only: no batch mode over tables that carry triggers.
    op.create_table(
        'kept_answers',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('page_number', sa.Integer(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('kept_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], name=op.f('fk_kept_answers_user_id_portal_user'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['response_id'], ['form_response.id'], name=op.f('fk_kept_answers_response_id_form_response'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'response_id', 'page_number', name=op.f('pk_kept_answers')),
    )
    op.create_index(op.f('ix_kept_answers_kept_at'), 'kept_answers', ['kept_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_kept_answers_kept_at'), table_name='kept_answers')
    op.drop_table('kept_answers')
