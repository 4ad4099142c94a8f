"""What Select Person says and where focus goes, in Chromium (issue 12):
the confirm dialog names how many and who, and does not open when nobody is
chosen; children with the same name are told apart; a full page's error is
a GOV.UK error summary (title "Error: ...", focused, linking to the first
checkbox) and its outcome a success banner that is announced and focused,
with and without JavaScript; and the back link is inside a landmark."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from .conftest import (
    assert_no_axe_violations,
    expect_message,
    open_select_person,
    release_database,
    sign_in,
    wait_for_htmx_idle,
)
from .support import best_practice_violations

pytestmark = pytest.mark.browser

ROWS = "#caseload-results tbody th[scope=row]"
HIDE_DETAIL = "They will move to the Hidden list. Nothing else changes."


class Dialogs:
    def __init__(self, page, accept: bool):
        self.messages: list[str] = []
        self.accept = accept
        page.on("dialog", self._answer)

    def _answer(self, dialog):
        self.messages.append(dialog.message)
        dialog.accept() if self.accept else dialog.dismiss()


def posts(page) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    return sent


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : ''")


# --- the confirm dialog (defect 14) ------------------------------------------------------


def test_the_confirm_dialog_says_how_many_and_who(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    sent = posts(page)
    dialogs = Dialogs(page, accept=False)

    page.get_by_label("Select Amelia Jones").check()
    page.get_by_label("Select Zoë Smith-Jones").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    page.get_by_label("Select Oliver Brown").check()
    page.get_by_role("button", name="Delete Person").click()
    page.wait_for_timeout(300)

    assert dialogs.messages[0] == f"Hide 2 people: Amelia Jones and Zoë Smith-Jones? {HIDE_DETAIL}"
    assert dialogs.messages[1].startswith(
        "Delete 3 people: Oliver Brown, Amelia Jones and Zoë Smith-Jones? You will be unauthenticated from them")
    assert len(dialogs.messages) == 2
    assert sent == [], "dismissing the dialog sends nothing"


def test_the_confirm_dialog_names_five_then_counts_the_others(page, professional, make_person):
    for n, given in enumerate(["Ada", "Ben", "Cai", "Dev", "Eve", "Fin", "Gus", "Hal"]):
        make_person(given, "Test", professional, date_of_birth=date(2014, 1, n + 1))
    release_database()
    sign_in(page, professional)
    open_select_person(page)
    dialogs = Dialogs(page, accept=True)
    page.get_by_role("checkbox", name="Select all").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "8 people hidden")
    assert dialogs.messages == [f"Hide 8 people: Ada Test, Ben Test, Cai Test, Dev Test, Eve Test and 3 others? {HIDE_DETAIL}"]


def test_children_with_the_same_name_are_told_apart(page, professional, make_person):
    make_person("Grace", "O'Brien", professional, date_of_birth=date(2015, 3, 3))
    make_person("Grace", "O'Brien", professional, date_of_birth=date(2016, 5, 4))
    make_person("Amelia", "Jones", professional)
    release_database()
    sign_in(page, professional)
    open_select_person(page)
    first = page.get_by_role("checkbox", name="Select Grace O'Brien, born 3 March 2015", exact=True)
    second = page.get_by_role("checkbox", name="Select Grace O'Brien, born 4 May 2016", exact=True)
    expect(first).to_have_count(1)
    expect(second).to_have_count(1)

    dialogs = Dialogs(page, accept=True)
    first.check()
    second.check()
    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "3 people hidden")
    assert dialogs.messages == [
        "Hide 3 people: Amelia Jones, Grace O'Brien (born 3 March 2015) and Grace O'Brien (born 4 May 2016)? " + HIDE_DETAIL]


@pytest.mark.parametrize("button,verb", [("Hide Person", "hide"), ("Delete Person", "delete")])
def test_with_nobody_selected_no_dialog_opens_and_the_error_is_focused(page, caseload, professional, button, verb):
    sign_in(page, professional)
    open_select_person(page)
    dialogs = Dialogs(page, accept=True)
    page.get_by_role("button", name=button, exact=True).click()

    expect_message(page, f"Select at least one person to {verb}")
    assert dialogs.messages == [], "no empty confirm dialog"
    summary = page.locator("#caseload-feedback")
    expect(summary).to_be_focused()
    expect(summary).to_have_class(re.compile(r"\bgovuk-error-summary\b"))
    expect(summary.locator(".govuk-error-summary__title")).to_have_text("There is a problem")
    # Said by the live region that was already in the page.
    expect(page.locator("#caseload-status[role=status]")).to_contain_text(f"Select at least one person to {verb}")
    expect(page).to_have_title(re.compile(r"^Error: Active – Select Person – "))
    # The link takes you to the first checkbox.
    summary.get_by_role("link", name=f"Select at least one person to {verb}").click()
    expect(page.get_by_label("Select Oliver Brown")).to_be_focused()
    assert_no_axe_violations(page, "Select Person with the error (after the swap)")

    # Doing it right clears the error from the title.
    page.get_by_label("Select Oliver Brown").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "1 person hidden")
    expect(page).to_have_title(re.compile(r"^Active – Select Person – "))
    expect(page.locator("#caseload-feedback")).to_be_focused()


# --- a full page's error and outcome (defect 15) -----------------------------------------


def test_without_javascript_the_error_is_a_focused_error_summary_and_the_title_says_error(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    page.get_by_role("button", name="Delete Person").click()

    expect(page).to_have_url(re.compile(r"/send/select-person$"))
    expect(page).to_have_title(re.compile(r"^Error: Active – Select Person – "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("alert")).to_contain_text("There is a problem")
    expect(summary.get_by_role("alert")).to_contain_text("Select at least one person to delete")
    # GOV.UK's styles apply: the summary has its red border.
    assert summary.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    assert summary.evaluate("e => getComputedStyle(e).borderTopWidth") != "0px"
    # It comes before the page's heading.
    assert page.evaluate("() => !!(document.querySelector('.govuk-error-summary').compareDocumentPosition("
                         "document.querySelector('h1')) & Node.DOCUMENT_POSITION_FOLLOWING)")
    assert_no_axe_violations(page, "Select Person, full page error")
    summary.get_by_role("link", name="Select at least one person to delete").click()
    expect(page.get_by_label("Select Oliver Brown")).to_be_focused()

    # The next page load has no error.
    page.reload()
    expect(page).to_have_title(re.compile(r"^Active – Select Person – "))
    expect(page.locator(".govuk-error-summary")).to_have_count(0)


def test_without_javascript_the_outcome_is_an_announced_and_focused_success_banner(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    page.get_by_role("button", name="Yes, hide 1 person").click()

    expect(page).to_have_url(re.compile(r"/send/select-person$"))
    banner = page.get_by_role("alert")
    expect(banner).to_have_count(1)
    expect(banner).to_have_class(re.compile(r"\bgovuk-notification-banner--success\b"))
    expect(banner).to_contain_text("Success")
    expect(banner.locator("#caseload-message")).to_have_text("1 person hidden")
    expect(banner).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Active – Select Person – "))
    expect(page.locator(ROWS)).to_have_text(["Oliver Brown", "Mary-Jane O'Brien", "Zoë Smith-Jones"])
    assert_no_axe_violations(page, "Select Person, full page outcome")


def test_with_javascript_a_full_page_outcome_is_focused_too(page, caseload, professional):
    """A full page that carries an outcome (the form was posted without htmx,
    as happens when a person submits before the scripts have loaded) focuses
    its banner with scripts on as well."""
    sign_in(page, professional)
    open_select_person(page)
    page.get_by_label("Select Amelia Jones").check()
    status = page.evaluate("""async () => {
        const form = document.getElementById('caseload-form');
        const data = new FormData(form, form.querySelector('button[value=hide]'));
        data.append('confirmed', 'yes');
        // getAttribute: the buttons named "action" shadow form.action.
        const response = await fetch(form.getAttribute('action'), {method: 'POST', body: data, redirect: 'manual'});
        return response.type === 'opaqueredirect' ? 303 : response.status; }""")
    assert status == 303
    open_select_person(page)
    expect(page.locator("#caseload-feedback")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("1 person hidden")
    expect(page.locator(ROWS)).to_have_text(["Oliver Brown", "Mary-Jane O'Brien", "Zoë Smith-Jones"])


# --- the back link is inside a landmark --------------------------------------------------


def test_the_back_link_is_in_a_landmark_and_axe_region_passes(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    back = page.get_by_role("navigation", name="Back").get_by_role("link", name="Professional Portal home")
    expect(back).to_be_visible()
    assert best_practice_violations(page) == []
    page.get_by_role("link", name="Amelia Jones").click()
    expect(page.get_by_role("navigation", name="Back").get_by_role("link", name="Back to Select Person")).to_be_visible()
    assert best_practice_violations(page) == []
    page.get_by_role("navigation", name="Back").get_by_role("link", name="Back to Select Person").click()
    wait_for_htmx_idle(page)
    expect(page.get_by_role("heading", level=1, name="Select Person")).to_be_visible()
