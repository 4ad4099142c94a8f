"""Team caseloads (issue 14, part 2): members of an organisation that shares
a caseload see every member's children in a Team caseload list, beside My
caseload; Hide stays personal; opening a colleague's child, their forms and
messages go through the one access test and are audited with both names."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from send_portal import audit
from send_portal.extensions import db
from send_portal.forms.models import FormResponse
from send_portal.messages.models import Message
from send_portal.models import Involvement

from .conftest import row_names, text
from .organisation_support import audit_entries, make_organisation


@pytest.fixture
def team(make_user, make_person):
    """Sam and Priya share Riverside's team caseload; Jordan is elsewhere."""
    sam = make_user("Sam", "Patel", email="sam.patel@school.example")
    priya = make_user("Priya", "Shah", email="priya.shah@school.example")
    jordan = make_user("Jordan", "Okafor", email="jordan.okafor@eps.example")
    make_organisation("Riverside Primary School", shares=True, members=[sam, priya])
    children = {
        "amelia": make_person("Amelia", "Jones", professional=sam),
        "bilal": make_person("Bilal", "Khan", professional=priya),
        "hidden": make_person("Hana", "Hidaka", professional=priya, hidden=True),
        "outside": make_person("Oscar", "Outwith", professional=jordan),
    }
    return sam, priya, jordan, children


def test_members_choose_my_caseload_or_team_caseload(client_request, team):
    sam, *_ = team
    client_request.sign_in(sam)
    page = client_request.get("/send/select-person")
    links = page.select("nav[aria-label=Caseloads] a")
    assert [text(a) for a in links] == ["My caseload", "Team caseload"]
    assert links[0]["aria-current"] == "page" and not links[1].get("aria-current")
    assert row_names(page) == ["Amelia Jones"]

    team_page = client_request.get(links[1]["href"])
    assert links[1]["href"] == "/send/team-caseload"
    current = team_page.select_one("nav[aria-label=Caseloads] a[aria-current=page]")
    assert text(current) == "Team caseload"
    assert text(team_page.select_one("#caseload-heading")) == "Team caseload: Active"
    assert row_names(team_page) == ["Amelia Jones", "Bilal Khan"]
    headings = [text(th) for th in team_page.select("#caseload-results thead th")]
    assert headings == ["Name", "Date of birth", "Case status", "Professional"]
    professionals = [text(tr.select("td")[-1]) for tr in team_page.select("#caseload-results tbody tr")]
    assert professionals == ["Sam Patel", "Priya Shah"]
    # No Select, Hide or Delete: those are one's own list's.
    assert not team_page.select("#caseload-results input[type=checkbox]")
    assert not team_page.find("button", string="Hide Person")
    assert "Showing 1 to 2 of 2 people" in text(team_page.select_one("#caseload-count"))


def test_a_professional_outside_a_sharing_organisation_has_no_team_caseload(client_request, team, make_user):
    _, _, jordan, _ = team
    client_request.sign_in(jordan)
    page = client_request.get("/send/select-person")
    assert page.select_one("nav[aria-label=Caseloads]") is None
    client_request.get("/send/team-caseload", expected_status=404)
    client_request.get("/send/team-caseload/recent", expected_status=404)


def test_an_organisation_that_does_not_share_has_no_team_caseload(client_request, make_user, make_person):
    sam = make_user("Sam", "Patel")
    priya = make_user("Priya", "Shah")
    make_organisation("Hillside Clinic", shares=False, members=[sam, priya], kind="health", urn=None)
    make_person("Bilal", "Khan", professional=priya)
    client_request.sign_in(sam)
    client_request.get("/send/team-caseload", expected_status=404)
    bilal = db.session.scalar(select(Involvement)).person_id
    client_request.get(f"/send/people/{bilal}", expected_status=404)


