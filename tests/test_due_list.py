"""The Due list on a professional's home page (issue 15, part 4): the forms
the LA asked them for, overdue first, with the days left counted in London's
calendar; only for children they may see."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from send_portal.caseload.queries import View, delete_people, selected_involvements
from send_portal.extensions import db
from send_portal.forms.models import FormRequest, FormResponse, FormStatus
from send_portal.models import Involvement, InvolvementStatus
from send_portal.notifications import due

from .conftest import text

# Noon in London on a Tuesday in winter (GMT).
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock(monkeypatch):
    """Sets the moment the app takes as now (an aware UTC datetime)."""
    moment = {"now": NOON}
    monkeypatch.setattr(due, "utc_now", lambda: moment["now"])

    def set_now(value: datetime) -> None:
        moment["now"] = value

    return set_now


def involvement_of(person, professional) -> Involvement:
    return db.session.scalar(
        select(Involvement).where(Involvement.person_id == person.id, Involvement.professional_id == professional.id)
    )


def ask(person, professional, due_on: date, title="Annual review contribution", admin=None) -> FormRequest:
    request = FormRequest(
        involvement_id=involvement_of(person, professional).id, form_key="annual-review-contribution", title=title,
        due_on=due_on, requested_by_id=(admin or professional).id,
    )
    db.session.add(request)
    db.session.commit()
    return request


def answer(request: FormRequest, status: str) -> None:
    db.session.add(FormResponse(
        involvement_id=request.involvement_id, form_key=request.form_key, title=request.title, status=status,
        answers={}, form_request_id=request.id, submitted_at=None if status == FormStatus.DRAFT.value else datetime(2026, 3, 1),
    ))
    db.session.commit()


def due_rows(page) -> list[tuple[str, str, str, str]]:
    return [
        tuple(" ".join(cell.get_text("").split()) for cell in row.select("th, td"))
        for row in page.select("#due-heading ~ div table tbody tr")
    ]


def home(client_request, professional):
    if client_request.user is None:
        client_request.sign_in(professional)
    return client_request.get("/home")


def test_overdue_first_then_soonest_with_days_left_as_text(client_request, professional, make_person, clock):
    amelia = make_person("Amelia", "Jones", professional=professional)
    noah = make_person("Noah", "Brown", professional=professional)
    today = date(2026, 3, 10)
    ask(amelia, professional, today + timedelta(days=10), "Psychological advice")
    ask(noah, professional, today + timedelta(days=1), "Health advice")
    ask(amelia, professional, today - timedelta(days=3), "Annual review contribution")
    ask(noah, professional, today, "Social care advice")
    ask(noah, professional, today - timedelta(days=1), "Early years advice")
    page = home(client_request, professional)
    assert due_rows(page) == [
        ("Annual review contribution", "Amelia Jones: forms", "7 March 2026", "3 days overdue"),
        ("Early years advice", "Noah Brown: forms", "9 March 2026", "1 day overdue"),
        ("Social care advice", "Noah Brown: forms", "10 March 2026", "Due today"),
        ("Health advice", "Noah Brown: forms", "11 March 2026", "Due in 1 day"),
        ("Psychological advice", "Amelia Jones: forms", "20 March 2026", "Due in 10 days"),
    ]
    assert page.select_one("#due-heading ~ div table tbody a")["href"] == f"/send/people/{amelia.id}/forms"
    # Overdue is said in words; the colour only adds to them.
    assert text(page.select_one(".govuk-tag--red")) == "3 days overdue"
    assert text(page.select_one("#due-summary")) == "5 forms Demo Borough Council has asked you for, overdue first."
    # The child's Forms page, where the link goes, lists the request.
    forms = client_request.get(f"/send/people/{amelia.id}/forms")
    assert "Annual review contribution" in text(forms.main)


@pytest.mark.parametrize("now, due_on, expected", [
    # Month ends
    (datetime(2026, 1, 31, 12, tzinfo=timezone.utc), date(2026, 2, 1), "Due in 1 day"),
    (datetime(2026, 1, 31, 12, tzinfo=timezone.utc), date(2026, 3, 1), "Due in 29 days"),
    (datetime(2026, 3, 1, 12, tzinfo=timezone.utc), date(2026, 2, 28), "1 day overdue"),
    (datetime(2026, 4, 30, 12, tzinfo=timezone.utc), date(2026, 5, 31), "Due in 31 days"),
    (datetime(2027, 1, 1, 12, tzinfo=timezone.utc), date(2026, 12, 31), "1 day overdue"),
    # Leap years
    (datetime(2028, 2, 28, 12, tzinfo=timezone.utc), date(2028, 2, 29), "Due in 1 day"),
    (datetime(2028, 2, 28, 12, tzinfo=timezone.utc), date(2028, 3, 1), "Due in 2 days"),
    (datetime(2028, 3, 1, 12, tzinfo=timezone.utc), date(2028, 2, 29), "1 day overdue"),
    (datetime(2028, 2, 29, 12, tzinfo=timezone.utc), date(2028, 2, 29), "Due today"),
    (datetime(2027, 2, 28, 12, tzinfo=timezone.utc), date(2027, 3, 1), "Due in 1 day"),
    # London, not UTC: half past midnight in summer (BST) is already tomorrow.
    (datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc), date(2026, 7, 1), "Due today"),
    (datetime(2026, 6, 30, 22, 59, tzinfo=timezone.utc), date(2026, 7, 1), "Due in 1 day"),
    # ... and not in winter (GMT is UTC).
    (datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), date(2027, 1, 1), "Due in 1 day"),
    # The nights the clocks change.
    (datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc), date(2026, 3, 29), "Due today"),
    (datetime(2026, 3, 28, 23, 59, tzinfo=timezone.utc), date(2026, 3, 29), "Due in 1 day"),
    (datetime(2026, 10, 24, 23, 30, tzinfo=timezone.utc), date(2026, 10, 25), "Due today"),
    (datetime(2026, 10, 25, 23, 30, tzinfo=timezone.utc), date(2026, 10, 25), "Due today"),  # GMT again
    (datetime(2026, 10, 26, 0, 30, tzinfo=timezone.utc), date(2026, 10, 25), "1 day overdue"),
])
def test_days_left_across_month_ends_leap_days_and_london_midnight(
    client_request, professional, make_person, clock, now, due_on, expected
):
    clock(now)
    amelia = make_person("Amelia", "Jones", professional=professional)
    ask(amelia, professional, due_on)
    [row] = due_rows(home(client_request, professional))
    assert row[2:] == (f"{due_on.day} {due_on:%B %Y}", expected)


def test_nothing_due_is_said_plainly(client_request, professional, make_person, clock):
    make_person("Amelia", "Jones", professional=professional)
    page = home(client_request, professional)
    assert text(page.select_one("#due-heading")) == "Due"
    assert page.select_one("#due-heading ~ div table") is None
    assert text(page.select_one("#due-summary")).startswith("Nothing is due.")


def test_a_sent_form_leaves_the_list_and_a_rejected_one_comes_back(client_request, professional, make_person, clock):
    amelia = make_person("Amelia", "Jones", professional=professional)
    submitted = ask(amelia, professional, date(2026, 3, 20), "Submitted advice")
    accepted = ask(amelia, professional, date(2026, 3, 21), "Accepted advice")
    rejected = ask(amelia, professional, date(2026, 3, 22), "Rejected advice")
    drafted = ask(amelia, professional, date(2026, 3, 23), "Drafted advice")
    answer(submitted, FormStatus.SUBMITTED.value)
    answer(accepted, FormStatus.ACCEPTED.value)
    answer(rejected, FormStatus.REJECTED.value)
    answer(drafted, FormStatus.DRAFT.value)
    assert [row[0] for row in due_rows(home(client_request, professional))] == ["Rejected advice", "Drafted advice"]


def test_only_children_the_professional_may_see(client_request, professional, other_professional, make_person, admin, clock):
    """Deleted, unauthenticated, awaiting, declined and ended involvements,
    and other professionals' requests, do not show; hidden ones do (hiding
    changes nothing else)."""
    today = date(2026, 3, 10)
    shown = make_person("Amelia", "Jones", professional=professional)
    hidden = make_person("Hana", "Hidden", professional=professional, hidden=True)
    deleted = make_person("Dan", "Deleted", professional=professional)
    unauthenticated = make_person("Una", "Unauth", professional=professional, status=InvolvementStatus.UNAUTHENTICATED.value)
    awaiting = make_person("Ava", "Awaiting", professional=professional, status=InvolvementStatus.AWAITING.value)
    declined = make_person("Dee", "Declined", professional=professional, status=InvolvementStatus.DECLINED.value)
    ended = make_person("Ed", "Ended", professional=professional, ended_on=today)
    ending = make_person("Tom", "Tomorrow", professional=professional, ended_on=today + timedelta(days=1))
    theirs = make_person("Olly", "Other", professional=other_professional)
    for person in (shown, hidden, deleted, unauthenticated, awaiting, declined, ended, ending):
        ask(person, professional, today + timedelta(days=5), f"Advice for {person.given_name}", admin=admin)
    ask(theirs, other_professional, today, "Advice for Olly", admin=admin)
    delete_people(professional, selected_involvements(professional, [deleted.id], View.ACTIVE))
    db.session.commit()
    assert [row[1] for row in due_rows(home(client_request, professional))] == [
        "Amelia Jones: forms", "Hana Hidden: forms", "Tom Tomorrow: forms",
    ]


def test_an_unverified_professional_has_no_due_list(client_request, make_user, make_person, clock):
    newcomer = make_user("Ruth", "Evans", verified=False)
    amelia = make_person("Amelia", "Jones", professional=newcomer)
    ask(amelia, newcomer, date(2026, 3, 12))
    page = home(client_request, newcomer)
    assert page.select_one("#due-heading") is None
    assert "Amelia" not in text(page.main)


def test_a_long_list_shows_the_most_urgent_and_says_so(client_request, professional, make_person, clock):
    amelia = make_person("Amelia", "Jones", professional=professional)
    for n in range(due.DUE_LIST_LIMIT + 2):
        ask(amelia, professional, date(2026, 3, 1) + timedelta(days=n), f"Form {n}")
    page = home(client_request, professional)
    rows = due_rows(page)
    assert len(rows) == due.DUE_LIST_LIMIT and rows[0][0] == "Form 0" and rows[-1][0] == f"Form {due.DUE_LIST_LIMIT - 1}"
    assert text(page.select_one("#due-summary")).startswith(
        f"The {due.DUE_LIST_LIMIT} most urgent of the {due.DUE_LIST_LIMIT + 2} forms Demo Borough Council has asked you for"
    )


def test_admins_have_no_due_list(client_request, admin):
    client_request.sign_in(admin)
    assert client_request.get("/home").select_one("#due-heading") is None


@pytest.mark.parametrize("left, expected", [(0, "Due today"), (1, "Due in 1 day"), (2, "Due in 2 days"), (-1, "1 day overdue"), (-30, "30 days overdue")])
def test_days_left_text(left, expected):
    today = date(2026, 3, 10)
    assert due.days_left_text(today + timedelta(days=left), today) == expected
