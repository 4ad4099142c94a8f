"""Add Person with address look-up, the child's page and its EHC timeline
(SPEC sections 3 and 4), as a professional sees them."""
import json
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from send_portal.addresses import normalise_postcode
from send_portal.addresses.providers import OSPlacesProvider
from send_portal.extensions import db
from send_portal.models import Activity, Address, AuditEntry, Involvement, Person
from send_portal.people.forms import _UPN_LETTERS, upn_is_valid
from send_portal.people.timeline import ehc_timeline

from .conftest import row_names, text


def make_upn(digits: str = "823401234567") -> str:
    total = sum(weight * int(c) for weight, c in enumerate(digits, start=2))
    return _UPN_LETTERS[total % 23] + digits


@pytest.fixture
def gazetteer(app):
    for n in range(1, 4):
        db.session.add(Address(uprn=f"1000{n}", address_line_1=f"{n} High Street", address_line_2=None,
                               town="Demoton", postcode="DM1 2AB", postcode_key="DM12AB"))
    db.session.commit()


CHILD = {"given_name": "Amelia", "family_name": "Jones", "dob_day": "14", "dob_month": "3", "dob_year": "2015",
         "gender": "Female", "upn": "", "postcode": "dm12ab"}


def start_add(client_request, **changes):
    return client_request.post("/send/add-person", {**CHILD, **changes})


def test_add_person_button_leads_to_the_add_person_page(client_request, professional):
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person")
    form = page.find("button", string="Add Person").find_parent("form")
    assert form["method"] == "get"
    add = client_request.get(form["action"])
    for label in ("Given name", "Family name", "Day", "Month", "Year", "Postcode", "Unique pupil number (optional)"):
        assert add.find("label", string=label), label
    assert add.find("legend", string="Date of birth") and add.find("legend", string="Gender")
    assert add.find("button", string="Find Address")


def test_whole_journey_with_the_gazetteer(client_request, professional, gazetteer):
    client_request.sign_in(professional)
    response = start_add(client_request, upn=make_upn().lower())
    assert response.status_code == 303 and response.headers["Location"] == "/send/add-person/address"
    page = client_request.get("/send/add-person/address")
    assert text(page.find("h1")) == "Address Details"
    assert "DM1 2AB" in text(page)  # shown normalised
    labels = [text(label) for label in page.select(".govuk-radios__label")]
    assert labels == ["1 High Street, Demoton, DM1 2AB", "2 High Street, Demoton, DM1 2AB", "3 High Street, Demoton, DM1 2AB"]
    assert page.find("a", id="manual-link")  # the manual route is always offered
    response = client_request.post("/send/add-person/address", {"uprn": "10002"}, expected_status=303)
    person = db.session.scalar(select(Person).where(Person.given_name == "Amelia"))
    assert response.headers["Location"] in (f"/send/people/{person.id}/forms?added=1", f"/send/people/{person.id}")
    assert (person.address_line_1, person.town, person.postcode, person.uprn) == ("2 High Street", "Demoton", "DM1 2AB", "10002")
    assert person.upn == make_upn() and person.added_by_professional
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == person.id))
    assert involvement.status == "awaiting" and involvement.professional_id == professional.id
    assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.person_id == person.id)) == 1
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.person_id == person.id)) is not None
    # The child is now in the Active view, awaiting authentication, and in Recent.
    active = client_request.get("/send/select-person")
    assert row_names(active) == ["Amelia Jones"]
    assert "Awaiting authentication" in text(active.select_one("tbody tr"))
    assert row_names(client_request.get("/send/select-person/recent")) == ["Amelia Jones"]


def test_choosing_no_address_is_a_clear_error(client_request, professional, gazetteer):
    client_request.sign_in(professional)
    start_add(client_request)
    response = client_request.post("/send/add-person/address", {}, expected_status=400)
    page = client_request.parse(response)
    assert page.find(class_="govuk-error-summary").find("a")["href"] == "#uprn-0"
    response = client_request.post("/send/add-person/address", {"uprn": "99999"}, expected_status=400)


