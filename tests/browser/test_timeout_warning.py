"""The timeout warning in a real browser (WCAG 2.2.1 Timing Adjustable): the
dialog opens before the idle time-out ends, takes focus, passes axe, and
"Stay signed in" extends the session; if the time runs out on a form page,
what was typed is saved as a draft (send_portal/timeout.py, static/js/timeout.js).

The idle time-out is cut to seconds here (the app's own configuration), so
the tests wait for real time to pass: about 20 seconds each."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from send_portal.extensions import db
from send_portal.forms import queries as form_queries
from send_portal.forms.models import FormResponse
from send_portal.models import Involvement

from ..conftest import PASSWORD
from .conftest import assert_no_axe_violations, focused_element, open_select_person, release_database, sign_in

pytestmark = pytest.mark.browser

DIALOG = "#timeout-dialog"


def short_time_out(app, seconds: int, warning: int, save: int) -> None:
    app.config.update(
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=seconds),
        SESSION_TIMEOUT_WARNING_SECONDS=warning,
        SESSION_TIMEOUT_SAVE_SECONDS=save,
    )


def test_the_warning_opens_takes_focus_and_stay_signed_in_extends_the_session(page, app, caseload, professional):
    short_time_out(app, seconds=20, warning=12, save=2)
    sign_in(page, professional)
    signed_in_at = time.monotonic()
    open_select_person(page)
    page.get_by_label("Person filter").focus()

    dialog = page.get_by_role("dialog", name="You’ll be signed out soon")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(dialog).to_contain_text("We will sign you out in")
    # Focus moves into the dialog, to its heading, and Tab stays inside it.
    assert focused_element(page)["id"] == "timeout-dialog-title"
    names = []
    for _ in range(3):
        page.keyboard.press("Tab")
        names.append(focused_element(page)["text"])
    assert names == ["Stay signed in", "Sign out", "Stay signed in"]
    page.keyboard.press("Shift+Tab")
    assert focused_element(page)["text"] == "Sign out"
    assert_no_axe_violations(page, "Select Person with the timeout warning open")

    with page.expect_response(re.compile(r"/session/keep-alive$")) as keep_alive:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert keep_alive.value.status == 204
    expect(dialog).to_be_hidden()
    # Focus goes back where it was.
    assert focused_element(page)["name"] == "Person filter"

    # After the time the session would have ended, it still works.
    time.sleep(max(0.0, signed_in_at + 22 - time.monotonic()))
    open_select_person(page)
    expect(page.locator("#caseload-results tbody th[scope=row]").first).to_be_visible()

    # Little time is left now, so the warning is open at once: Escape also
    # keeps the person signed in, and never just dismisses it.
    expect(dialog).to_be_visible()
    with page.expect_response(re.compile(r"/session/keep-alive$")) as keep_alive:
        page.keyboard.press("Escape")
    assert keep_alive.value.status == 204
    expect(dialog).to_be_hidden()


def test_when_the_time_runs_out_on_a_form_page_the_answers_are_saved_as_a_draft(page, app, professional, make_person):
    person = make_person("Amelia", "Jones", professional=professional)
    involvement = db.session.query(Involvement).filter_by(person_id=person.id).one()
    draft = form_queries.start_draft(professional, involvement, form_queries.catalogue().get("ehc-needs-assessment-request"))
    db.session.commit()
    form_page = f"/send/people/{person.id}/forms/{draft.id}/pages/1"
    draft_id, email = draft.id, professional.email
    release_database()

    short_time_out(app, seconds=15, warning=9, save=4)
    sign_in(page, professional)
    page.goto(form_page)
    page.get_by_label("What are the child’s views, wishes and feelings?").fill("Amelia likes drawing.")

    dialog = page.get_by_role("dialog", name="You’ll be signed out soon")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text("We will save your answers on this page as a draft first.")

    # Nobody answers: the page is saved as a draft and the person signed out.
    expect(page).to_have_url(re.compile(r"/sign-in\?next="), timeout=15_000)
    expect(page.locator(".govuk-inset-text").first).to_have_text(
        "You were signed out because you did nothing for 15 seconds. Your answers were saved as a draft. Sign in to carry on."
    )
    db.session.expire_all()
    assert db.session.get(FormResponse, draft_id).answers["child_views"] == "Amelia likes drawing."
    release_database()

    # Signing in again comes back to the page, with what was typed.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=30)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(form_page) + "$"))
    expect(page.get_by_label("What are the child’s views, wishes and feelings?")).to_have_value("Amelia likes drawing.")


# --- "Stay signed in" when the page's token is stale, or the session ended (accessibility review) ----


def _stale_token(page) -> None:
    """As after signing in again in another tab: the page's CSRF token is old."""
    page.evaluate("""() => document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRFToken': 'stale'}))""")


