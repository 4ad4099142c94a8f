"""Notifications and the Due list in a real browser, with JavaScript on and
off: the unread count in the header, the notifications page, opening one,
Mark all as read, and axe-core on each page and state."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from send_portal.extensions import db
from send_portal.forms.models import FormRequest
from send_portal.models import Involvement
from send_portal.notifications import link_to, notify
from send_portal.notifications.due import london_today

from .conftest import assert_no_axe_violations, release_database, sign_in, wait_for_scripts

pytestmark = pytest.mark.browser


@pytest.fixture(params=["page", "page_nojs"], ids=["javascript", "no-javascript"])
def any_page(request):
    return request.param == "page", request.getfixturevalue(request.param)


def header_link(page):
    return page.get_by_role("navigation", name="Account").get_by_role("link", name=re.compile(r"^Notifications"))


def test_the_count_the_page_opening_and_mark_all_as_read(any_page, professional, admin, make_person):
    javascript, page = any_page
    child = make_person("Amelia", "Jones", professional=professional)
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == child.id))
    today = london_today()
    for days in (-2, 4):
        db.session.add(FormRequest(
            involvement_id=involvement.id, form_key="annual-review-contribution", title="Annual review contribution",
            due_on=today + timedelta(days=days), requested_by_id=admin.id,
        ))
    notify(professional, "form_requested", link_to("forms.child_forms", person_id=child.id))
    notify(professional, "message_from_la", link_to("messages.thread", person_id=child.id))
    child_id = child.id
    release_database()  # and read nothing more here: the server needs the database

    sign_in(page, professional)
    if javascript:
        wait_for_scripts(page)
    expect(header_link(page)).to_have_text("Notifications (2 unread)")
    due = page.get_by_role("table", name="Forms due, overdue first")
    expect(due.get_by_role("row")).to_have_count(3)
    expect(due.get_by_role("row").nth(1)).to_contain_text("2 days overdue")
    expect(due.get_by_role("row").nth(2)).to_contain_text("Due in 4 days")
    assert_no_axe_violations(page, "home page with a Due list")

    header_link(page).click()
    expect(page.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    expect(header_link(page)).to_have_attribute("aria-current", "page")
    expect(page.locator("#notifications-unread")).to_have_text("You have 2 unread notifications.")
    main = page.get_by_role("main")
    expect(main).not_to_contain_text("Amelia")
    rows = page.get_by_role("table", name="Your notifications, newest first").get_by_role("row")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("You have a new message from Demo Borough Council")
    expect(rows.nth(1)).to_contain_text("Unread")
    assert_no_axe_violations(page, "notifications page, unread")

    # Opening one goes to the thing it is about, and it is read.
    rows.nth(1).get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/send/people/{child_id}/messages$"))
    expect(header_link(page)).to_have_text("Notifications (1 unread)")

    header_link(page).click()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    expect(page.get_by_role("alert")).to_contain_text("1 notification marked as read.")
    expect(header_link(page)).to_have_text("Notifications")
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)
    expect(page.get_by_role("table", name="Your notifications, newest first")).not_to_contain_text("Unread")
    assert_no_axe_violations(page, "notifications page, all read")


def test_no_notifications_and_nothing_due_pass_axe(any_page, professional):
    _javascript, page = any_page
    sign_in(page, professional)
    expect(page.locator("#due-summary")).to_contain_text("Nothing is due.")
    assert_no_axe_violations(page, "home page, nothing due")
    header_link(page).click()
    expect(page.locator("#notifications-count")).to_contain_text("You have no notifications yet.")
    assert_no_axe_violations(page, "notifications page, empty")


def test_an_admin_sees_the_count_and_the_page(any_page, admin):
    _javascript, page = any_page
    notify(admin, "form_submitted", link_to("admin.inbox"))
    release_database()
    sign_in(page, admin)
    expect(header_link(page)).to_have_text("Notifications (1 unread)")
    header_link(page).click()
    page.get_by_role("link", name="A professional has sent a form").click()
    expect(page.get_by_role("heading", level=1, name="Forms inbox")).to_be_visible()
    expect(header_link(page)).to_have_text("Notifications")
