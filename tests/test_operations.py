"""Running the service: health, backups and restore, request logs."""
import os
import shutil
import subprocess

import pytest
from sqlalchemy import func, select

from send_portal.extensions import db
from send_portal.models import Person

from .conftest import POSTGRES_URL


def test_health_checks_the_database(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_health_says_unavailable_when_the_database_is_gone(app, tmp_path):
    from send_portal import create_app

    broken = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.sqlite3", "TESTING": True})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the SQLite backup command; PostgreSQL is checked with pg_dump below")
def test_backup_and_restore_sqlite(runner, make_person, tmp_path):
    make_person("Amelia", "Jones")
    target = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    make_person("Oliver", "Brown")
    assert db.session.scalar(select(func.count()).select_from(Person)) == 2
    again = runner.invoke(args=["backup", "--output", str(target)])
    assert again.exit_code != 0 and "already exists" in again.output
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert [p.full_name for p in db.session.scalars(select(Person))] == ["Amelia Jones"]


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only")
def test_restore_refuses_a_file_that_is_not_a_backup(runner, tmp_path):
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code != 0 and "not a SEND Portal database" in result.output


@pytest.mark.skipif(not POSTGRES_URL or not shutil.which("pg_dump"), reason="needs PostgreSQL and pg_dump")
def test_backup_and_restore_postgresql_with_pg_dump(app, database_url, make_person, tmp_path):
    from sqlalchemy.engine import make_url

    make_person("Amelia", "Jones")
    url = make_url(database_url)
    libpq = f"postgresql://{url.username}@{url.host}:{url.port}/{url.database}"
    dump = tmp_path / "send_portal.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", libpq], check=True)
    make_person("Oliver", "Brown")
    db.session.remove()
    db.engine.dispose()
    subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={libpq}", str(dump)], check=True)
    assert [p.full_name for p in db.session.scalars(select(Person))] == ["Amelia Jones"]


def test_backup_refuses_postgresql(app, runner):
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL")
    result = runner.invoke(args=["backup"])
    assert result.exit_code != 0 and "pg_dump" in result.output


def test_request_log_has_no_query_string_or_names(app, client_request, professional, make_person, caplog):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    app.testing = False  # the log is quiet under test by default
    try:
        with caplog.at_level("INFO", logger="send_portal.requests"):
            client_request.client.get("/send/select-person?q=amelia")
    finally:
        app.testing = True
    lines = [r.getMessage() for r in caplog.records if r.name == "send_portal.requests"]
    assert lines and lines[-1].startswith("GET /send/select-person 200")
    assert "amelia" not in " ".join(lines).lower() and professional.email not in " ".join(lines)
    assert f"user={professional.id} " in lines[-1], lines[-1]