def test_stay_signed_in_with_a_stale_token_reloads_a_page_with_nothing_typed(page, app, caseload, professional):
    short_time_out(app, seconds=30, warning=28, save=2)
    sign_in(page, professional)
    open_select_person(page)
    dialog = page.get_by_role("dialog", name="You’ll be signed out soon")
    expect(dialog).to_be_visible(timeout=10_000)
    _stale_token(page)
    page.evaluate("() => { window.notReloaded = true; }")
    with page.expect_response(re.compile(r"/session/keep-alive$")) as keep_alive:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert keep_alive.value.status == 400 and keep_alive.value.headers.get("hx-refresh") == "true"
    # The page is loaded again, with a fresh token: the session goes on.
    page.wait_for_function("() => window.notReloaded === undefined")
    expect(page.get_by_role("heading", level=1)).to_have_text("Select Person")
    expect(page).to_have_url(re.compile(r"/send/select-person"))


def test_stay_signed_in_with_a_stale_token_on_a_form_page_says_what_to_do(page, app, professional, make_person):
    person = make_person("Amelia", "Jones", professional=professional)
    involvement = db.session.query(Involvement).filter_by(person_id=person.id).one()
    draft = form_queries.start_draft(professional, involvement, form_queries.catalogue().get("ehc-needs-assessment-request"))
    db.session.commit()
    form_page = f"/send/people/{person.id}/forms/{draft.id}/pages/1"
    release_database()

    short_time_out(app, seconds=40, warning=38, save=2)
    sign_in(page, professional)
    page.goto(form_page)
    answer = page.get_by_label("What are the child’s views, wishes and feelings?")
    answer.fill("Amelia likes drawing.")
    dialog = page.get_by_role("dialog", name="You’ll be signed out soon")
    expect(dialog).to_be_visible(timeout=10_000)
    notice = page.locator("#timeout-dialog-notice")
    expect(notice).to_have_attribute("aria-live", "assertive")
    expect(notice).to_have_text("")
    _stale_token(page)
    with page.expect_response(re.compile(r"/session/keep-alive$")) as keep_alive:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert keep_alive.value.status == 400
    expect(notice).to_have_text(
        "You signed in again in another tab. Copy anything you have typed, then reload this page.")
    expect(notice).to_be_visible()
    # Nothing typed is lost: the page was not reloaded.
    expect(answer).to_have_value("Amelia likes drawing.")
    assert_no_axe_violations(page, "A form page with the signed-in-again notice")


@pytest.mark.parametrize("redirect, expected", [
    ("/sign-in", "/sign-in?next=%2Fsend%2Fselect-person%3Fq%3Djones"),
    ("/sign-in?next=%2Fhome", "/sign-in?next=%2Fhome"),
])
def test_stay_signed_in_after_the_session_ended_signs_in_again_back_to_the_page(
        page, app, caseload, professional, redirect, expected):
    short_time_out(app, seconds=30, warning=28, save=2)
    sign_in(page, professional)
    open_select_person(page, "/send/select-person?q=jones")
    dialog = page.get_by_role("dialog", name="You’ll be signed out soon")
    expect(dialog).to_be_visible(timeout=10_000)
    # As the server answers an htmx request when the session has ended (auth.views.unauthorized).
    page.route(re.compile(r"/session/keep-alive$"), lambda route: route.fulfill(
        status=401, headers={"HX-Redirect": redirect}, body=""))
    # (The session is in fact still valid here, so the sign-in page sends us on: the address asked for is what counts.)
    with page.expect_request(re.compile(r"/sign-in")) as sign_in_page:
        dialog.get_by_role("button", name="Stay signed in").click()
    asked = urlsplit(sign_in_page.value.url)
    assert f"{asked.path}?{asked.query}" == expected
