"""The database triggers, each defined once, for SQLite and PostgreSQL.

Migrations create and drop them through this module (``create(op, group)``,
``drop(op, group)``); they are never written out in a revision. A group is the
set of triggers (and, on PostgreSQL, their plpgsql functions) one revision
adds:

- ``audit_entry`` (0001): the audit log is append-only.
- ``caseload_name_token`` (0005): keeps caseload_name_token, the Select
  Person filter's table, in step with involvement, person_name_token and
  person, for live involvements only (send_portal.rules.live_sql: the same
  rule as the queries' rules.live()).
- ``involvement_last_activity`` (0006): involvement.last_activity_at is a
  copy of its person's, for the Recent view.

The trap: Flask-Migrate runs with ``render_as_batch=True``, and on SQLite
batch mode rebuilds a table ("move and copy": a new table, copy, drop the
old, rename), which drops the table's triggers silently, and SQLite will not
rename a table that another trigger's body names. A later revision that must
rebuild one of the tables below on SQLite wraps the batch operation in
``rebuilding``::

    with triggers.rebuilding(op, "person"):
        with op.batch_alter_table("person") as batch_op:
            ...

which drops the groups that touch the table and creates them again after
(no trigger fires in between: a data change made inside must keep the
derived tables in step itself). migrations/env.py checks after every
revision that every trigger this module says exists at that revision does
exist (``check``), and stops the upgrade, naming the missing ones, if not;
when SQLite refuses the rebuild outright ("error in trigger ... no such
table"), it says the same (``explain``).

Changing a group (a new column to copy, a rule of send_portal.rules that
its SQL reads): change it here, and add a revision that runs
``drop(op, group)`` and ``create(op, group)`` so that existing databases
get it too (a new database gets it at the group's own revision). A new
group: add it to GROUPS with the revision that creates it.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import text

from .rules import live_sql

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class SqliteTrigger:
    name: str
    event: str  # "AFTER INSERT", "AFTER UPDATE OF a, b", ...
    table: str
    when: str | None
    body: str  # the statements between BEGIN and END, without the last ";"

    def create_sql(self) -> str:
        when = f" WHEN {self.when}" if self.when else ""
        return f"CREATE TRIGGER {self.name} {self.event} ON {self.table}{when} BEGIN {self.body}; END"


@dataclass(frozen=True)
class PostgresTrigger:
    name: str
    event: str  # "AFTER INSERT", "BEFORE UPDATE OF a", ...
    table: str
    when: str | None
    function: str

    def create_sql(self) -> str:
        when = f" WHEN ({self.when})" if self.when else ""
        return f"CREATE TRIGGER {self.name} {self.event} ON {self.table} FOR EACH ROW{when} EXECUTE FUNCTION {self.function}()"


@dataclass(frozen=True)
class Group:
    name: str
    revision: str  # the revision that creates it
    sqlite: tuple[SqliteTrigger, ...]
    postgres_functions: tuple[tuple[str, str], ...]  # (name, plpgsql body)
    postgres: tuple[PostgresTrigger, ...]
    reads: tuple[str, ...] = ()  # other tables the bodies name

    @property
    def tables(self) -> frozenset[str]:
        """Every table the group's triggers are on or name."""
        return frozenset({t.table for t in self.sqlite} | {t.table for t in self.postgres} | set(self.reads))

    def trigger_names(self, dialect: str) -> tuple[str, ...]:
        return tuple(t.name for t in (self.sqlite if dialect == SQLITE else self.postgres))


def _changed_sqlite(columns) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def _changed_postgres(columns) -> str:
    return f"({', '.join(f'OLD.{c}' for c in columns)}) IS DISTINCT FROM ({', '.join(f'NEW.{c}' for c in columns)})"


# --- 0001: the audit log is append-only ---------------------------------------------------------

AUDIT_MESSAGE = "'the audit log is append-only'"

AUDIT_ENTRY = Group(
    name="audit_entry",
    revision="0001",
    sqlite=tuple(
        SqliteTrigger(f"audit_entry_no_{verb.lower()}", f"BEFORE {verb}", "audit_entry", None,
                      f"SELECT RAISE(ABORT, {AUDIT_MESSAGE})")
        for verb in ("UPDATE", "DELETE")
    ),
    postgres_functions=(("audit_entry_append_only", f"BEGIN RAISE EXCEPTION {AUDIT_MESSAGE}; END"),),
    postgres=(PostgresTrigger("audit_entry_append_only", "BEFORE UPDATE OR DELETE", "audit_entry", None,
                              "audit_entry_append_only"),),
)


