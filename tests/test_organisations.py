"""Organisations (issue 14, part 1): LA admins make them, add and remove
members and choose whether members share a team caseload; create-user
--organisation finds or makes one; migration 0015 makes them from what
professionals registered with."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import select, text as sql

from send_portal.extensions import db
from send_portal.models import User
from send_portal.organisations.models import Organisation
from send_portal.organisations.service import MEMBER_ADDED, MEMBER_REMOVED, SHARING_CHANGED

from .conftest import text
from .organisation_support import audit_entries, make_organisation


def test_an_admin_adds_a_school_with_its_urn(client_request, admin):
    client_request.sign_in(admin)
    page = client_request.get("/admin/organisations/new")
    assert page.find("label", string="Name")
    response = client_request.post("/admin/organisations/new",
                                   {"name": "  Riverside   Primary ", "kind": "school", "urn": "123456", "shares_caseload": "yes"})
    assert response.status_code == 303
    organisation = db.session.scalar(select(Organisation))
    assert (organisation.name, organisation.urn, organisation.shares_caseload) == ("Riverside Primary", "123456", True)
    listed = client_request.get("/admin/organisations")
    assert "Riverside Primary" in text(listed.find("table"))


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "kind": "school", "urn": "123456"}, "name", "Enter the organisation’s name"),
    ({"name": "A school", "kind": "school", "urn": "12x"}, "urn", "Enter the school’s URN"),
    ({"name": "A team", "kind": "castle"}, "kind", "Choose what kind of organisation it is"),
    ({"name": "RIVERSIDE primary", "kind": "other"}, "name", "There is already an organisation called"),
])
def test_bad_organisations_are_refused(client_request, admin, data, field, message):
    make_organisation("Riverside Primary")
    client_request.sign_in(admin)
    response = client_request.post("/admin/organisations/new", data)
    assert response.status_code == 400
    page = client_request.parse(response)
    link = page.select_one(".govuk-error-summary a")
    assert message in text(link) and link["href"] == f"#{field}"
    assert page.find(id=field) is not None
    assert len(db.session.scalars(select(Organisation)).all()) == 1


def test_an_admin_adds_and_removes_members_and_chooses_sharing(client_request, admin, professional):
    organisation = make_organisation("Riverside Primary", shares=False)
    client_request.sign_in(admin)
    url = f"/admin/organisations/{organisation.id}"
    assert client_request.post(f"{url}/members", {"email": " SAM.PATEL@school.example "}).status_code == 303
    assert db.session.get(User, professional.id).organisation_id == organisation.id
    page = client_request.get(url)
    assert "Sam Patel" in text(page.find("table"))
    assert client_request.post(f"{url}/team-caseload", {"shares_caseload": "yes"}).status_code == 303
    assert db.session.get(Organisation, organisation.id).shares_caseload
    assert client_request.post(f"{url}/team-caseload", {"shares_caseload": "maybe"}).status_code == 400
    assert client_request.post(f"{url}/members/{professional.id}/lead", {"lead": "yes"}).status_code == 303
    assert db.session.get(User, professional.id).is_organisation_lead
    assert client_request.post(f"{url}/members/{professional.id}/remove").status_code == 303
    user = db.session.get(User, professional.id)
    assert user.organisation_id is None and not user.is_organisation_lead
    assert len(audit_entries(MEMBER_ADDED)) == len(audit_entries(MEMBER_REMOVED)) == len(audit_entries(SHARING_CHANGED)) == 1


def test_adding_someone_who_is_not_a_professional_is_a_400(client_request, admin):
    organisation = make_organisation("Riverside Primary")
    client_request.sign_in(admin)
    for email in ("nobody@school.example", admin.email, "x" * 300):
        response = client_request.post(f"/admin/organisations/{organisation.id}/members", {"email": email})
        assert response.status_code == 400
        page = client_request.parse(response)
        assert page.select_one(".govuk-error-summary a")["href"] == "#email"


def test_professionals_cannot_reach_the_organisation_pages(client_request, professional):
    organisation = make_organisation("Riverside Primary")
    client_request.sign_in(professional)
    for url in ("/admin/organisations", f"/admin/organisations/{organisation.id}", "/admin/cover"):
        client_request.get(url, expected_status=404)
    assert client_request.post(f"/admin/organisations/{organisation.id}/members",
                               {"email": professional.email}).status_code == 404
    assert db.session.get(User, professional.id).organisation_id is None


def test_create_user_finds_or_makes_the_organisation(runner, monkeypatch):
    monkeypatch.setenv("SEND_PORTAL_PASSWORD", "a long enough password")
    for email, organisation in (("a@school.example", "Riverside Primary"), ("b@school.example", " riverside  PRIMARY ")):
        result = runner.invoke(args=["create-user", "--email", email, "--name", "Ann Example", "--role", "professional",
                                     "--professional-type", "senco", "--organisation", organisation])
        assert result.exit_code == 0, result.output
    (organisation,) = db.session.scalars(select(Organisation)).all()
    assert organisation.name == "Riverside Primary"
    users = db.session.scalars(select(User).where(User.email.in_(["a@school.example", "b@school.example"]))).all()
    assert {u.organisation_id for u in users} == {organisation.id}


def test_registration_keeps_what_was_typed_and_grants_no_membership(client, app):
    make_organisation("Riverside Primary", shares=True)
    from .conftest import CSRF_RE

    token = CSRF_RE.search(client.get("/register").get_data(as_text=True)).group(1)
    response = client.post("/register", data={
        "csrf_token": token, "given_name": "Reg", "family_name": "Istered", "email": "reg@school.example",
        "organisation": "riverside primary", "professional_type": "senco",
        "password": "violet harbour lantern seven", "password_confirm": "violet harbour lantern seven",
    })
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:800]
    user = db.session.scalar(select(User).where(User.email == "reg@school.example"))
    # Typing a sharing organisation's name must not open its children: the LA adds members.
    assert user.organisation == "riverside primary" and user.organisation_id is None


def test_migration_0015_makes_organisations_from_registered_names(tmp_path):
    from flask_migrate import upgrade

    from send_portal import create_app

    from .conftest import POSTGRES_URL

    if POSTGRES_URL:
        pytest.skip("checked on SQLite; the statements are the same on PostgreSQL")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}", "TESTING": True})
    with app.app_context():
        upgrade(revision="0014_mail")
        for n, written in enumerate(["Riverside Primary", " riverside  primary", "Hillside Clinic", None]):
            db.session.execute(sql(
                "INSERT INTO portal_user (email, given_name, family_name, role, organisation, verification, is_deactivated,"
                " created_at) VALUES (:e, 'A', 'B', 'professional', :o, 'verified', false,"
                " CURRENT_TIMESTAMP)"), {"e": f"u{n}@x.example", "o": written})
        db.session.commit()
        upgrade()
        names = db.session.execute(sql("SELECT name, shares_caseload FROM organisation ORDER BY name")).all()
        assert [tuple(r) for r in names] == [("Hillside Clinic", 0), ("Riverside Primary", 0)]
        members = db.session.execute(sql(
            "SELECT u.email, o.name FROM portal_user u LEFT JOIN organisation o ON o.id = u.organisation_id"
            " WHERE u.email LIKE 'u%' ORDER BY u.email")).all()
        assert [r[1] for r in members] == ["Riverside Primary", "Riverside Primary", "Hillside Clinic", None]
        db.session.remove()
        db.engine.dispose()
