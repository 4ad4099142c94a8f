"""Add Person (SPEC section 3) in a real browser: Select Person, Add Person,
Find Address, Address Details, Save Child, the Forms page, and back to
Select Person where the child is listed as "Awaiting authentication"; with
JavaScript and without it, by hand-entered address, with validation errors,
and by keyboard alone. axe-core checks every page on the way.

Without JavaScript the server sends each page the same HTML (it chooses a
partial by the HX-Request header alone, and these pages have none), so there
axe checks the pages whose rendering differs without scripts (Select Person,
whose select-all box is hidden) and one page of each kind, not every page again."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import open_select_person, release_database, sign_in
from .support import AxeLog, Keyboard, add_addresses, focus_order

pytestmark = pytest.mark.browser

POSTCODE = "DM1 2AB"
CHILD = "Nell Cartwright"


@pytest.fixture
def gazetteer(app):
    lines = add_addresses(POSTCODE, 3)
    release_database()
    return lines


def row_for(page, name: str):
    return page.locator("#caseload-results tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


def fill_add_person(page, given="Nell", family="Cartwright", dob=("7", "5", "2016"), gender="Female", postcode=POSTCODE):
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    for label, value in zip(("Day", "Month", "Year"), dob):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("group", name="Gender").get_by_label(gender, exact=True).check()
    page.get_by_label("Postcode").fill(postcode)


def back_to_select_person_from_forms(page, name: str, log: AxeLog | None, label: str) -> None:
    """Forms page -> the child's page -> Select Person, by the back links."""
    page.get_by_role("link", name=f"Back to {name}").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    if log:
        log.check(page, f"{label}: the new child's page (awaiting authentication)")
    page.get_by_role("link", name="Back to Select Person").click()
    expect(page.get_by_role("heading", level=1, name="Select Person")).to_be_visible()
    row = row_for(page, name)
    expect(row).to_have_count(1)
    expect(row.locator(".govuk-tag")).to_have_text("Awaiting authentication")
    if log:
        log.check(page, f"{label}: Select Person with the new child")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_add_person_journey_with_the_address_finder(request, professional, gazetteer, javascript):
    page = request.getfixturevalue("page" if javascript else "page_nojs")
    label = "with JavaScript" if javascript else "without JavaScript"
    log = AxeLog()

    def check(state: str, without_javascript_too: bool = False) -> None:
        if javascript or without_javascript_too:
            log.check(page, f"{label}: {state}")

    sign_in(page, professional)
    open_select_person(page, javascript=javascript)
    check("Select Person (empty caseload)")

    page.get_by_role("button", name="Add Person").click()
    expect(page.get_by_role("heading", level=1, name="Add a child or young person")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Add Person"))
    check("Add Person", without_javascript_too=True)

    fill_add_person(page)
    page.get_by_role("button", name="Find Address").click()
    expect(page.get_by_role("heading", level=1, name="Address Details")).to_be_visible()
    addresses = page.get_by_role("group", name="Select the child’s address").get_by_role("radio")
    expect(addresses).to_have_count(len(gazetteer))
    check("Address Details")

    page.get_by_role("button", name="Save Child").click()  # nothing chosen
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the child’s address")
    expect(page).to_have_title(re.compile(r"^Error: Address Details"))
    check("Address Details with an error")

    page.get_by_label(f"{gazetteer[1]}, Demoton, {POSTCODE}").check()
    page.get_by_role("button", name="Save Child").click()
    expect(page.get_by_role("heading", level=1, name="Forms")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"{CHILD} has been added to your caseload")
    check("the Forms page after Save Child")

    back_to_select_person_from_forms(page, CHILD, log if javascript else None, label)
    if not javascript:
        check("Select Person with the new child", without_javascript_too=True)
    log.assert_clean()


def test_add_person_validation_errors_link_to_their_fields(page, professional, gazetteer):
    log = AxeLog()
    sign_in(page, professional)
    page.goto("/send/add-person")
    page.get_by_role("button", name="Find Address").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Add Person"))
    links = summary.get_by_role("link")
    expect(links).to_have_text([
        "Enter the child’s given name", "Enter the child’s family name", "Enter the child’s date of birth",
        "Select the child’s gender", "Enter the postcode of the child’s home address",
    ])
    log.check(page, "Add Person with every error")

    # Each message links to its field, and each field says its error.
    for link, field in zip(links.all(), ["given_name", "family_name", "dob_day", "gender-0", "postcode"]):
        assert link.get_attribute("href") == f"#{field}"
        control = page.locator(f"#{field}")
        expect(control).to_have_count(1)
    expect(page.get_by_label("Given name")).to_have_attribute("aria-describedby", "given_name-error")
    expect(page.get_by_role("group", name="Gender")).to_have_attribute("aria-describedby", "gender-error")

    # A half-right form: the date and the postcode are wrong, the rest is kept.
    fill_add_person(page, dob=("31", "2", "2016"), postcode="not a postcode")
    page.get_by_role("button", name="Find Address").click()
    expect(links).to_have_text(["Date of birth must be a real date, such as 27 3 2015", "Enter a real postcode, such as DM1 2AB"])
    expect(page.get_by_label("Given name")).to_have_value("Nell")
    expect(page.get_by_role("group", name="Gender").get_by_label("Female", exact=True)).to_be_checked()
    log.check(page, "Add Person with a date and a postcode error")
    log.assert_clean()


def test_add_person_by_the_manual_address_route(page, professional, gazetteer):
    log = AxeLog()
    sign_in(page, professional)
    page.goto("/send/add-person")
    fill_add_person(page, given="Ifan", family="Pritchard", postcode="DM9 9ZZ")
    page.get_by_role("button", name="Find Address").click()
    expect(page.get_by_role("heading", level=1, name="Address Details")).to_be_visible()
    expect(page.locator(".govuk-inset-text")).to_contain_text("We could not find any addresses for DM9 9ZZ")
    log.check(page, "Address Details with no address found")

    page.get_by_role("link", name="Enter the address by hand").click()
    expect(page.get_by_role("heading", level=1, name="Enter the address")).to_be_visible()
    expect(page.get_by_label("Postcode")).to_have_value("DM9 9ZZ")
    log.check(page, "Enter the address")

    page.get_by_role("button", name="Save Child").click()
    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_text([
        "Enter address line 1, typically the building and street", "Enter the town or city",
    ])
    log.check(page, "Enter the address with errors")

    page.get_by_label("Address line 1").fill("Tŷ Newydd, Lôn Las")
    page.get_by_label("Town or city").fill("Demoton")
    page.get_by_role("button", name="Save Child").click()
    expect(page.get_by_role("heading", level=1, name="Forms")).to_be_visible()
    log.check(page, "the Forms page after a hand-entered address")
    back_to_select_person_from_forms(page, "Ifan Pritchard", log, "manual address")

    # The other way to the manual route: the address is not in the list.
    page.goto("/send/add-person")
    fill_add_person(page, given="Ola", family="Nowak")
    page.get_by_role("button", name="Find Address").click()
    page.get_by_role("link", name="The address is not listed: enter it by hand").click()
    expect(page.get_by_role("heading", level=1, name="Enter the address")).to_be_visible()
    log.assert_clean()


def test_add_person_by_keyboard_alone(page, professional, gazetteer):
    """Tab, Shift+Tab, Enter and Space (and typing in the fields) only; the
    focus order follows the page, and focus is never lost to the body."""
    sign_in(page, professional)
    open_select_person(page)
    keys = Keyboard(page)

    # The skip link comes first, then the way to Add Person.
    first = keys.press("Tab")
    assert first["name"] == "Skip to main content", first
    keys.tab_to_name("Add Person", tag="button")
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Add a child or young person")).to_be_visible()

    # Find Address with nothing filled in: the error summary's first link
    # takes focus to its field.
    keys.stops.clear()
    keys.tab_to_name("Find Address", tag="button")
    keys.press("Enter")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    keys.tab_to_name("Enter the child’s given name", tag="a")
    keys.press("Enter")
    expect(page.get_by_label("Given name")).to_be_focused()

    keys.type("Nell")
    assert keys.press("Tab")["id"] == "family_name"
    keys.type("Cartwright")
    for field, value in (("dob_day", "7"), ("dob_month", "5"), ("dob_year", "2016")):
        assert keys.press("Tab")["id"] == field
        keys.type(value)
    gender = keys.press("Tab")
    assert (gender["type"], gender["id"]) == ("radio", "gender-0"), gender
    keys.press("Space")
    expect(page.get_by_role("group", name="Gender").get_by_label("Female", exact=True)).to_be_checked()
    assert keys.press("Tab")["id"] == "upn", "one Tab leaves the radio group for the next field"
    assert keys.press("Tab")["id"] == "postcode"
    keys.type(POSTCODE)
    # Shift+Tab goes back the same way.
    assert keys.press("Shift+Tab")["id"] == "upn"
    assert keys.press("Tab")["id"] == "postcode"
    assert keys.press("Tab")["name"] == "Find Address"
    keys.press("Enter")

    expect(page.get_by_role("heading", level=1, name="Address Details")).to_be_visible()
    keys.stops.clear()
    address = keys.tab_to(lambda f: f["type"] == "radio")
    assert address["id"] == "uprn-0", "the first address is the first stop in the list"
    keys.press("Space")
    expect(page.locator("#uprn-0")).to_be_checked()
    assert keys.press("Tab")["name"] == "Save Child"
    # What came before the address list: the skip link, the header, the back link, the Change link.
    assert focus_order(keys.stops, ["Skip to main content", "Back to Add Person", "Change", gazetteer[0]]) == [
        "Skip to main content", "Back to Add Person", "Change", gazetteer[0]]
    keys.press("Enter")

    expect(page.get_by_role("heading", level=1, name="Forms")).to_be_visible()
    keys.tab_to_name(f"Back to {CHILD}", tag="a")
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1, name=CHILD)).to_be_visible()
    keys.tab_to_name("Back to Select Person", tag="a")
    keys.press("Enter")
    expect(row_for(page, CHILD).locator(".govuk-tag")).to_have_text("Awaiting authentication")
    keys.tab_to_name(CHILD, tag="a")
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1, name=CHILD)).to_be_visible()
