"""user_session and sign_in_failure: sessions the server can end, and a
sign-in rate limit that counts failures only, shared by every worker

- user_session: one row per signed-in browser; the signed cookie carries a
  random token whose SHA-256 is token_hash. Sign out, "Sign out of other
  devices", an LA admin's "End all sessions" and deactivation set ended_at.
- sign_in_failure: a failed sign-in, counted against a keyed hash of the
  account typed and of the address it came from; pruned as it is written.

New tables only: no batch mode over tables that carry triggers.

Revision ID: 0009_revocable_sessions
Revises: 0008_person_draft
Create Date: 2026-12-06 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009_revocable_sessions'
down_revision = '0008_person_draft'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_reason', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], name=op.f('fk_user_session_user_id_portal_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_session_token_hash')),
    )
    op.create_index(op.f('ix_user_session_user_id'), 'user_session', ['user_id'], unique=False)
    op.create_table(
        'sign_in_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_kind', sa.String(length=10), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('occurred_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure')),
    )
    op.create_index('ix_sign_in_failure_key', 'sign_in_failure', ['key_kind', 'key_hash', 'occurred_at'], unique=False)
    op.create_index(op.f('ix_sign_in_failure_occurred_at'), 'sign_in_failure', ['occurred_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_sign_in_failure_occurred_at'), table_name='sign_in_failure')
    op.drop_index('ix_sign_in_failure_key', table_name='sign_in_failure')
    op.drop_table('sign_in_failure')
    op.drop_index(op.f('ix_user_session_user_id'), table_name='user_session')
    op.drop_table('user_session')