def test_unknown_postcode_offers_the_manual_route(client_request, professional, gazetteer):
    client_request.sign_in(professional)
    start_add(client_request, postcode="zz9 9zz")
    page = client_request.get("/send/add-person/address")
    assert "could not find any addresses for ZZ9 9ZZ" in text(page)
    assert page.find("button", string="Save Child") is None
    manual = client_request.get(page.find("a", id="manual-link")["href"])
    assert manual.find("input", attrs={"name": "postcode"})["value"] == "ZZ9 9ZZ"
    response = client_request.post("/send/add-person/address/manual", {"address_line_1": "", "town": "", "postcode": "nope"}, expected_status=400)
    summary = text(client_request.parse(response).find(class_="govuk-error-summary"))
    assert "Enter address line 1" in summary and "Enter the town or city" in summary and "Enter a real postcode" in summary
    client_request.post("/send/add-person/address/manual", {"address_line_1": "Flat 2, 5 Mill Lane", "town": "Demoton", "postcode": "zz99zz"}, expected_status=303)
    person = db.session.scalar(select(Person).where(Person.given_name == "Amelia"))
    assert (person.address_line_1, person.postcode, person.uprn) == ("Flat 2, 5 Mill Lane", "ZZ9 9ZZ", None)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"given_name": ""}, "given_name", "Enter the child’s given name"),
        ({"family_name": "x" * 101}, "family_name", "The family name must be 100 characters or fewer"),
        ({"dob_day": "", "dob_month": "", "dob_year": ""}, "dob_day", "Enter the child’s date of birth"),
        ({"dob_month": ""}, "dob_day", "Date of birth must include a month"),
        ({"dob_day": "31", "dob_month": "2"}, "dob_day", "Date of birth must be a real date"),
        ({"dob_year": str(date.today().year + 1)}, "dob_day", "Date of birth must be today or in the past"),
        ({"gender": ""}, "gender-0", "Select the child’s gender"),
        ({"upn": "A12345"}, "upn", "Enter a unique pupil number with 13 characters"),
        ({"upn": "B823401234567"}, "upn", "Enter a unique pupil number with 13 characters"),  # wrong check letter
        ({"postcode": ""}, "postcode", "Enter the postcode of the child’s home address"),
        ({"postcode": "not a postcode"}, "postcode", "Enter a real postcode, such as DM1 2AB"),
    ],
)
def test_add_person_validation(client_request, professional, changes, field, message):
    client_request.sign_in(professional)
    response = start_add(client_request, **changes)
    assert response.status_code == 400
    page = client_request.parse(response)
    assert page.title.string.startswith("Error:")
    link = [a for a in page.select(".govuk-error-summary a") if message in text(a)]
    assert link, text(page.find(class_="govuk-error-summary"))
    assert link[0]["href"] == f"#{field}"
    assert page.find(id=field), "the summary links to a field that exists"
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_adding_a_child_already_in_the_caseload_says_so(client_request, professional, make_person):
    existing = make_person("Amelia", "Jones", professional, date_of_birth=date(2015, 3, 14), hidden=True)
    client_request.sign_in(professional)
    response = start_add(client_request, given_name="AMÉLIA", family_name="jones")
    assert response.status_code == 409
    page = client_request.parse(response)
    assert "You already work with Amelia Jones" in text(page)
    assert page.find("a", href=f"/send/people/{existing.id}")
    assert db.session.scalar(select(func.count()).select_from(Person)) == 1


def test_re_adding_after_delete_makes_a_new_request_for_authentication(client_request, professional, make_person, gazetteer):
    existing = make_person("Amelia", "Jones", professional, date_of_birth=date(2015, 3, 14))
    client_request.sign_in(professional)
    client_request.post("/send/select-person/delete", {"person_id": str(existing.id), "view": "active", "confirmed": "yes"}, expected_status=303)
    assert start_add(client_request).status_code == 303
    client_request.post("/send/add-person/address", {"uprn": "10001"}, expected_status=303)
    involvements = db.session.scalars(select(Involvement).where(Involvement.professional_id == professional.id).order_by(Involvement.id)).all()
    assert [i.status for i in involvements] == ["unauthenticated", "awaiting"]
    assert row_names(client_request.get("/send/select-person")) == ["Amelia Jones"]


