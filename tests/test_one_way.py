"""One way to do each thing (issue 16, item 4), as a user meets it: every
paged list draws the same GOV.UK pagination whose links lead to its pages;
every error summary reached with bad input has the same structure and links
to fields that exist; one precedence between a page's own errors and what
the request before it flashed; and the demo authority loads without the
command line."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from send_portal import audit
from send_portal.extensions import db
from send_portal.forms.models import FormResponse
from send_portal.messages.models import Message
from send_portal.models import Involvement, InvolvementStatus
from send_portal.notifications import notify

from .conftest import text

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZE = 2
ROWS = 5  # three pages of two


# --- pagination ------------------------------------------------------------------------------


def pagination_shape(page) -> list[tuple]:
    """The pagination's structure as a screen reader meets it: the nav's
    landmark, each item's classes, link relation, name and current state;
    addresses and the list's name left out."""
    navs = page.select("nav.govuk-pagination")
    assert len(navs) == 1, "one pagination a list"
    nav = navs[0]
    assert nav["aria-label"].startswith("Pages of ")
    shape = []
    for element in nav.find_all(["div", "li", "a"]):
        if element.name == "a":
            shape.append(("a", tuple(element["class"]), element.get("rel") and tuple(element["rel"]),
                          element.get("aria-label"), element.get("aria-current"), text(element)))
        else:
            shape.append((element.name, tuple(element["class"])))
    return shape


PAGE_TWO_OF_THREE = [
    ("div", ("govuk-pagination__prev",)),
    ("a", ("govuk-link", "govuk-pagination__link"), ("prev",), None, None, "Previous page"),
    ("li", ("govuk-pagination__item",)),
    ("a", ("govuk-link", "govuk-pagination__link"), None, "Page 1", None, "1"),
    ("li", ("govuk-pagination__item", "govuk-pagination__item--current")),
    ("a", ("govuk-link", "govuk-pagination__link"), None, "Page 2", "page", "2"),
    ("li", ("govuk-pagination__item",)),
    ("a", ("govuk-link", "govuk-pagination__link"), None, "Page 3", None, "3"),
    ("div", ("govuk-pagination__next",)),
    ("a", ("govuk-link", "govuk-pagination__link"), ("next",), None, None, "Next page"),
]


def assert_paged_like_every_list(client_request, url: str) -> None:
    page = client_request.get(url)
    assert ", page 2" in page.title.string
    assert pagination_shape(page) == PAGE_TWO_OF_THREE, url
    links = {a.get("aria-label") or a["rel"][0]: a["href"] for a in page.select("nav.govuk-pagination a")}
    assert links["prev"] == links["Page 1"] and links["next"] == links["Page 3"]
    assert ", page" not in client_request.get(links["Page 1"]).title.string
    last = client_request.get(links["Page 3"])
    assert ", page 3" in last.title.string
    assert last.select_one("nav.govuk-pagination a[aria-current=page]").get_text() == "3"


@pytest.fixture
def small_pages(app):
    app.config["PAGE_SIZE"] = PAGE_SIZE


@pytest.fixture
def children(professional, make_person):
    """ROWS children of the professional, each with an open EHC request."""
    made = []
    for n, given in enumerate(["Amelia", "Bella", "Cara", "Dina", "Ella"][:ROWS]):
        person = make_person(given, "Jones", professional=professional, case_status="Assessment in progress")
        person.request_received_on = date.today() - timedelta(days=10 + n)
        made.append(person)
    db.session.commit()
    return made


def test_the_professionals_lists_page_the_one_way(client_request, professional, children, small_pages):
    for _ in range(ROWS):
        notify(professional, "message_from_la", "/notifications")
    db.session.commit()
    client_request.sign_in(professional)
    assert_paged_like_every_list(client_request, "/send/select-person?page=2")
    assert_paged_like_every_list(client_request, "/notifications?page=2")


