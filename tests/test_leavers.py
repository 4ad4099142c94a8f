"""Leavers (issue 14, part 4): an LA admin, or an organisation's lead, hands
a leaver's children to one colleague or child by child to several, in one
step whose confirmation states the count; one audit entry a transfer; the
leaver's account is deactivated and their sessions end; drafts pass on,
sent forms and messages stay with the child."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from send_portal.extensions import db
from send_portal.forms.models import FormResponse
from send_portal.messages.models import Message
from send_portal.models import Involvement, User
from send_portal.organisations.service import INVOLVEMENT_TRANSFERRED

from .conftest import ClientRequest, text
from .organisation_support import audit_entries, make_organisation


@pytest.fixture
def school(make_user, make_person, admin):
    leaver = make_user("Lee", "Leaving", email="lee.leaving@school.example")
    sam = make_user("Sam", "Patel", email="sam.patel@school.example")
    priya = make_user("Priya", "Shah", email="priya.shah@school.example")
    make_organisation("Riverside Primary School", shares=False, members=[leaver, sam, priya])
    amelia = make_person("Amelia", "Jones", professional=leaver)
    bilal = make_person("Bilal", "Khan", professional=leaver, hidden=True)
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == amelia.id))
    db.session.add_all([
        FormResponse(involvement_id=involvement.id, form_key="x", title="Lee's draft", answers={}, status="draft"),
        FormResponse(involvement_id=involvement.id, form_key="x", title="Lee's sent form", answers={},
                     status="submitted", reference="LEAVER-1", submitted_at=datetime(2026, 2, 1)),
        Message(involvement_id=involvement.id, sender_id=admin.id, from_la=True, body="Thread about Amelia",
                sent_at=datetime(2026, 2, 1)),
    ])
    db.session.commit()
    return leaver, sam, priya, amelia, bilal


def _hand_over(client_request, url, data):
    confirm = client_request.post(url, data)
    assert confirm.status_code == 200, confirm.get_data(as_text=True)[:500]
    page = client_request.parse(confirm)
    hidden = {i["name"]: i["value"] for i in page.select("form input[type=hidden]") if i["name"] != "csrf_token"}
    return page, hidden


def test_an_admin_hands_every_child_to_one_colleague(client_request, school, app):
    leaver, sam, _, amelia, bilal = school
    leaver_client = ClientRequest(app.test_client())
    leaver_client.sign_in(leaver)
    client_request.sign_in(db.session.scalar(select(User).where(User.email == "alex.morgan@la.example")))
    url = f"/admin/professionals/{leaver.id}/hand-over"
    form = client_request.get(url)
    assert "2 children" in text(form.select_one("main"))
    page, hidden = _hand_over(client_request, url, {"mode": "one", "colleague": str(sam.id)})
    assert text(page.h1) == "Hand over 2 children from Lee Leaving?"
    assert text(page.find("button")) == "Yes, hand over 2 children and deactivate the account"
    # Nothing changed before the confirmation.
    assert {i.professional_id for i in db.session.scalars(select(Involvement))} == {leaver.id}
    done = client_request.post(url, hidden)
    assert done.status_code == 303
    involvements = list(db.session.scalars(select(Involvement).order_by(Involvement.id)))
    assert {i.professional_id for i in involvements} == {sam.id}
    assert all(i.hidden_at is None for i in involvements)  # hiding was the leaver's
    entries = audit_entries(INVOLVEMENT_TRANSFERRED)
    assert len(entries) == 2
    assert entries[0].details.startswith(
        "Involvement transferred from Lee Leaving (lee.leaving@school.example) to Sam Patel (sam.patel@school.example)")
    assert db.session.get(User, leaver.id).is_deactivated
    # The leaver's session has ended.
    assert leaver_client.client.get("/send/select-person").status_code == 302
    # Sam now has the children, with the draft, the sent form and the thread.
    sam_client = ClientRequest(app.test_client())
    sam_client.sign_in(sam)
    forms = text(sam_client.get(f"/send/people/{amelia.id}/forms"))
    assert "Lee's draft" in forms and "Lee's sent form" in forms
    assert "Thread about Amelia" in text(sam_client.get(f"/send/people/{amelia.id}/messages"))
    sam_client.get(f"/send/people/{bilal.id}")


def test_children_go_child_by_child_to_several(client_request, school, admin):
    leaver, sam, priya, amelia, bilal = school
    client_request.sign_in(admin)
    url = f"/admin/professionals/{leaver.id}/hand-over"
    ids = {i.person_id: i.id for i in db.session.scalars(select(Involvement))}
    page, hidden = _hand_over(client_request, url, {
        "mode": "each", f"colleague-{ids[amelia.id]}": str(sam.id), f"colleague-{ids[bilal.id]}": str(priya.id)})
    rows = [[text(c) for c in tr.select("th, td")] for tr in page.select("tbody tr")]
    assert rows == [["Amelia Jones", "Sam Patel"], ["Bilal Khan", "Priya Shah"]]
    assert client_request.post(url, hidden).status_code == 303
    assert db.session.get(Involvement, ids[amelia.id]).professional_id == sam.id
    assert db.session.get(Involvement, ids[bilal.id]).professional_id == priya.id


@pytest.mark.parametrize("data, message", [
    ({}, "Choose whether one colleague"),
    ({"mode": "one", "colleague": ""}, "Choose the colleague who takes over every child"),
    ({"mode": "each"}, "Choose a colleague for Amelia Jones"),
    ({"mode": "one", "colleague": "²"}, "Choose the colleague"),
])
def test_an_incomplete_hand_over_is_refused_and_changes_nothing(client_request, school, admin, data, message):
    leaver, *_ = school
    client_request.sign_in(admin)
    response = client_request.post(f"/admin/professionals/{leaver.id}/hand-over", {**data, "confirmed": "yes"})
    assert response.status_code == 400
    page = client_request.parse(response)
    assert message in text(page.select_one(".govuk-error-summary"))
    assert {i.professional_id for i in db.session.scalars(select(Involvement))} == {leaver.id}
    assert not db.session.get(User, leaver.id).is_deactivated


def test_a_colleague_outside_the_organisation_cannot_take_over(client_request, school, admin, make_user):
    leaver, *_ = school
    outsider = make_user("Olu", "Outer")
    client_request.sign_in(admin)
    response = client_request.post(f"/admin/professionals/{leaver.id}/hand-over",
                                   {"mode": "one", "colleague": str(outsider.id), "confirmed": "yes"})
    assert response.status_code == 400
    assert {i.professional_id for i in db.session.scalars(select(Involvement))} == {leaver.id}


def test_a_colleague_who_already_has_the_child_lists_them_once(client_request, school, admin):
    leaver, sam, _, amelia, _ = school
    db.session.add(Involvement(professional_id=sam.id, person_id=amelia.id, status="authenticated"))
    db.session.commit()
    client_request.sign_in(admin)
    url = f"/admin/professionals/{leaver.id}/hand-over"
    _, hidden = _hand_over(client_request, url, {"mode": "one", "colleague": str(sam.id)})
    assert client_request.post(url, hidden).status_code == 303
    sam_client = ClientRequest(client_request.client.application.test_client())
    sam_client.sign_in(sam)
    from .conftest import row_names

    assert row_names(sam_client.get("/send/select-person")) == ["Amelia Jones", "Bilal Khan"]
    assert "Lee's sent form" in text(sam_client.get(f"/send/people/{amelia.id}/forms"))


def test_an_organisation_lead_hands_over_a_member(client_request, school):
    leaver, sam, priya, *_ = school
    sam.is_organisation_lead = True
    db.session.commit()
    client_request.sign_in(sam)
    members = client_request.get("/send/organisation")
    assert members.find("a", href=f"/send/organisation/members/{leaver.id}/hand-over")
    url = f"/send/organisation/members/{leaver.id}/hand-over"
    _, hidden = _hand_over(client_request, url, {"mode": "one", "colleague": str(priya.id)})
    assert client_request.post(url, hidden).status_code == 303
    assert {i.professional_id for i in db.session.scalars(select(Involvement))} == {priya.id}
    (entry, _) = audit_entries(INVOLVEMENT_TRANSFERRED)
    assert entry.changed_by_id == sam.id


def test_only_a_lead_of_the_same_organisation_hands_over(client_request, school, make_user):
    leaver, sam, *_ = school
    client_request.sign_in(sam)  # a member, not a lead
    client_request.get("/send/organisation", expected_status=404)
    client_request.get(f"/send/organisation/members/{leaver.id}/hand-over", expected_status=404)
    other_lead = make_user("Ola", "Other")
    make_organisation("Hillside Clinic", members=[other_lead], kind="health", urn=None)
    other_lead.is_organisation_lead = True
    db.session.commit()
    other = ClientRequest(client_request.client.application.test_client())
    other.sign_in(other_lead)
    assert other.post(f"/send/organisation/members/{leaver.id}/hand-over",
                      {"mode": "one", "colleague": str(sam.id), "confirmed": "yes"}).status_code == 404
    assert {i.professional_id for i in db.session.scalars(select(Involvement))} == {leaver.id}


def test_a_plan_made_before_the_caseload_changed_is_refused(client_request, school, admin, make_person):
    leaver, sam, *_ = school
    client_request.sign_in(admin)
    url = f"/admin/professionals/{leaver.id}/hand-over"
    ids = [i.id for i in db.session.scalars(select(Involvement))]
    make_person("Cara", "Cole", professional=leaver)  # arrives after the page was shown
    data = {"mode": "each", "confirmed": "yes", **{f"colleague-{i}": str(sam.id) for i in ids}}
    response = client_request.post(url, data)
    assert response.status_code == 400
    assert not db.session.get(User, leaver.id).is_deactivated


def test_deactivating_a_leaver_with_children_offers_the_hand_over_first(client_request, school, admin, make_user):
    """An admin about to deactivate a professional who still has children is
    offered the hand-over, which leads to that leaver's hand-over page; one
    without children is not."""
    leaver, *_ = school
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/professionals/{leaver.id}/deactivate")
    link = page.find("a", string=lambda s: s and s.strip() == "Hand over Lee Leaving’s children to colleagues")
    assert link is not None, text(page.select_one("main"))
    assert link["href"] == f"/admin/professionals/{leaver.id}/hand-over"
    hand_over = client_request.get(link["href"])
    assert text(hand_over.h1) == "Hand over Lee Leaving’s children"

    nobody = make_user("Noah", "Nochildren", email="noah.nochildren@school.example")
    page = client_request.get(f"/admin/professionals/{nobody.id}/deactivate")
    assert not [a for a in page.select("main a") if "Hand over" in text(a)]


def _removed(involvement: Involvement, how: str) -> Involvement:
    if how == "deleted":
        involvement.deleted_at, involvement.status = datetime(2026, 1, 5), "unauthenticated"
    elif how == "declined":
        involvement.status, involvement.decline_reason = "declined", "Not involved"
    else:
        involvement.status = how
    return involvement


@pytest.mark.parametrize("how", ["deleted", "unauthenticated", "declined"])
def test_a_child_the_colleague_was_removed_from_arrives_awaiting_authentication(client_request, school, admin, how):
    """A hand-over does not undo the LA's decline or unauthenticate, or the
    colleague's own Delete: the LA authenticates them again."""
    leaver, sam, _, amelia, _ = school
    db.session.add(_removed(Involvement(professional_id=sam.id, person_id=amelia.id), how))
    db.session.commit()
    client_request.sign_in(admin)
    url = f"/admin/professionals/{leaver.id}/hand-over"
    confirm, hidden = _hand_over(client_request, url, {"mode": "one", "colleague": str(sam.id)})
    (note,) = confirm.select(".govuk-inset-text")
    assert text(note) == ("1 of these children needs the LA to authenticate Sam Patel again: "
                          "they had been removed from Sam Patel’s caseload.")
    assert client_request.post(url, hidden).status_code == 303
    moved = db.session.scalars(select(Involvement).where(
        Involvement.professional_id == sam.id, Involvement.person_id == amelia.id, Involvement.deleted_at.is_(None),
        Involvement.status != "declined", Involvement.status != "unauthenticated",
    )).all()
    assert [i.status for i in moved] == ["awaiting"]
    entries = [e for e in audit_entries(INVOLVEMENT_TRANSFERRED) if e.person_id == amelia.id]
    assert len(entries) == 1 and "awaiting authentication again" in entries[0].details
    sam_client = ClientRequest(client_request.client.application.test_client())
    sam_client.sign_in(sam)
    rows = {text(r.find("th") or r.find("td")): text(r) for r in sam_client.get("/send/select-person").select("tbody tr")}
    assert "Awaiting authentication" in next(v for k, v in rows.items() if "Amelia Jones" in k)


def test_the_confirmation_counts_removed_children_for_each_colleague(client_request, school, admin):
    leaver, sam, priya, amelia, bilal = school
    db.session.add_all([
        _removed(Involvement(professional_id=sam.id, person_id=amelia.id), "declined"),
        _removed(Involvement(professional_id=priya.id, person_id=bilal.id), "deleted"),
        Involvement(professional_id=priya.id, person_id=amelia.id, status="authenticated"),
    ])
    db.session.commit()
    client_request.sign_in(admin)
    url = f"/admin/professionals/{leaver.id}/hand-over"
    confirm, _ = _hand_over(client_request, url, {"mode": "one", "colleague": str(priya.id)})
    assert [text(n) for n in confirm.select(".govuk-inset-text")] == [
        "1 of these children needs the LA to authenticate Priya Shah again: they had been removed from Priya Shah’s caseload."]
    none, _ = _hand_over(client_request, url, {"mode": "one", "colleague": str(sam.id)})
    assert [text(n) for n in none.select(".govuk-inset-text")] == [
        "1 of these children needs the LA to authenticate Sam Patel again: they had been removed from Sam Patel’s caseload."]