def test_address_pages_without_a_started_child_go_back_to_add_person(client_request, professional):
    client_request.sign_in(professional)
    assert client_request.client.get("/send/add-person/address").headers["Location"] == "/send/add-person"
    assert client_request.client.get("/send/add-person/address/manual").headers["Location"] == "/send/add-person"


def test_change_postcode_keeps_what_was_typed(client_request, professional, gazetteer):
    client_request.sign_in(professional)
    start_add(client_request)
    page = client_request.get("/send/add-person?change=1")
    assert page.find("input", attrs={"name": "given_name"})["value"] == "Amelia"
    assert page.find("input", attrs={"name": "postcode"})["value"] == "DM1 2AB"
    assert page.find("input", attrs={"name": "gender", "value": "Female"}).has_attr("checked")


def test_postcodes_in_any_case_and_spacing():
    assert normalise_postcode(" dm1  2ab ") == "DM12AB"
    assert normalise_postcode("sw1a1aa") == "SW1A1AA"
    assert normalise_postcode("M1 1AE") == "M11AE"
    for bad in ("", "12345", "ABC DEF", "DM1 2ABE", "<script>"):
        assert normalise_postcode(bad) is None


def test_upn_check_letter():
    assert upn_is_valid(make_upn())
    assert not upn_is_valid("A" + make_upn()[1:]) or make_upn()[0] == "A"
    assert not upn_is_valid("I823401234567")


# --- import-addresses ---------------------------------------------------------------


