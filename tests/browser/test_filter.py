"""Person filter in a real browser (SPEC section 2): it narrows the list as you
type, without a page load, says how many people it found, and keeps the URL
in step. Without JavaScript the same box filters on submit."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import expect_status, mark_page, open_select_person, page_was_not_reloaded, sign_in

pytestmark = pytest.mark.browser

ROWS = "#caseload-results tbody th[scope=row]"


def query_of(page) -> str | None:
    values = parse_qs(urlsplit(page.url).query).get("q")
    return values[0] if values else None


def test_typing_narrows_the_list_without_a_page_load_and_announces_the_count(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    expect(page.locator(ROWS)).to_have_text(caseload.active)
    status = page.locator("#caseload-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    mark_page(page)

    person_filter = page.get_by_label("Person filter")
    person_filter.press_sequentially("jon", delay=40)
    expect_status(page, "2 people found")
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones", "Zoë Smith-Jones"])
    expect(page.locator("#caseload-count")).to_have_text("Showing 1 to 2 of 2 people")
    expect(page).to_have_url(re.compile(r"/send/select-person\?q=jon$"))

    person_filter.press_sequentially("es a", delay=40)
    expect_status(page, "1 person found")
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones"])
    expect(page).to_have_url(re.compile(r"q=jones"))
    assert query_of(page) == "jones a"

    assert page_was_not_reloaded(page), "filtering must swap the rows in place, not load a new page"
    expect(person_filter).to_be_focused()
    expect(person_filter).to_have_value("jones a")


def test_no_results_is_said_plainly(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    page.get_by_label("Person filter").press_sequentially("qqq", delay=40)
    expect_status(page, "No people found")
    expect(page.locator("#caseload-count")).to_have_text("No people found for “qqq”. Check the spelling or try fewer letters.")
    expect(page.locator(ROWS)).to_have_count(0)
    expect(page.get_by_role("table")).to_have_count(0)

    # Clearing the box brings everyone back.
    page.get_by_label("Person filter").fill("")
    expect_status(page, "4 people found")
    expect(page.locator(ROWS)).to_have_text(caseload.active)
    expect(page).to_have_url(re.compile(r"/send/select-person(\?q=)?$"))


def test_filter_ignores_accents_case_and_word_order(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page)
    person_filter = page.get_by_label("Person filter")
    for typed, expected in [
        ("zoe", ["Zoë Smith-Jones"]),
        ("ZOË", ["Zoë Smith-Jones"]),
        ("smith", ["Zoë Smith-Jones"]),
        ("jones amelia", ["Amelia Jones"]),
        ("o'brien", ["Mary-Jane O'Brien"]),
        ("jane", ["Mary-Jane O'Brien"]),
    ]:
        person_filter.select_text()
        person_filter.press_sequentially(typed, delay=20)
        # The URL is replaced once the answer for the whole query is in.
        page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("q") == [typed])
        expect_status(page, f"{len(expected)} {'person' if len(expected) == 1 else 'people'} found")
        expect(page.locator(ROWS), typed).to_have_text(expected)


def test_a_filtered_url_loads_as_a_full_page(page, caseload, professional):
    sign_in(page, professional)
    open_select_person(page, "/send/select-person?q=jon")
    expect(page.get_by_label("Person filter")).to_have_value("jon")
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones", "Zoë Smith-Jones"])
    expect(page).to_have_title(re.compile(r"^Active, filtered by “jon” – Select Person"))


def test_without_javascript_the_filter_works_on_submit(page_nojs, caseload, professional):
    page = page_nojs
    sign_in(page, professional)
    open_select_person(page, javascript=False)
    page.get_by_label("Person filter").fill("zoe")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/send/select-person\?q=zoe$"))
    expect(page.locator(ROWS)).to_have_text(["Zoë Smith-Jones"])
    expect(page.locator("#caseload-count")).to_have_text("Showing 1 to 1 of 1 person")
    expect(page.get_by_label("Person filter")).to_have_value("zoe")


def test_an_older_response_never_overwrites_a_newer_query(page, caseload, professional, live_server):
    """hx-sync: the answer for "j" is held back until after "jon" has been
    answered; the list must end showing "jon", never "j"."""
    live_server.slow_requests.append((lambda environ: parse_qs(environ.get("QUERY_STRING", "")).get("q") == ["j"], 1.0))
    sign_in(page, professional)
    open_select_person(page)
    person_filter = page.get_by_label("Person filter")
    person_filter.press_sequentially("j")
    page.wait_for_timeout(450)  # past the 300 ms delay: the slow request for "j" is on its way
    person_filter.press_sequentially("on", delay=30)
    expect_status(page, "2 people found")
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones", "Zoë Smith-Jones"])
    page.wait_for_timeout(1000)  # the answer for "j" has come and gone
    expect(page.locator(ROWS)).to_have_text(["Amelia Jones", "Zoë Smith-Jones"])
    expect_status(page, "2 people found")
    assert query_of(page) == "jon"


def test_the_same_count_is_not_announced_again_on_every_key(page, caseload, professional):
    """portal.js leaves the live region alone when a filter answer repeats the
    count already there, so "No people found" is said once, not per key."""
    sign_in(page, professional)
    open_select_person(page)
    person_filter = page.get_by_label("Person filter")
    person_filter.press_sequentially("qq", delay=20)
    status = page.locator("#caseload-status")
    expect_status(page, "No people found")
    page.evaluate(
        """() => { window.__statusChanges = 0;
                   new MutationObserver(() => window.__statusChanges++)
                     .observe(document.getElementById('caseload-status'), {childList: true, subtree: true, characterData: true}); }"""
    )
    with page.expect_response(re.compile(r"q=qqq")):
        person_filter.press_sequentially("q")
    page.wait_for_timeout(200)
    expect(page.locator("#caseload-count")).to_have_text("No people found for “qqq”. Check the spelling or try fewer letters.")
    assert page.evaluate("() => window.__statusChanges") == 0

    person_filter.fill("am")
    expect_status(page, "1 person found")
    assert page.evaluate("() => window.__statusChanges") > 0
