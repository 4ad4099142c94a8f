"""Signing in and out, and a session that expires while htmx is at work
(SPEC sections 1 and 7; ENGINEERING "htmx rules")."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..conftest import PASSWORD
from .conftest import mark_page, open_select_person, page_was_not_reloaded, sign_in

pytestmark = pytest.mark.browser

ROWS = "#caseload-results tbody th[scope=row]"


def test_expired_session_during_a_filter_goes_to_the_sign_in_page(page, caseload, professional):
    email = professional.email
    sign_in(page, professional)
    open_select_person(page)
    mark_page(page)

    page.context.clear_cookies()  # the session has expired
    page.get_by_label("Person filter").press_sequentially("amel", delay=20)

    # HX-Redirect: the browser goes to the sign-in page itself; a sign-in form
    # is never swapped into the table.
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.locator("#caseload-results")).to_have_count(0)
    expect(page.get_by_label("Email address")).to_have_count(1)
    assert not page_was_not_reloaded(page)

    # Signing in again returns to the list that was asked for.
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/send/select-person\?q=amel$"))
    expect(page.get_by_role("heading", level=1, name="Select Person")).to_be_visible()
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones"])


def test_expired_session_during_a_hide_goes_to_the_sign_in_page(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Select Amelia Jones").check()
    page.context.clear_cookies()  # the session has expired
    with page.expect_response(re.compile(r"/send/select-person/hide$")):
        page.get_by_role("button", name="Hide Person", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sign-in"), timeout=3_000)
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


def test_sign_out_with_javascript(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    page.get_by_role("link", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_text("You have signed out.")).to_be_visible()

    # The back button does not show the caseload from the browser's cache.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.get_by_text("Amelia Jones")).to_have_count(0)
    page.goto("/send/select-person")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_sign_out_without_javascript(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    page.get_by_role("link", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign out")).to_be_visible()
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.goto("/send/select-person")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
