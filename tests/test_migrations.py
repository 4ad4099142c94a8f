"""Migrations run cleanly on SQLite and PostgreSQL, from an empty database and
from every earlier revision, and the schema they make matches the models."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text as sql

from send_portal import create_app
from send_portal.extensions import db

from .conftest import POSTGRES_URL, _next, _pg_admin_engine, _pg_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def empty_database_url(tmp_path):
    if POSTGRES_URL:
        name = f"send_portal_empty_{os.getpid()}_{_next()}"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(sql(f'CREATE DATABASE "{name}"'))
        yield _pg_url(name)
        with admin.connect() as conn:
            conn.execute(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def revisions():
    script = ScriptDirectory(os.path.join(ROOT, "migrations"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_every_revision_upgrades_to_head_and_matches_the_models(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        for revision in revisions():
            upgrade(revision=revision)
            upgrade()  # from this earlier revision to head
            downgrade(revision=revision)
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff
        # The system account exists once, and new users do not collide with it.
        assert db.session.execute(sql("SELECT email FROM portal_user WHERE id = 1")).scalar() == "sysadmin"
        db.session.remove()
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()


def test_init_db_twice_is_safe(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()


def test_the_filter_index_is_built_from_existing_data(empty_database_url):
    """0005 works out shared_prefix for the tokens already stored and fills
    caseload_name_token from the involvements already there."""
    from datetime import date, datetime

    from send_portal.names import name_tokens, sort_key

    from .test_caseload_search import actual_index, check_shared_prefixes, expected_index

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    names = [("Sam", "Smith"), ("Anna-Ann", "Annan"), ("Zoë", "O'Brien"), ("Mary-Jane", "Smith-Jones"), ("Jo", "Jones")]
    with app.app_context():
        upgrade(revision="0004_perf")
        with db.engine.begin() as conn:
            for pro in (2, 3):
                conn.execute(sql(
                    "INSERT INTO portal_user (id, email, given_name, family_name, role, verification, is_deactivated,"
                    " created_at) VALUES (:id, :email, 'Pro', 'Fessional', 'professional', 'verified', :no, :now)"
                ), {"id": pro, "email": f"pro{pro}@school.example", "no": False, "now": datetime(2026, 1, 1)})
            for person_id, (given, family) in enumerate(names * 4, start=1):
                conn.execute(sql(
                    "INSERT INTO person (id, given_name, family_name, sort_name, date_of_birth, gender, case_status,"
                    " added_by_professional, created_at) VALUES (:id, :given, :family, :sort, :dob, 'Not known',"
                    " 'No open case', :no, :now)"
                ), {"id": person_id, "given": given, "family": family, "sort": sort_key(given, family),
                    "dob": date(2015, 1, 1), "no": False, "now": datetime(2026, 1, 1)})
                for token in set(name_tokens(given) + name_tokens(family)):
                    conn.execute(sql("INSERT INTO person_name_token (person_id, token) VALUES (:p, :t)"),
                                 {"p": person_id, "t": token})
                states = [("authenticated", None, None), ("awaiting", datetime(2026, 2, 1), None),
                          ("unauthenticated", None, datetime(2026, 3, 1)), ("declined", None, None)]
                status, hidden_at, deleted_at = states[person_id % 4]
                conn.execute(sql(
                    "INSERT INTO involvement (professional_id, person_id, status, started_on, ended_on, hidden_at,"
                    " deleted_at, created_at) VALUES (:pro, :person, :status, :start, :end, :hidden, :deleted, :now)"
                ), {"pro": 2 + person_id % 2, "person": person_id, "status": status, "start": date(2025, 1, 1),
                    "end": date(2026, 6, 1) if person_id % 3 == 0 else None, "hidden": hidden_at,
                    "deleted": deleted_at, "now": datetime(2026, 1, 1)})
        upgrade()
        check_shared_prefixes()
        assert db.session.scalar(sql("SELECT max(shared_prefix) FROM person_name_token")) == 5  # smith, smithjones
        index = actual_index()
        assert index == expected_index()
        # Ten of the twenty involvements are live (authenticated, or awaiting and
        # hidden); their people have 36 tokens between them.
        assert len(index) == 36 and {hidden for _, hidden, *_ in index} == {False, True}
        db.session.remove()
        # Down and up again with the data in place.
        downgrade(revision="0004_perf")
        upgrade()
        check_shared_prefixes()
        assert actual_index() == index
        db.session.remove()
        db.engine.dispose()


def test_recent_is_read_in_the_order_of_its_index(empty_database_url):
    """The Recent page is read from ix_involvement_recent in the list's order
    and never sorted, on both engines (migration 0007: PostgreSQL does not
    take "IS NULL" as fixing a column, so before it the index's order did not
    start with the last activity and PostgreSQL sorted every involvement)."""
    from datetime import date, datetime

    from send_portal.caseload import queries
    from send_portal.caseload.queries import View

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade()
        dialect = db.engine.dialect
        today = date(2026, 12, 2)
        params = {"professional_id": 2, "today": today, "cutoff": datetime(2025, 6, 2), "limit": 50, "offset": 0}
        for backwards in (False, True):
            statement = queries._page_statement(View.RECENT, 0, True, backwards, False).params(**params)
            compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            values = {name: value.isoformat(" ") if isinstance(value, (date, datetime)) else value
                      for name, value in compiled.construct_params().items()}
            with db.engine.begin() as conn:
                if dialect.name == "sqlite":
                    args = tuple(values[name] for name in compiled.positiontup)
                    plan = " / ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args))
                    assert "ix_involvement_recent" in plan, plan
                    assert "TEMP B-TREE" not in plan, plan
                else:
                    # An empty table: make the planner show whether the index can give the order.
                    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                    conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
                    plan = " / ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}", values))
                    assert "ix_involvement_recent" in plan, plan
                    assert "Sort" not in plan, plan
        db.session.remove()
        db.engine.dispose()
