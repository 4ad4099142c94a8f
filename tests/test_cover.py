"""Cover (issue 14, part 3): a professional opens their caseload to a
colleague of the same organisation between two dates; it ends by itself;
what the colleague does under cover is audited with both names; the LA sees
and ends cover arrangements."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from send_portal import audit
from send_portal.extensions import db
from send_portal.organisations.models import Cover
from send_portal.organisations.service import COVER_ENDED, COVER_GIVEN

from .conftest import ClientRequest, row_names, text
from .organisation_support import audit_entries, make_cover, make_organisation


@pytest.fixture
def clinic(make_user, make_person):
    """Priya (away) and Sam work at a clinic that does not share a caseload."""
    priya = make_user("Priya", "Shah", email="priya.shah@clinic.example")
    sam = make_user("Sam", "Patel", email="sam.patel@clinic.example")
    make_organisation("Hillside Clinic", shares=False, members=[priya, sam], kind="health", urn=None)
    bilal = make_person("Bilal", "Khan", professional=priya)
    return priya, sam, bilal


def _date_fields(prefix, day):
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def test_a_professional_gives_a_colleague_cover(client_request, clinic):
    priya, sam, _ = clinic
    client_request.sign_in(priya)
    page = client_request.get("/send/cover")
    options = [text(o) for o in page.select("#colleague option")]
    assert options == ["Choose a colleague", "Sam Patel (sam.patel@clinic.example)"]
    today = date.today()
    response = client_request.post("/send/cover", {"colleague": str(sam.id), **_date_fields("from", today),
                                                   **_date_fields("to", today + timedelta(days=14))})
    assert response.status_code == 303
    cover = db.session.scalar(select(Cover))
    assert (cover.professional_id, cover.colleague_id, cover.starts_on, cover.ends_on) == (
        priya.id, sam.id, today, today + timedelta(days=14))
    (entry,) = audit_entries(COVER_GIVEN)
    assert "Sam Patel" in entry.details and "Priya Shah" in entry.details
    listed = client_request.get("/send/cover")
    assert "Current" in text(listed.find("table"))


@pytest.mark.parametrize("fields, message", [
    ({}, "Choose the colleague who will cover for you"),
    ({"from-day": "31", "from-month": "2", "from-year": "2027"}, "Enter the date cover starts"),
    ({"to-day": "1", "to-month": "1", "to-year": "2001"}, "The end date must be"),
])
def test_bad_cover_is_refused_with_a_message(client_request, clinic, fields, message):
    priya, sam, _ = clinic
    client_request.sign_in(priya)
    today = date.today()
    data = {"colleague": str(sam.id), **_date_fields("from", today), **_date_fields("to", today + timedelta(days=3))}
    if not fields:
        data["colleague"] = ""
    data.update(fields)
    response = client_request.post("/send/cover", data)
    assert response.status_code == 400
    page = client_request.parse(response)
    assert message in text(page.select_one(".govuk-error-summary"))
    assert db.session.scalar(select(Cover)) is None


def test_cover_cannot_go_to_someone_outside_the_organisation(client_request, clinic, make_user):
    priya, _, _ = clinic
    outsider = make_user("Olu", "Outer", email="olu@elsewhere.example")
    client_request.sign_in(priya)
    today = date.today()
    response = client_request.post("/send/cover", {"colleague": str(outsider.id), **_date_fields("from", today),
                                                   **_date_fields("to", today)})
    assert response.status_code == 400
    assert db.session.scalar(select(Cover)) is None


def test_during_cover_the_colleague_sees_covering_for_and_is_audited(client_request, clinic):
    priya, sam, bilal = clinic
    cover = make_cover(priya, sam, starts=-1, ends=1)
    client_request.sign_in(sam)
    page = client_request.get("/send/select-person")
    links = {text(a): a["href"] for a in page.select("nav[aria-label=Caseloads] a")}
    assert links == {"My caseload": "/send/select-person", "Covering for Priya Shah": f"/send/covering/{cover.id}"}
    covering = client_request.get(f"/send/covering/{cover.id}")
    assert text(covering.select_one("#caseload-heading")) == "Covering for Priya Shah: Active"
    assert row_names(covering) == ["Bilal Khan"]
    assert row_names(client_request.get(f"/send/covering/{cover.id}?q=kh", htmx=True)) == ["Bilal Khan"]
    client_request.get(f"/send/covering/{cover.id}/recent")
    client_request.get(f"/send/people/{bilal.id}")
    (entry,) = audit_entries(audit.PERSON_OPENED_FOR_COLLEAGUE)
    assert entry.details == (
        "Under cover: by Sam Patel (sam.patel@clinic.example) for Priya Shah (priya.shah@clinic.example)")
    assert entry.changed_by_id == sam.id and entry.professional_id == priya.id


@pytest.mark.parametrize("starts, ends", [(1, 5), (-5, -1)], ids=["before", "after"])
def test_outside_its_dates_cover_gives_nothing(client_request, clinic, starts, ends):
    priya, sam, bilal = clinic
    cover = make_cover(priya, sam, starts=starts, ends=ends)
    client_request.sign_in(sam)
    assert client_request.get("/send/select-person").select_one("nav[aria-label=Caseloads]") is None
    client_request.get(f"/send/covering/{cover.id}", expected_status=404)
    client_request.get(f"/send/people/{bilal.id}", expected_status=404)


def test_the_giver_ends_cover_early(client_request, clinic):
    priya, sam, bilal = clinic
    cover = make_cover(priya, sam)
    client_request.sign_in(priya)
    response = client_request.post(f"/send/cover/{cover.id}/end")
    assert response.status_code == 303
    assert db.session.get(Cover, cover.id).ended_at is not None
    assert len(audit_entries(COVER_ENDED)) == 1
    colleague = ClientRequest(client_request.client.application.test_client())
    colleague.sign_in(sam)
    colleague.get(f"/send/covering/{cover.id}", expected_status=404)
    colleague.get(f"/send/people/{bilal.id}", expected_status=404)


def test_only_the_giver_ends_their_cover(client_request, clinic):
    priya, sam, _ = clinic
    cover = make_cover(priya, sam)
    client_request.sign_in(sam)
    assert client_request.post(f"/send/cover/{cover.id}/end").status_code == 404
    assert db.session.get(Cover, cover.id).ended_at is None


def test_the_la_sees_and_ends_cover(client_request, clinic, admin):
    priya, sam, _ = clinic
    cover = make_cover(priya, sam, starts=2, ends=9)
    client_request.sign_in(admin)
    page = client_request.get("/admin/cover")
    cells = [text(td) for td in page.select("tbody tr td")]
    assert cells[:2] == ["Priya Shah", "Sam Patel"] and "Planned" in cells
    response = client_request.post(f"/admin/cover/{cover.id}/end")
    assert response.status_code == 303
    assert db.session.get(Cover, cover.id).ended_at is not None
    assert "No one is covering" in text(client_request.get("/admin/cover"))


def test_leaving_the_organisation_ends_cover(client_request, clinic, admin):
    priya, sam, bilal = clinic
    make_cover(priya, sam)
    client_request.sign_in(admin)
    assert client_request.post(f"/admin/organisations/{sam.organisation_id}/members/{sam.id}/remove").status_code == 303
    colleague = ClientRequest(client_request.client.application.test_client())
    colleague.sign_in(sam)
    colleague.get(f"/send/people/{bilal.id}", expected_status=404)


def test_the_la_deactivating_the_giver_ends_their_cover(client_request, clinic, admin):
    priya, sam, bilal = clinic
    cover = make_cover(priya, sam, starts=-1, ends=300)
    client_request.sign_in(admin)
    response = client_request.post(f"/admin/professionals/{priya.id}/deactivate", {"confirmed": "yes"})
    assert response.status_code == 303
    assert db.session.get(Cover, cover.id).ended_at is not None
    (entry,) = audit_entries(COVER_ENDED)
    assert "Sam Patel" in entry.details and "Priya Shah" in entry.details
    colleague = ClientRequest(client_request.client.application.test_client())
    colleague.sign_in(sam)
    colleague.get(f"/send/covering/{cover.id}", expected_status=404)
    colleague.get(f"/send/people/{bilal.id}", expected_status=404)


def test_a_deactivated_giver_s_open_cover_gives_nothing(client_request, clinic):
    """However the account came to be deactivated, a cover left open by it
    gives the colleague nothing."""
    priya, sam, bilal = clinic
    cover = make_cover(priya, sam, starts=-1, ends=300)
    priya.is_deactivated = True
    db.session.commit()
    client_request.sign_in(sam)
    client_request.get(f"/send/covering/{cover.id}", expected_status=404)
    client_request.get(f"/send/people/{bilal.id}", expected_status=404)
    assert "Covering for" not in text(client_request.get("/send/select-person"))
