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
