"""involvement.last_activity_at: Recent reads the professional's involvements in order

The Recent (18 months) view lists a professional's people by the latest
activity on each person's record, most recent first. The time was on the
person only, so Recent joined every involvement of the caseload to its
person, then sorted them all: 250 ms for a caseload of 100,000, for a page
of 50. This revision adds:

- involvement.last_activity_at: a copy of the person's, written only by the
  triggers below (whoever writes: the ORM, raw SQL, the bench's bulk
  inserts), filled here for the existing rows.
- ix_involvement_recent (professional_id, deleted_at, hidden_at,
  last_activity_at, person_id, status): Recent is a range of it, read
  backwards from the newest and stopped after a page, and counted from the
  index alone.
- Triggers: a new involvement and one moved to another person take the
  person's time; a change to a person's time is copied to their
  involvements. (0005's involvement triggers watch other columns, so these
  copies do not rewrite caseload_name_token.)

Revision ID: 0006_involvement_last_activity
Revises: 0005_caseload_name_token
Create Date: 2026-12-02 10:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006_involvement_last_activity'
down_revision = '0005_caseload_name_token'
branch_labels = None
depends_on = None

INDEX_COLUMNS = ['professional_id', 'deleted_at', 'hidden_at', 'last_activity_at', 'person_id', 'status']
PERSON_TIME = "(SELECT p.last_activity_at FROM person p WHERE p.id = {person})"

SQLITE_TRIGGERS = {
    "involvement_last_activity_insert": f"""
        AFTER INSERT ON involvement
        BEGIN UPDATE involvement SET last_activity_at = {PERSON_TIME.format(person='NEW.person_id')} WHERE id = NEW.id; END""",
    "involvement_last_activity_move": f"""
        AFTER UPDATE OF person_id ON involvement WHEN OLD.person_id IS NOT NEW.person_id
        BEGIN UPDATE involvement SET last_activity_at = {PERSON_TIME.format(person='NEW.person_id')} WHERE id = NEW.id; END""",
    "involvement_last_activity_person": """
        AFTER UPDATE OF last_activity_at ON person WHEN OLD.last_activity_at IS NOT NEW.last_activity_at
        BEGIN UPDATE involvement SET last_activity_at = NEW.last_activity_at WHERE person_id = NEW.id; END""",
}

POSTGRES_FUNCTIONS = {
    "involvement_last_activity_of_person_row": f"""
        BEGIN
            NEW.last_activity_at := {PERSON_TIME.format(person='NEW.person_id')};
            RETURN NEW;
        END""",
    "involvement_last_activity_from_person": """
        BEGIN
            UPDATE involvement SET last_activity_at = NEW.last_activity_at WHERE person_id = NEW.id;
            RETURN NULL;
        END""",
}
# (name, timing and table, condition, function)
POSTGRES_TRIGGERS = [
    ("involvement_last_activity_insert", "BEFORE INSERT ON involvement", None,
     "involvement_last_activity_of_person_row"),
    ("involvement_last_activity_move", "BEFORE UPDATE OF person_id ON involvement",
     "OLD.person_id IS DISTINCT FROM NEW.person_id", "involvement_last_activity_of_person_row"),
    ("involvement_last_activity_person", "AFTER UPDATE OF last_activity_at ON person",
     "OLD.last_activity_at IS DISTINCT FROM NEW.last_activity_at", "involvement_last_activity_from_person"),
]


def upgrade():
    bind = op.get_bind()
    # A plain ADD COLUMN: SQLite does not rebuild the table (see 0005 on why that matters).
    op.add_column('involvement', sa.Column('last_activity_at', sa.DateTime(), nullable=True))
    op.execute(f"UPDATE involvement SET last_activity_at = {PERSON_TIME.format(person='involvement.person_id')}")
    op.create_index('ix_involvement_recent', 'involvement', INDEX_COLUMNS, unique=False)
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
        raise NotImplementedError(f"involvement.last_activity_at has no triggers for {bind.dialect.name}")


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
    op.drop_index('ix_involvement_recent', table_name='involvement')
    op.drop_column('involvement', 'last_activity_at')
