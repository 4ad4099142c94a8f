"""The statutory clock (issue 15) in a real browser: an LA admin opens it from
the admin home page, filters it with JavaScript (an htmx swap: the address
pushed, focus on the results heading, the count announced) and without it (a
full page), follows a status count, and opens the SEN2 export's error state.
axe-core checks the page, each swapped state and the SVG pictures."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from send_portal.clock import deadlines as dl
from send_portal.extensions import db

from .conftest import release_database, sign_in, wait_for_scripts
from .support import AxeLog

pytestmark = pytest.mark.browser


@pytest.fixture
def clock_world(admin, make_person):
    today = dl.london_today()
    for name, days, status in (("Olly Overdue", 50, "Deciding whether to assess"), ("Tara Track", 10, "Deciding whether to assess"),
                               ("Asha Assess", 60, "Assessment in progress")):
        given, family = name.split()
        person = make_person(given, family, case_status=status)
        person.request_received_on = today - timedelta(days=days)
        if status == "Assessment in progress":
            person.assessment_decision_on = today - timedelta(days=30)
            person.assessment_outcome = "assess"
    db.session.commit()
    release_database()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_the_admin_filters_the_clock(request, admin, clock_world, javascript):
    page = request.getfixturevalue("page" if javascript else "page_nojs")
    label = "with JavaScript" if javascript else "without JavaScript"
    log = AxeLog()
    sign_in(page, admin)
    page.get_by_role("link", name="Statutory clock").click()
    expect(page.get_by_role("heading", level=1, name="Statutory clock")).to_be_visible()
    if javascript:
        wait_for_scripts(page)
    expect(page.locator("#clock-count")).to_have_text("Showing 1 to 3 of 3 children, next deadline first")
    expect(page.get_by_role("img", name="Open cases by week of the 20")).to_be_visible()
    log.check(page, f"{label}: the clock")

    page.get_by_label("Stage").select_option(label="Deciding whether to assess")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#clock-count")).to_have_text("Showing 1 to 2 of 2 children, next deadline first")
    expect(page).to_have_url(re.compile(r"/admin/clock\?stage=request"))
    rows = page.locator("#clock-results tbody th[scope=row] a")
    expect(rows).to_have_text(["Olly Overdue", "Tara Track"])
    expect(page.locator("#clock-results tbody tr").first.locator("td").nth(3)).to_have_text("Overdue")
    if javascript:
        expect(page.locator("#clock-heading")).to_be_focused()
        expect(page.locator("#clock-status")).to_have_text("2 children found")
        expect(page).to_have_title(re.compile(r"^Statutory clock, filtered – "))
    log.check(page, f"{label}: filtered by stage")

    page.get_by_role("link", name="Overdue: 1").click()
    expect(rows).to_have_text(["Olly Overdue"])
    log.check(page, f"{label}: Overdue only")

    if javascript:  # back to the unfiltered list through history: the whole page again
        page.go_back()
        page.go_back()
        expect(page.locator("#clock-count")).to_have_text("Showing 1 to 3 of 3 children, next deadline first")

    page.goto("/admin/clock/sen2?census-day=31&census-month=2&census-year=2026")
    expect(page.get_by_role("heading", level=1, name="SEN2 export")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The census date must be a real date")
    log.check(page, f"{label}: the SEN2 export's error")
    log.assert_clean()
