"""Team caseloads, cover and leavers (issue 14) in a real browser, with
JavaScript and without it: a member of a sharing organisation switches
between My caseload and Team caseload (links with aria-current, each list
with its own address), filters the team list as they type and switches its
views as partial swaps; a professional sets up "Cover my caseload" and the
colleague works in the "Covering for Given Family" list; the LA hands a
leaver's children over, from the deactivation page, with a confirmation that
states the count. axe-core checks every page and every swapped state."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from send_portal.extensions import db
from send_portal.models import Involvement, User

from ..organisation_support import make_organisation
from .conftest import (
    _SCRIPTLESS_PAGES,
    mark_page,
    open_select_person,
    page_was_not_reloaded,
    release_database,
    sign_in,
    wait_for_htmx_idle,
    wait_for_scripts,
    wait_for_text,
)
from .support import AxeLog

pytestmark = pytest.mark.browser

ROWS = "#caseload-results tbody th[scope=row]"
PROFESSIONAL_CELLS = "#caseload-results tbody td:nth-of-type(3)"
JS = pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])


def browser_page(request, javascript: bool):
    return request.getfixturevalue("page" if javascript else "page_nojs")


@pytest.fixture
def riverside(make_user, make_person):
    """Sam and Priya share Riverside's team caseload; Jordan works elsewhere."""
    now = datetime.now()
    sam = make_user("Sam", "Patel", email="sam.patel@school.example")
    priya = make_user("Priya", "Shah", email="priya.shah@school.example")
    jordan = make_user("Jordan", "Okafor", email="jordan.okafor@eps.example")
    make_organisation("Riverside Primary School", shares=True, members=[sam, priya])
    make_person("Amelia", "Jones", sam, last_activity=now - timedelta(days=3))
    make_person("Oliver", "Brown", sam)
    make_person("Bilal", "Khan", priya, last_activity=now - timedelta(days=1))
    make_person("Zara", "Ahmed", priya)
    make_person("Hana", "Hidaka", priya, hidden=True)
    make_person("Oscar", "Outwith", jordan)
    release_database()
    return sam, priya


def caseloads_nav(page):
    return page.get_by_role("navigation", name="Caseloads")


def expect_list(page, scope: str, view: str, rows: list[str], url: str) -> None:
    """The list shown: its scope and view marked current, its address, its rows."""
    expect(caseloads_nav(page).get_by_role("link", name=scope, exact=True)).to_have_attribute("aria-current", "page")
    expect(caseloads_nav(page).locator("[aria-current=page]")).to_have_count(1)
    views = page.get_by_role("navigation", name="Views")
    expect(views.get_by_role("link", name=view, exact=True)).to_have_attribute("aria-current", "page")
    heading = view if scope == "My caseload" else f"{scope}: {view}"
    expect(page.locator("#caseload-heading")).to_have_text(heading)
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    expect(page.locator(ROWS)).to_have_text(rows)
    wait_for_htmx_idle(page)


