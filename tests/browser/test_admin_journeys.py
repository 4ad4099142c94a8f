"""The LA admin area (SPEC section 5) in a real browser: verify a registered
professional, authenticate a child a professional added (from the queue,
against the authority's own record), set the child's case status, and read
the audit log filtered by the child's name; with JavaScript and without it,
and by keyboard alone. axe-core checks every page and swapped state.

Without JavaScript the server sends each page the same HTML as with it (it
chooses a partial by the HX-Request header alone), so there axe checks the
states that exist only without scripts (the list reloaded after Verify, the
audit log after Filter is pressed) and the admin home page, not every page again."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from send_portal.extensions import db

from .conftest import release_database, sign_in, wait_for_scripts
from .support import AxeLog, Keyboard, settle

pytestmark = pytest.mark.browser

PENDING = "Rowan Ellis"
ADDED = "Tilly Hargreaves"  # as the professional entered the child
RECORD = "Matilda Hargreaves"  # the authority's own record of the same child
BORN = date(2016, 4, 9)


@pytest.fixture
def admin_world(admin, professional, make_user, make_person):
    make_user("Rowan", "Ellis", verified=False, email="rowan.ellis@school.example", professional_type="early_years")
    record = make_person("Matilda", "Hargreaves", date_of_birth=BORN, case_status="Request received")
    added = make_person("Tilly", "Hargreaves", professional, date_of_birth=BORN, status="awaiting",
                        case_status="Awaiting authentication")
    added.added_by_professional = True
    added.la_reference = None
    db.session.commit()
    ids = {"record": record.id, "added": added.id}
    release_database()
    return ids


def admin_home(page) -> None:
    """By the service name in the header, as a person would."""
    page.get_by_role("region", name="Service information").get_by_role("link", name="SEND Professional Portal").click()
    expect(page.get_by_role("heading", level=1, name="LA admin area")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_admin_verifies_authenticates_sets_status_and_reads_the_audit_log(request, admin, admin_world, javascript):
    page = request.getfixturevalue("page" if javascript else "page_nojs")
    label = "with JavaScript" if javascript else "without JavaScript"
    log = AxeLog()

    def check(state: str, without_javascript_too: bool = False) -> None:
        if javascript or without_javascript_too:
            log.check(page, f"{label}: {state}")

    sign_in(page, admin)
    expect(page.get_by_role("heading", level=1, name="LA admin area")).to_be_visible()
    expect(page.locator("#pending-professionals-count")).to_have_text("1 professional awaiting verification")
    check("the LA admin home page", without_javascript_too=True)

    # 1. Verify the professional who registered.
    page.get_by_role("link", name="Professionals", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Professionals")).to_be_visible()
    if javascript:
        wait_for_scripts(page)
    check("Professionals awaiting verification")
    page.get_by_role("button", name=f"Verify {PENDING}").click()
    expect(page.locator("#admin-message")).to_have_text(f"{PENDING} is verified")
    expect(page.locator("#admin-results-count")).to_have_text("No professionals are awaiting verification.")
    if javascript:
        expect(page.locator("#admin-message")).to_be_focused()
    check("Professionals after a verification", without_javascript_too=True)

    # 2. Authenticate the child the professional added, from the queue.
    admin_home(page)
    page.get_by_role("link", name="Authentication requests", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Authentication requests")).to_be_visible()
    check("Authentication requests")
    page.get_by_role("link", name=re.compile(rf"^{ADDED}\s?, added by Sam Patel$")).click()
    expect(page.get_by_role("heading", level=1, name=ADDED)).to_be_visible()
    check("an authentication request")
    page.get_by_role("button", name="Authenticate").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the matching record, or confirm it is a new record")
    check("an authentication request with an error")
    page.get_by_label(f"{RECORD}, born 9 April 2016").check()
    page.get_by_role("button", name="Authenticate").click()
    expect(page.locator("#admin-message")).to_have_text("Sam Patel is authenticated for the child. They can now see the authority's record.")
    expect(page.locator("#admin-results-count")).to_have_text("No children are awaiting authentication.")
    check("Authentication requests after authenticating")

    # 3. Set the child's case status.
    admin_home(page)
    page.get_by_role("link", name="Find a child").click()
    page.get_by_label("Name or reference").fill("Matilda")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#admin-results-count")).to_have_text("Showing 1 to 1 of 1 person")
    check("Find a child, one found")
    page.get_by_role("link", name=RECORD).click()
    expect(page.get_by_role("heading", level=1, name=RECORD)).to_be_visible()
    check("the child's record")
    page.get_by_role("link", name="Change case status").click()
    expect(page.get_by_role("heading", level=1, name=f"What is {RECORD}’s case status?")).to_be_visible()
    expect(page.get_by_label("Request received")).to_be_checked()
    check("Case status")
    page.get_by_label("Assessment in progress").check()
    page.get_by_role("button", name="Save case status").click()
    expect(page.get_by_role("alert")).to_contain_text("Case status changed to Assessment in progress")
    check("the child's record after a status change")

    # 4. The audit log, filtered by the child's name.
    admin_home(page)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    if javascript:
        wait_for_scripts(page)
    check("the audit log")
    page.get_by_label("Person").fill(RECORD)
    if not javascript:
        page.get_by_role("button", name="Filter").click()
    expect(page.locator("#admin-results-count")).to_have_text("Showing 1 to 2 of 2 entries")
    actions = page.get_by_role("region", name="Audit log entries, newest first").locator("tbody td:nth-child(3)")
    expect(actions).to_have_text([re.compile("^Case status changed"), re.compile("^Authenticated against an existing record")])
    check("the audit log filtered by the child's name", without_javascript_too=True)
    log.assert_clean()


def test_admin_verifies_and_authenticates_by_keyboard_alone(page, admin, admin_world):
    """Tab, Shift+Tab, Enter and Space only. After the in-place verify, focus
    is on the outcome message, never on the page body."""
    sign_in(page, admin)
    wait_for_scripts(page)
    keys = Keyboard(page)
    assert keys.press("Tab")["name"] == "Skip to main content"
    keys.tab_to_name("Professionals", tag="a", exact=True)
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Professionals")).to_be_visible()
    wait_for_scripts(page)

    # The filter comes before the views and the list.
    keys.stops.clear()
    keys.tab_to_name(f"Verify {PENDING}", tag="button")
    names = [s["id"] or s["name"] for s in keys.stops]
    assert names.index("professional-filter") < names.index("Awaiting verification") < names.index(PENDING), names
    keys.press("Enter")
    expect(page.locator("#admin-message")).to_have_text(f"{PENDING} is verified")
    settle(page)
    focus = keys.assert_not_on_body("after verifying in place")
    assert focus["id"] == "admin-message", focus
    # Tabbing on goes forward from the message into what follows it.
    keys.tab_to_name("Awaiting verification", tag="a")

    # Shift+Tab back to the header and the service's home.
    keys.tab_to_name("LA admin area", tag="a", backwards=True)
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1, name="LA admin area")).to_be_visible()
    keys.tab_to_name("Authentication requests", tag="a", exact=True)
    keys.press("Enter")
    keys.tab_to_name(ADDED, tag="a")
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1, name=ADDED)).to_be_visible()

    # Authenticate with nothing chosen: the error links to the choices.
    keys.tab_to_name("Authenticate", tag="button", exact=True)
    keys.press("Enter")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    keys.tab_to_name("Select the matching record", tag="a")
    keys.press("Enter")
    expect(page.locator("#record-0")).to_be_focused()
    keys.press("Space")
    expect(page.get_by_label(f"{RECORD}, born 9 April 2016")).to_be_checked()
    keys.tab_to_name("Authenticate", tag="button", exact=True)
    keys.press("Enter")
    expect(page.locator("#admin-message")).to_have_text("Sam Patel is authenticated for the child. They can now see the authority's record.")

    # The audit log: typing swaps the results and leaves focus in the box.
    page.goto("/admin/audit")
    wait_for_scripts(page)
    keys.tab_to(lambda f: f["id"] == "audit-person")
    keys.type("Matilda")
    expect(page.locator("#admin-results-count")).to_have_text("Showing 1 to 1 of 1 entry")
    expect(page.get_by_label("Person")).to_be_focused()
