"""two-factor sign-in: the authenticator app's key on portal_user (encrypted),
when it was set up and the last time step whose code was accepted (so a code
is never accepted twice); recovery_code: ten single-use codes a person, kept
as hashes

portal_user carries no trigger, but columns are added one by one all the same
(no batch mode: it would copy the table).

Revision ID: 0013_two_factor
Revises: 0012_notifications
Create Date: 2026-12-06 17:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013_two_factor'
down_revision = '0012_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('portal_user', sa.Column('two_factor_secret', sa.String(length=255), nullable=True))
    op.add_column('portal_user', sa.Column('two_factor_enabled_at', sa.DateTime(), nullable=True))
    op.add_column('portal_user', sa.Column('two_factor_last_step', sa.BigInteger(), nullable=True))
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], name=op.f('fk_recovery_code_user_id_portal_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    )
    op.create_index(op.f('ix_recovery_code_user_id'), 'recovery_code', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_recovery_code_user_id'), table_name='recovery_code')
    op.drop_table('recovery_code')
    op.drop_column('portal_user', 'two_factor_last_step')
    op.drop_column('portal_user', 'two_factor_enabled_at')
    op.drop_column('portal_user', 'two_factor_secret')
