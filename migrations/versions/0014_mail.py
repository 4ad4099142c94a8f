"""Email: outbox_email (emails written with the change that causes them,
delivered by `send-emails`), password_reset_token (the emailed links of
Forgotten password, stored hashed), and portal_user.wants_emails
(the "Send me an email when something needs my attention" preference, on
for everyone to begin with)

Revision ID: 0014_mail
Revises: 0013_two_factor
Create Date: 2026-12-07 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0014_mail'
down_revision = '0013_two_factor'
branch_labels = None
depends_on = None

WAITING = sa.text('sent_at IS NULL AND failed_at IS NULL')


def upgrade():
    # New tables and an added column only: no batch mode over tables that
    # carry triggers.
    op.create_table(
        'outbox_email',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('failed_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('claimed_by', sa.String(length=100), nullable=True),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_email')),
    )
    op.create_index(
        'ix_outbox_email_due', 'outbox_email', ['next_attempt_at', 'id'], unique=False,
        sqlite_where=WAITING, postgresql_where=WAITING,
    )
    op.create_table(
        'password_reset_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], name=op.f('fk_password_reset_token_user_id_portal_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_token_token_hash')),
    )
    op.create_index(op.f('ix_password_reset_token_user_id'), 'password_reset_token', ['user_id'], unique=False)
    op.add_column(
        'portal_user',
        sa.Column('wants_emails', sa.Boolean(), nullable=False, server_default=sa.text('true')),
    )


def downgrade():
    op.drop_column('portal_user', 'wants_emails')
    op.drop_index(op.f('ix_password_reset_token_user_id'), table_name='password_reset_token')
    op.drop_table('password_reset_token')
    op.drop_index('ix_outbox_email_due', table_name='outbox_email')
    op.drop_table('outbox_email')
