"""SEND forms (SPEC section 4) in a real browser: a SENCo completes a request
for an EHC needs assessment for an authenticated child (errors, a draft,
every page, Check your answers, Submit, the confirmation), and an LA admin
accepts it from the forms inbox; with JavaScript and without it. axe-core
checks every page and state on the way.

Without JavaScript the server sends each page the same HTML as with it (it
chooses a partial by the HX-Request header alone), so there axe checks the
states that exist only without scripts (the Forms page after Save as draft)
and a page of each kind (a question page with errors, Check your answers),
not every page again."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import open_select_person, release_database, sign_in
from .support import AxeLog, settle

pytestmark = pytest.mark.browser

CHILD = "Amelia Jones"
FORM = "Request for an EHC needs assessment"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def child(professional, make_person):
    person = make_person("Amelia", "Jones", professional, case_status="Request received")
    release_database()
    return person.id


def choose(page, group: str, option: str) -> None:
    page.get_by_role("group", name=group).get_by_label(option, exact=True).check()


def continue_to(page, heading: str) -> None:
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()


def sign_out(page) -> None:
    page.get_by_role("link", name="Sign out").click()
    if page.get_by_role("button", name="Sign out").count():  # without JavaScript: a confirmation page
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_a_senco_submits_a_form_and_the_la_accepts_it(request, professional, admin, child, javascript):
    page = request.getfixturevalue("page" if javascript else "page_nojs")
    label = "with JavaScript" if javascript else "without JavaScript"
    log = AxeLog()

    def check(state: str, without_javascript_too: bool = False) -> None:
        if javascript or without_javascript_too:
            log.check(page, f"{label}: {state}")

    sign_in(page, professional)
    open_select_person(page, javascript=javascript)
    page.get_by_role("link", name=CHILD).click()
    page.get_by_role("link", name=f"Forms for {CHILD}").click()
    expect(page.get_by_role("heading", level=1, name="Forms")).to_be_visible()
    check("the Forms page")

    page.get_by_role("button", name=f"Start {FORM}").click()
    expect(page.get_by_role("heading", level=1, name="Consent and views")).to_be_visible()
    check("form page 1")

    # Errors first: every question answered is required on Save and continue.
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Consent and views"))
    check("form page 1 with errors", without_javascript_too=True)

    choose(page, "Do the child’s parents or carers agree to this request?", "Yes")
    page.get_by_label("What are the child’s views, wishes and feelings?").fill("Amelia likes drawing.\n\nShe finds reading hard.")
    page.get_by_label("What are the parents’ or carers’ views?").fill("Her parents want more help with reading.")

    # A draft still refuses a wrong answer: with htmx the errors are swapped in
    # place and focus moves to them.
    consent = page.get_by_role("group", name="When did they agree?")
    for part, value in (("Day", "31"), ("Month", "2"), ("Year", "2025")):
        consent.get_by_label(part, exact=True).fill(value)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("real date")
    if javascript:
        settle(page)
        expect(page.locator("#error-summary-title")).to_be_focused()
        check("form page 1 after Save as draft with an error (swapped in place)")
    for part in ("Day", "Month", "Year"):
        consent.get_by_label(part, exact=True).fill("")

    # A draft: with htmx it is saved in place and said in the live region;
    # without, the Forms page says so and Continue comes back to it.
    page.get_by_role("button", name="Save as draft").click()
    if javascript:
        expect(page.locator("#draft-status")).to_contain_text("Draft saved at")
        settle(page)
        expect(page.locator("#save-draft")).to_be_focused()
        check("form page 1 after Save as draft (swapped in place)")
    else:
        expect(page.get_by_role("alert")).to_contain_text(f"Your draft of “{FORM}” has been saved")
        check("the Forms page after Save as draft", without_javascript_too=True)
        page.get_by_role("link", name=f"Continue your draft of the {FORM}").click()
        expect(page.get_by_role("heading", level=1, name="Special educational needs")).to_be_visible()
        page.get_by_role("link", name="Back", exact=True).click()
        expect(page.get_by_label("What are the parents’ or carers’ views?")).to_have_value("Her parents want more help with reading.")
    continue_to(page, "Special educational needs")
    check("form page 2")

    page.get_by_role("group", name="Which areas of need apply?").get_by_label("Cognition and learning").check()
    choose(page, "What is the child’s primary type of need?", "Specific learning difficulty")
    page.get_by_label("Describe the child’s special educational needs").fill("Reading and spelling are well below age.")
    continue_to(page, "Support so far")
    check("form page 3")

    date_group = page.get_by_role("group", name="When did the child start receiving SEN support?")
    for part, value in (("Day", "4"), ("Month", "9"), ("Year", "2024")):
        date_group.get_by_label(part, exact=True).fill(value)
    page.get_by_label("What support has the setting provided, and what difference has it made?").fill("Daily phonics since September.")
    page.get_by_role("group", name="Which other services have worked with the child?").get_by_label("Educational psychology").check()
    choose(page, "Has the setting used its notional SEN budget for this child’s support?", "Yes")
    continue_to(page, "Evidence")
    check("form page 4 (files)")

    page.get_by_label("Upload the child’s latest SEN support plan").set_input_files(
        {"name": "support-plan.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    continue_to(page, "Check your answers before sending the form")
    expect(page.get_by_role("link", name="Change Describe the child’s special educational needs")).to_be_visible()
    check("Check your answers", without_javascript_too=True)

    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1, name="Form sent")).to_be_visible()
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert reference
    check("the confirmation page")
    page.get_by_role("link", name="Read the form you sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FORM)
    check("the sent form, read only")

    # The LA accepts it from its inbox.
    sign_out(page)
    sign_in(page, admin)
    page.get_by_role("link", name="Forms inbox").click()
    expect(page.get_by_role("heading", level=1, name="Forms inbox")).to_be_visible()
    check("the forms inbox")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1, name=FORM)).to_be_visible()
    check("a submitted form in the inbox")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{FORM} {reference} accepted")
    check("the form after accepting")
    log.assert_clean()
