"""Defects found by the accessibility review of this session's change: the
Select labels of SPEC section 7, the statutory clock's filter form and count
links, the hand-over form's errors, hand-built error summaries and titles
that repeated the service name. Checked as a user's browser gets the pages."""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup

from bench.floor import render_rows
from send_portal.extensions import db

from .conftest import text
from .organisation_support import make_organisation

SERVICE = "SEND Professional Portal"


def select_labels(page) -> dict[str, str]:
    return {box["value"]: text(page.find("label", attrs={"for": box["id"]}))
            for box in page.find_all("input", attrs={"name": "person_id"})}


def flash_error(client_request, message: str) -> None:
    """What a redirect after a refused action leaves for the next page."""
    with client_request.client.session_transaction() as session:
        session["_flashes"] = [("error", message)]


def assert_error_summary_pattern(page, message: str) -> None:
    """GOV.UK's error summary: announced (role=alert), focused when the page
    loads, and the page title starts with "Error: "."""
    summaries = page.select(".govuk-error-summary")
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary["tabindex"] == "-1" and summary.has_attr("autofocus")
    assert summary.find(attrs={"role": "alert"}) is not None
    assert text(summary.select_one(".govuk-error-summary__title")) == "There is a problem"
    assert message in text(summary.select_one(".govuk-error-summary__list"))
    assert page.title.string.startswith("Error: ")


# --- 1. Select labels: "Select Given Family"; the date of birth only where a name repeats --------


@pytest.mark.parametrize("htmx", [False, True])
def test_select_labels_add_the_date_of_birth_only_where_the_name_repeats_on_the_page(
        client_request, professional, make_person, htmx):
    amelia = make_person("Amelia", "Jones", professional)
    first = make_person("Grace", "O'Brien", professional, date_of_birth=date(2015, 3, 3))
    second = make_person("Grace", "O'Brien", professional, date_of_birth=date(2016, 5, 4))
    # Names are compared exactly as written: "grace o'brien" is another name.
    lower = make_person("grace", "o'brien", professional, date_of_birth=date(2017, 1, 2))
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person", htmx=htmx)
    assert select_labels(page) == {
        str(amelia.id): "Select Amelia Jones",
        str(first.id): "Select Grace O'Brien, born 3 March 2015",
        str(second.id): "Select Grace O'Brien, born 4 May 2016",
        str(lower.id): "Select grace o'brien",
    }


def test_a_filter_that_leaves_one_of_two_namesakes_drops_the_date_of_birth(client_request, professional, make_person):
    make_person("Grace", "O'Brien", professional, date_of_birth=date(2015, 3, 3))
    make_person("Grace", "O'Brien", professional, date_of_birth=date(2016, 5, 4), hidden=True)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person")
    assert list(select_labels(page).values()) == ["Select Grace O'Brien"]


def test_the_benchmark_floor_names_its_checkboxes_as_the_portal_does():
    rows = [
        (1, "Amelia", "Jones", date(2015, 3, 14), "No open case", None),
        (2, "Grace", "O'Brien", date(2015, 3, 3), "No open case", None),
        (3, "Grace", "O'Brien", date(2016, 5, 4), "No open case", None),
    ]
    page = BeautifulSoup(render_rows("active", "", 3, 1, rows), "html.parser")
    names = {box["value"]: box["aria-label"] for box in page.find_all("input", attrs={"name": "person_id"})}
    assert names == {
        "1": "Select Amelia Jones",
        "2": "Select Grace O'Brien, born 3 March 2015",
        "3": "Select Grace O'Brien, born 4 May 2016",
    }


# --- 2. The statutory clock's filter form and count links ------------------------------------------


def test_the_clock_filter_form_leaves_validation_to_the_server(client_request, admin):
    client_request.sign_in(admin)
    page = client_request.get("/admin/clock")
    form = page.find("form", attrs={"role": "search"})
    assert form.has_attr("novalidate")
    box = page.find(id="clock-professional")
    assert (box["type"], box["inputmode"], box["autocomplete"]) == ("text", "email", "off")
    # Any text is answered by the server, not by a browser bubble.
    page = client_request.get("/admin/clock?professional=not+an+address")
    assert text(page.select_one("#clock-count")) == "No children found. Try fewer filters."


def test_the_clock_count_links_mark_the_current_status_filter(client_request, admin):
    client_request.sign_in(admin)
    links = client_request.get("/admin/clock").select("#clock-counts a")
    assert len(links) == 4 and not any(a.has_attr("aria-current") for a in links)
    assert "(current filter)" not in text(client_request.get("/admin/clock").select_one("#clock-counts"))
    for htmx in (False, True):
        links = client_request.get("/admin/clock?status=overdue", htmx=htmx).select("#clock-counts a")
        current = [a for a in links if a.get("aria-current") == "true"]
        assert [text(a) for a in current] == ["Overdue: 0 (current filter)"]
        assert "govuk-visually-hidden" in current[0].span["class"]
        assert all("(current filter)" not in text(a) for a in links if a is not current[0])


