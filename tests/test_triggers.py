"""The triggers of send_portal.triggers survive later migrations, or the
upgrade stops and says why.

Flask-Migrate runs with render_as_batch=True, and SQLite's batch mode
rebuilds a table ("move and copy"), which drops the table's triggers
silently. These tests add a throwaway revision after the real ones (in a
copy of migrations/ under tmp_path) that rebuilds `person` in batch mode:
without send_portal.triggers.rebuilding the upgrade must fail and name the
missing triggers; with it the triggers are all there afterwards and still
keep caseload_name_token and involvement.last_activity_at in step.
Runs on SQLite and, with TEST_POSTGRES_URL, on PostgreSQL (which alters the
table in place, so there it checks that the guard lets a good revision
through)."""
from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import text as sql

from send_portal import create_app, triggers
from send_portal.extensions import db
from send_portal.models import Involvement, InvolvementStatus, Person

from .conftest import POSTGRES_URL
from .test_caseload_search import actual_index, check_last_activity_copies, expected_index
from .test_migrations import empty_database_url  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parent.parent

# The throwaway revision: rebuilds person in batch mode (on SQLite,
# alter_column needs "move and copy"; PostgreSQL alters in place).
REVISION = '''
import sqlalchemy as sa
from alembic import op

from send_portal import triggers

revision = "9999_rebuild_person"
down_revision = {head!r}
branch_labels = None
depends_on = None


def _rebuild():
    with op.batch_alter_table({table!r}, schema=None) as batch_op:
        batch_op.add_column(sa.Column("scratch", sa.String(length=10), nullable=True))
        batch_op.alter_column("scratch", existing_type=sa.String(length=10), nullable=False, server_default="x")


def upgrade():
    {body}


def downgrade():
    pass
'''

WITHOUT_HELPER = "_rebuild()"
WITH_HELPER = 'with triggers.rebuilding(op, {table!r}):\n        _rebuild()'


def _migrations_with(tmp_path: Path, body: str, table: str = "person") -> str:
    directory = tmp_path / "migrations"
    shutil.copytree(ROOT / "migrations", directory, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory(str(directory)).get_current_head()
    (directory / "versions" / "9999_rebuild_person.py").write_text(REVISION.format(head=head, body=body.format(table=table), table=table))
    return str(directory)


def _head_revisions(directory: str) -> set[str]:
    return {r.revision for r in ScriptDirectory(directory).walk_revisions()}


def _add_people():
    """Two children, one live involvement and one unauthenticated, written
    through the ORM after the rebuild: the triggers must fill the filter's
    table and the involvements' copy of the last activity."""
    professional_id = db.session.execute(sql(
        "INSERT INTO portal_user (email, given_name, family_name, role, verification, is_deactivated, created_at)"
        " VALUES ('pro@school.example', 'Pro', 'Fessional', 'professional', 'verified', :no, :now) RETURNING id"
    ), {"no": False, "now": datetime(2026, 1, 1)}).scalar()
    for given, family, status in (("Sam", "Smith", InvolvementStatus.AUTHENTICATED.value),
                                  ("Zoë", "O'Brien", InvolvementStatus.UNAUTHENTICATED.value)):
        person = Person(gender="Female", date_of_birth=datetime(2015, 1, 1).date(), case_status="No open case",
                        last_activity_at=datetime(2026, 2, 1))
        person.set_names(given, family)
        db.session.add(person)
        db.session.flush()
        db.session.add(Involvement(professional_id=professional_id, person_id=person.id, status=status))
    db.session.commit()
    sam = db.session.scalar(db.select(Person).where(Person.given_name == "Sam"))
    sam.set_names("Samuel", "Smythe")
    sam.last_activity_at = datetime(2026, 3, 1)
    db.session.commit()


@pytest.mark.parametrize("table, named", [
    # Other triggers' bodies name person: SQLite refuses to rename the rebuilt
    # table back, and the upgrade says why.
    ("person", ["no such table: main.person"]),
    # Nothing else names audit_entry: SQLite drops its triggers silently, and
    # the check after the revision names them.
    ("audit_entry", ["audit_entry_no_delete", "audit_entry_no_update"]),
])
def test_a_batch_rebuild_of_a_triggered_table_without_the_helper_fails_loudly(
    empty_database_url, tmp_path, table, named,  # noqa: F811
):
    if POSTGRES_URL:
        pytest.skip("PostgreSQL alters the table in place and keeps its triggers; the trap is SQLite's")
    directory = _migrations_with(tmp_path, WITHOUT_HELPER, table)
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        with pytest.raises(triggers.MissingTriggers) as failure:
            upgrade(directory=directory)
        message = str(failure.value)
        # It names what went wrong and the way out.
        for name in named:
            assert name in message
        assert "send_portal.triggers.rebuilding(op, <table>)" in message
        with db.engine.connect() as conn:
            assert conn.execute(sql("SELECT version_num FROM alembic_version")).scalar() != "9999_rebuild_person"
        db.session.remove()
        db.engine.dispose()


def test_a_batch_rebuild_inside_the_helper_keeps_the_triggers_working(empty_database_url, tmp_path):  # noqa: F811
    directory = _migrations_with(tmp_path, WITH_HELPER)
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            assert conn.execute(sql("SELECT count(*) FROM alembic_version WHERE version_num = '9999_rebuild_person'")
                                ).scalar() == 1
            assert "scratch" in {c["name"] for c in db.inspect(conn).get_columns("person")}
            present = triggers.existing(conn)
        wanted = triggers.expected(db.engine.dialect.name, _head_revisions(directory))
        assert wanted and wanted <= present
        _add_people()
        index = actual_index()
        assert index == expected_index()
        # Samuel Smythe's live involvement is in the filter's table under his new
        # names; the unauthenticated involvement is not.
        assert {token for _, _, token, *_ in index} == {"samuel", "smythe"}
        check_last_activity_copies()
        db.session.remove()
        db.engine.dispose()


def test_the_guard_names_a_trigger_dropped_behind_its_back(empty_database_url):  # noqa: F811
    """triggers.check, as migrations/env.py calls it after each revision:
    whatever drops a trigger (a batch rebuild, a hand-written DROP), the
    check names it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade()
        applied = _head_revisions(os.path.join(ROOT, "migrations"))
        with db.engine.begin() as conn:
            triggers.check(conn, applied, "head")  # all there
            conn.execute(sql("DROP TRIGGER IF EXISTS involvement_last_activity_move"
                             + (" ON involvement" if conn.dialect.name == "postgresql" else "")))
            with pytest.raises(triggers.MissingTriggers, match="involvement_last_activity_move"):
                triggers.check(conn, applied, "head")
        db.engine.dispose()