def test_the_la_lists_page_the_one_way(client_request, admin, professional, make_user, make_person, children, small_pages):
    involvements = {i.person_id: i for i in db.session.query(Involvement).filter_by(professional_id=professional.id)}
    for n, person in enumerate(children):
        make_user("Pending", f"Person{n}", verified=False)
        make_person(person.given_name, "Awaiting", professional=professional, status=InvolvementStatus.AWAITING.value)
        involvement = involvements[person.id]
        db.session.add(FormResponse(
            involvement_id=involvement.id, form_key="ehc_request", title="Request for an EHC needs assessment",
            status="submitted", answers={}, reference=f"ONEWAY-{n}", submitted_at=datetime(2026, 5, 1, 9, n),
        ))
        db.session.add(Message(involvement_id=involvement.id, sender_id=professional.id, from_la=False,
                               body=f"Message {n}", sent_at=datetime(2026, 5, 1, 10, n)))
        audit.record(audit.USER_CREATED, details=f"entry {n}")
    db.session.commit()
    client_request.sign_in(admin)
    for url in [
        "/admin/professionals?page=2",
        "/admin/authentication-requests?page=2",
        "/admin/people?q=Awaiting&page=2",
        "/admin/audit?page=2",
        "/admin/inbox?page=2",
        "/admin/messages?page=2",
        "/admin/clock?page=2",
    ]:
        assert_paged_like_every_list(client_request, url)


# --- error summaries -------------------------------------------------------------------------


def assert_one_kind_of_error_summary(page, *messages: str) -> None:
    """The GOV.UK error summary, built one way: an alert with the title and a
    list whose links lead to fields on the page; the page title starts
    "Error: "."""
    assert page.title.string.startswith("Error: "), page.title.string
    summaries = page.select(".govuk-error-summary")
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary["data-module"] == "govuk-error-summary" and summary["tabindex"] == "-1"
    alert = summary.find(attrs={"role": "alert"})
    assert alert is not None and alert.parent is summary
    assert text(alert.select_one("h2.govuk-error-summary__title")) == "There is a problem"
    items = alert.select(".govuk-error-summary__body > ul.govuk-list.govuk-error-summary__list > li")
    assert [text(li) for li in items] == list(messages)
    for link in alert.select("li a"):
        assert link["href"].startswith("#")
        assert page.find(id=link["href"][1:]) is not None, f"{link['href']} links to nothing"


def test_every_error_summary_is_the_same(client_request, professional, make_person):
    page = client_request.parse(client_request.post("/sign-in", data={"email": "", "password": ""}, expected_status=400))
    assert_one_kind_of_error_summary(page, "Enter your email address", "Enter your password")
    page = client_request.parse(client_request.post("/register", data={}))
    assert page.select(".govuk-error-summary li a")
    assert_one_kind_of_error_summary(page, *[text(a) for a in page.select(".govuk-error-summary li a")])

    person = make_person(professional=professional)
    client_request.sign_in(professional)
    page = client_request.parse(client_request.post(f"/send/people/{person.id}/messages", data={"body": ""}, expected_status=400))
    assert_one_kind_of_error_summary(page, *[text(li) for li in page.select(".govuk-error-summary li")])
    page = client_request.parse(client_request.post("/send/add-person", data={}, expected_status=400))
    assert_one_kind_of_error_summary(page, *[text(li) for li in page.select(".govuk-error-summary li")])
    assert len(page.select(".govuk-error-summary li a")) >= 3


def test_a_flashed_error_is_the_same_error_summary_and_wins_over_a_flashed_message(client_request, professional):
    client_request.sign_in(professional)
    with client_request.client.session_transaction() as session:
        session["_flashes"] = [("success", "Something was done."), ("error", "Something went wrong.")]
    page = client_request.get("/notifications")
    assert_one_kind_of_error_summary(page, "Something went wrong.")
    assert page.select(".govuk-notification-banner") == []
    # The message is not lost: it shows on the next page, once.
    page = client_request.get("/notifications")
    assert page.select(".govuk-error-summary") == []
    assert text(page.select_one(".govuk-notification-banner__heading")) == "Something was done."
    assert client_request.get("/notifications").select(".govuk-notification-banner") == []


# --- flashed messages: one precedence --------------------------------------------------------


