"""Organisations, their members and caseload cover

- organisation: a school, an EP service, a health or social care team, made
  by the LA. Filled here from the organisations professionals typed when
  they registered (one for each name, whatever its case and spacing), and
  each professional made a member of theirs. None shares a team caseload
  until the LA says so.
- portal_user.organisation_id (no foreign key: a plain ADD COLUMN on both
  engines, never SQLite's table rebuild) and is_organisation_lead. The text
  column organisation stays: it is what the professional wrote.
- caseload_cover: a professional's caseload opened to a colleague of the
  same organisation between two dates.

No table with triggers is altered.

Revision ID: 0015_organisations
Revises: 0014_mail
Create Date: 2026-12-08 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015_organisations'
down_revision = '0014_mail'
branch_labels = None
depends_on = None


def _fill_from_registered_names(bind) -> None:
    users = sa.table('portal_user', sa.column('id', sa.Integer), sa.column('role', sa.String),
                     sa.column('organisation', sa.String), sa.column('organisation_id', sa.Integer))
    organisations = sa.table('organisation', sa.column('id', sa.Integer), sa.column('name', sa.String),
                             sa.column('name_key', sa.String), sa.column('kind', sa.String),
                             sa.column('shares_caseload', sa.Boolean), sa.column('created_at', sa.DateTime))
    rows = bind.execute(
        sa.select(users.c.id, users.c.organisation)
        .where(users.c.role == 'professional', users.c.organisation.is_not(None))
        .order_by(users.c.id)
    ).all()
    ids = {}
    for user_id, written in rows:
        name = " ".join(written.split())[:200]
        if not name:
            continue
        key = name.casefold()
        if key not in ids:
            bind.execute(organisations.insert().values(
                name=name, name_key=key, kind='other', shares_caseload=False, created_at=sa.func.current_timestamp(),
            ))
            ids[key] = bind.execute(sa.select(organisations.c.id).where(organisations.c.name_key == key)).scalar()
        bind.execute(users.update().where(users.c.id == user_id).values(organisation_id=ids[key]))


def upgrade():
    op.create_table(
        'organisation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('name_key', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('urn', sa.String(length=8), nullable=True),
        sa.Column('shares_caseload', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
        sa.UniqueConstraint('name_key', name=op.f('uq_organisation_name_key')),
    )
    op.add_column('portal_user', sa.Column('organisation_id', sa.Integer(), nullable=True))
    op.add_column('portal_user', sa.Column('is_organisation_lead', sa.Boolean(), nullable=False,
                                           server_default=sa.text('false')))
    op.create_index(op.f('ix_portal_user_organisation_id'), 'portal_user', ['organisation_id'], unique=False)
    op.create_table(
        'caseload_cover',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('professional_id', sa.Integer(), nullable=False),
        sa.Column('colleague_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_caseload_cover_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['professional_id'], ['portal_user.id'], name=op.f('fk_caseload_cover_professional_id_portal_user')),
        sa.ForeignKeyConstraint(['colleague_id'], ['portal_user.id'], name=op.f('fk_caseload_cover_colleague_id_portal_user')),
        sa.ForeignKeyConstraint(['created_by_id'], ['portal_user.id'], name=op.f('fk_caseload_cover_created_by_id_portal_user')),
        sa.ForeignKeyConstraint(['ended_by_id'], ['portal_user.id'], name=op.f('fk_caseload_cover_ended_by_id_portal_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_caseload_cover')),
    )
    op.create_index('ix_caseload_cover_colleague', 'caseload_cover', ['colleague_id', 'ends_on'], unique=False)
    op.create_index('ix_caseload_cover_professional', 'caseload_cover', ['professional_id', 'ends_on'], unique=False)
    _fill_from_registered_names(op.get_bind())


def downgrade():
    op.drop_index('ix_caseload_cover_professional', table_name='caseload_cover')
    op.drop_index('ix_caseload_cover_colleague', table_name='caseload_cover')
    op.drop_table('caseload_cover')
    op.drop_index(op.f('ix_portal_user_organisation_id'), table_name='portal_user')
    # SQLite drops a column in place (3.35+), without rebuilding the table.
    op.drop_column('portal_user', 'is_organisation_lead')
    op.drop_column('portal_user', 'organisation_id')
    op.drop_table('organisation')
