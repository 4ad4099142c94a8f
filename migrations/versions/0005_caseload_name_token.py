"""caseload_name_token: the Person filter reads its matches, not the caseload

The Select Person filter used to walk every involvement of a professional and
probe person_name_token for each, so a keystroke cost what the caseload's size
cost (over a second for 100,000 involvements). This revision adds:

- person_name_token.shared_prefix: how many characters a token shares with
  the person's previous token in sorted order (0 for the first). A person's
  tokens that start with a term of n characters sort together, and only the
  first has shared_prefix < n, so "shared_prefix < n" counts each person (and
  each involvement) once without DISTINCT. Computed here in Python for the
  existing rows; afterwards by Person.set_names and every other writer.
- caseload_name_token: one row for each token of the person of each live
  involvement (not deleted; awaiting or authenticated), keyed by
  (professional_id, hidden, token, involvement_id), with the person, the
  token's shared_prefix, the involvement's ended_on and the person's
  sort_name and last_activity_at: every column the filter tests and sorts
  by, so that a keystroke reads a range of the key and nothing else.
  WITHOUT ROWID on SQLite, and on PostgreSQL the key's index INCLUDEs the
  other columns, so that range is all that is read.
- Triggers on involvement, person_name_token and person (SQLite triggers;
  plpgsql functions on PostgreSQL) that keep caseload_name_token in step
  whoever writes: the ORM, raw SQL, bulk inserts. An involvement's rows go
  with it by the foreign key's ON DELETE CASCADE (and on SQLite also by a
  trigger, as SQLite enforces foreign keys only where a connection asks).
  They are defined in send_portal.triggers (group caseload_name_token), from
  the same live rule as the queries (send_portal.rules.live_sql).

A later revision that has SQLite rebuild involvement, person or
person_name_token (batch mode's "move and copy") must wrap it in
send_portal.triggers.rebuilding(op, table), which drops these triggers first
and creates them again after: SQLite will not rename a table that a
trigger's body names while the table is missing (migrations/env.py stops an
upgrade that loses a trigger).

Revision ID: 0005_caseload_name_token
Revises: 0004_perf
Create Date: 2026-11-29 07:10:00

"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from send_portal import rules, triggers


# revision identifiers, used by Alembic.
revision = '0005_caseload_name_token'
down_revision = '0004_perf'
branch_labels = None
depends_on = None

# PostgreSQL: the primary key's index carries these too (index-only scans).
INCLUDED = ['person_id', 'shared_prefix', 'ended_on', 'sort_name', 'last_activity_at']


def _shared_prefixes(tokens):
    """As send_portal.names.shared_prefixes, written out here so that this
    revision does what it did whatever the app's code becomes."""
    shared, previous = [], ""
    for token in tokens:
        n = 0
        for a, b in zip(previous, token):
            if a != b:
                break
            n += 1
        shared.append(n)
        previous = token
    return shared


def _fill_shared_prefix(bind, batch=20_000):
    """Every token's shared_prefix, a range of people at a time. The column
    starts at 0, so only tokens that share a prefix are written."""
    tokens = sa.table("person_name_token", sa.column("person_id", sa.Integer), sa.column("token", sa.String),
                      sa.column("shared_prefix", sa.Integer))
    update = (
        tokens.update()
        .where(tokens.c.person_id == sa.bindparam("p"), tokens.c.token == sa.bindparam("t"))
        .values(shared_prefix=sa.bindparam("n"))
    )
    top = bind.execute(sa.select(sa.func.max(tokens.c.person_id))).scalar() or 0
    for start in range(0, top + 1, batch):
        people = defaultdict(list)
        for person_id, token in bind.execute(
            sa.select(tokens.c.person_id, tokens.c.token)
            .where(tokens.c.person_id >= start, tokens.c.person_id < start + batch)
        ):
            people[person_id].append(token)
        changes = []
        for person_id, words in people.items():
            words.sort()
            changes.extend(
                {"p": person_id, "t": token, "n": n} for token, n in zip(words, _shared_prefixes(words)) if n
            )
        if changes:
            bind.execute(update, changes)


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table('person_name_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared_prefix', sa.Integer(), nullable=False, server_default='0'))
    _fill_shared_prefix(bind)
    # No default: a writer that forgot it would make the filter count a person
    # twice. (SQLite rebuilds the table for this.)
    with op.batch_alter_table('person_name_token', schema=None) as batch_op:
        batch_op.alter_column('shared_prefix', existing_type=sa.Integer(), existing_nullable=False,
                              server_default=None)

    op.create_table('caseload_name_token',
    sa.Column('professional_id', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('token', sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql'), nullable=False),
    sa.Column('involvement_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('shared_prefix', sa.Integer(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('sort_name', sa.String(length=210), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['involvement_id'], ['involvement.id'], name=op.f('fk_caseload_name_token_involvement_id_involvement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('professional_id', 'hidden', 'token', 'involvement_id', name=op.f('pk_caseload_name_token'),
                            postgresql_include=INCLUDED),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('caseload_name_token', schema=None) as batch_op:
        batch_op.create_index('ix_caseload_name_token_involvement_id', ['involvement_id'], unique=False)
        batch_op.create_index('ix_caseload_name_token_person_id', ['person_id', 'token'], unique=False)

    op.execute(f"""
        INSERT INTO caseload_name_token ({triggers.NAME_TOKEN_COLUMNS})
        SELECT i.professional_id, i.hidden_at IS NOT NULL, t.token, i.id, i.person_id, t.shared_prefix,
               i.ended_on, p.sort_name, p.last_activity_at
        FROM involvement i
        JOIN person_name_token t ON t.person_id = i.person_id
        JOIN person p ON p.id = i.person_id
        WHERE {rules.live_sql('i')}
    """)
    triggers.create(op, triggers.CASELOAD_NAME_TOKEN)


def downgrade():
    triggers.drop(op, triggers.CASELOAD_NAME_TOKEN)
    with op.batch_alter_table('caseload_name_token', schema=None) as batch_op:
        batch_op.drop_index('ix_caseload_name_token_person_id')
        batch_op.drop_index('ix_caseload_name_token_involvement_id')

    op.drop_table('caseload_name_token')
    with op.batch_alter_table('person_name_token', schema=None) as batch_op:
        batch_op.drop_column('shared_prefix')