def test_a_pages_own_errors_win_and_the_flashed_message_waits_for_the_next_page(client_request, professional, make_person):
    person = make_person(professional=professional)
    client_request.sign_in(professional)
    # Mark all as read flashes its outcome; its redirect is not followed.
    client_request.post("/notifications/mark-all-read", expected_status=303)
    # The next page a person sees has its own error: its summary, no banner.
    thread = client_request.parse(client_request.post(f"/send/people/{person.id}/messages", data={"body": ""}, expected_status=400))
    assert len(thread.select(".govuk-error-summary")) == 1
    assert thread.select(".govuk-notification-banner") == []
    # The flashed outcome is shown on the page after, once.
    page = client_request.get("/notifications")
    banner = page.select_one(".govuk-notification-banner--success")
    assert text(banner.select_one(".govuk-notification-banner__heading")) == "You have no unread notifications."
    assert banner["role"] == "alert"
    assert page.select(".govuk-error-summary") == []
    assert client_request.get("/notifications").select(".govuk-notification-banner") == []


def test_a_flashed_message_waits_while_htmx_swaps_a_partial(client_request, professional, make_person):
    make_person(professional=professional)
    client_request.sign_in(professional)
    client_request.post("/notifications/mark-all-read", expected_status=303)
    partial = client_request.get("/send/select-person?q=am", htmx=True)
    assert partial.select(".govuk-notification-banner") == []
    page = client_request.get("/send/select-person")
    assert "You have no unread notifications." in text(page.select_one(".govuk-notification-banner"))


# --- the demo authority without the command line ---------------------------------------------


def test_the_demo_authority_loads_without_the_command_line():
    found = subprocess.run(
        [sys.executable, "-c", "import sys, send_portal.demo; print(sorted(m for m in sys.modules if m == 'send_portal.cli'))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert found.stdout.strip() == "[]"
    imports = subprocess.run(
        [sys.executable, "-c", "import sys, send_portal.imports; print('send_portal.cli' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert imports.stdout.strip() == "False"


# --- a flashed error is an error page, in its title too --------------------------------------


@pytest.mark.parametrize("page", ["admin professional", "admin person", "forms inbox", "child's forms", "form"])
def test_a_page_showing_a_flashed_error_says_error_in_its_title(client_request, admin, professional, make_person, page):
    """The error summary and "Error: " in the title go together, whichever
    page shows the error (before, these pages showed a flashed error's
    summary under an ordinary title)."""
    person = make_person(professional=professional)
    involvement = db.session.query(Involvement).filter_by(person_id=person.id).one()
    involvement.status = InvolvementStatus.AUTHENTICATED.value
    db.session.commit()
    if page == "form":
        response = FormResponse(
            involvement_id=involvement.id, form_key="health-advice", title="Health advice", answers={},
        )
        db.session.add(response)
        db.session.commit()
    user = admin if page.startswith(("admin", "forms inbox")) else professional
    address = {
        "admin professional": f"/admin/professionals/{professional.id}",
        "admin person": f"/admin/people/{person.id}",
        "forms inbox": "/admin/inbox",
        "child's forms": f"/send/people/{person.id}/forms",
        "form": f"/send/people/{person.id}/forms/{response.id}/check" if page == "form" else None,
    }[page]
    client_request.sign_in(user)
    with client_request.client.session_transaction() as session:
        session["_flashes"] = [("error", "Something went wrong.")]
    shown = client_request.get(address)
    assert text(shown.select_one(".govuk-error-summary")).count("Something went wrong.") == 1
    assert text(shown.title).startswith("Error: ")
    # Once read, the next view is an ordinary page again.
    assert not text(client_request.get(address).title).startswith("Error: ")


def test_a_caseload_that_changed_under_the_confirmation_says_error_in_its_title(client_request, admin, professional, make_person):
    make_person(professional=professional)
    client_request.sign_in(admin)
    page = client_request.parse(client_request.post(
        f"/admin/professionals/{professional.id}/unauthenticate-caseload", data={"expected_count": "7"},
        expected_status=409,
    ))
    assert page.select_one(".govuk-error-summary") is not None
    assert text(page.title).startswith("Error: ")
