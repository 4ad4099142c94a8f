"""notification: in-portal notifications (the header's unread count, the
notifications page); reminder_sent: the reminders the daily send-reminders
job has sent, one of each kind for each form request (its key keeps two runs
from both sending one)

Revision ID: 0012_notifications
Revises: 0011_statutory_clock
Create Date: 2026-12-07 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012_notifications'
down_revision = '0011_statutory_clock'
branch_labels = None
depends_on = None

UNREAD = sa.text('read_at IS NULL')


def upgrade():
    # New tables only: no batch mode over tables that carry triggers.
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('text', sa.String(length=300), nullable=False),
        sa.Column('link', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['recipient_id'], ['portal_user.id'], name=op.f('fk_notification_recipient_id_portal_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    )
    op.create_index('ix_notification_recipient', 'notification', ['recipient_id', 'created_at', 'id'], unique=False)
    op.create_index(
        'ix_notification_unread', 'notification', ['recipient_id'], unique=False,
        sqlite_where=UNREAD, postgresql_where=UNREAD,
    )
    op.create_table(
        'reminder_sent',
        sa.Column('form_request_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['form_request_id'], ['form_request.id'], name=op.f('fk_reminder_sent_form_request_id_form_request'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('form_request_id', 'kind', name=op.f('pk_reminder_sent')),
    )


def downgrade():
    op.drop_table('reminder_sent')
    op.drop_index('ix_notification_unread', table_name='notification')
    op.drop_index('ix_notification_recipient', table_name='notification')
    op.drop_table('notification')
