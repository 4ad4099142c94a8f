"""The command-line contract of SPEC section 7."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text as sql

from send_portal.extensions import db
from send_portal.models import Activity, AuditEntry, Involvement, Person, User

HEADER = "la_reference,given_name,family_name,date_of_birth,gender,postcode,case_status,professional_email,involvement_start,involvement_end,last_activity"


def write(tmp_path, *lines, name="people.csv"):
    path = tmp_path / name
    path.write_text("\n".join((HEADER,) + lines) + "\n", encoding="utf-8")
    return str(path)


def test_init_db_is_safe_to_run_again(runner):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output
    assert db.session.get(User, 1).email == "sysadmin"


def test_create_user_with_password_from_environment(runner, monkeypatch):
    monkeypatch.setenv("SEND_PORTAL_PASSWORD", "a long enough password")
    result = runner.invoke(args=["create-user", "--email", "Ruth.Ellis@School.example", "--name", "Ruth Ellis", "--role", "professional", "--professional-type", "senco"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "ruth.ellis@school.example"))
    assert (user.given_name, user.family_name, user.is_verified, user.professional_type) == ("Ruth", "Ellis", True, "senco")
    again = runner.invoke(args=["create-user", "--email", "ruth.ellis@school.example", "--name", "Ruth Ellis", "--role", "admin"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_create_user_prompts_for_a_hidden_password(runner, monkeypatch):
    monkeypatch.delenv("SEND_PORTAL_PASSWORD", raising=False)
    result = runner.invoke(args=["create-user", "--email", "admin@la.example", "--name", "Alex Morgan", "--role", "admin"], input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    assert "a long enough password" not in result.output


def test_create_user_refuses_short_passwords_and_bad_input(runner, monkeypatch):
    monkeypatch.setenv("SEND_PORTAL_PASSWORD", "short")
    assert runner.invoke(args=["create-user", "--email", "a@la.example", "--name", "A B", "--role", "admin"]).exit_code != 0
    monkeypatch.setenv("SEND_PORTAL_PASSWORD", "a long enough password")
    assert runner.invoke(args=["create-user", "--email", "not-an-email", "--name", "A B", "--role", "admin"]).exit_code != 0
    assert runner.invoke(args=["create-user", "--email", "a@la.example", "--name", "Mononym", "--role", "admin"]).exit_code != 0
    assert runner.invoke(args=["create-user", "--email", "a@la.example", "--name", "A B", "--role", "professional"]).exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_import_people_creates_people_involvements_and_activity(runner, professional, tmp_path):
    today = date.today()
    old = (today - timedelta(days=400)).isoformat()
    path = write(
        tmp_path,
        f"LA1,Zoë,Smith,2015-01-02,f,dm1 2ab,ehc plan issued,{professional.email.upper()},2024-09-01,,{today.isoformat()}",
        f"LA2,Oliver,Brown,2014-05-06,Male,,,{professional.email},2020-01-01,{old},",
        "LA3,Isla,Nowak,2016-07-08,U,,Request received,,,,",
    )
    result = runner.invoke(args=["import-people", path])
    assert result.exit_code == 0, result.output
    assert "Imported 3 people: 3 created, 0 updated" in result.output
    zoe = db.session.scalar(select(Person).where(Person.la_reference == "LA1"))
    assert (zoe.gender, zoe.postcode, zoe.case_status) == ("Female", "DM1 2AB", "EHC plan issued")
    assert zoe.last_activity_at.date() == today
    assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.person_id == zoe.id)) == 1
    oliver = db.session.scalar(select(Person).where(Person.la_reference == "LA2"))
    assert oliver.case_status == "No open case" and oliver.last_activity_at is None
    ended = db.session.scalar(select(Involvement).where(Involvement.person_id == oliver.id))
    assert ended.ended_on.isoformat() == old and ended.status == "authenticated"
    assert db.session.scalar(select(Involvement).where(Involvement.person_id == zoe.id)).status == "authenticated"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "People imported")) is not None


def test_importing_again_updates_people(runner, professional, tmp_path):
    runner.invoke(args=["import-people", write(tmp_path, f"LA1,Zoe,Smith,2015-01-02,F,,,{professional.email},,,")])
    result = runner.invoke(args=["import-people", write(tmp_path, f"LA1,Zoë,Smyth,2015-01-02,F,,Assessment in progress,{professional.email},,,", name="b.csv")])
    assert "0 created, 1 updated" in result.output
    people = db.session.scalars(select(Person)).all()
    assert [(p.full_name, p.case_status) for p in people] == [("Zoë Smyth", "Assessment in progress")]
    assert db.session.scalar(select(func.count()).select_from(Involvement)) == 1


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(runner, professional, tmp_path):
    path = write(
        tmp_path,
        f"LA1,Amelia,Jones,2015-01-02,F,,,{professional.email},,,",
        "LA2,Oliver,,2015-13-40,X,NOT A POSTCODE,Flying,nobody@x.example,,,",
        "LA1,Dup,Licate,2015-01-02,F,,,,,,",
        "LA4,Too,Few,2015-01-02",
        f"LA5,Future,Child,{(date.today() + timedelta(days=5)).isoformat()},F,,,,,,",
    )
    result = runner.invoke(args=["import-people", path])
    assert result.exit_code == 1
    out = result.output
    assert "line 3: family_name" in out
    assert "line 3: date_of_birth '2015-13-40'" in out
    assert "line 3: gender 'X'" in out
    assert "line 3: postcode" in out
    assert "line 3: case_status 'Flying'" in out
    assert "line 3: no professional has the email address nobody@x.example" in out
    assert "line 4: la_reference LA1 is also on line 2" in out
    assert "line 5: expected 11 columns" in out
    assert "line 6: date_of_birth" in out and "future" in out
    assert "Nothing was imported" in out
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_a_wrong_header_is_refused(runner, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name,dob\nA,2015-01-01\n")
    result = runner.invoke(args=["import-people", str(path)])
    assert result.exit_code == 1 and "line 1: the header must be exactly" in result.output


def test_a_missing_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["import-people", str(tmp_path / "missing.csv")])
    assert result.exit_code != 0 and "cannot open" in result.output


def test_demo_data_is_idempotent_and_prints_sign_ins(runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert "admin@demo-la.example" in first.output and "senco@demo-la.example" in first.output and "password" in first.output
    counts = [db.session.scalar(select(func.count()).select_from(t)) for t in (User, Person, Involvement, Activity)]
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0
    assert [db.session.scalar(select(func.count()).select_from(t)) for t in (User, Person, Involvement, Activity)] == counts
    verified = db.session.scalars(select(User).where(User.role == "professional", User.verification == "verified")).all()
    assert len(verified) >= 2
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin")) >= 1
    involvements = db.session.scalars(select(Involvement)).all()
    assert any(i.hidden_at for i in involvements) and any(i.ended_on for i in involvements)


def test_the_audit_log_is_append_only(app, professional):
    from send_portal import audit
    from send_portal.models import AuditLogIsAppendOnly

    entry = audit.record("Test entry", changed_by=professional)
    db.session.commit()
    entry.action = "Changed"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    # The database refuses too, whatever route a change takes.
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(sql("UPDATE audit_entry SET action = 'x'"))
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(sql("DELETE FROM audit_entry"))
    db.session.rollback()