# --- 3. The hand-over form's errors ---------------------------------------------------------------


@pytest.fixture
def leaver(make_user, make_person):
    lee = make_user("Lee", "Leaving", email="lee.leaving@school.example")
    sam = make_user("Sam", "Patel", email="sam.patel@school.example")
    make_organisation("Riverside Primary School", shares=False, members=[lee, sam])
    make_person("Amelia", "Jones", professional=lee)
    return lee


def test_the_hand_over_mode_error_is_described_by_its_fieldset(client_request, admin, leaver):
    client_request.sign_in(admin)
    response = client_request.post(f"/admin/professionals/{leaver.id}/hand-over", {}, expected_status=400)
    page = client_request.parse(response)
    error = page.find(id="mode-error")
    fieldset = error.find_parent("fieldset")
    assert "mode-error" in fieldset["aria-describedby"].split()
    assert "govuk-form-group--error" in fieldset.find_parent("div")["class"]
    # Before the error, nothing to describe.
    form = client_request.get(f"/admin/professionals/{leaver.id}/hand-over")
    assert not form.find(id="mode-one").find_parent("fieldset").has_attr("aria-describedby")


@pytest.mark.parametrize("data, field", [
    ({"mode": "one", "colleague": ""}, "colleague"),
    ({"mode": "each"}, "colleague-"),
])
def test_a_hand_over_select_with_an_error_is_marked_as_one(client_request, admin, leaver, data, field):
    client_request.sign_in(admin)
    response = client_request.post(f"/admin/professionals/{leaver.id}/hand-over", data, expected_status=400)
    page = client_request.parse(response)
    marked = [s["id"] for s in page.find_all("select") if "govuk-select--error" in s["class"]]
    assert len(marked) == 1 and (marked[0] == field if field == "colleague" else marked[0].startswith(field))
    select = page.find(id=marked[0])
    assert select["aria-describedby"] == f"{marked[0]}-error" and page.find(id=f"{marked[0]}-error")
    form = client_request.get(f"/admin/professionals/{leaver.id}/hand-over")
    assert not [s for s in form.find_all("select") if "govuk-select--error" in s["class"]]


# --- 4. and 5. Error summaries after the pattern, titles without the service name twice ------------


def test_the_sen2_error_summary_follows_the_pattern(client_request, admin):
    client_request.sign_in(admin)
    response = client_request.get_response("/admin/clock/sen2?census-day=31&census-month=2&census-year=2026")
    assert response.status_code == 400
    page = client_request.parse(response)
    assert_error_summary_pattern(page, "")
    assert page.select_one(".govuk-error-summary__list a")["href"] == "#census-day"


def test_a_cover_page_error_is_an_error_summary_and_its_title_names_the_service_once(
        client_request, professional, other_professional):
    make_organisation("Hillside Clinic", shares=False, members=[professional, other_professional],
                      kind="health", urn=None)
    client_request.sign_in(professional)
    page = client_request.get("/send/cover")
    assert page.title.string.count(SERVICE) == 1 and "– Professional Portal –" not in page.title.string
    assert page.title.string.startswith("Cover my caseload – ")
    flash_error(client_request, "That cover has already ended.")
    page = client_request.get("/send/cover")
    assert_error_summary_pattern(page, "That cover has already ended.")
    assert page.title.string.startswith("Error: Cover my caseload – ") and page.title.string.count("Error:") == 1


def test_a_refused_cover_form_keeps_one_error_summary(client_request, professional, other_professional):
    make_organisation("Hillside Clinic", shares=False, members=[professional, other_professional],
                      kind="health", urn=None)
    client_request.sign_in(professional)
    response = client_request.post("/send/cover", {"colleague": ""}, expected_status=400)
    page = client_request.parse(response)
    assert_error_summary_pattern(page, "Choose the colleague who will cover for you")
    assert page.title.string.count("Error:") == 1


def test_the_lead_page_error_is_an_error_summary_and_its_title_names_the_service_once(
        client_request, professional, other_professional):
    make_organisation("Riverside Primary School", shares=False, members=[professional, other_professional])
    professional.is_organisation_lead = True
    db.session.commit()
    client_request.sign_in(professional)
    page = client_request.get("/send/organisation")
    assert page.title.string.startswith("Riverside Primary School – ") and page.title.string.count(SERVICE) == 1
    assert "– Professional Portal –" not in page.title.string and page.select_one(".govuk-error-summary") is None
    flash_error(client_request, "Choose a colleague for each child.")
    page = client_request.get("/send/organisation")
    assert_error_summary_pattern(page, "Choose a colleague for each child.")


def test_the_account_page_error_is_an_error_summary(client_request, professional):
    client_request.sign_in(professional)
    flash_error(client_request, "The council requires two-factor sign-in for your account: you cannot turn it off.")
    page = client_request.get("/account")
    assert_error_summary_pattern(page, "you cannot turn it off")
    assert page.select(".govuk-notification-banner") == []
    page = client_request.get("/account")
    assert page.select_one(".govuk-error-summary") is None and not page.title.string.startswith("Error:")
