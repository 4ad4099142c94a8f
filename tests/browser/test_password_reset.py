"""Forgotten password in Chromium, with JavaScript on and off: from Sign in
to the emailed link (read from a real SMTP server on 127.0.0.1), a new
password, and signing in with it; axe on every page and error state."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..conftest import PASSWORD
from ..mail_support import body, deliver, smtp_server, use_smtp
from .conftest import assert_no_axe_violations, release_database

pytestmark = pytest.mark.browser

NEW_PASSWORD = "juniper kettle harbour ninety"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_professional_resets_a_forgotten_password_from_the_emailed_link(
    request, app, live_server, professional, javascript
):
    page = request.getfixturevalue("page" if javascript else "page_nojs")
    app.config["PORTAL_URL"] = live_server.url
    email = professional.email
    release_database()

    page.goto("/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1, name="Reset your password")).to_be_visible()
    assert_no_axe_violations(page, "forgot password")

    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    expect(page).to_have_title(re.compile(r"^Error: Reset your password"))
    assert_no_axe_violations(page, "forgot password: no address")

    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1, name="Check your email")).to_be_visible()
    assert_no_axe_violations(page, "check your email")

    with smtp_server() as server:
        use_smtp(app, server.port)
        assert deliver(app).sent == 1
    release_database()
    [message] = server.mailbox.to(email)
    link = re.search(r"http://127\.0\.0\.1:\d+/reset-password/[A-Za-z0-9_-]+", body(message)).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Create a new password")).to_be_visible()
    assert_no_axe_violations(page, "create a new password")

    page.get_by_label("Create a new password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm your new password").fill("something else entirely")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Passwords do not match")
    assert_no_axe_violations(page, "create a new password: passwords differ")

    page.get_by_role("link", name="Passwords do not match").click()
    expect(page.get_by_label("Confirm your new password")).to_be_focused()
    page.get_by_label("Create a new password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm your new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", level=1, name="Your password has been changed")).to_be_visible()
    assert_no_axe_violations(page, "password changed")

    # The link has done its work.
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="This link has expired or has been used")).to_be_visible()
    assert_no_axe_violations(page, "link used")

    page.goto("/reset-password/done")
    page.get_by_role("link", name="Sign in with your new password").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()  # the old password no longer works
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/home$"))
