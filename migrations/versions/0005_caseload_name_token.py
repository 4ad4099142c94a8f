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

A later revision that has SQLite rebuild involvement, person or
person_name_token (batch mode's "move and copy") must drop these triggers
first and create them again after: SQLite will not rename a table that a
trigger's body names while the table is missing.

Revision ID: 0005_caseload_name_token
Revises: 0004_perf
Create Date: 2026-11-29 07:10:00

"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005_caseload_name_token'
down_revision = '0004_perf'
branch_labels = None
depends_on = None

# send_portal.caseload.queries._live_involvements, less the professional's own check.
LIVE = "{t}deleted_at IS NULL AND {t}status IN ('awaiting', 'authenticated')"
COLUMNS = ("professional_id, hidden, token, involvement_id, person_id, shared_prefix, ended_on, sort_name,"
           " last_activity_at")
# PostgreSQL: the primary key's index carries these too (index-only scans).
INCLUDED = ['person_id', 'shared_prefix', 'ended_on', 'sort_name', 'last_activity_at']

# The rows of one involvement (NEW), from its person's tokens.
ROWS_OF_INVOLVEMENT = f"""
    INSERT INTO caseload_name_token ({COLUMNS})
    SELECT NEW.professional_id, NEW.hidden_at IS NOT NULL, t.token, NEW.id, NEW.person_id, t.shared_prefix,
           NEW.ended_on, p.sort_name, p.last_activity_at
    FROM person_name_token t JOIN person p ON p.id = t.person_id
    WHERE t.person_id = NEW.person_id"""
# The rows of one token (NEW), one for each live involvement with its person.
ROWS_OF_TOKEN = f"""
    INSERT INTO caseload_name_token ({COLUMNS})
    SELECT i.professional_id, i.hidden_at IS NOT NULL, NEW.token, i.id, i.person_id, NEW.shared_prefix,
           i.ended_on, p.sort_name, p.last_activity_at
    FROM involvement i JOIN person p ON p.id = i.person_id
    WHERE i.person_id = NEW.person_id AND {LIVE.format(t='i.')}"""
# Which involvement columns decide its rows.
INVOLVEMENT_COLUMNS = ["professional_id", "person_id", "status", "hidden_at", "deleted_at", "ended_on"]
TOKEN_COLUMNS = ["person_id", "token", "shared_prefix"]
PERSON_COLUMNS = ["sort_name", "last_activity_at"]
PERSON_ROWS = """
    UPDATE caseload_name_token SET sort_name = NEW.sort_name, last_activity_at = NEW.last_activity_at
    WHERE person_id = NEW.id"""

SQLITE_TRIGGERS = {
    "caseload_name_token_involvement_insert": f"""
        AFTER INSERT ON involvement WHEN {LIVE.format(t='NEW.')}
        BEGIN {ROWS_OF_INVOLVEMENT}; END""",
    "caseload_name_token_involvement_update": f"""
        AFTER UPDATE OF {', '.join(INVOLVEMENT_COLUMNS)} ON involvement
        WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in INVOLVEMENT_COLUMNS)}
        BEGIN
            DELETE FROM caseload_name_token WHERE involvement_id = OLD.id;
            {ROWS_OF_INVOLVEMENT} AND {LIVE.format(t='NEW.')};
        END""",
    "caseload_name_token_involvement_delete": """
        AFTER DELETE ON involvement
        BEGIN DELETE FROM caseload_name_token WHERE involvement_id = OLD.id; END""",
    "caseload_name_token_token_insert": f"""
        AFTER INSERT ON person_name_token
        BEGIN {ROWS_OF_TOKEN}; END""",
    "caseload_name_token_token_update": f"""
        AFTER UPDATE ON person_name_token
        WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in TOKEN_COLUMNS)}
        BEGIN
            DELETE FROM caseload_name_token WHERE person_id = OLD.person_id AND token = OLD.token;
            {ROWS_OF_TOKEN};
        END""",
    "caseload_name_token_token_delete": """
        AFTER DELETE ON person_name_token
        BEGIN DELETE FROM caseload_name_token WHERE person_id = OLD.person_id AND token = OLD.token; END""",
    "caseload_name_token_person_update": f"""
        AFTER UPDATE OF {', '.join(PERSON_COLUMNS)} ON person
        WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in PERSON_COLUMNS)}
        BEGIN {PERSON_ROWS}; END""",
}

POSTGRES_FUNCTIONS = {
    "caseload_name_token_of_involvement": f"""
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM caseload_name_token WHERE involvement_id = OLD.id;
            END IF;
            IF {LIVE.format(t='NEW.')} THEN {ROWS_OF_INVOLVEMENT};
            END IF;
            RETURN NULL;
        END""",
    "caseload_name_token_of_token": f"""
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                DELETE FROM caseload_name_token WHERE person_id = OLD.person_id AND token = OLD.token;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN {ROWS_OF_TOKEN};
            END IF;
            RETURN NULL;
        END""",
    "caseload_name_token_of_person": f"""
        BEGIN {PERSON_ROWS};
            RETURN NULL;
        END""",
}


def _changed(columns):
    return f"({', '.join(f'OLD.{c}' for c in columns)}) IS DISTINCT FROM ({', '.join(f'NEW.{c}' for c in columns)})"


# (name, timing and table, condition, function); an involvement's delete is
# the foreign key's cascade.
POSTGRES_TRIGGERS = [
    ("caseload_name_token_involvement_insert", "AFTER INSERT ON involvement", LIVE.format(t='NEW.'),
     "caseload_name_token_of_involvement"),
    ("caseload_name_token_involvement_update", f"AFTER UPDATE OF {', '.join(INVOLVEMENT_COLUMNS)} ON involvement",
     _changed(INVOLVEMENT_COLUMNS), "caseload_name_token_of_involvement"),
    ("caseload_name_token_token_insert_delete", "AFTER INSERT OR DELETE ON person_name_token", None,
     "caseload_name_token_of_token"),
    ("caseload_name_token_token_update", "AFTER UPDATE ON person_name_token", _changed(TOKEN_COLUMNS),
     "caseload_name_token_of_token"),
    ("caseload_name_token_person_update", f"AFTER UPDATE OF {', '.join(PERSON_COLUMNS)} ON person",
     _changed(PERSON_COLUMNS), "caseload_name_token_of_person"),
]


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
        INSERT INTO caseload_name_token ({COLUMNS})
        SELECT i.professional_id, i.hidden_at IS NOT NULL, t.token, i.id, i.person_id, t.shared_prefix,
               i.ended_on, p.sort_name, p.last_activity_at
        FROM involvement i
        JOIN person_name_token t ON t.person_id = i.person_id
        JOIN person p ON p.id = i.person_id
        WHERE {LIVE.format(t='i.')}
    """)

    if bind.dialect.name == "postgresql":
        for name, body in POSTGRES_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger AS $$ {body} $$ LANGUAGE plpgsql")
        for name, event, condition, function in POSTGRES_TRIGGERS:
            when = f" WHEN ({condition})" if condition else ""
            op.execute(f"CREATE TRIGGER {name} {event} FOR EACH ROW{when} EXECUTE FUNCTION {function}()")
    elif bind.dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        raise NotImplementedError(f"caseload_name_token has no triggers for {bind.dialect.name}")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, event, _, _ in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {event.rsplit(' ', 1)[1]}")
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    elif bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('caseload_name_token', schema=None) as batch_op:
        batch_op.drop_index('ix_caseload_name_token_person_id')
        batch_op.drop_index('ix_caseload_name_token_involvement_id')

    op.drop_table('caseload_name_token')
    with op.batch_alter_table('person_name_token', schema=None) as batch_op:
        batch_op.drop_column('shared_prefix')
