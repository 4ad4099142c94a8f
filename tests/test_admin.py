"""The LA admin area (SPEC section 5), as the authority's staff use it."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from send_portal import audit
from send_portal.extensions import db
from send_portal.models import (
    SYSTEM_USER_ID,
    Activity,
    AuditEntry,
    Involvement,
    Person,
    User,
    utcnow,
)

from .conftest import ClientRequest, row_names, text

# --- helpers ----------------------------------------------------------------------


def added_child(make_person, professional, given="Amelia", family="Jones", date_of_birth=date(2015, 3, 14), postcode=None, upn=None):
    """A child as Add Person leaves them: a record of the professional's own
    making and an involvement awaiting authentication."""
    person = make_person(given, family, professional, date_of_birth=date_of_birth, status="awaiting")
    person.la_reference = None
    person.added_by_professional = True
    person.postcode = postcode
    person.upn = upn
    db.session.commit()
    return person


def involvement_of(professional, person) -> Involvement:
    return db.session.scalar(
        select(Involvement).where(Involvement.professional_id == professional.id, Involvement.person_id == person.id).order_by(Involvement.id.desc())
    )


def entries(action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def summary_links(page) -> dict[str, str]:
    summary = page.find(class_="govuk-error-summary")
    return {a["href"]: text(a) for a in summary.find_all("a")} if summary else {}


def table_rows(page, caption_id) -> list[list[str]]:
    table = page.find("caption", id=caption_id).find_parent("table")
    return [[text(cell) for cell in tr.find_all(["th", "td"])] for tr in table.select("tbody tr")]


def button(page, starting):
    """The button whose accessible text starts so (it may end in hidden text)."""
    return next(b for b in page.find_all("button") if text(b).startswith(starting))


def find_link(page, starting):
    return next(a for a in page.find_all("a") if text(a).startswith(starting))


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "a byte order mark, so spreadsheets read UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def delete_from_caseload(client_request, person):
    """The professional's own Delete Person (SPEC section 2), without JS."""
    client_request.post(
        "/send/select-person/delete", {"person_id": str(person.id), "view": "active", "confirmed": "yes"}, expected_status=303
    )


def as_user(app, user) -> ClientRequest:
    requester = ClientRequest(app.test_client())
    requester.sign_in(user)
    return requester


# --- the admin home page and roles --------------------------------------------------


def test_admin_home_is_the_dashboard(client_request, admin, make_user, professional, make_person):
    make_user("New", "Starter", verified=False)
    added_child(make_person, professional)
    client_request.sign_in(admin)
    page = client_request.get("/home")
    assert text(page.find("h1")) == "LA admin area"
    links = {text(a): a["href"] for a in page.select("main a")}
    assert links["Professionals"] == "/admin/professionals"
    assert links["Authentication requests"] == "/admin/authentication-requests"
    assert links["Forms inbox"] == "/admin/inbox"
    assert links["Find a child"] == "/admin/people"
    assert links["Audit log"] == "/admin/audit"
    assert text(page.find(id="pending-professionals-count")) == "1 professional awaiting verification"
    assert text(page.find(id="awaiting-authentication-count")) == "1 request awaiting authentication"
    for href in ("/admin/professionals", "/admin/authentication-requests", "/admin/people", "/admin/audit"):
        client_request.get(href)
    assert client_request.get_response("/admin/").headers["Location"] == "/home"


def _path_for(rule, values: dict) -> str:
    def value(match):
        converter, name = match.group(1), match.group(2)
        if name in values:
            return str(values[name])
        if converter and converter.startswith("any("):
            return sorted(rule._converters[name].items)[0]
        return "1"

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", value, rule.rule)


# The forms inbox and the LA's messages (on the admin blueprint since issue
# 16): their forms and threads are not made here (tests/test_admin_package.py).
_MADE_ELSEWHERE = {
    "admin.inbox", "admin.inbox_form", "admin.accept_form", "admin.reject_form", "admin.inbox_file",
    "admin.messages_inbox", "admin.person_messages", "admin.message_thread",
}


def _admin_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]


def test_role_matrix_over_every_admin_route(app, make_user, admin, professional, make_person):
    pending = make_user("New", "Starter", verified=False)
    child = added_child(make_person, professional)
    values = {"user_id": pending.id, "person_id": child.id, "involvement_id": involvement_of(professional, child).id}
    rules = _admin_rules(app)
    assert len(rules) >= 20

    signed_out = ClientRequest(app.test_client())
    token = signed_out.csrf_token("/sign-in")
    for rule in rules:
        path = _path_for(rule, values)
        if "GET" in rule.methods:
            response = signed_out.client.get(path)
            assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), path
        if "POST" in rule.methods:
            response = signed_out.client.post(path, data={"csrf_token": token})
            assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), path

    for user in (professional, pending):
        as_professional = as_user(app, user)
        token = as_professional.csrf_token()
        for rule in rules:
            path = _path_for(rule, values)
            if "GET" in rule.methods:
                assert as_professional.client.get(path).status_code in (403, 404), path
            if "POST" in rule.methods:
                assert as_professional.client.post(path, data={"csrf_token": token, "reason": "x", "record": "new"}).status_code in (403, 404), path
    # The professionals' POSTs changed nothing.
    assert db.session.get(User, pending.id).verification == "pending"
    assert involvement_of(professional, child).status == "awaiting"
    assert entries(audit.VERIFIED) == [] and entries(audit.DECLINED) == []

    as_admin = as_user(app, admin)
    for rule in rules:
        path = _path_for(rule, values)
        ours = rule.endpoint.startswith("admin.") and rule.endpoint not in _MADE_ELSEWHERE
        if "GET" in rule.methods:
            response = as_admin.client.get(path)
            if ours:
                assert response.status_code in (200, 302, 303), (path, response.status_code)
                if response.status_code == 200 and response.mimetype == "text/html":
                    as_admin.parse(response)  # one h1, a title, labels, no duplicate ids
            else:
                assert response.status_code < 500, path  # another feature's route: its data is not made here
    for rule in rules:
        if "POST" in rule.methods:
            response = as_admin.client.post(_path_for(rule, values), data={"csrf_token": as_admin.csrf_token()})
            assert response.status_code < 500, rule.rule