# --- 0005: caseload_name_token ------------------------------------------------------------------

NAME_TOKEN_COLUMNS = ("professional_id, hidden, token, involvement_id, person_id, shared_prefix, ended_on, sort_name,"  # nosec B105 - column names, not a password
                      " last_activity_at")

# The rows of one involvement (NEW), from its person's tokens.
_ROWS_OF_INVOLVEMENT = f"""
    INSERT INTO caseload_name_token ({NAME_TOKEN_COLUMNS})
    SELECT NEW.professional_id, NEW.hidden_at IS NOT NULL, t.token, NEW.id, NEW.person_id, t.shared_prefix,
           NEW.ended_on, p.sort_name, p.last_activity_at
    FROM person_name_token t JOIN person p ON p.id = t.person_id
    WHERE t.person_id = NEW.person_id"""  # nosec B608 - constant SQL, no request data
# The rows of one token (NEW), one for each live involvement with its person.
_ROWS_OF_TOKEN = f"""
    INSERT INTO caseload_name_token ({NAME_TOKEN_COLUMNS})
    SELECT i.professional_id, i.hidden_at IS NOT NULL, NEW.token, i.id, i.person_id, NEW.shared_prefix,
           i.ended_on, p.sort_name, p.last_activity_at
    FROM involvement i JOIN person p ON p.id = i.person_id
    WHERE i.person_id = NEW.person_id AND {live_sql('i')}"""  # nosec B608 - constant SQL, no request data
# What the filter reads of the person.
_PERSON_ROWS = """
    UPDATE caseload_name_token SET sort_name = NEW.sort_name, last_activity_at = NEW.last_activity_at
    WHERE person_id = NEW.id"""
# Which columns decide the rows.
_INVOLVEMENT_COLUMNS = ("professional_id", "person_id", "status", "hidden_at", "deleted_at", "ended_on")
_TOKEN_COLUMNS = ("person_id", "token", "shared_prefix")
_PERSON_COLUMNS = ("sort_name", "last_activity_at")

CASELOAD_NAME_TOKEN = Group(
    name="caseload_name_token",
    revision="0005_caseload_name_token",
    sqlite=(
        SqliteTrigger("caseload_name_token_involvement_insert", "AFTER INSERT", "involvement", live_sql("NEW"),
                      _ROWS_OF_INVOLVEMENT),
        SqliteTrigger("caseload_name_token_involvement_update", f"AFTER UPDATE OF {', '.join(_INVOLVEMENT_COLUMNS)}",
                      "involvement", _changed_sqlite(_INVOLVEMENT_COLUMNS),
                      f"DELETE FROM caseload_name_token WHERE involvement_id = OLD.id;"  # nosec B608 - constant SQL, no request data
                      f" {_ROWS_OF_INVOLVEMENT} AND {live_sql('NEW')}"),
        # SQLite enforces the foreign key's ON DELETE CASCADE only where a connection asks.
        SqliteTrigger("caseload_name_token_involvement_delete", "AFTER DELETE", "involvement", None,
                      "DELETE FROM caseload_name_token WHERE involvement_id = OLD.id"),
        SqliteTrigger("caseload_name_token_token_insert", "AFTER INSERT", "person_name_token", None, _ROWS_OF_TOKEN),
        SqliteTrigger("caseload_name_token_token_update", "AFTER UPDATE", "person_name_token",
                      _changed_sqlite(_TOKEN_COLUMNS),
                      f"DELETE FROM caseload_name_token WHERE person_id = OLD.person_id AND token = OLD.token;"  # nosec B608 - constant SQL, no request data
                      f" {_ROWS_OF_TOKEN}"),
        SqliteTrigger("caseload_name_token_token_delete", "AFTER DELETE", "person_name_token", None,
                      "DELETE FROM caseload_name_token WHERE person_id = OLD.person_id AND token = OLD.token"),
        SqliteTrigger("caseload_name_token_person_update", f"AFTER UPDATE OF {', '.join(_PERSON_COLUMNS)}", "person",
                      _changed_sqlite(_PERSON_COLUMNS), _PERSON_ROWS),
    ),
    postgres_functions=(
        ("caseload_name_token_of_involvement", f"""
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM caseload_name_token WHERE involvement_id = OLD.id;
            END IF;
            IF {live_sql('NEW')} THEN {_ROWS_OF_INVOLVEMENT};
            END IF;
            RETURN NULL;
        END"""),  # nosec B608 - constant SQL, no request data
        ("caseload_name_token_of_token", f"""
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                DELETE FROM caseload_name_token WHERE person_id = OLD.person_id AND token = OLD.token;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN {_ROWS_OF_TOKEN};
            END IF;
            RETURN NULL;
        END"""),  # nosec B608 - constant SQL, no request data
        ("caseload_name_token_of_person", f"""
        BEGIN {_PERSON_ROWS};
            RETURN NULL;
        END"""),
    ),
    # An involvement's rows go with it by the foreign key's ON DELETE CASCADE.
    postgres=(
        PostgresTrigger("caseload_name_token_involvement_insert", "AFTER INSERT", "involvement", live_sql("NEW"),
                        "caseload_name_token_of_involvement"),
        PostgresTrigger("caseload_name_token_involvement_update", f"AFTER UPDATE OF {', '.join(_INVOLVEMENT_COLUMNS)}",
                        "involvement", _changed_postgres(_INVOLVEMENT_COLUMNS), "caseload_name_token_of_involvement"),
        PostgresTrigger("caseload_name_token_token_insert_delete", "AFTER INSERT OR DELETE", "person_name_token", None,
                        "caseload_name_token_of_token"),
        PostgresTrigger("caseload_name_token_token_update", "AFTER UPDATE", "person_name_token",
                        _changed_postgres(_TOKEN_COLUMNS), "caseload_name_token_of_token"),
        PostgresTrigger("caseload_name_token_person_update", f"AFTER UPDATE OF {', '.join(_PERSON_COLUMNS)}", "person",
                        _changed_postgres(_PERSON_COLUMNS), "caseload_name_token_of_person"),
    ),
    reads=("caseload_name_token",),
)