def test_the_filter_views_and_counts_work_in_the_team_list_with_and_without_js(client_request, team):
    sam, *_ = team
    client_request.sign_in(sam)
    filtered = client_request.get("/send/team-caseload?q=kha")
    assert row_names(filtered) == ["Bilal Khan"]
    assert "Showing 1 to 1 of 1 person" in text(filtered.select_one("#caseload-count"))
    # The filter form submits to the team list's own address.
    assert filtered.select_one("form[role=search]")["action"] == "/send/team-caseload"

    partial = client_request.get("/send/team-caseload?q=kha", htmx=True)
    assert partial.response.headers["Vary"].count("HX-Request") == 1
    assert partial.find("html") is None
    assert row_names(partial) == ["Bilal Khan"]
    assert text(partial.select_one("#caseload-status")) == "1 person found"

    hidden = client_request.get("/send/team-caseload/hidden")
    assert row_names(hidden) == ["Hana Hidaka"]
    views = {text(a): a["href"] for a in hidden.select("nav[aria-label=Views] a")}
    assert views == {"Active": "/send/team-caseload", "Hidden": "/send/team-caseload/hidden",
                     "Recent (18 months)": "/send/team-caseload/recent"}
    assert text(hidden.select_one("nav[aria-label=Views] a[aria-current=page]")) == "Hidden"
    assert row_names(client_request.get("/send/team-caseload/hidden?q=zz")) == []
    # A view switch as htmx swaps the workspace, scope links included.
    swapped = client_request.get("/send/team-caseload/hidden", htmx=True)
    assert swapped.select_one("#caseload-workspace nav[aria-label=Caseloads] a[aria-current=page]")


def test_team_list_pages(client_request, team, make_person, app):
    sam, priya, *_ = team
    app.config["PAGE_SIZE"] = 2
    make_person("Cara", "Cole", professional=priya)
    client_request.sign_in(sam)
    first = client_request.get("/send/team-caseload")
    assert "Showing 1 to 2 of 3 people" in text(first.select_one("#caseload-count"))
    second = client_request.get("/send/team-caseload?page=2")
    assert row_names(first) + row_names(second) == ["Cara Cole", "Amelia Jones", "Bilal Khan"]


def test_a_child_two_members_work_with_is_one_row_each(client_request, team):
    sam, priya, _, children = team
    db.session.add(Involvement(professional_id=priya.id, person_id=children["amelia"].id, status="authenticated"))
    db.session.commit()
    client_request.sign_in(sam)
    page = client_request.get("/send/team-caseload?q=amelia")
    rows = [[text(c) for c in tr.select("th, td")] for tr in page.select("#caseload-results tbody tr")]
    assert [(r[0], r[-1]) for r in rows] == [("Amelia Jones", "Sam Patel"), ("Amelia Jones", "Priya Shah")]


def test_opening_a_colleagues_child_is_audited_with_both_names(client_request, team):
    sam, priya, _, children = team
    client_request.sign_in(sam)
    page = client_request.get(f"/send/people/{children['bilal'].id}")
    assert "Bilal Khan" in text(page.h1)
    (entry,) = audit_entries(audit.PERSON_OPENED_FOR_COLLEAGUE)
    assert entry.changed_by_id == sam.id and entry.person_id == children["bilal"].id
    assert "Sam Patel (sam.patel@school.example)" in entry.details
    assert "Priya Shah (priya.shah@school.example)" in entry.details
    assert entry.details.startswith("Through the team caseload")
    # One's own child is not audited as opened.
    client_request.get(f"/send/people/{children['amelia'].id}")
    assert len(audit_entries(audit.PERSON_OPENED_FOR_COLLEAGUE)) == 1


def test_a_child_outside_the_team_stays_a_404(client_request, team):
    sam, _, _, children = team
    client_request.sign_in(sam)
    for url in (f"/send/people/{children['outside'].id}", f"/send/people/{children['outside'].id}/forms",
                f"/send/people/{children['outside'].id}/messages"):
        client_request.get(url, expected_status=404)