@JS
def test_a_member_switches_to_the_team_caseload_filters_it_and_switches_its_views(request, riverside, javascript):
    page = browser_page(request, javascript)
    label = "with JavaScript" if javascript else "without JavaScript"
    log = AxeLog()
    sam, _ = riverside
    sign_in(page, sam)
    open_select_person(page, javascript=javascript)
    expect_list(page, "My caseload", "Active", ["Oliver Brown", "Amelia Jones"], "/send/select-person")
    log.check(page, f"{label}: Select Person with the Caseloads links")
    if javascript:
        mark_page(page)

    caseloads_nav(page).get_by_role("link", name="Team caseload").click()
    expect_list(page, "Team caseload", "Active", ["Zara Ahmed", "Oliver Brown", "Amelia Jones", "Bilal Khan"],
                "/send/team-caseload")
    expect(page.get_by_role("columnheader", name="Professional")).to_be_visible()
    expect(page.locator(PROFESSIONAL_CELLS)).to_have_text(["Priya Shah", "Sam Patel", "Sam Patel", "Priya Shah"])
    expect(page.locator("#caseload-count")).to_have_text("Showing 1 to 4 of 4 people")
    # Hide and Delete are one's own list's; the team's has no Select.
    expect(page.get_by_role("button", name="Hide Person", exact=True)).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page).to_have_title(re.compile("^Team caseload, Active – Select Person"))
    if javascript:
        expect(page.locator("#caseload-heading")).to_be_focused()
    log.check(page, f"{label}: Team caseload" + (" (after the swap)" if javascript else ""))

    views = page.get_by_role("navigation", name="Views")
    views.get_by_role("link", name="Hidden").click()
    expect_list(page, "Team caseload", "Hidden", ["Hana Hidaka"], "/send/team-caseload/hidden")
    expect(page.locator(PROFESSIONAL_CELLS)).to_have_text(["Priya Shah"])
    log.check(page, f"{label}: Team caseload, Hidden" + (" (after the swap)" if javascript else ""))
    views.get_by_role("link", name="Active").click()
    expect_list(page, "Team caseload", "Active", ["Zara Ahmed", "Oliver Brown", "Amelia Jones", "Bilal Khan"],
                "/send/team-caseload")

    box = page.get_by_label("Person filter")
    if javascript:
        box.press_sequentially("kh", delay=30)  # filtered as it is typed
        wait_for_text(page, "#caseload-count", "Showing 1 to 1 of 1 person")
        expect(page).to_have_url(re.compile(r"/send/team-caseload\?q=kh$"))
        expect(box).to_be_focused()
    else:
        box.fill("kh")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"/send/team-caseload\?q=kh$"))
    expect(page.locator(ROWS)).to_have_text(["Bilal Khan"])
    expect(page.locator(PROFESSIONAL_CELLS)).to_have_text(["Priya Shah"])
    log.check(page, f"{label}: Team caseload filtered" + (" (after the swap)" if javascript else ""))

    # The filter stays when the view changes.
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Recent (18 months)").click()
    expect_list(page, "Team caseload", "Recent (18 months)", ["Bilal Khan"], "/send/team-caseload/recent?q=kh")
    expect(page.get_by_role("columnheader", name="Last activity")).to_be_visible()
    log.check(page, f"{label}: Team caseload, Recent, filtered" + (" (after the swap)" if javascript else ""))

    caseloads_nav(page).get_by_role("link", name="My caseload").click()
    expect_list(page, "My caseload", "Active", ["Oliver Brown", "Amelia Jones"], "/send/select-person")
    if javascript:
        assert page_was_not_reloaded(page), "switching caseloads and views must not load a new page"
        # The team list's own address loads the full page, as a bookmark would.
        page.goto("/send/team-caseload/hidden")
        expect(page.get_by_role("heading", level=1, name="Select Person")).to_be_visible()
        expect_list(page, "Team caseload", "Hidden", ["Hana Hidaka"], "/send/team-caseload/hidden")
    log.assert_clean()


@pytest.fixture
def clinic(make_user, make_person):
    """A health team that does not share a caseload: only cover opens Sam's
    children to Priya."""
    sam = make_user("Sam", "Patel", email="sam.patel@clinic.example", professional_type="health")
    priya = make_user("Priya", "Shah", email="priya.shah@clinic.example", professional_type="health")
    make_organisation("Hillside Clinic", shares=False, members=[sam, priya], kind="health", urn=None)
    make_person("Amelia", "Jones", sam)
    make_person("Oliver", "Brown", sam)
    make_person("Bilal", "Khan", priya)
    release_database()
    return sam, priya