# --- 0006: involvement.last_activity_at ---------------------------------------------------------


def person_time(person: str) -> str:
    """SQL: the last activity time of the person whose id is ``person``."""
    return f"(SELECT p.last_activity_at FROM person p WHERE p.id = {person})"  # nosec B608 - constant SQL, no request data


_TAKE_PERSON_TIME = f"UPDATE involvement SET last_activity_at = {person_time('NEW.person_id')} WHERE id = NEW.id"  # nosec B608 - constant SQL, no request data

INVOLVEMENT_LAST_ACTIVITY = Group(
    name="involvement_last_activity",
    revision="0006_involvement_last_activity",
    sqlite=(
        SqliteTrigger("involvement_last_activity_insert", "AFTER INSERT", "involvement", None, _TAKE_PERSON_TIME),
        SqliteTrigger("involvement_last_activity_move", "AFTER UPDATE OF person_id", "involvement",
                      "OLD.person_id IS NOT NEW.person_id", _TAKE_PERSON_TIME),
        SqliteTrigger("involvement_last_activity_person", "AFTER UPDATE OF last_activity_at", "person",
                      "OLD.last_activity_at IS NOT NEW.last_activity_at",
                      "UPDATE involvement SET last_activity_at = NEW.last_activity_at WHERE person_id = NEW.id"),
    ),
    postgres_functions=(
        ("involvement_last_activity_of_person_row", f"""
        BEGIN
            NEW.last_activity_at := {person_time('NEW.person_id')};
            RETURN NEW;
        END"""),
        ("involvement_last_activity_from_person", """
        BEGIN
            UPDATE involvement SET last_activity_at = NEW.last_activity_at WHERE person_id = NEW.id;
            RETURN NULL;
        END"""),
    ),
    postgres=(
        PostgresTrigger("involvement_last_activity_insert", "BEFORE INSERT", "involvement", None,
                        "involvement_last_activity_of_person_row"),
        PostgresTrigger("involvement_last_activity_move", "BEFORE UPDATE OF person_id", "involvement",
                        "OLD.person_id IS DISTINCT FROM NEW.person_id", "involvement_last_activity_of_person_row"),
        PostgresTrigger("involvement_last_activity_person", "AFTER UPDATE OF last_activity_at", "person",
                        "OLD.last_activity_at IS DISTINCT FROM NEW.last_activity_at",
                        "involvement_last_activity_from_person"),
    ),
)

GROUPS = {group.name: group for group in (AUDIT_ENTRY, CASELOAD_NAME_TOKEN, INVOLVEMENT_LAST_ACTIVITY)}


# --- create, drop, rebuild ----------------------------------------------------------------------


def _runner(op_or_bind):
    """(dialect name, a function that runs one SQL statement) for Alembic's
    ``op`` or a Connection."""
    if hasattr(op_or_bind, "get_bind"):
        bind = op_or_bind.get_bind()
        return bind.dialect.name, op_or_bind.execute
    return op_or_bind.dialect.name, op_or_bind.exec_driver_sql


def _group(group) -> Group:
    return GROUPS[group] if isinstance(group, str) else group


