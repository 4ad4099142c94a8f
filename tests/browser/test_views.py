"""Switching between the Active, Hidden and Recent (18 months) views in a real
browser (SPEC section 2): links in a nav, the current one marked
aria-current="page", each with its own URL, swapped in without a page load,
and the back button, reload and bookmarks show the right view."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import (
    assert_no_axe_violations,
    expect_message,
    expect_status,
    mark_page,
    open_select_person,
    page_was_not_reloaded,
    release_database,
    sign_in,
    wait_for_htmx_idle,
    wait_for_scripts,
)

pytestmark = pytest.mark.browser

ROWS = "#caseload-results tbody th[scope=row]"
VIEW_URLS = {
    "Active": re.compile(r"/send/select-person$"),
    "Hidden": re.compile(r"/send/select-person/hidden$"),
    "Recent (18 months)": re.compile(r"/send/select-person/recent$"),
}


def views_nav(page):
    return page.get_by_role("navigation", name="Views")


def expect_view(page, name: str, rows: list[str]) -> None:
    nav = views_nav(page)
    expect(nav.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current=page]")).to_have_count(1)
    expect(page).to_have_url(VIEW_URLS[name])
    expect(page.locator("#caseload-heading")).to_have_text(name)
    expect(page.locator(ROWS)).to_have_text(rows)
    wait_for_htmx_idle(page)


def test_views_switch_in_place_and_move_aria_current(page, caseload, professional):
    sign_in(page, professional)
    page.goto("/home")
    page.get_by_role("link", name="Special Educational Needs and Disabilities").click()
    expect(page.get_by_role("heading", level=1, name="Select Person")).to_be_visible()
    wait_for_scripts(page)
    expect_view(page, "Active", caseload.active)
    mark_page(page)
    nav = views_nav(page)

    nav.get_by_role("link", name="Hidden").click()
    expect_view(page, "Hidden", caseload.hidden)
    expect(page.get_by_role("button", name="Unhide Person")).to_be_visible()
    expect(page.get_by_role("button", name="Hide Person", exact=True)).to_have_count(0)
    # Focus goes to the new view's heading, not to <body>.
    expect(page.locator("#caseload-heading")).to_be_focused()

    nav.get_by_role("link", name="Recent (18 months)").click()
    expect_view(page, "Recent (18 months)", caseload.recent)
    expect(page.get_by_role("columnheader", name="Last activity")).to_be_visible()
    expect(page.get_by_role("button", name="Hide Person", exact=True)).to_be_visible()

    nav.get_by_role("link", name="Active").click()
    expect_view(page, "Active", caseload.active)
    expect(page.get_by_role("columnheader", name="Case status")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Last activity")).to_have_count(0)

    assert page_was_not_reloaded(page), "switching views must not load a new page"


def test_back_button_and_reload_show_the_right_view(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    mark_page(page)
    nav = views_nav(page)
    nav.get_by_role("link", name="Hidden").click()
    expect_view(page, "Hidden", caseload.hidden)
    nav.get_by_role("link", name="Recent (18 months)").click()
    expect_view(page, "Recent (18 months)", caseload.recent)

    page.go_back()
    expect_view(page, "Hidden", caseload.hidden)
    page.go_back()
    expect_view(page, "Active", caseload.active)
    # htmx's history cache is off: going back loads the full page from the
    # server (children's data is never kept in the browser).
    page.wait_for_load_state("load")
    assert not page_was_not_reloaded(page)
    expect(page.get_by_role("heading", level=1, name="Select Person")).to_be_visible()

    # Nor is any of it kept in localStorage for htmx's history: the only key
    # is the time-out warning's shared end time (a number, shared by tabs).
    keys = page.evaluate("() => Object.keys(localStorage)")
    assert keys in ([], ["sendPortal.sessionEndsAt"]), keys
    assert all(c.isdigit() for c in page.evaluate("() => localStorage.getItem('sendPortal.sessionEndsAt') || '0'"))

    page.go_forward()
    expect_view(page, "Hidden", caseload.hidden)
    page.reload()
    expect_view(page, "Hidden", caseload.hidden)
    expect(page.get_by_role("heading", level=1, name="Select Person")).to_have_count(1)
    expect(page.get_by_label("Person filter")).to_be_visible()


def test_each_view_has_its_own_url_that_loads_directly(page, caseload, professional):
    sign_in(page, professional)
    for name, path, rows in [
        ("Hidden", "/send/select-person/hidden", caseload.hidden),
        ("Recent (18 months)", "/send/select-person/recent", caseload.recent),
        ("Active", "/send/select-person", caseload.active),
    ]:
        open_select_person(page, path)
        expect_view(page, name, rows)
        assert_no_axe_violations(page, f"Select Person, {name} (full page)")


def test_views_work_without_javascript_and_keep_the_filter(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    nav = views_nav(page)
    nav.get_by_role("link", name="Hidden").click()
    expect_view(page, "Hidden", caseload.hidden)
    nav.get_by_role("link", name="Recent (18 months)").click()
    expect_view(page, "Recent (18 months)", caseload.recent)
    nav.get_by_role("link", name="Active").click()
    expect_view(page, "Active", caseload.active)

    # The filter is kept when switching view.
    page.get_by_label("Person filter").fill("jones")
    page.get_by_role("button", name="Filter").click()
    views_nav(page).get_by_role("link", name="Recent (18 months)").click()
    expect(page).to_have_url(re.compile(r"/send/select-person/recent\?q=jones$"))
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones", "Zoë Smith-Jones"])
    expect(page.get_by_label("Person filter")).to_have_value("jones")


def test_filter_typed_is_kept_when_switching_view_with_javascript(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    page.get_by_label("Person filter").press_sequentially("jones", delay=20)
    expect_status(page, "2 people found")
    views_nav(page).get_by_role("link", name="Recent (18 months)").click()
    expect(page.locator("#caseload-heading")).to_have_text("Recent (18 months)")
    wait_for_htmx_idle(page)
    expect(page).to_have_url(re.compile(r"/send/select-person/recent\?q=jones$"), timeout=2_000)
    expect(page.get_by_label("Person filter")).to_have_value("jones", timeout=1_000)
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones", "Zoë Smith-Jones"], timeout=1_000)


def test_page_title_follows_the_view_and_the_filter(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    expect(page).to_have_title(re.compile(r"^Active – Select Person – "))
    views_nav(page).get_by_role("link", name="Hidden").click()
    expect(page.locator("#caseload-heading")).to_have_text("Hidden")
    wait_for_htmx_idle(page)
    expect(page).to_have_title(re.compile(r"^Hidden – Select Person – "), timeout=2_000)
    page.get_by_label("Person filter").press_sequentially("han", delay=20)
    expect_status(page, "1 person found")
    expect(page).to_have_title(re.compile(r"^Hidden, filtered by “han” – Select Person – "), timeout=2_000)


@pytest.fixture
def big_caseload(professional, make_person):
    for n in range(55):
        make_person(f"Child{n:02d}", "Test", professional)
    release_database()


def test_pages_of_fifty_switch_in_place_and_keep_their_url(page, big_caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    expect(page.locator("#caseload-count")).to_have_text("Showing 1 to 50 of 55 people")
    expect(page.locator(ROWS)).to_have_count(50)
    mark_page(page)

    page.get_by_role("navigation", name="Pages of people").get_by_role("link", name="Next page").click()
    expect(page.locator("#caseload-count")).to_have_text("Showing 51 to 55 of 55 people")
    expect(page).to_have_url(re.compile(r"/send/select-person\?page=2$"))
    expect(page.locator(ROWS)).to_have_count(5)
    expect(page.locator("#caseload-heading")).to_be_focused()
    expect(page.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")
    wait_for_htmx_idle(page)
    assert page_was_not_reloaded(page)

    # Hiding on page 2 keeps page 2.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Select Child50 Test").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "1 person hidden")
    expect(page.locator("#caseload-count")).to_have_text("Showing 51 to 54 of 54 people")

    page.go_back()
    expect(page.locator("#caseload-count")).to_have_text("Showing 1 to 50 of 54 people")
    expect(page).to_have_url(re.compile(r"/send/select-person$"))
    page.reload()
    expect(page.locator("#caseload-count")).to_have_text("Showing 1 to 50 of 54 people")