def fill_date(page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


@JS
def test_cover_my_caseload_then_the_colleague_works_in_the_covering_list(request, clinic, javascript):
    page = browser_page(request, javascript)
    label = "with JavaScript" if javascript else "without JavaScript"
    log = AxeLog()
    sam, priya = clinic
    sign_in(page, sam)
    open_select_person(page, javascript=javascript)
    page.get_by_role("link", name="Cover my caseload").click()
    expect(page.get_by_role("heading", level=1, name="Cover my caseload")).to_be_visible()
    log.check(page, f"{label}: Cover my caseload")

    page.get_by_role("button", name="Give cover").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose the colleague who will cover for you")
    expect(summary).to_contain_text("Enter the date cover starts")
    expect(page).to_have_title(re.compile("^Error: Cover my caseload"))
    log.check(page, f"{label}: Cover my caseload with errors")

    today = date.today()
    page.get_by_label("Colleague who covers for you").select_option(label="Priya Shah (priya.shah@clinic.example)")
    fill_date(page, "From", today)
    fill_date(page, "To", today + timedelta(days=7))
    page.get_by_role("button", name="Give cover").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Priya Shah will cover your caseload from {today:%-d %B %Y} to {today + timedelta(days=7):%-d %B %Y}.")
    given = page.get_by_role("table", name="Cover of your caseload")
    expect(given.locator("tbody tr")).to_have_count(1)
    expect(given.locator("tbody tr td").nth(4)).to_have_text("Current")
    expect(given.get_by_role("button", name="End cover of Sam Patel’s caseload by Priya Shah")).to_be_visible()
    log.check(page, f"{label}: Cover my caseload after giving cover")

    # Priya, in another browser session, now has Sam's list beside her own.
    colleague = page.context.browser.new_page(base_url=page.url.split("/send")[0], java_script_enabled=javascript,
                                               viewport=page.viewport_size, locale="en-GB")
    if not javascript:
        _SCRIPTLESS_PAGES.add(colleague)  # axe checks a script-free copy
    try:
        sign_in(colleague, priya)
        open_select_person(colleague, javascript=javascript)
        nav = caseloads_nav(colleague)
        expect(nav.get_by_role("link")).to_have_text(["My caseload", "Covering for Sam Patel"])
        if javascript:
            mark_page(colleague)
        nav.get_by_role("link", name="Covering for Sam Patel").click()
        expect(nav.get_by_role("link", name="Covering for Sam Patel")).to_have_attribute("aria-current", "page")
        expect(colleague.locator("#caseload-heading")).to_have_text("Covering for Sam Patel: Active")
        expect(colleague).to_have_url(re.compile(r"/send/covering/\d+$"))
        expect(colleague.locator(ROWS)).to_have_text(["Oliver Brown", "Amelia Jones"])
        expect(colleague.get_by_role("columnheader", name="Professional")).to_have_count(0)
        expect(colleague.get_by_text("recorded as done by you, under cover")).to_be_visible()
        if javascript:
            expect(colleague.locator("#caseload-heading")).to_be_focused()
            assert page_was_not_reloaded(colleague)
        log.check(colleague, f"{label}: Covering for Sam Patel" + (" (after the swap)" if javascript else ""))
        colleague.get_by_role("link", name="Amelia Jones").click()
        expect(colleague.get_by_role("heading", level=1, name="Amelia Jones")).to_be_visible()
        log.check(colleague, f"{label}: a covered child's page")
    finally:
        colleague.context.close()

    # Sam ends the cover sooner: Priya's list goes.
    page.get_by_role("button", name="End cover of Sam Patel’s caseload by Priya Shah").click()
    expect(page.get_by_role("alert")).to_contain_text("Priya Shah no longer covers your caseload.")
    expect(page.get_by_role("table", name="Cover of your caseload").locator("tbody tr td").nth(4)).to_have_text("Ended")
    log.check(page, f"{label}: Cover my caseload after ending cover")
    log.assert_clean()


@pytest.fixture
def leaver_school(make_user, make_person, admin):
    lena = make_user("Lena", "Leftearly", email="lena.leftearly@school.example")
    sam = make_user("Sam", "Patel", email="sam.patel@school.example")
    make_organisation("Riverside Primary School", shares=False, members=[lena, sam])
    make_person("Amelia", "Jones", lena)
    make_person("Bilal", "Khan", lena, hidden=True)
    ids = lena.id, sam.id  # read now: the server thread writes while the test waits
    release_database()
    return ids


def test_the_la_hands_a_leaver_over_from_the_deactivation_page(page, admin, leaver_school):
    """The hand-over pages have no htmx (plain forms and links), so one run
    with scripts checks them; the error and confirmation states are axe-checked too."""
    log = AxeLog()
    lena_id, sam_id = leaver_school
    sign_in(page, admin)
    page.goto(f"/admin/professionals/{lena_id}")
    page.get_by_role("button", name="Deactivate account").click()  # a link styled and named as a button
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to deactivate Lena Leftearly’s account?")
    log.check(page, "Deactivate a professional with children (offers the hand-over)")
    page.get_by_role("link", name="Hand over Lena Leftearly’s children to colleagues").click()
    expect(page.get_by_role("heading", level=1, name="Hand over Lena Leftearly’s children")).to_be_visible()
    expect(page.get_by_text("Lena Leftearly has 2 children to hand over.")).to_be_visible()
    log.check(page, "Hand over a leaver's children")

    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the colleague who takes over every child")
    log.check(page, "Hand over a leaver's children, with an error")

    page.get_by_label("Colleague", exact=True).select_option(label="Sam Patel")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand over 2 children from Lena Leftearly?")
    who = page.get_by_role("table", name="Who takes over")
    expect(who.locator("tbody th")).to_have_text(["Amelia Jones", "Bilal Khan"])
    expect(who.locator("tbody td")).to_have_text(["Sam Patel", "Sam Patel"])
    log.check(page, "Hand over: the confirmation stating the count")

    page.get_by_role("button", name="Yes, hand over 2 children and deactivate the account").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "2 children handed over. Lena Leftearly’s account is deactivated and signed out.")
    expect(page).to_have_url(re.compile(rf"/admin/professionals/{lena_id}$"))
    log.check(page, "The leaver's page after the hand-over")
    db.session.expire_all()
    owners = set(db.session.scalars(select(Involvement.professional_id)))
    assert owners == {sam_id}
    assert db.session.get(User, lena_id).is_deactivated
    release_database()
    log.assert_clean()