def test_forms_and_messages_of_a_colleagues_child_follow_its_involvement(client_request, team, admin):
    sam, priya, _, children = team
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == children["bilal"].id))
    db.session.add(FormResponse(involvement_id=involvement.id, form_key="x", title="Priya's sent form", answers={},
                                status="submitted", reference="TEAM-1", submitted_at=datetime(2026, 2, 1)))
    db.session.add(Message(involvement_id=involvement.id, sender_id=admin.id, from_la=True, body="Note for Priya",
                           sent_at=datetime(2026, 2, 1)))
    db.session.commit()
    client_request.sign_in(sam)
    forms = client_request.get(f"/send/people/{children['bilal'].id}/forms")
    assert "Priya's sent form" in text(forms)
    thread = client_request.get(f"/send/people/{children['bilal'].id}/messages")
    assert "Note for Priya" in text(thread)
    sent = client_request.post(f"/send/people/{children['bilal'].id}/messages", {"body": "Sam here, covering Bilal"})
    assert sent.status_code == 303
    message = db.session.scalar(select(Message).where(Message.body == "Sam here, covering Bilal"))
    assert message.involvement_id == involvement.id and message.sender_id == sam.id
    (entry,) = audit_entries(audit.MESSAGE_SENT_FOR_COLLEAGUE)
    assert "Sam Patel" in entry.details and "Priya Shah" in entry.details


def test_hide_stays_personal(client_request, team):
    sam, priya, _, children = team
    client_request.sign_in(sam)
    response = client_request.post("/send/select-person/hide",
                                   {"person_id": str(children["bilal"].id), "view": "active", "confirmed": "yes"})
    assert response.status_code == 303
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == children["bilal"].id))
    assert involvement.hidden_at is None  # Priya's list is hers


def test_leaving_the_organisation_ends_team_access(client_request, team):
    sam, priya, _, children = team
    client_request.sign_in(sam)
    client_request.get(f"/send/people/{children['bilal'].id}")
    sam.organisation_id = None
    db.session.commit()
    client_request.get(f"/send/people/{children['bilal'].id}", expected_status=404)
    client_request.get("/send/team-caseload", expected_status=404)


def test_an_unverified_member_sees_no_team_children(client_request, team, make_user):
    sam, priya, *_ = team
    newcomer = make_user("Nia", "New", verified=False)
    newcomer.organisation_id = sam.organisation_id
    db.session.commit()
    client_request.sign_in(newcomer)
    client_request.get("/send/team-caseload", expected_status=404)


def test_the_demo_senco_sees_riverside_team_caseload_and_running_it_again_changes_nothing(runner, client_request):
    """README: the demo SENCo's school shares a team caseload with the
    assistant SENCo, so Team caseload is there to try; demo-data stays idempotent."""
    from send_portal.demo import DEMO_PASSWORD
    from send_portal.models import User
    from send_portal.organisations.models import Organisation

    for _ in range(2):
        result = runner.invoke(args=["demo-data"])
        assert result.exit_code == 0, result.output
    assert "Riverside Primary School shares a team caseload" in result.output
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name_key)).all()
    assert [o.name for o in organisations] == [
        "Demo Community Health Trust", "Demo Educational Psychology Service", "Riverside Primary School"]
    assert [o.shares_caseload for o in organisations] == [False, False, True]
    senco = db.session.scalar(select(User).where(User.email == "senco@demo-la.example"))
    assistant = db.session.scalar(select(User).where(User.email == "assistant.senco@demo-la.example"))
    assert senco.organisation_id == assistant.organisation_id == organisations[2].id
    assert senco.is_organisation_lead and not assistant.is_organisation_lead

    client_request.sign_in(senco, password=DEMO_PASSWORD)
    mine = client_request.get("/send/select-person")
    assert [text(a) for a in mine.select("nav[aria-label=Caseloads] a")] == ["My caseload", "Team caseload"]
    team_page = client_request.get("/send/team-caseload?q=&page=1")
    professionals = {text(tr.select("td")[-1]) for tr in team_page.select("#caseload-results tbody tr")}
    assert professionals <= {"Sam Patel", "Priya Shah"}
    assert team_page.select_one("#caseload-count") is not None
    count = int(text(team_page.select_one("#caseload-count")).rsplit(" of ", 1)[1].split()[0].replace(",", ""))
    mine_count = int(text(mine.select_one("#caseload-count")).rsplit(" of ", 1)[1].split()[0].replace(",", ""))
    assert count == mine_count + 20  # the assistant SENCo's 20 children, none ended or hidden
