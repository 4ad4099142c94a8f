"""Hide Person, Unhide Person, Delete Person and Select all in a real browser
(SPEC section 2), with JavaScript (the browser's confirm dialog, the list
re-rendered in place) and without it (a confirmation page)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import (
    expect_message,
    expect_status,
    focused_element,
    mark_page,
    open_select_person,
    page_was_not_reloaded,
    sign_in,
    wait_for_htmx_idle,
)

pytestmark = pytest.mark.browser

ROWS = "#caseload-results tbody th[scope=row]"


def without(names: list[str], *gone: str) -> list[str]:
    return [n for n in names if n not in gone]


def show_view(page, name: str) -> None:
    page.get_by_role("navigation", name="Views").get_by_role("link", name=name, exact=True).click()
    expect(page.locator("#caseload-heading")).to_have_text(name)
    wait_for_htmx_idle(page)


class Dialogs:
    """Answers the browser's confirm dialogs and remembers what they said."""

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


# --- Hide ------------------------------------------------------------------------


def test_hide_after_confirming_moves_the_person_to_hidden_in_place(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    mark_page(page)
    dialogs = Dialogs(page, accept=True)

    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()

    expect(page.locator("#caseload-status")).to_contain_text("1 person hidden")
    expect_message(page, "1 person hidden")
    expect(page.locator(ROWS)).to_have_text(without(caseload.active, "Amelia Jones"))
    # Focus is on the message that says what happened, never on <body>.
    expect(page.locator("#caseload-feedback")).to_be_focused()
    assert focused_element(page)["tag"] != "body"
    assert dialogs.messages == ["Hide 1 person: Amelia Jones? They will move to the Hidden list. Nothing else changes."]
    assert page_was_not_reloaded(page)
    expect(page).to_have_url(re.compile(r"/send/select-person$"))

    show_view(page, "Hidden")
    expect(page.locator(ROWS)).to_have_text(["Hannah Green", "Amelia Jones"])
    # Recent never shows hidden people.
    show_view(page, "Recent (18 months)")
    expect(page.locator(ROWS)).to_have_text(without(caseload.recent, "Amelia Jones"))


def test_hide_keeps_the_filter_and_the_view(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    Dialogs(page, accept=True)
    page.get_by_label("Person filter").press_sequentially("jones", delay=20)
    expect_status(page, "2 people found")
    page.get_by_label("Select Zoë Smith-Jones").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "1 person hidden")
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones"])
    expect(page.get_by_label("Person filter")).to_have_value("jones")
    expect(page).to_have_url(re.compile(r"\?q=jones$"))


def test_dismissing_the_hide_or_delete_dialog_changes_nothing(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    sent = posts(page)
    dialogs = Dialogs(page, accept=False)

    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    page.get_by_role("button", name="Delete Person").click()
    page.wait_for_timeout(300)

    assert [m.split("?")[0] for m in dialogs.messages] == ["Hide 1 person: Amelia Jones", "Delete 1 person: Amelia Jones"]
    assert sent == [], "no request is sent when the dialog is dismissed"
    expect(page.locator(ROWS)).to_have_text(caseload.active)
    expect(page.get_by_label("Select Amelia Jones")).to_be_checked()
    expect_status(page, "")

    page.reload()
    expect(page.locator(ROWS)).to_have_text(caseload.active)
    show_view(page, "Hidden")
    expect(page.locator(ROWS)).to_have_text(caseload.hidden)


def test_hide_and_unhide_without_javascript(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    # Select all needs JavaScript, so it is not offered here.
    expect(page.get_by_role("checkbox", name="Select all")).to_have_count(0)
    expect(page.locator("#select-all")).to_have_count(0)

    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to hide 1 person?")
    expect(page.get_by_role("listitem").filter(has_text="Amelia Jones")).to_have_text("Amelia Jones, born 14 March 2015")
    expect(page.get_by_role("link", name="Cancel")).to_be_visible()
    page.get_by_role("button", name="Yes, hide 1 person").click()

    expect(page).to_have_url(re.compile(r"/send/select-person$"))
    expect_message(page, "1 person hidden")
    expect(page.locator(ROWS)).to_have_text(without(caseload.active, "Amelia Jones"))
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Hidden").click()
    expect(page.locator(ROWS)).to_have_text(["Hannah Green", "Amelia Jones"])

    # Unhide needs no confirmation page.
    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Unhide Person").click()
    expect(page).to_have_url(re.compile(r"/send/select-person/hidden$"))
    expect_message(page, "1 person unhidden")
    expect(page.locator(ROWS)).to_have_text(caseload.hidden)


def test_cancel_on_the_confirmation_page_changes_nothing(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    page.get_by_label("Select Amelia Jones").check()
    page.get_by_label("Select Oliver Brown").check()
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to hide 2 people?")
    expect(page.get_by_role("button", name="Yes, hide 2 people")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/send/select-person$"))
    expect(page.locator(ROWS)).to_have_text(caseload.active)
    expect(page.locator("#caseload-message")).to_have_count(0)

    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Delete Person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to delete 1 person?")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(ROWS)).to_have_text(caseload.active)
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Recent (18 months)").click()
    expect(page.locator(ROWS)).to_have_text(caseload.recent)


def test_hide_with_nobody_selected_says_so(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    dialogs = Dialogs(page, accept=True)
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "Select at least one person to hide")
    expect(page.locator("#caseload-feedback")).to_be_focused()
    expect(page.locator(ROWS)).to_have_text(caseload.active)
    assert dialogs.messages == [], "nothing is selected, so there is nothing to confirm"


# --- Unhide ----------------------------------------------------------------------


def test_unhide_from_hidden_needs_no_confirmation(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page, "/send/select-person/hidden")
    mark_page(page)
    dialogs = Dialogs(page, accept=False)

    page.get_by_label("Select Hannah Green").check()
    page.get_by_role("button", name="Unhide Person").click()

    expect_message(page, "1 person unhidden")
    expect(page.locator("#caseload-feedback")).to_be_focused()
    assert dialogs.messages == [], "Unhide asks for no confirmation"
    expect(page.locator(ROWS)).to_have_count(0)
    expect(page.locator("#caseload-count")).to_have_text("No people found.")
    assert page_was_not_reloaded(page)

    show_view(page, "Active")
    expect(page.locator(ROWS)).to_have_text(["Oliver Brown", "Hannah Green", "Amelia Jones", "Mary-Jane O'Brien", "Zoë Smith-Jones"])


# --- Delete ----------------------------------------------------------------------


def expect_gone_from_every_view(page, name: str, person_id: int) -> None:
    for view, path in [("Active", "/send/select-person"), ("Hidden", "/send/select-person/hidden"), ("Recent (18 months)", "/send/select-person/recent")]:
        page.goto(path)
        expect(page.locator("#caseload-heading")).to_have_text(view)
        expect(page.locator(ROWS).filter(has_text=name), f"{name} in {view}").to_have_count(0)
    response = page.goto(f"/send/people/{person_id}")
    assert response.status == 404, "the professional can no longer open the child's page"


def test_delete_after_confirming_removes_the_person_from_every_view(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    dialogs = Dialogs(page, accept=True)

    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Delete Person").click()

    expect_message(page, "1 person deleted")
    expect(page.locator("#caseload-feedback")).to_be_focused()
    expect(page.locator(ROWS)).to_have_text(without(caseload.active, "Amelia Jones"))
    assert len(dialogs.messages) == 1
    assert dialogs.messages[0].startswith("Delete 1 person: Amelia Jones? You will be unauthenticated from them")
    expect_gone_from_every_view(page, "Amelia Jones", caseload.people["Amelia Jones"])


def test_delete_from_hidden_view(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page, "/send/select-person/hidden")
    Dialogs(page, accept=True)
    page.get_by_label("Select Hannah Green").check()
    page.get_by_role("button", name="Delete Person").click()
    expect_message(page, "1 person deleted")
    expect(page.locator(ROWS)).to_have_count(0)
    expect_gone_from_every_view(page, "Hannah Green", caseload.people["Hannah Green"])


def test_delete_without_javascript_warns_then_removes_the_person(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    page.get_by_label("Select Amelia Jones").check()
    page.get_by_role("button", name="Delete Person").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to delete 1 person?")
    expect(page.locator(".govuk-warning-text")).to_contain_text("You will be unauthenticated from this person")
    expect(page.get_by_role("listitem").filter(has_text="Amelia Jones")).to_have_text("Amelia Jones, born 14 March 2015")
    page.get_by_role("button", name="Yes, delete 1 person").click()

    expect(page).to_have_url(re.compile(r"/send/select-person$"))
    expect_message(page, "1 person deleted")
    expect(page.locator(ROWS)).to_have_text(without(caseload.active, "Amelia Jones"))
    expect_gone_from_every_view(page, "Amelia Jones", caseload.people["Amelia Jones"])


# --- Select all (JavaScript only; see test_hide_and_unhide_without_javascript) ---


def test_select_all_selects_every_row_on_the_page(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    select_all = page.get_by_role("checkbox", name="Select all")
    rows = page.locator("#caseload-results tbody input[type=checkbox]")
    expect(select_all).to_be_visible()

    select_all.check()
    expect(rows).to_have_count(len(caseload.active))
    for i in range(len(caseload.active)):
        expect(rows.nth(i)).to_be_checked()

    # Unticking one row makes Select all partly ticked.
    page.get_by_label("Select Oliver Brown").uncheck()
    expect(select_all).not_to_be_checked()
    assert page.evaluate("() => document.getElementById('select-all').indeterminate") is True
    page.get_by_label("Select Oliver Brown").check()
    expect(select_all).to_be_checked()

    select_all.uncheck()
    for i in range(len(caseload.active)):
        expect(rows.nth(i)).not_to_be_checked()

    # After a swap it still works, on the rows now shown.
    page.get_by_label("Person filter").press_sequentially("jones", delay=20)
    expect_status(page, "2 people found")
    page.get_by_role("checkbox", name="Select all").check()
    expect(page.get_by_label("Select Amelia Jones")).to_be_checked()
    expect(page.get_by_label("Select Zoë Smith-Jones")).to_be_checked()

    Dialogs(page, accept=True)
    page.get_by_role("button", name="Hide Person", exact=True).click()
    expect_message(page, "2 people hidden")


# --- Keyboard only ---------------------------------------------------------------


def press_until(page, key: str, is_there, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press(key)
        if is_there(focused_element(page)):
            return
    raise AssertionError(f"pressing {key} {limit} times never reached the control; focus is on {focused_element(page)}")


def test_keyboard_only_filter_select_and_hide(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    Dialogs(page, accept=True)

    press_until(page, "Tab", lambda f: f["id"] == "person-filter")
    page.keyboard.type("jones", delay=20)
    expect_status(page, "2 people found")
    expect(page.get_by_label("Person filter")).to_be_focused()

    press_until(page, "Tab", lambda f: f["name"] == "Select Zoë Smith-Jones")
    page.keyboard.press("Space")
    expect(page.get_by_label("Select Zoë Smith-Jones")).to_be_checked()

    press_until(page, "Shift+Tab", lambda f: f["tag"] == "button" and f["text"] == "Hide Person")
    page.keyboard.press("Enter")

    expect_message(page, "1 person hidden")
    expect(page.locator("#caseload-feedback")).to_be_focused()
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones"])


def test_a_double_click_on_hide_still_reports_the_hide(page, caseload, professional, live_server):
    """On a slow connection people click twice. The second request finds
    nobody left to hide; its answer must not replace "1 person hidden" with
    an error saying that nobody was hidden."""
    live_server.slow_requests.append((lambda environ: environ["PATH_INFO"].endswith("/hide"), 0.3))
    sign_in(page, professional)
    open_select_person(page)
    Dialogs(page, accept=True)
    page.get_by_label("Select Amelia Jones").check()
    hide = page.get_by_role("button", name="Hide Person", exact=True)
    hide.click()
    hide.click(timeout=1_000)  # again, while the first is on its way
    expect(page.locator(ROWS)).to_have_text(without(caseload.active, "Amelia Jones"))
    page.wait_for_timeout(600)
    expect_message(page, "1 person hidden")