def test_import_addresses(runner, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text("uprn,address_line_1,address_line_2,town,postcode\n100,1 Mill Lane,,Demoton,dm12ab\n101,Flat 1,2 Mill Lane,Demoton,DM1 2AB\n")
    result = runner.invoke(args=["import-addresses", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 addresses: 2 created, 0 updated" in result.output
    assert {a.postcode_key for a in db.session.scalars(select(Address))} == {"DM12AB"}
    assert db.session.get(Address, "100").postcode == "DM1 2AB"


def test_import_addresses_reports_bad_rows_and_imports_nothing(runner, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text("uprn,address_line_1,address_line_2,town,postcode\n100,1 Mill Lane,,Demoton,DM1 2AB\nabc,,,Demoton,nope\n100,Dup,,Demoton,DM1 2AB\n")
    result = runner.invoke(args=["import-addresses", str(path)])
    assert result.exit_code == 1
    assert "line 3: uprn 'abc'" in result.output and "line 3: address_line_1" in result.output and "line 3: postcode 'nope'" in result.output
    assert "line 4: uprn 100 is also on line 2" in result.output
    assert db.session.scalar(select(func.count()).select_from(Address)) == 0


# --- OS Places, against a fake server on 127.0.0.1 -------------------------------------


class FakeOSPlaces(BaseHTTPRequestHandler):
    mode = "found"

    def do_GET(self):  # noqa: N802
        if "key=test-key" not in self.path:
            self.send_response(401)
            self.end_headers()
            return
        if self.mode == "slow":
            time.sleep(2)
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if self.mode == "bad-postcode":
            self.send_response(400)
            self.end_headers()
            return
        body = {"header": {"totalresults": 0}}
        if self.mode == "found":
            body["results"] = [
                {"DPA": {"UPRN": "200001", "BUILDING_NUMBER": "10", "THOROUGHFARE_NAME": "HIGH STREET", "POST_TOWN": "DEMOTON", "POSTCODE": "DM1 2AB"}},
                {"DPA": {"UPRN": "200002", "SUB_BUILDING_NAME": "FLAT 1", "BUILDING_NAME": "MILL HOUSE", "THOROUGHFARE_NAME": "MILL LANE", "POST_TOWN": "DEMOTON", "POSTCODE": "DM1 2AB"}},
            ]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def os_places(app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOSPlaces)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(OS_PLACES_API_KEY="test-key", OS_PLACES_URL=f"http://127.0.0.1:{server.server_port}/search/places/v1/postcode", OS_PLACES_TIMEOUT=0.5)
    yield FakeOSPlaces
    FakeOSPlaces.mode = "found"
    server.shutdown()


def test_os_places_found(client_request, professional, os_places):
    client_request.sign_in(professional)
    start_add(client_request)
    page = client_request.get("/send/add-person/address")
    labels = [text(label) for label in page.select(".govuk-radios__label")]
    assert labels == ["10 High Street, Demoton, DM1 2AB", "Flat 1, Mill House, Mill Lane, Demoton, DM1 2AB"]
    client_request.post("/send/add-person/address", {"uprn": "200002"}, expected_status=303)
    person = db.session.scalar(select(Person))
    assert (person.address_line_1, person.address_line_2, person.uprn) == ("Flat 1, Mill House", "Mill Lane", "200002")


@pytest.mark.parametrize("mode, said", [
    ("none", "could not find any addresses"),
    ("bad-postcode", "could not find any addresses"),
    ("error", "not working at the moment"),
    ("slow", "not working at the moment"),
])
def test_os_places_not_found_error_and_timeout_fall_back_to_manual_entry(client_request, professional, os_places, mode, said):
    os_places.mode = mode
    client_request.sign_in(professional)
    start_add(client_request)
    page = client_request.get("/send/add-person/address")
    assert said in text(page)
    assert page.find("a", id="manual-link")


def test_os_places_unreachable_is_a_message_not_a_500():
    provider = OSPlacesProvider("k", "http://127.0.0.1:9/nothing", timeout=0.5)
    result = provider.lookup("DM12AB")
    assert result.addresses == [] and "not working" in result.problem


# --- the child's page and the timeline ----------------------------------------------


def person_with(**dates):
    base = dict(request_received_on=None, assessment_decision_on=None, draft_plan_on=None, final_plan_on=None,
                next_review_on=None, case_status="Request received")
    base.update(dates)
    return SimpleNamespace(**base)


def states(person, today):
    return [(s.name, s.state) for s in ehc_timeline(person, today)]


def test_timeline_states_for_given_dates():
    received = date(2026, 1, 5)
    decision_due = received + timedelta(weeks=6)
    assert states(person_with(), date(2026, 1, 6)) == []
    assert states(person_with(request_received_on=received), date(2026, 1, 10)) == [
        ("Request", "Current"), ("Assessment", "Not started"), ("EHC plan", "Not started"), ("Reviews", "Not started")]
    assert states(person_with(request_received_on=received), decision_due - timedelta(days=3))[0] == ("Request", "Due soon")
    assert states(person_with(request_received_on=received), decision_due + timedelta(days=1))[0] == ("Request", "Overdue")
    decided = person_with(request_received_on=received, assessment_decision_on=received + timedelta(weeks=5), case_status="Assessment in progress")
    assert states(decided, received + timedelta(weeks=8))[:3] == [("Request", "Done"), ("Assessment", "Current"), ("EHC plan", "Current")]
    assert states(decided, received + timedelta(weeks=18, days=4))[1:3] == [("Assessment", "Overdue"), ("EHC plan", "Due soon")]
    issued = person_with(request_received_on=received, assessment_decision_on=received + timedelta(weeks=5),
                         draft_plan_on=received + timedelta(weeks=14), final_plan_on=received + timedelta(weeks=19),
                         next_review_on=date(2027, 5, 1), case_status="EHC plan issued")
    assert states(issued, date(2026, 9, 1)) == [("Request", "Done"), ("Assessment", "Done"), ("EHC plan", "Done"), ("Reviews", "Current")]
    assert states(issued, date(2027, 4, 25))[3] == ("Reviews", "Due soon")
    assert states(issued, date(2027, 5, 2))[3] == ("Reviews", "Overdue")
    steps = ehc_timeline(issued, date(2026, 9, 1))
    assert steps[0].due_on == received + timedelta(weeks=6)
    assert steps[1].due_on == received + timedelta(weeks=16)
    assert steps[2].due_on == received + timedelta(weeks=20)
    not_assessing = person_with(request_received_on=received, assessment_decision_on=received + timedelta(weeks=6), case_status="Not assessing")
    assert [s.state for s in ehc_timeline(not_assessing, date(2026, 5, 1))][1:] == ["Not needed", "Not needed", "Not needed"]


def test_child_page_shows_timeline_as_an_ordered_list_with_text_states(client_request, professional, make_person):
    person = make_person("Amelia", "Jones", professional, case_status="Assessment in progress")
    person.request_received_on = date.today() - timedelta(weeks=10)
    person.assessment_decision_on = date.today() - timedelta(weeks=5)
    db.session.commit()
    client_request.sign_in(professional)
    page = client_request.get(f"/send/people/{person.id}")
    timeline = page.find("ol", class_="app-timeline")
    steps = timeline.find_all("li", class_="app-timeline__step")
    assert [text(s.find("h3")) for s in steps] == ["Request", "Assessment", "EHC plan", "Reviews"]
    assert [text(s.find(class_="govuk-tag")) for s in steps] == ["Done", "Current", "Current", "Not started"]
    assert "Due" in text(steps[1])
    assert page.find("a", string="Edit Person")


def test_child_page_hides_what_the_la_holds_until_authenticated(client_request, professional, make_person):
    person = make_person("Amelia", "Jones", professional, status="awaiting", case_status="EHC plan issued")
    person.request_received_on = date.today() - timedelta(weeks=30)
    db.session.commit()
    client_request.sign_in(professional)
    page = client_request.get(f"/send/people/{person.id}")
    assert page.find("ol", class_="app-timeline") is None
    assert "EHC plan issued" not in text(page)
    assert "Awaiting authentication" in text(page)


def test_edit_person_records_activity_and_audit(client_request, professional, make_person):
    person = make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    page = client_request.get(f"/send/people/{person.id}/edit")
    assert page.find("input", attrs={"name": "given_name"})["value"] == "Amelia"
    assert page.find("input", attrs={"name": "dob_year"})["value"] == "2015"
    response = client_request.post(f"/send/people/{person.id}/edit", {
        "given_name": "Amélie", "family_name": "Jones", "dob_day": "15", "dob_month": "3", "dob_year": "2015",
        "address_line_1": "4 Mill Lane", "town": "Demoton", "postcode": "dm1 2ab"}, expected_status=303)
    assert response.headers["Location"] == f"/send/people/{person.id}?updated=1"
    db.session.refresh(person)
    assert (person.full_name, person.date_of_birth, person.postcode) == ("Amélie Jones", date(2015, 3, 15), "DM1 2AB")
    assert row_names(client_request.get("/send/select-person?q=amelie")) == ["Amélie Jones"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "Person details changed by professional"))
    assert "name from Amelia Jones to Amélie Jones" in entry.details
    assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.person_id == person.id)) == 1
    assert "updated" in text(client_request.get(f"/send/people/{person.id}?updated=1").find(class_="govuk-notification-banner"))


def test_edit_person_validation_and_access(client_request, professional, other_professional, make_person):
    person = make_person("Amelia", "Jones", professional)
    theirs = make_person("Secret", "Child", other_professional)
    client_request.sign_in(professional)
    response = client_request.post(f"/send/people/{person.id}/edit", {"given_name": "", "family_name": "Jones", "dob_day": "40", "dob_month": "1", "dob_year": "2015"}, expected_status=400)
    summary = text(client_request.parse(response).find(class_="govuk-error-summary"))
    assert "Enter the child’s given name" in summary and "real date" in summary
    client_request.get(f"/send/people/{theirs.id}/edit", expected_status=404)
    client_request.post(f"/send/people/{theirs.id}/edit", {"given_name": "Hacked", "family_name": "X", "dob_day": "1", "dob_month": "1", "dob_year": "2015"}, expected_status=404)
    db.session.refresh(theirs)
    assert theirs.given_name == "Secret"