def create_statements(dialect: str, group) -> list[str]:
    group = _group(group)
    if dialect == POSTGRESQL:
        return [
            *(f"CREATE FUNCTION {name}() RETURNS trigger AS $$ {body} $$ LANGUAGE plpgsql"
              for name, body in group.postgres_functions),
            *(trigger.create_sql() for trigger in group.postgres),
        ]
    if dialect == SQLITE:
        return [trigger.create_sql() for trigger in group.sqlite]
    raise NotImplementedError(f"the {group.name} triggers are written for SQLite and PostgreSQL, not {dialect}")


def drop_statements(dialect: str, group) -> list[str]:
    group = _group(group)
    if dialect == POSTGRESQL:
        return [
            *(f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}" for trigger in group.postgres),
            *(f"DROP FUNCTION IF EXISTS {name}()" for name, _ in group.postgres_functions),
        ]
    if dialect == SQLITE:
        return [f"DROP TRIGGER IF EXISTS {trigger.name}" for trigger in group.sqlite]
    raise NotImplementedError(f"the {group.name} triggers are written for SQLite and PostgreSQL, not {dialect}")


def create(op_or_bind, group) -> None:
    """Create a group's triggers (and PostgreSQL functions). op_or_bind:
    Alembic's ``op`` in a revision, or a Connection."""
    dialect, run = _runner(op_or_bind)
    for statement in create_statements(dialect, group):
        run(statement)


def drop(op_or_bind, group) -> None:
    dialect, run = _runner(op_or_bind)
    for statement in drop_statements(dialect, group):
        run(statement)


def existing(bind) -> set[str]:
    """The names of the triggers the database holds."""
    if bind.dialect.name == SQLITE:
        return set(bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
    return set(bind.execute(text(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
    )).scalars())


def groups_touching(*tables: str) -> list[Group]:
    return [group for group in GROUPS.values() if group.tables & set(tables)]


@contextmanager
def rebuilding(op_or_bind, *tables: str):
    """Around a batch operation that rebuilds these tables (SQLite's "move and
    copy"): drops every trigger group that is on or names one of them (those
    the database has) and creates them again after."""
    dialect, _ = _runner(op_or_bind)
    bind = op_or_bind.get_bind() if hasattr(op_or_bind, "get_bind") else op_or_bind
    present = existing(bind)
    groups = [group for group in groups_touching(*tables) if present & set(group.trigger_names(dialect))]
    for group in groups:
        drop(op_or_bind, group)
    yield
    for group in groups:
        create(op_or_bind, group)


def expected(dialect: str, applied_revisions) -> set[str]:
    """The triggers that exist once these revisions are applied."""
    applied = set(applied_revisions)
    return {name for group in GROUPS.values() if group.revision in applied for name in group.trigger_names(dialect)}


class MissingTriggers(Exception):
    """Not a RuntimeError, which Flask-Migrate turns into a one-line log
    message and exit status: the upgrade stops with the whole story."""


HOW_TO_REBUILD = (
    "SQLite's batch mode (render_as_batch) rebuilds a table and drops its triggers silently: wrap the"
    " batch_alter_table in send_portal.triggers.rebuilding(op, <table>), or alter the table without batch mode"
    " (op.add_column, op.create_index)."
)


def explain(error: Exception) -> MissingTriggers | None:
    """For migrations/env.py: SQLite refuses to rename the rebuilt table back
    when another trigger's body names it ("error in trigger ... no such
    table"); say why and what to do instead."""
    message = str(getattr(error, "orig", None) or error)
    if "error in trigger" not in message:
        return None
    return MissingTriggers(
        f"A migration failed inside a trigger ({message}). If it rebuilt, in batch mode, a table that triggers"
        f" name: {HOW_TO_REBUILD}"
    )


def check(bind, applied_revisions, revision: str) -> None:
    """Raise MissingTriggers, naming them, if a trigger that should exist
    once applied_revisions are applied does not (migrations/env.py calls it
    after every revision)."""
    missing = sorted(expected(bind.dialect.name, applied_revisions) - existing(bind))
    if missing:
        tables = sorted({t.table for g in GROUPS.values() for t in (g.sqlite + g.postgres) if t.name in missing})
        raise MissingTriggers(
            f"After migration {revision}, these triggers are missing on {bind.dialect.name}: {', '.join(missing)}"
            f" (on {', '.join(tables)}). This migration, or an earlier change (a database stamped rather than"
            f" migrated, a trigger dropped by hand), removed them. If this migration rebuilt a table: {HOW_TO_REBUILD}"
        )
