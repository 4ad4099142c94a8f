"""The SEN2 export (issue 15, part 6): the person-level fields the clock
uses, for a census date, as CSV; the census date form's errors."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from send_portal.clock import deadlines as dl
from send_portal.extensions import db

from .conftest import text

CENSUS = date(2026, 1, 15)


@pytest.fixture
def census_today(monkeypatch):
    monkeypatch.setattr(dl, "london_today", lambda now=None: date(2026, 3, 2))


def _person(make_person, name, status="EHC plan issued", **dates):
    given, family = name.split(" ", 1)
    person = make_person(given, family, case_status=status)
    for attribute, value in dates.items():
        setattr(person, attribute, value)
    db.session.commit()
    return person


def _export(client_request, day, month, year):
    response = client_request.get_response(f"/admin/clock/sen2?census-day={day}&census-month={month}&census-year={year}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert 'filename="sen2-' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    return {r["Forename"] + " " + r["Surname"]: r for r in rows}


def test_the_export_holds_the_years_requests_and_the_plans_in_force(client_request, admin, make_person, census_today):
    _person(make_person, "Late Plan", request_received_on=date(2025, 6, 2), assessment_decision_on=date(2025, 7, 10),
            assessment_outcome="assess", draft_plan_on=date(2025, 9, 1), final_plan_on=date(2025, 11, 3),
            twenty_week_exception_reason="C")
    _person(make_person, "Not Assessed", status="Not assessing", request_received_on=date(2025, 3, 3),
            assessment_decision_on=date(2025, 4, 10), assessment_outcome="not_assess")
    _person(make_person, "Old Plan", request_received_on=date(2019, 1, 7), final_plan_on=date(2019, 5, 20))
    _person(make_person, "Ceased Plan", status="Plan ceased", request_received_on=date(2019, 1, 7), final_plan_on=date(2019, 5, 20))
    _person(make_person, "After Census", request_received_on=date(2026, 2, 1))
    _person(make_person, "In Progress", status="Assessment in progress", request_received_on=date(2025, 12, 1),
            assessment_decision_on=date(2026, 1, 20), assessment_outcome="assess")
    _person(make_person, "Overdue Case", status="Assessment in progress", request_received_on=date(2025, 8, 1))
    client_request.sign_in(admin)
    rows = _export(client_request, 15, 1, 2026)
    assert set(rows) == {"Late Plan", "Not Assessed", "Old Plan", "In Progress", "Overdue Case"}
    late = rows["Late Plan"]
    assert late["Request received date"] == "2025-06-02"
    assert late["Assessment outcome"] == "Assess" and late["Assessment outcome date"] == "2025-07-10"
    assert late["EHC plan start date"] == "2025-11-03"
    assert late["Within 20 weeks"] == "No"
    assert late["20-week exception"] == "C"
    assert late["20-week exception reason"] == dl.EXCEPTION_REASONS["C"]
    assert rows["Not Assessed"]["Assessment outcome"] == "Not assess" and rows["Not Assessed"]["Within 20 weeks"] == ""
    assert rows["Old Plan"]["Within 20 weeks"] == "Yes"
    # As known on the census date: the decision of 20 January is left out.
    assert rows["In Progress"]["Assessment outcome"] == "" and rows["In Progress"]["Assessment outcome date"] == ""
    assert rows["Overdue Case"]["Within 20 weeks"] == "No"  # week 20 was 19 December 2025


def test_the_export_defuses_formulas(client_request, admin, make_person, census_today):
    _person(make_person, "@SUM(A1) -Minus", request_received_on=date(2025, 6, 2))
    client_request.sign_in(admin)
    response = client_request.get_response("/admin/clock/sen2?census-day=15&census-month=1&census-year=2026")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][3] == "'@SUM(A1)" and rows[1][4] == "'-Minus"


def test_the_form_page(client_request, admin, census_today):
    client_request.sign_in(admin)
    page = client_request.get("/admin/clock/sen2")
    assert text(page.h1) == "SEN2 export"
    assert page.find("legend", string="Census date")
    assert [i["name"] for i in page.select("form input")] == ["census-day", "census-month", "census-year"]


@pytest.mark.parametrize("day, month, year, message, target", [
    ("", "", "", "Enter the census date", "census-day"),
    ("15", "", "2026", "The census date must include a month", "census-month"),
    ("31", "2", "2026", "The census date must be a real date, for example 16 1 2025", "census-day"),
    ("1", "1", "26", "The census date must be a real date, for example 16 1 2025", "census-day"),
    ("x", "1", "2026", "The census date must be a real date, for example 16 1 2025", "census-day"),
    ("1", "1", "2027", "The census date must be today or in the past", "census-day"),
])
def test_a_bad_census_date_is_a_400_with_the_error_summary(client_request, admin, census_today, day, month, year, message, target):
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/clock/sen2?census-day={day}&census-month={month}&census-year={year}", expected_status=400)
    link = page.select_one(".govuk-error-summary a")
    assert text(link) == message and link["href"] == f"#{target}"
    assert page.find(id=target)
    assert page.title.string.startswith("Error: SEN2 export")


@pytest.mark.parametrize("year", ["0001", "0100", "1999", "2101", "9999"])
def test_a_census_year_outside_2000_to_2100_is_a_400_not_a_500(client_request, admin, census_today, year):
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/clock/sen2?census-day=1&census-month=1&census-year={year}", expected_status=400)
    link = page.select_one(".govuk-error-summary a")
    assert text(link) == "The census year must be between 2000 and 2100" and link["href"] == "#census-year"
    assert page.find(id="census-year")["value"] == year


def test_the_census_year_2000_is_accepted(client_request, admin, census_today):
    client_request.sign_in(admin)
    assert _export(client_request, "1", "1", "2000") == {}