def test_admins_get_404_from_every_professional_route(app, admin, professional, make_person):
    child = make_person("Amelia", "Jones", professional)
    as_admin = as_user(app, admin)
    token = as_admin.csrf_token()
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/send")]
    assert rules
    for rule in rules:
        path = _path_for(rule, {"person_id": child.id})
        if "GET" in rule.methods:
            assert as_admin.client.get(path).status_code in (403, 404), path
        if "POST" in rule.methods:
            assert as_admin.client.post(path, data={"csrf_token": token, "person_id": str(child.id), "view": "active", "confirmed": "yes"}).status_code in (403, 404), path
    assert involvement_of(professional, child).deleted_at is None
    assert text(as_admin.get("/home").find("h1")) == "LA admin area"


def test_audit_log_routes_only_read(app):
    for rule in _admin_rules(app):
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    assert not [rule for rule in app.url_map.iter_rules() if rule.methods & {"PUT", "PATCH", "DELETE"}]


def test_create_user_makes_the_first_admin(app, runner, monkeypatch):
    monkeypatch.setenv("SEND_PORTAL_PASSWORD", "a long enough password")
    result = runner.invoke(args=["create-user", "--email", "First.Admin@LA.example", "--name", "Robin Hale", "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "first.admin@la.example"))
    requester = ClientRequest(app.test_client())
    requester.sign_in(user, password="a long enough password")
    assert text(requester.get("/home").find("h1")) == "LA admin area"
    requester.get("/admin/professionals")


# --- verifying professionals ----------------------------------------------------------


def test_pending_professionals_are_listed_oldest_first(client_request, admin, make_user, professional):
    first = make_user("Ruth", "Ellis", verified=False)
    second = make_user("Ade", "Bello", verified=False)
    first.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    client_request.sign_in(admin)
    page = client_request.get("/admin/professionals")
    assert [row[0] for row in table_rows(page, "professionals-caption")] == ["Ruth Ellis", "Ade Bello"]
    nav = page.find("nav", attrs={"aria-label": "Views"})
    assert [text(a) for a in nav.find_all("a")] == ["Awaiting verification", "Verified", "Rejected", "Deactivated"]
    assert text(nav.find("a", attrs={"aria-current": "page"})) == "Awaiting verification"
    buttons = [text(b) for b in page.select("tbody button")]
    assert buttons == ["Verify Ruth Ellis", "Verify Ade Bello"]
    verified = client_request.get("/admin/professionals/verified")
    assert [row[0] for row in table_rows(verified, "professionals-caption")] == ["Sam Patel"]
    assert second.id


def test_verify_from_the_list_without_javascript(client_request, admin, make_user):
    ruth = make_user("Ruth", "Ellis", verified=False)
    client_request.sign_in(admin)
    page = client_request.get("/admin/professionals")
    form = button(page, "Verify").find_parent("form")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input")}
    response = client_request.post(form["action"], data, csrf=False)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/professionals"
    assert db.session.get(User, ruth.id).verification == "verified"
    after = client_request.get("/admin/professionals")
    assert "Ruth Ellis is verified" in text(after.find(id="admin-status"))
    assert "No professionals are awaiting verification." in text(after.find(id="admin-results-count"))
    [entry] = entries(audit.VERIFIED)
    assert (entry.changed_by_id, entry.professional_given_name, entry.professional_portal_name) == (admin.id, "Ruth", ruth.email)


def test_verify_from_the_list_with_htmx_swaps_the_results(client_request, admin, make_user):
    ruth = make_user("Ruth", "Ellis", verified=False)
    make_user("Ade", "Bello", verified=False)
    client_request.sign_in(admin)
    response = client_request.post(
        f"/admin/professionals/{ruth.id}/verify", {"return_to": "list", "view": "pending", "q": "", "page": "1"}, htmx=True, expected_status=200
    )
    assert "HX-Request" in response.headers["Vary"]
    partial = ClientRequest.parse(response, partial=True)
    assert "Ruth Ellis is verified" in text(partial.find(id="admin-status"))
    assert partial.find(id="admin-status")["hx-swap-oob"] == "innerHTML"
    assert [row[0] for row in table_rows(partial, "professionals-caption")] == ["Ade Bello"]
    # Verifying again is refused plainly.
    again = client_request.post(f"/admin/professionals/{ruth.id}/verify", {"return_to": "list"}, htmx=True, expected_status=200)
    assert "Ruth Ellis is already verified." in text(ClientRequest.parse(again, partial=True).find(id="admin-status"))
    assert len(entries(audit.VERIFIED)) == 1


def test_the_professional_filter_is_a_get_form_htmx_enhances(client_request, admin, make_user):
    make_user("Ruth", "Ellis", verified=False, email="ruth@riverside.example")
    make_user("Ade", "Bello", verified=False, email="ade@hill.example")
    client_request.sign_in(admin)
    page = client_request.get("/admin/professionals?q=ruth@")
    form = page.find("form", attrs={"role": "search"})
    assert form["method"] == "get" and form["hx-get"] == "/admin/professionals"
    assert page.find("label", attrs={"for": "professional-filter"})
    assert [row[0] for row in table_rows(page, "professionals-caption")] == ["Ruth Ellis"]
    live = page.find(id="admin-status")
    assert live["role"] == "status" and live["aria-live"] == "polite"
    partial = client_request.get("/admin/professionals?q=hill", htmx=True)
    assert [row[0] for row in table_rows(partial, "professionals-caption")] == ["Ade Bello"]
    assert text(partial.find(id="admin-status")) == "1 professional found"
    none = client_request.get("/admin/professionals?q=nobody", htmx=True)
    assert text(none.find(id="admin-status")) == "No professionals found"
    client_request.get("/admin/professionals?page=x", expected_status=400)


def test_reject_needs_a_reason_that_the_professional_then_sees(app, client_request, admin, make_user):
    ruth = make_user("Ruth", "Ellis", verified=False)
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/professionals/{ruth.id}/reject")
    assert page.find("label", attrs={"for": "reason"})
    response = client_request.post(f"/admin/professionals/{ruth.id}/reject", {"reason": "  "})
    assert response.status_code == 400
    errors = ClientRequest.parse(response)
    assert summary_links(errors) == {"#reason": "Enter the reason for rejecting this registration"}
    assert errors.title.string.startswith("Error:")
    assert db.session.get(User, ruth.id).verification == "pending"

    reason = "We could not confirm that you work at Riverside Primary School."
    response = client_request.post(f"/admin/professionals/{ruth.id}/reject", {"reason": reason}, expected_status=303)
    ruth = db.session.get(User, ruth.id)
    assert (ruth.verification, ruth.rejection_reason) == ("rejected", reason)
    [entry] = entries(audit.REJECTED)
    assert entry.details == f"Reason: {reason}" and entry.professional_portal_name == ruth.email
    rejected = client_request.get("/admin/professionals/rejected")
    assert table_rows(rejected, "professionals-caption")[0][-1] == reason

    home = as_user(app, ruth).get("/home")
    assert reason in text(home.find(class_="govuk-inset-text"))


def test_deactivate_keeps_everything_but_stops_sign_in(app, client_request, admin, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    their_session = as_user(app, professional)
    client_request.sign_in(admin)
    profile = client_request.get(f"/admin/professionals/{professional.id}")
    link = profile.find("a", string="Deactivate account")
    confirm = client_request.get(link["href"])
    assert "no longer be able to sign in" in text(confirm.find(class_="govuk-warning-text"))
    form = confirm.find("form", method="post")
    assert text(form.find("button")).startswith("Yes,")
    assert form.find("a", string="Cancel")
    client_request.post(form["action"], expected_status=303)

    assert db.session.get(User, professional.id).is_deactivated
    assert involvement_of(professional, amelia).status == "authenticated", "nothing of theirs is lost"
    response = their_session.client.get("/send/select-person")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    token = their_session.csrf_token("/sign-in")
    from .conftest import PASSWORD

    refused = their_session.client.post("/sign-in", data={"email": professional.email, "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 400
    assert len(entries(audit.DEACTIVATED)) == 1
    assert [row[0] for row in table_rows(client_request.get("/admin/professionals/deactivated"), "professionals-caption")] == ["Sam Patel"]

    # A mistake can be put right.
    client_request.post(f"/admin/professionals/{professional.id}/reactivate", expected_status=303)
    assert not db.session.get(User, professional.id).is_deactivated
    as_user(app, professional)
    assert len(entries(audit.REACTIVATED)) == 1


def test_unknown_professionals_and_admins_are_not_professionals_here(client_request, admin):
    client_request.sign_in(admin)
    client_request.get("/admin/professionals/999999", expected_status=404)
    client_request.get(f"/admin/professionals/{admin.id}", expected_status=404)
    client_request.get(f"/admin/professionals/{SYSTEM_USER_ID}", expected_status=404)
    assert client_request.post("/admin/professionals/999999/verify").status_code == 404


# --- authentication requests -------------------------------------------------------------


def test_the_queue_lists_children_awaiting_authentication(client_request, admin, professional, other_professional, make_person):
    amelia = added_child(make_person, professional)
    added_child(make_person, other_professional, "Oliver", "Brown")
    make_person("Already", "Authenticated", professional)
    client_request.sign_in(admin)
    page = client_request.get("/admin/authentication-requests")
    rows = table_rows(page, "requests-caption")
    assert [row[0].replace(" ,", ",") for row in rows] == ["Amelia Jones, added by Sam Patel", "Oliver Brown, added by Jordan Okafor"]
    assert "14 March 2015" in rows[0][1]
    assert "sam.patel@school.example" in rows[0][2]
    link = find_link(page, "Amelia Jones")
    assert link["href"] == f"/admin/authentication-requests/{involvement_of(professional, amelia).id}"
    filtered = client_request.get("/admin/authentication-requests?q=okafor", htmx=True)
    assert [row[0].replace(" ,", ",") for row in table_rows(filtered, "requests-caption")] == ["Oliver Brown, added by Jordan Okafor"]
    assert text(filtered.find(id="admin-status")) == "1 request found"


def test_the_request_shows_the_childs_details_and_likely_matches_side_by_side(client_request, admin, professional, make_person):
    added = added_child(make_person, professional, "Amelia", "Jones", postcode="AB1 2CD")
    same = make_person("Amelia", "Jones")  # same name and date of birth
    swapped = make_person("Jones", "Amelia")  # names typed the other way round
    accents = make_person("Amélia", "Jonés-Smith")
    by_postcode = make_person("Millie", "Carter")
    by_postcode.postcode = "ab12cd"
    other_dob = make_person("Amelia", "Jones", date_of_birth=date(2015, 3, 15))
    stranger = make_person("Zed", "Quinn")
    db.session.commit()
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/authentication-requests/{involvement_of(professional, added).id}")
    columns = page.select(".govuk-grid-column-one-half")
    entered = text(columns[0])
    assert "As entered by Sam Patel" in entered and "14 March 2015" in entered and "AB1 2CD" in entered
    options = {radio["value"]: text(page.find("label", attrs={"for": radio["id"]})) for radio in page.select("input[name=record]")}
    assert str(same.id) in options and str(swapped.id) in options and str(accents.id) in options and str(by_postcode.id) in options
    assert str(other_dob.id) not in options and str(stranger.id) not in options and str(added.id) not in options
    assert options["new"] == "None of these: it is a new record"
    hint = text(page.find(id=f"{page.find('input', attrs={'value': str(same.id)})['id']}-hint"))
    assert "same date of birth" in hint and "same name" in hint and same.la_reference in hint
    postcode_hint = text(page.find(id=f"{page.find('input', attrs={'value': str(by_postcode.id)})['id']}-hint"))
    assert "same postcode" in postcode_hint
    # The best match comes first.
    assert page.select("input[name=record]")[0]["value"] in (str(same.id), str(swapped.id))


def test_the_request_page_can_search_for_a_record_not_suggested(client_request, admin, professional, make_person):
    added = added_child(make_person, professional, "Amelia", "Jones")
    elsewhere = make_person("Amy", "Jones-Baker", date_of_birth=date(2014, 3, 14))
    client_request.sign_in(admin)
    url = f"/admin/authentication-requests/{involvement_of(professional, added).id}"
    page = client_request.get(f"{url}?q={elsewhere.la_reference}")
    assert page.find("input", attrs={"name": "record", "value": str(elsewhere.id)})
    partial = client_request.get(f"{url}?q=jones-baker", htmx=True)
    assert partial.find("input", attrs={"name": "record", "value": str(elsewhere.id)})
    assert text(partial.find(id="admin-status")) == "1 more record found for “jones-baker”"


def test_authenticate_against_an_existing_record_moves_the_involvement(app, client_request, admin, professional, make_person):
    added = added_child(make_person, professional, "Amelia", "Jones")
    record = make_person("Amelia", "Jones", case_status="EHC plan issued")
    involvement = involvement_of(professional, added)
    professional_view = as_user(app, professional)
    professional_view.get(f"/send/people/{added.id}")
    client_request.sign_in(admin)
    response = client_request.post(f"/admin/authentication-requests/{involvement.id}/authenticate", {"record": str(record.id)})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/authentication-requests"

    involvement = db.session.get(Involvement, involvement.id)
    assert (involvement.person_id, involvement.status) == (record.id, "authenticated")
    assert involvement.authenticated_at is not None
    assert db.session.get(Person, added.id) is not None, "the record as entered is kept"
    [entry] = entries(audit.AUTHENTICATED_EXISTING)
    assert (entry.person_id, entry.professional_given_name, entry.changed_by_id) == (record.id, "Sam", admin.id)
    assert "Added as Amelia Jones, born 14 March 2015" in entry.details

    page = client_request.get("/admin/authentication-requests")
    assert "Sam Patel is authenticated for the child." in text(page.find(id="admin-status"))
    assert "No children are awaiting authentication." in text(page.find(id="admin-results-count"))
    # The professional now sees the authority's record, and not the one they typed.
    child = professional_view.get(f"/send/people/{record.id}")
    assert "EHC plan issued" in text(child)
    professional_view.get(f"/send/people/{added.id}", expected_status=404)
    assert row_names(professional_view.get("/send/select-person")) == ["Amelia Jones"]
    leftover = client_request.get(f"/admin/people/{added.id}")
    assert "It was matched to one of Demo Borough Council’s own records" in text(leftover.find(class_="govuk-inset-text"))


def test_confirm_as_a_new_record(client_request, admin, professional, make_person):
    added = added_child(make_person, professional)
    make_person("Someone", "Else").la_reference = "LA-1"
    db.session.commit()
    involvement = involvement_of(professional, added)
    client_request.sign_in(admin)
    url = f"/admin/authentication-requests/{involvement.id}/authenticate"
    taken = client_request.post(url, {"record": "new", "la_reference": "la-1"})
    assert taken.status_code == 409
    assert summary_links(ClientRequest.parse(taken)) == {"#la_reference": "LA reference la-1 already belongs to Someone Else. Enter another, or leave it empty."}
    assert db.session.get(Involvement, involvement.id).status == "awaiting"

    client_request.post(url, {"record": "new", "la_reference": "LA-2"}, expected_status=303)
    person = db.session.get(Person, added.id)
    assert (person.added_by_professional, person.la_reference) == (False, "LA-2")
    assert db.session.get(Involvement, involvement.id).status == "authenticated"
    assert len(entries(audit.AUTHENTICATED_NEW)) == 1
    # Dealt with: a second answer changes nothing.
    again = client_request.post(url, {"record": "new"})
    assert again.status_code == 409
    assert "already been dealt with" in text(ClientRequest.parse(again).find(class_="govuk-error-summary"))
    assert len(entries(audit.AUTHENTICATED_NEW)) == 1


def test_authenticate_needs_a_choice_and_a_real_record(client_request, admin, professional, make_person):
    added = added_child(make_person, professional)
    other_added = added_child(make_person, professional, "Oliver", "Brown")
    involvement = involvement_of(professional, added)
    client_request.sign_in(admin)
    url = f"/admin/authentication-requests/{involvement.id}/authenticate"
    for data, message in (
        ({}, "Select the matching record, or confirm it is a new record"),
        ({"record": "abc"}, "Select the matching record, or confirm it is a new record"),
        ({"record": "99999"}, "The record chosen is not one of the authority's records. Choose another"),
        ({"record": str(other_added.id)}, "The record chosen is not one of the authority's records. Choose another"),
    ):
        response = client_request.post(url, data)
        assert response.status_code == 400, data
        page = ClientRequest.parse(response)
        assert summary_links(page) == {"#record-0": message}
        assert page.find(id="record-0")
    assert db.session.get(Involvement, involvement.id).status == "awaiting"


def test_a_duplicate_of_a_child_already_in_the_caseload_is_refused(client_request, admin, professional, make_person):
    record = make_person("Amelia", "Jones", professional)
    added = added_child(make_person, professional, "Amelia", "Jones")
    involvement = involvement_of(professional, added)
    client_request.sign_in(admin)
    response = client_request.post(f"/admin/authentication-requests/{involvement.id}/authenticate", {"record": str(record.id)})
    assert response.status_code == 409
    assert "Sam Patel already has Amelia Jones in their caseload" in text(ClientRequest.parse(response).find(class_="govuk-error-summary"))
    assert db.session.get(Involvement, involvement.id).person_id == added.id


def test_decline_with_a_reason(app, client_request, admin, professional, make_person):
    added = added_child(make_person, professional)
    involvement = involvement_of(professional, added)
    client_request.sign_in(admin)
    request_page = client_request.get(f"/admin/authentication-requests/{involvement.id}")
    confirm = client_request.get(request_page.find("a", string="Decline")["href"])
    assert confirm.find(class_="govuk-warning-text")
    url = f"/admin/authentication-requests/{involvement.id}/decline"
    response = client_request.post(url, {"reason": ""})
    assert response.status_code == 400
    assert summary_links(ClientRequest.parse(response)) == {"#reason": "Enter the reason for declining this request"}
    client_request.post(url, {"reason": "x" * 1001}, expected_status=400)

    client_request.post(url, {"reason": "Not a pupil at your school"}, expected_status=303)
    involvement = db.session.get(Involvement, involvement.id)
    assert (involvement.status, involvement.decline_reason) == ("declined", "Not a pupil at your school")
    [entry] = entries(audit.DECLINED)
    assert entry.person_name == "Amelia Jones" and entry.details == "Reason: Not a pupil at your school"
    as_user(app, professional).get(f"/send/people/{added.id}", expected_status=404)
    # The request is no longer open, and its page says so.
    response = client_request.get_response(url)
    assert response.status_code == 303
    page = client_request.get(response.headers["Location"])
    assert "already been dealt with" in text(page.find(class_="govuk-error-summary"))
    assert "it was declined (Not a pupil at your school)" in text(page.find(class_="govuk-inset-text"))
    assert not page.find("form", method="post")


def test_reauthenticate_after_a_delete_restores_access(app, client_request, admin, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional, hidden=True)
    professional_view = as_user(app, professional)
    delete_from_caseload_hidden = {"person_id": str(amelia.id), "view": "hidden", "confirmed": "yes"}
    professional_view.post("/send/select-person/delete", delete_from_caseload_hidden, expected_status=303)
    professional_view.get(f"/send/people/{amelia.id}", expected_status=404)
    involvement = involvement_of(professional, amelia)
    assert (involvement.status, involvement.deleted_at is not None) == ("unauthenticated", True)

    # The Delete entry, as SPEC section 2 fixes it, found by the child's name.
    client_request.sign_in(admin)
    log = client_request.get("/admin/audit?person=amelia")
    [row] = [r for r in table_rows(log, "audit-caption") if r[2].startswith(audit.DELETE_BY_PROFESSIONAL)]
    assert row[1:] == ["sysadmin", audit.DELETE_BY_PROFESSIONAL, "Amelia Jones", "Sam", "sam.patel@school.example"]

    queue = client_request.get("/admin/authentication-requests/deleted")
    assert [row[0] for row in table_rows(queue, "requests-caption")] == ["Amelia Jones"]
    reauth = button(queue, "Re-authenticate")
    assert text(reauth) == "Re-authenticate Sam Patel for Amelia Jones"
    form = reauth.find_parent("form")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input")}
    response = client_request.post(form["action"], data, csrf=False)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/authentication-requests/deleted"

    involvement = db.session.get(Involvement, involvement.id)
    assert (involvement.status, involvement.deleted_at, involvement.hidden_at) == ("authenticated", None, None)
    [entry] = entries(audit.REAUTHENTICATED)
    assert entry.details == "After a delete by the professional" and entry.professional_portal_name == professional.email
    professional_view.get(f"/send/people/{amelia.id}")
    assert row_names(professional_view.get("/send/select-person")) == ["Amelia Jones"]
    after = client_request.get("/admin/authentication-requests/deleted")
    assert "Sam Patel is re-authenticated for Amelia Jones" in text(after.find(id="admin-status"))
    assert not after.find("caption", id="requests-caption")
    # Twice is refused, and says why.
    again = client_request.post(form["action"], data, csrf=False)
    assert again.status_code == 303
    assert "Only an unauthenticated involvement can be re-authenticated" in text(client_request.get(again.headers["Location"]).find(id="admin-status"))


def test_reauthenticate_from_the_queue_with_htmx(app, client_request, admin, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    delete_from_caseload(as_user(app, professional), amelia)
    involvement = involvement_of(professional, amelia)
    client_request.sign_in(admin)
    response = client_request.post(
        f"/admin/involvements/{involvement.id}/reauthenticate", {"return_to": "queue", "q": "", "page": "1"}, htmx=True, expected_status=200
    )
    partial = ClientRequest.parse(response, partial=True)
    assert "Sam Patel is re-authenticated for Amelia Jones" in text(partial.find(id="admin-status"))
    assert db.session.get(Involvement, involvement.id).status == "authenticated"


def test_delete_and_re_add_is_matched_back_to_the_original_record(app, client_request, admin, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    professional_view = as_user(app, professional)
    delete_from_caseload(professional_view, amelia)
    readded = added_child(make_person, professional, "Amelia", "Jones")  # Add Person again
    involvement = involvement_of(professional, readded)
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/authentication-requests/{involvement.id}")
    assert page.select("input[name=record]")[0]["value"] == str(amelia.id)
    client_request.post(f"/admin/authentication-requests/{involvement.id}/authenticate", {"record": str(amelia.id)}, expected_status=303)
    professional_view.get(f"/send/people/{amelia.id}")
    assert row_names(professional_view.get("/send/select-person")) == ["Amelia Jones"]


def test_the_childs_admin_page_offers_reauthentication(app, client_request, admin, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    delete_from_caseload(as_user(app, professional), amelia)
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/people/{amelia.id}")
    rows = table_rows(page, "involvements-caption")
    assert "Unauthenticated: deleted by the professional" in rows[0][1]
    form = button(page, "Re-authenticate").find_parent("form")
    response = client_request.post(form["action"], {i["name"]: i.get("value", "") for i in form.find_all("input")}, csrf=False)
    assert response.headers["Location"] == f"/admin/people/{amelia.id}"
    assert "Authenticated" == table_rows(client_request.get(f"/admin/people/{amelia.id}"), "involvements-caption")[0][1]


# --- unauthenticating a whole caseload -------------------------------------------------------


def test_bulk_unauthenticate_a_professionals_caseload(app, client_request, admin, professional, other_professional, make_person):
    children = [
        make_person("Amelia", "Jones", professional),
        make_person("Oliver", "Brown", professional, hidden=True),
        make_person("Isla", "Khan", professional, ended_on=date(2024, 1, 1), last_activity=datetime(2025, 6, 1)),
        added_child(make_person, professional, "Noah", "Evans"),
    ]
    gone = make_person("Already", "Deleted", professional)
    theirs = make_person("Jordan's", "Child", other_professional)
    professional_view = as_user(app, professional)
    delete_from_caseload(professional_view, gone)

    client_request.sign_in(admin)
    profile = client_request.get(f"/admin/professionals/{professional.id}")
    assert "4 children" in text(profile)
    confirm = client_request.get(profile.find("a", string="Unauthenticate from the whole caseload")["href"])
    assert text(confirm.find("h1")) == "Are you sure you want to unauthenticate Sam Patel from 4 children?"
    assert "4 children" in text(confirm.find(class_="govuk-warning-text"))
    form = confirm.find("form", method="post")
    assert text(form.find("button")) == "Yes, unauthenticate from 4 children"
    data = {i["name"]: i.get("value", "") for i in form.find_all("input")}

    # The caseload changes before the admin confirms: confirm again, nothing changed.
    make_person("Late", "Arrival", professional)
    stale = client_request.post(form["action"], data, csrf=False)
    assert stale.status_code == 409
    assert "5 children" in text(ClientRequest.parse(stale).find("h1"))
    assert entries(audit.BULK_UNAUTHENTICATED) == []

    data["expected_count"] = "5"
    response = client_request.post(form["action"], data, csrf=False)
    assert response.status_code == 303
    assert "Sam Patel is unauthenticated from 5 children" in text(client_request.get(response.headers["Location"]).find(class_="govuk-notification-banner"))
    statuses = db.session.scalars(select(Involvement.status).where(Involvement.professional_id == professional.id)).all()
    assert statuses == ["unauthenticated"] * 6
    logged = entries(audit.BULK_UNAUTHENTICATED)
    assert sorted(e.person_name for e in logged) == sorted([c.full_name for c in children] + ["Late Arrival"])
    assert all(e.changed_by_id == admin.id and e.professional_given_name == "Sam" for e in logged)
    assert involvement_of(other_professional, theirs).status == "authenticated"
    assert row_names(professional_view.get("/send/select-person")) == []
    assert row_names(professional_view.get("/send/select-person/recent")) == []
    for child in children:
        professional_view.get(f"/send/people/{child.id}", expected_status=404)
    # The records, and the professional, are still there.
    assert db.session.get(User, professional.id).is_active
    assert db.session.scalar(select(func.count()).select_from(Person)) >= 7


def test_bulk_unauthenticate_with_an_empty_caseload_says_so(client_request, admin, make_user):
    ruth = make_user("Ruth", "Ellis")
    client_request.sign_in(admin)
    response = client_request.get_response(f"/admin/professionals/{ruth.id}/unauthenticate-caseload")
    assert response.status_code == 303
    assert "has no children to unauthenticate" in text(client_request.get(response.headers["Location"]))


# --- case status and timeline dates --------------------------------------------------------


def test_find_a_child_by_name_or_reference(client_request, admin, make_person):
    make_person("Zoë", "O'Brien")
    make_person("Amelia", "Jones")
    oliver = make_person("Oliver", "Brown")
    client_request.sign_in(admin)
    page = client_request.get("/admin/people?q=obrien")  # typed without the apostrophe
    assert [r[0] for r in table_rows(page, "people-caption")] == ["Zoë O'Brien"]
    page = client_request.get("/admin/people?q=brien zoe")
    assert [r[0] for r in table_rows(page, "people-caption")] == ["Zoë O'Brien"]
    page = client_request.get(f"/admin/people?q={oliver.la_reference.lower()}")
    assert [r[0] for r in table_rows(page, "people-caption")] == ["Oliver Brown"]
    partial = client_request.get("/admin/people?q=am", htmx=True)
    assert [r[0] for r in table_rows(partial, "people-caption")] == ["Amelia Jones"]
    assert text(partial.find(id="admin-status")) == "1 person found"
    assert "HX-Request" in partial.response.headers["Vary"]
    none = client_request.get("/admin/people?q=nobody")
    assert "No people found for “nobody”" in text(none.find(id="admin-results-count"))
    assert page.find("a", string="Oliver Brown")["href"] == f"/admin/people/{oliver.id}"


def test_case_status_change_is_activity_and_audit(app, client_request, admin, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)  # no activity yet
    professional_view = as_user(app, professional)
    assert row_names(professional_view.get("/send/select-person/recent")) == []

    client_request.sign_in(admin)
    page = client_request.get(f"/admin/people/{amelia.id}")
    change = client_request.get(find_link(page, "Change case status")["href"])
    assert text(change.find("h1")) == "What is Amelia Jones’s case status?"
    assert [text(label) for label in change.select(".govuk-radios__label")][:2] == ["No open case", "Request received"]
    assert change.find("input", attrs={"value": "No open case"}).has_attr("checked")

    response = client_request.post(f"/admin/people/{amelia.id}/case-status", {"case_status": "Assessment in progress"})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/people/{amelia.id}"
    after = client_request.get(response.headers["Location"])
    assert "Case status changed to Assessment in progress" in text(after.find(class_="govuk-notification-banner"))
    assert "Case status changed to Assessment in progress" in text(after)
    assert db.session.get(Person, amelia.id).case_status == "Assessment in progress"
    [entry] = entries(audit.CASE_STATUS_CHANGED)
    assert (entry.changed_by_id, entry.person_name, entry.details) == (admin.id, "Amelia Jones", "From No open case to Assessment in progress")

    recent = professional_view.get("/send/select-person/recent")
    assert row_names(recent) == ["Amelia Jones"]
    assert "Assessment in progress" in text(recent.find(id="caseload-results"))
    log = client_request.get(f"/admin/audit?action={audit.CASE_STATUS_CHANGED}")
    assert [r[2] for r in table_rows(log, "audit-caption")] == [f"{audit.CASE_STATUS_CHANGED} From No open case to Assessment in progress"]

    # The same status again is no change; a made-up one is refused.
    client_request.post(f"/admin/people/{amelia.id}/case-status", {"case_status": "Assessment in progress"}, expected_status=303)
    assert len(entries(audit.CASE_STATUS_CHANGED)) == 1
    bad = client_request.post(f"/admin/people/{amelia.id}/case-status", {"case_status": "Awaiting authentication"})
    assert bad.status_code == 400
    assert summary_links(ClientRequest.parse(bad)) == {"#case_status-0": "Select a case status"}
    client_request.get("/admin/people/999999/case-status", expected_status=404)


def date_fields(prefix: str, value: date | None) -> dict:
    if value is None:
        return {f"{prefix}_day": "", f"{prefix}_month": "", f"{prefix}_year": ""}
    return {f"{prefix}_day": str(value.day), f"{prefix}_month": str(value.month), f"{prefix}_year": str(value.year)}


def test_timeline_dates_are_activity_and_audit(app, client_request, admin, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional, last_activity=datetime(2020, 1, 1))
    received = date.today() - timedelta(days=30)
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/people/{amelia.id}/timeline")
    legends = [text(legend) for legend in page.find_all("legend")]
    assert legends == ["Request received", "Decision whether to assess", "Draft plan issued", "Final plan issued", "Next review",
                       "Outcome of the request", "20-week exception"]  # the SEN2 fields (issue 15)
    data = {
        **date_fields("request_received_on", received),
        **date_fields("assessment_decision_on", received + timedelta(weeks=6)),
        **date_fields("draft_plan_on", None),
        **date_fields("final_plan_on", None),
        **date_fields("next_review_on", None),
    }
    response = client_request.post(f"/admin/people/{amelia.id}/timeline", data, expected_status=303)
    person = db.session.get(Person, amelia.id)
    assert (person.request_received_on, person.assessment_decision_on, person.draft_plan_on) == (received, received + timedelta(weeks=6), None)
    logged = entries(audit.TIMELINE_DATE_CHANGED)
    assert [e.details for e in logged] == [
        f"Request received: from not set to {received:%-d %B %Y}",
        f"Decision whether to assess: from not set to {(received + timedelta(weeks=6)):%-d %B %Y}",
    ]
    assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.person_id == amelia.id)) == 2
    assert "2 EHC timeline dates changed" in text(client_request.get(response.headers["Location"]).find(class_="govuk-notification-banner"))
    assert row_names(as_user(app, professional).get("/send/select-person/recent")) == ["Amelia Jones"]

    # Removing a date is a change too; the form shows the dates held.
    page = client_request.get(f"/admin/people/{amelia.id}/timeline")
    assert page.find(id="request_received_on_year")["value"] == str(received.year)
    data.update(date_fields("assessment_decision_on", None))
    client_request.post(f"/admin/people/{amelia.id}/timeline", data, expected_status=303)
    assert db.session.get(Person, amelia.id).assessment_decision_on is None
    assert entries(audit.TIMELINE_DATE_CHANGED)[-1].details.endswith("to not set")


def test_timeline_dates_are_checked(client_request, admin, make_person):
    amelia = make_person("Amelia", "Jones")
    client_request.sign_in(admin)
    data = {
        **date_fields("request_received_on", date(2026, 1, 10)),
        "assessment_decision_on_day": "31", "assessment_decision_on_month": "2", "assessment_decision_on_year": "2026",
        "draft_plan_on_day": "", "draft_plan_on_month": "3", "draft_plan_on_year": "2026",
        **date_fields("final_plan_on", date(2025, 12, 1)),
        "next_review_on_day": "1", "next_review_on_month": "1", "next_review_on_year": "26",
    }
    response = client_request.post(f"/admin/people/{amelia.id}/timeline", data)
    assert response.status_code == 400
    page = ClientRequest.parse(response)
    assert summary_links(page) == {
        "#assessment_decision_on_day": "Decision whether to assess date must be a real date, such as 27 3 2026",
        "#draft_plan_on_day": "Draft plan issued date must include a day",
        "#final_plan_on_day": "Final plan issued date must be on or after the date the request was received",
        "#next_review_on_day": "Next review date must be a real date, such as 27 3 2026",
    }
    for href in summary_links(page):
        assert page.find(id=href[1:])
    assert page.find(id="draft_plan_on_month")["value"] == "3"
    assert db.session.get(Person, amelia.id).request_received_on is None, "nothing is half-saved"
    assert entries(audit.TIMELINE_DATE_CHANGED) == []
    future = client_request.post(f"/admin/people/{amelia.id}/timeline", date_fields("request_received_on", date.today() + timedelta(days=2)))
    assert summary_links(ClientRequest.parse(future)) == {"#request_received_on_day": "Request received date must be today or in the past"}


# --- the audit log ------------------------------------------------------------------------


def test_audit_log_lists_newest_first_with_the_columns(client_request, admin, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    old = audit.record(audit.HIDE, changed_by=professional, person=amelia, professional=professional)
    old.occurred_at = utcnow() - timedelta(days=2)
    audit.record(audit.UNHIDE, changed_by=professional, person=amelia, professional=professional)
    db.session.commit()
    client_request.sign_in(admin)
    page = client_request.get("/admin/audit")
    headings = [text(th) for th in page.select("#audit-caption ~ thead th, table thead th")]
    assert headings[:6] == ["Time", "Changed by", "Action", "Person", "Given Name", "PortalName"]
    rows = table_rows(page, "audit-caption")
    assert rows[0][2] == "Signed in"  # the admin's own sign-in, the newest
    ours = [r for r in rows if r[3] == "Amelia Jones"]
    assert [r[2] for r in ours] == [audit.UNHIDE, audit.HIDE]
    assert ours[0][1:] == ["sam.patel@school.example", audit.UNHIDE, "Amelia Jones", "Sam", "sam.patel@school.example"]
    for label in ("Person", "User", "Action", "Date from", "Date to"):
        assert page.find("label", string=label)
    form = page.find("form", attrs={"role": "search"})
    assert form["method"] == "get" and form["hx-get"] == "/admin/audit"


def test_audit_filters(client_request, admin, professional, other_professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    oliver = make_person("Oliver", "Brown", other_professional)
    audit.record(audit.HIDE, changed_by=professional, person=amelia, professional=professional)
    late = audit.record(audit.HIDE, changed_by=other_professional, person=oliver, professional=other_professional)
    late.occurred_at = datetime(2026, 2, 10, 12)
    early = audit.record(audit.UNHIDE, changed_by=other_professional, person=oliver, professional=other_professional)
    early.occurred_at = datetime(2026, 1, 5, 12)
    db.session.commit()
    client_request.sign_in(admin)

    def people(url):
        return [(r[2], r[3]) for r in table_rows(client_request.get(url), "audit-caption")]

    assert people("/admin/audit?person=amel") == [(audit.HIDE, "Amelia Jones")]
    assert people("/admin/audit?person=jones amelia") == [(audit.HIDE, "Amelia Jones")]
    assert people("/admin/audit?user=okafor&action=" + audit.HIDE) == [(audit.HIDE, "Oliver Brown")]
    assert people("/admin/audit?user=jordan.okafor@eps.example") == [(audit.HIDE, "Oliver Brown"), (audit.UNHIDE, "Oliver Brown")]
    assert people("/admin/audit?person=oliver&from=1/2/2026") == [(audit.HIDE, "Oliver Brown")]
    assert people("/admin/audit?person=oliver&to=2026-01-31") == [(audit.UNHIDE, "Oliver Brown")]
    assert people("/admin/audit?person=oliver&from=5/1/2026&to=5/1/2026") == [(audit.UNHIDE, "Oliver Brown")]
    partial = client_request.get("/admin/audit?person=oliver", htmx=True)
    assert text(partial.find(id="admin-status")) == "2 entries found"
    assert "HX-Request" in partial.response.headers["Vary"]
    none = client_request.get("/admin/audit?person=nobody")
    assert "No entries match these filters." in text(none.find(id="admin-results-count"))


def test_bad_audit_filters_get_messages_not_500(client_request, admin):
    client_request.sign_in(admin)
    response = client_request.client.get("/admin/audit?from=31/2/2026&to=yesterday&action=Made up")
    assert response.status_code == 400
    page = ClientRequest.parse(response)
    assert summary_links(page) == {
        "#audit-action": "Choose an action from the list",
        "#audit-from": "Date from must be a real date, such as 27/3/2026",
        "#audit-to": "Date to must be a real date, such as 27/3/2026",
    }
    assert page.title.string.startswith("Error:")
    order = client_request.client.get("/admin/audit?from=2/2/2026&to=1/2/2026")
    assert summary_links(ClientRequest.parse(order)) == {"#audit-to": "Date to must be the same as or after date from"}
    assert client_request.client.get("/admin/audit.csv?from=nonsense").status_code == 400
    assert client_request.client.get("/admin/audit?page=0x1").status_code == 400
    # htmx swaps only 2xx answers, so the partial carries the error summary with a 200.
    partial = client_request.get("/admin/audit?from=nonsense", htmx=True)
    assert "Date from must be a real date" in text(partial.find(class_="govuk-error-summary"))


def test_audit_log_pages_fifty_entries(client_request, admin):
    for n in range(120):
        audit.record(audit.SIGN_IN_FAILED, details=f"attempt {n:03d}")
    db.session.commit()
    client_request.sign_in(admin)
    url = f"/admin/audit?action={audit.SIGN_IN_FAILED}"
    first = client_request.get(url)
    assert len(table_rows(first, "audit-caption")) == 50
    assert text(first.find(id="admin-results-count")) == "Showing 1 to 50 of 120 entries"
    assert "attempt 119" in table_rows(first, "audit-caption")[0][2]
    nav = first.find("nav", attrs={"aria-label": "Pages of the audit log"})
    last = client_request.get(nav.find("a", string="3")["href"])
    assert text(last.find(id="admin-results-count")) == "Showing 101 to 120 of 120 entries"
    assert "attempt 000" in table_rows(last, "audit-caption")[-1][2]
    assert last.title.string.startswith("Audit log, filtered, page 3")


def test_csv_export_of_the_filtered_entries_is_safe_for_spreadsheets(client_request, admin, professional, make_person):
    risky = make_person("=HYPERLINK(\"http://evil.example\")", "Jones", professional)
    plus = make_person("+Plus", "Jones", professional)
    audit.record(audit.HIDE, changed_by=professional, person=risky, professional=professional)
    audit.record(audit.HIDE, changed_by=professional, person=plus, professional=professional, details="@SUM(1)")
    audit.record(audit.HIDE, changed_by=professional, details="-2+3")
    db.session.commit()
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/audit?action={audit.HIDE}&person=jones")
    link = find_link(page, "Download")
    assert link["href"].startswith("/admin/audit.csv?")
    response = client_request.get_response(link["href"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = read_csv(response)
    assert rows[0] == ["Time (UTC)", "Changed by", "Action", "Person", "Given Name", "PortalName", "Details"]
    by_person = {row[3]: row for row in rows[1:]}
    assert set(by_person) == {"'=HYPERLINK(\"http://evil.example\") Jones", "'+Plus Jones"}, "only the filtered entries"
    assert by_person["'+Plus Jones"][6] == "'@SUM(1)"
    assert by_person["'+Plus Jones"][1:3] == ["sam.patel@school.example", audit.HIDE]
    everything = read_csv(client_request.get_response(f"/admin/audit.csv?action={audit.HIDE}"))
    assert ["'-2+3"] == [row[6] for row in everything[1:] if row[3] == ""]


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Amelia", "Amelia"), ("", ""), (None, ""), ("a=b", "a=b"),
])
def test_csv_cells_that_start_like_formulas_are_quoted(value, expected):
    from send_portal.csv_export import csv_safe

    assert csv_safe(value) == expected


def test_csv_export_streams_a_large_log(client_request, admin):
    for n in range(2500):
        audit.record(audit.SIGN_IN_FAILED, details=f"attempt {n}")
    db.session.commit()
    client_request.sign_in(admin)
    response = client_request.get_response(f"/admin/audit.csv?action={audit.SIGN_IN_FAILED}")
    rows = read_csv(response)
    assert len(rows) == 2501
    assert rows[1][6] == "attempt 2499" and rows[-1][6] == "attempt 0"
    assert len({row[6] for row in rows[1:]}) == 2500


def test_every_admin_write_is_audited(app, client_request, admin, professional, make_user, make_person):
    """Registration, verification, authentication, decline, status and dates,
    bulk unauthenticate: each leaves its entry (hide, unhide, delete and
    sign-in are the caseload's and auth's own tests)."""
    ruth = make_user("Ruth", "Ellis", verified=False)
    ade = make_user("Ade", "Bello", verified=False)
    first = added_child(make_person, professional, "Amelia", "Jones")
    second = added_child(make_person, professional, "Oliver", "Brown")
    client_request.sign_in(admin)
    client_request.post(f"/admin/professionals/{ruth.id}/verify", expected_status=303)
    client_request.post(f"/admin/professionals/{ade.id}/reject", {"reason": "Unknown"}, expected_status=303)
    client_request.post(f"/admin/authentication-requests/{involvement_of(professional, first).id}/authenticate", {"record": "new"}, expected_status=303)
    client_request.post(f"/admin/authentication-requests/{involvement_of(professional, second).id}/decline", {"reason": "No"}, expected_status=303)
    client_request.post(f"/admin/people/{first.id}/case-status", {"case_status": "Request received"}, expected_status=303)
    client_request.post(f"/admin/professionals/{professional.id}/unauthenticate-caseload", {"expected_count": "1"}, expected_status=303)
    client_request.post(f"/admin/professionals/{ade.id}/deactivate", expected_status=303)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    for action in (audit.VERIFIED, audit.REJECTED, audit.AUTHENTICATED_NEW, audit.DECLINED, audit.CASE_STATUS_CHANGED,
                   audit.BULK_UNAUTHENTICATED, audit.DEACTIVATED):
        assert action in actions
    options = [o["value"] for o in client_request.get("/admin/audit").select("#audit-action option")]
    assert audit.DELETE_BY_PROFESSIONAL in options and audit.VERIFIED in options


def test_sharp_numbers_get_messages_not_500(client_request, admin, professional, make_person):
    added = added_child(make_person, professional)
    involvement = involvement_of(professional, added)
    client_request.sign_in(admin)
    for url in ("/admin/professionals?page=²", "/admin/authentication-requests?page=²", "/admin/people?page=٣", "/admin/audit?page=99999999"):
        assert client_request.client.get(url).status_code == 400, url
    response = client_request.post(f"/admin/authentication-requests/{involvement.id}/authenticate", {"record": "²"})
    assert response.status_code == 400
    timeline = client_request.post(
        f"/admin/people/{added.id}/timeline",
        {**date_fields("request_received_on", None), "request_received_on_day": "1", "request_received_on_month": "9" * 20, "request_received_on_year": "2026"},
    )
    assert timeline.status_code == 400
    assert summary_links(ClientRequest.parse(timeline)) == {"#request_received_on_day": "Request received date must be a real date, such as 27 3 2026"}
    assert client_request.client.get("/admin/audit?from=1/1/99999").status_code == 400
