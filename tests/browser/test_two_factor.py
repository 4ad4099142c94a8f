"""Two-factor sign-in in Chromium, with JavaScript on and off: setting it up
from Your account, the key read off the page and the security code computed
from it in the test, signing in again with a code and with a recovery code;
axe on the set-up, recovery codes, security code and recovery code pages and
their error states."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from ..conftest import PASSWORD
from .conftest import assert_no_axe_violations, release_database, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def any_page(request):
    return request.getfixturevalue("page" if request.param else "page_nojs")


def sign_out(page) -> None:
    page.goto("/sign-out")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def password_step(page, user) -> None:
    email = user.email  # read before the test's transaction ends: it holds no lock then
    release_database()
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def set_up_from_your_account(page) -> tuple[str, list[str]]:
    page.goto("/account")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert_no_axe_violations(page, "Set up two-factor sign-in")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("link", name="Enter the security code from your authenticator app")).to_be_visible()
    assert_no_axe_violations(page, "Set up two-factor sign-in, no code entered")
    key = page.locator("#setup-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", key)
    page.get_by_label("Security code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    assert_no_axe_violations(page, "Your recovery codes")
    codes = page.locator(".app-recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("button", name="I have saved my recovery codes").click()
    expect(page.locator("#two-factor-status")).to_contain_text("Two-factor sign-in is on")
    return key, codes


def test_set_up_and_sign_in_with_a_security_code_and_a_recovery_code(any_page, professional):
    page = any_page
    sign_in(page, professional)
    key, codes = set_up_from_your_account(page)
    sign_out(page)

    password_step(page, professional)
    expect(page).to_have_url(re.compile(r"/sign-in/security-code$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    field = page.get_by_label("Security code")
    assert field.get_attribute("autocomplete") == "one-time-code" and field.get_attribute("inputmode") == "numeric"
    assert_no_axe_violations(page, "Enter your security code")
    field.fill("000000" if pyotp.TOTP(key).now() != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name=re.compile("The security code is not correct"))).to_be_visible()
    assert_no_axe_violations(page, "Enter your security code, wrong code")
    # The app's next code (set-up used this 30 seconds' one), computed from the key.
    page.get_by_label("Security code").fill(pyotp.TOTP(key).at(int(time.time()) + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    sign_out(page)

    password_step(page, professional)
    page.get_by_role("link", name="Use a recovery code instead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter a recovery code")
    assert_no_axe_violations(page, "Enter a recovery code")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Enter one of your recovery codes")).to_be_visible()
    assert_no_axe_violations(page, "Enter a recovery code, nothing entered")
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_text("You have 9 recovery codes left")).to_be_visible()
    assert_no_axe_violations(page, "Your account after a recovery code")


def test_an_admin_must_set_it_up_before_anything_else(app, page, admin):
    app.config["TWO_FACTOR_REQUIRED"] = "admins"
    password_step(page, admin)
    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    page.goto("/admin/audit")
    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    assert_no_axe_violations(page, "Set up two-factor sign-in, required")
    key = page.locator("#setup-key").inner_text().replace(" ", "")
    page.get_by_label("Security code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("button", name="I have saved my recovery codes").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    page.goto("/admin/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Audit log"))
