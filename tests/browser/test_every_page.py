"""axe-core (WCAG 2.2 A and AA, and the best-practice rule that all content
is inside a landmark) finds nothing on any page a user can reach,
in any state: signed out, as a verified SENCo, as a professional still
awaiting verification and as an LA admin; each form's error state; the
admin lists after their htmx swaps; and the EHC timeline in each state.
Each page reached is also checked at 320 CSS px (no sideways scrolling,
nothing cut off: 1.4.10) and for 24 px targets (2.5.8) at both widths.

Pages are found by following links from the demo authority (the `demo-data`
command), as tests/test_html_validity.py does with the test client, so a
new page is checked without anyone listing it."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from send_portal.demo import DEMO_PASSWORD

from ..organisation_support import demo_team_starts
from ..test_notifications import add_notifications_and_due_forms
from .conftest import release_database, sign_in, wait_for_scripts
from .support import (
    DEMO_ADMIN,
    DEMO_SENCO,
    DEMO_UNVERIFIED,
    AxeLog,
    DemoUser,
    add_awaiting_child,
    crawl,
    forms_page_with_a_draft,
    layout_problems,
    seed_demo,
    set_timeline,
    settle,
    submit_forms_empty,
)

pytestmark = pytest.mark.browser

SIGNED_OUT_STARTS = ["/sign-in", "/register", "/accessibility", "/no-such-page",
                     "/forgot-password/sent", "/reset-password/done", "/reset-password/expired-link"]
# Where each kind of user starts; links lead on from there. The empty
# results and error states that no link leads to are listed here.
PROFESSIONAL_STARTS = [
    "/home", "/send/select-person", "/send/select-person/hidden", "/send/select-person/recent",
    "/send/select-person?q=zzzz", "/send/select-person?page=2", "/send/add-person", "/admin/",
    "/account/two-factor",  # set-up (its QR code); the sign-in code pages: tests/browser/test_two_factor.py
] + SIGNED_OUT_STARTS
ADMIN_STARTS = [
    "/home", "/admin/professionals?q=zzzz", "/admin/authentication-requests/deleted", "/admin/people?q=zzzz",
    "/admin/audit?person=zzzz", "/admin/audit?from=31/2/2026", "/admin/inbox?status=accepted", "/send/select-person",
    "/admin/clock?status=at_risk&professional=nobody@example.com", "/admin/clock/sen2?census-day=31&census-month=2&census-year=2026",
] + SIGNED_OUT_STARTS


@pytest.fixture
def demo(app):
    seed_demo(app)


@pytest.mark.parametrize(
    "email,starts",
    [(None, SIGNED_OUT_STARTS), (DEMO_SENCO.email, PROFESSIONAL_STARTS),
     (DEMO_UNVERIFIED.email, PROFESSIONAL_STARTS), (DEMO_ADMIN.email, ADMIN_STARTS)],
    ids=["signed-out", "senco", "unverified-professional", "la-admin"],
)
def test_every_reachable_page_and_its_error_states_pass_axe_and_reflow(demo, page, email, starts):
    who = email or "signed out"
    # WCAG 2.2 A and AA, and the best-practice region rule: nothing outside a landmark.
    log = AxeLog(best_practice=True)
    layout: dict[str, list[str]] = {}
    if email == DEMO_SENCO.email:
        starts = [forms_page_with_a_draft(email)] + starts  # Continue and Delete draft, too
    if email == DEMO_ADMIN.email:  # the queue, a request, Decline
        add_awaiting_child(DEMO_SENCO.email, "Oisín", "Nowak", date(2014, 6, 1))
    if email:  # the Due list and the notifications page, not empty
        add_notifications_and_due_forms(email)
        starts = starts + ["/notifications"]
    starts = starts + demo_team_starts(email)  # team caseload, cover, organisations, hand-over (issue 14)
    release_database()
    if email:
        sign_in(page, DemoUser(email), DEMO_PASSWORD)

    def visit(page, url, status):
        assert status < 500, f"{who}: {url} answered {status}"
        log.check(page, f"{who}: GET {url} ({status})")
        for problem in layout_problems(page):
            layout.setdefault(problem, []).append(url)

    urls = crawl(page, starts, visit, limit=60, per_pattern=2)
    assert len(urls) >= (3 if email is None else 6), urls
    submitted = submit_forms_empty(page, urls, lambda p, label: log.check(p, f"{who}: {label}"))
    assert submitted, "no POST form was found to submit empty"
    assert not layout, f"{who}: reflow or target size problems:\n" + "\n".join(
        f"- {problem}: on {len(urls)} page(s), such as {', '.join(urls[:3])}" for problem, urls in layout.items())
    log.assert_clean()


def focus_id(page) -> str:
    settle(page)
    return page.evaluate("() => document.activeElement === document.body ? 'body' : (document.activeElement.id || document.activeElement.tagName)")


def test_admin_lists_after_each_htmx_swap(demo, page):
    """The admin area's filters, view links and pages swap results in place;
    axe checks each swapped state, and focus is where the swap puts it (the
    results heading, the box being typed in, the error summary), never the body."""
    log = AxeLog()
    sign_in(page, DEMO_ADMIN, DEMO_PASSWORD)

    page.goto("/admin/professionals")
    wait_for_scripts(page)
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Verified", exact=True).click()
    expect(page.locator("#admin-results-heading")).to_have_text("Verified")
    assert focus_id(page) == "admin-results-heading"
    log.check(page, "Professionals, Verified view (after the swap)")
    page.get_by_label("Professional filter").press_sequentially("zzz", delay=10)
    expect(page.locator("#admin-results-count")).to_contain_text("No professionals found")
    assert focus_id(page) == "professional-filter"
    log.check(page, "Professionals filtered to nothing (after the swap)")

    page.goto("/admin/people")
    wait_for_scripts(page)
    page.get_by_role("navigation", name="Pages of people").get_by_role("link", name="Page 2").click()
    expect(page.locator("#admin-results-count")).to_contain_text("Showing 51 to")
    assert focus_id(page) == "admin-results-heading"
    log.check(page, "Find a child, page 2 (after the swap)")

    page.goto("/admin/audit")
    wait_for_scripts(page)
    page.get_by_label("Person").press_sequentially("zzzz", delay=10)
    expect(page.locator("#admin-results-count")).to_have_text("No entries match these filters.")
    assert focus_id(page) == "audit-person"
    log.check(page, "Audit log filtered to nothing (after the swap)")
    page.get_by_label("Date from").fill("99/99/2026")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert focus_id(page) == "error-summary-title"
    log.check(page, "Audit log with a date error (after the swap)")

    involvement = add_awaiting_child(DEMO_SENCO.email, "Oisín", "Nowak", date(2014, 6, 1))
    release_database()
    page.goto(f"/admin/authentication-requests/{involvement}")
    expect(page.get_by_role("button", name="Authenticate")).to_be_visible()
    wait_for_scripts(page)
    page.get_by_role("searchbox", name=re.compile("^Search .* records$")).fill("a")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#admin-status")).to_contain_text("found for “a”")
    assert focus_id(page) != "body", "focus is lost after searching the authority's records"
    log.check(page, "An authentication request after a record search (after the swap)")
    log.assert_clean()


TIMELINE_STATES = ["Done", "Current", "Due soon", "Overdue", "Not needed"]


def test_the_ehc_timeline_in_each_state(page, professional, make_person):
    """The child's page with the timeline's current step done, current, due
    soon, overdue (and a step not needed), each said in text as well as colour."""
    log = AxeLog()
    people = {}
    for n, state in enumerate(TIMELINE_STATES):
        person = make_person("Timeline", f"Child{chr(65 + n)}", professional)
        set_timeline(person, state)
        people[state] = person.id
    nobody = make_person("Timeline", "Norequest", professional).id
    awaiting = make_person("Timeline", "Awaiting", professional, status="awaiting", case_status="Awaiting authentication").id
    release_database()
    sign_in(page, professional)
    for state, person_id in people.items():
        page.goto(f"/send/people/{person_id}")
        timeline = page.get_by_role("list", name="EHC timeline")
        expect(timeline).to_be_visible()
        tags = timeline.locator(".govuk-tag").all_inner_texts()
        assert state in tags, f"the timeline for {state} shows {tags}"
        log.check(page, f"the child's page, timeline with a step {state}")
    page.goto(f"/send/people/{nobody}")
    expect(page.get_by_text("No request for an EHC needs assessment has been recorded for Timeline.")).to_be_visible()
    log.check(page, "the child's page, no request recorded")
    page.goto(f"/send/people/{awaiting}")
    expect(page.locator(".govuk-inset-text")).to_contain_text("has not yet confirmed")
    log.check(page, "the child's page, awaiting authentication (no timeline)")
    log.assert_clean()
