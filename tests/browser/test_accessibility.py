"""axe-core in a real browser reports nothing on any page, in any state (also
after each htmx swap), and the Select Person page fits 320 CSS px without
scrolling sideways (WCAG 2.2 AA; ENGINEERING "Accessibility")."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import (
    DESKTOP,
    assert_no_axe_violations,
    expect_message,
    expect_status,
    open_select_person,
    release_database,
    screenshot,
    sign_in,
    wait_for_htmx_idle,
)

pytestmark = pytest.mark.browser

ROWS = "#caseload-results tbody th[scope=row]"


def show_view(page, name: str) -> None:
    page.get_by_role("navigation", name="Views").get_by_role("link", name=name, exact=True).click()
    expect(page.locator("#caseload-heading")).to_have_text(name)
    wait_for_htmx_idle(page)


def test_sign_in_and_home_pages(page, professional):
    email = professional.email
    release_database()
    page.goto("/sign-in")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert_no_axe_violations(page, "the sign-in page")

    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_no_axe_violations(page, "the sign-in page with an error")

    sign_in(page, professional)
    expect(page.get_by_role("link", name="Special Educational Needs and Disabilities")).to_be_visible()
    assert_no_axe_violations(page, "the home page")


def test_select_person_in_every_view_and_after_swaps(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    assert_no_axe_violations(page, "Select Person, Active (full page)")

    show_view(page, "Hidden")
    assert_no_axe_violations(page, "Select Person, Hidden (after the swap)")
    show_view(page, "Recent (18 months)")
    assert_no_axe_violations(page, "Select Person, Recent (after the swap)")
    show_view(page, "Active")

    page.get_by_label("Person filter").press_sequentially("jon", delay=20)
    expect_status(page, "2 people found")
    assert_no_axe_violations(page, "Select Person after a filter swap")

    page.get_by_label("Person filter").press_sequentially("xx", delay=20)
    expect_status(page, "No people found")
    assert_no_axe_violations(page, "Select Person with no results")

    page.get_by_label("Person filter").fill("")
    expect_status(page, "4 people found")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "Select at least one person to hide")
    assert_no_axe_violations(page, "Select Person with the 'select at least one' error")

    page.get_by_role("checkbox", name="Select all").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "4 people hidden")
    assert_no_axe_violations(page, "Select Person after a hide (and an empty Active list)")


def test_pages_without_javascript(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    assert_no_axe_violations(page, "Select Person")

    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect(page.get_by_role("button", name="Yes, hide 1 person")).to_be_visible()
    assert_no_axe_violations(page, "the Hide confirmation page")
    page.get_by_role("button", name="Yes, hide 1 person").click()
    expect_message(page, "1 person hidden")
    assert_no_axe_violations(page, "Select Person after a hide")

    page.get_by_label("Select Oliver Brown").check()
    page.get_by_label("Select Zoë Smith-Jones").check()
    page.get_by_role("button", name="Delete Person").click()
    expect(page.get_by_role("button", name="Yes, delete 2 people")).to_be_visible()
    assert_no_axe_violations(page, "the Delete confirmation page")


def test_child_page(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    page.get_by_role("link", name="Amelia Jones").click()
    expect(page.get_by_role("heading", level=1, name="Amelia Jones")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/send/people/{caseload.people['Amelia Jones']}$"))
    assert_no_axe_violations(page, "the child's page")


def page_scroll_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_select_person_fits_desktop_and_320px_without_sideways_scrolling(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    page.set_viewport_size(DESKTOP)
    expect(page.locator(ROWS)).to_have_count(len(caseload.active))
    screenshot(page, "select-person-1280")
    assert page_scroll_width(page) <= 1280

    # 200% zoom of a 1280 px window is 640 CSS px.
    page.set_viewport_size({"width": 640, "height": 900})
    assert page_scroll_width(page) <= 640, "no sideways page scroll at 200% zoom"

    page.set_viewport_size({"width": 320, "height": 640})
    path = screenshot(page, "select-person-320")
    assert path.stat().st_size > 0
    width = page_scroll_width(page)
    assert width <= 320, f"the page scrolls sideways at 320 CSS px (scrollWidth {width})"
    # The controls a person needs are still on screen and usable.
    expect(page.get_by_label("Person filter")).to_be_visible()
    page.get_by_label("Select Amelia Jones").check()
    expect(page.get_by_role("button", name="Hide Person", exact=True)).to_be_visible()
    assert_no_axe_violations(page, "Select Person at 320 px")

    page.get_by_label("Person filter").press_sequentially("zz", delay=20)
    expect_status(page, "No people found")
    assert page_scroll_width(page) <= 320
    screenshot(page, "select-person-320-no-results")
