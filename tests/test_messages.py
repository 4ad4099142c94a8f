"""Messages about a child between the LA and each professional (SPEC section
4): new until opened, forms asked for with a due date, and access that
follows the involvement."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from send_portal import audit
from send_portal.extensions import db
from send_portal.forms.models import FormRequest, FormResponse
from send_portal.messages.models import Message
from send_portal.models import Activity, AuditEntry, Involvement, InvolvementStatus

from .conftest import text
from .test_forms import _delete, _reauthenticate, error_summary, sign_out


@pytest.fixture
def child(professional, make_person):
    return make_person("Amelia", "Jones", professional=professional)


def thread_url(person) -> str:
    return f"/send/people/{person.id}/messages"


def admin_thread_url(person, professional) -> str:
    return f"/admin/people/{person.id}/messages/{professional.id}"


def as_user(client_request, user):
    if client_request.user is not None:
        sign_out(client_request)
    client_request.sign_in(user)
    return client_request


def messages_on(page) -> list[str]:
    return [text(li) for li in page.select(".app-messages > li")]


def test_a_professional_writes_to_the_la_and_the_la_sees_it_as_new(client_request, child, professional, admin):
    as_user(client_request, professional)
    page = client_request.get(thread_url(child))
    assert text(page.h1) == "Messages"
    assert "There are no messages yet." in text(page.main)
    assert text(page.select_one("label[for=body]")) == "Your message to Demo Borough Council"
    response = client_request.post(thread_url(child), data={"body": "Amelia has moved class.\n\nCan we talk?"}, expected_status=303)
    page = client_request.get(response.headers["Location"])
    assert "Your message has been sent" in text(page.select_one(".govuk-notification-banner"))
    assert "Amelia has moved class." in messages_on(page)[0]
    assert db.session.scalar(select(Activity.description).where(Activity.person_id == child.id)) == "Message from a professional"

    as_user(client_request, admin)
    overview = client_request.get("/admin/messages")
    assert "1 new message from professionals" in text(overview.select_one("#threads-count"))
    row = overview.select_one("tbody tr")
    assert "Amelia Jones" in text(row) and "Sam Patel" in text(row) and "1 new" in text(row)
    page = client_request.get(row.select_one("a")["href"])
    assert "New" in messages_on(page)[0]
    # Opened: no longer new.
    page = client_request.get(admin_thread_url(child, professional))
    assert "New" not in messages_on(page)[0]
    assert "1 new" not in text(client_request.get("/admin/messages").main)


def test_the_la_replies_and_the_message_is_new_until_opened(client_request, child, professional, admin):
    as_user(client_request, admin)
    threads = client_request.get(f"/admin/people/{child.id}/messages")
    link = threads.find("a", string="Sam Patel")
    assert link["href"] == admin_thread_url(child, professional)
    client_request.post(admin_thread_url(child, professional), data={"body": "Please call us about Amelia."}, expected_status=303)

    as_user(client_request, professional)
    forms_page = client_request.get(f"/send/people/{child.id}/forms")
    assert "1 new" in text(forms_page.find("a", string="Messages about Amelia Jones").parent)
    page = client_request.get(thread_url(child))
    first = page.select_one(".app-messages > li")
    assert "Demo Borough Council" in text(first.h3) and "New" in text(first.h3)
    assert "Please call us about Amelia." in text(first)
    page = client_request.get(thread_url(child))
    assert "New" not in text(page.select_one(".app-messages > li").h3)
    assert "new" not in text(client_request.get(f"/send/people/{child.id}/forms").find("a", string="Messages about Amelia Jones").parent)


def test_an_empty_or_long_message_is_refused(client_request, child, professional):
    as_user(client_request, professional)
    page = client_request.parse(client_request.post(thread_url(child), data={"body": " \n "}, expected_status=400))
    assert page.title.string.startswith("Error: ")
    assert error_summary(page) == [("#body", "Enter a message")]
    page = client_request.parse(client_request.post(thread_url(child), data={"body": "x" * 5001}, expected_status=400))
    assert error_summary(page) == [("#body", "The message must be 5,000 characters or fewer")]
    assert page.select_one("#body").get_text() == "x" * 5001
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_the_la_asks_for_a_form_with_a_due_date(client_request, professional, other_professional, make_person, admin):
    person = make_person(professional=other_professional)
    due = date.today() + timedelta(days=30)
    as_user(client_request, admin)
    page = client_request.get(admin_thread_url(person, other_professional))
    options = [o["value"] for o in page.select("#form_key option")]
    assert options == ["", "educational-psychology-advice", "annual-review-contribution"]
    client_request.post(admin_thread_url(person, other_professional), data={
        "body": "Please send your psychological advice.", "form_key": "educational-psychology-advice",
        "due-day": str(due.day), "due-month": str(due.month), "due-year": str(due.year),
    }, expected_status=303)
    form_request = db.session.scalar(select(FormRequest))
    assert form_request.due_on == due and form_request.title == "Educational psychology advice"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == audit.FORM_REQUESTED)).person_id == person.id

    as_user(client_request, other_professional)
    thread = client_request.get(thread_url(person))
    asked = thread.select_one(".app-messages .govuk-inset-text")
    assert "Form asked for: Educational psychology advice" in text(asked)
    assert f"Due {due:%-d %B %Y}" in text(asked)
    forms_page = client_request.get(f"/send/people/{person.id}/forms")
    assert "Forms Demo Borough Council has asked you for" in text(forms_page.main)
    start = forms_page.select_one("form[action*='/forms/requests/'] button")
    assert text(start) == "Start Educational psychology advice"
    response = client_request.post(start.find_parent("form")["action"], expected_status=303)
    draft = db.session.scalar(select(FormResponse))
    assert draft.form_request_id == form_request.id and draft.due_on == due
    assert response.headers["Location"].endswith("/pages/1")


def test_a_form_request_is_checked(client_request, child, professional, admin):
    as_user(client_request, admin)
    yesterday = date.today() - timedelta(days=1)
    cases = [
        ({"form_key": "educational-psychology-advice"}, ("#form_key", "Choose a form from the list")),
        ({"form_key": "ehc-needs-assessment-request"}, ("#due-day", "Enter the date the form is due")),
        ({"form_key": "annual-review-contribution", "due-day": str(yesterday.day), "due-month": str(yesterday.month), "due-year": str(yesterday.year)},
         ("#due-day", "The due date must be today or in the future")),
        ({"form_key": "annual-review-contribution", "due-day": "30", "due-month": "2", "due-year": "2027"}, ("#due-day", "The due date must be a real date")),
        ({"form_key": "annual-review-contribution", "due-day": "1", "due-month": "", "due-year": "2027"}, ("#due-month", "The due date must include a month")),
    ]
    for data, expected in cases:
        page = client_request.parse(client_request.post(admin_thread_url(child, professional), data=dict(data, body="Please"), expected_status=400))
        assert error_summary(page) == [expected], data
    assert db.session.scalar(select(func.count()).select_from(FormRequest)) == 0
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    # Without a date, the form's usual period applies.
    client_request.post(admin_thread_url(child, professional), data={"body": "Please", "form_key": "annual-review-contribution"}, expected_status=303)
    assert db.session.scalar(select(FormRequest.due_on)) == date.today() + timedelta(days=14)


def test_messages_need_an_authenticated_involvement(client_request, professional, make_person, admin):
    awaiting = make_person("Wilma", "Wait", professional=professional, status=InvolvementStatus.AWAITING.value)
    as_user(client_request, professional)
    client_request.get(thread_url(awaiting), expected_status=404)
    client_request.post(thread_url(awaiting), data={"body": "Hello"}, expected_status=404)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    # The LA cannot write to them either, until it authenticates them.
    as_user(client_request, admin)
    page = client_request.get(admin_thread_url(awaiting, professional))
    assert page.select_one("#body") is None
    assert "is not authenticated for Wilma" in text(page.select_one(".govuk-inset-text"))
    client_request.post(admin_thread_url(awaiting, professional), data={"body": "Hello"}, expected_status=303)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_only_admins_reach_the_la_side_and_only_professionals_the_other(client_request, child, professional, admin):
    as_user(client_request, professional)
    for url in ("/admin/messages", f"/admin/people/{child.id}/messages", admin_thread_url(child, professional)):
        client_request.get(url, expected_status=404)
    as_user(client_request, admin)
    client_request.get(thread_url(child), expected_status=404)
    client_request.get(f"/admin/people/{child.id}/messages/{admin.id}", expected_status=404)
    client_request.get(f"/admin/people/987654/messages", expected_status=404)


def test_each_professional_has_their_own_thread(client_request, child, professional, make_user, admin):
    colleague = make_user("Riley", "Evans", professional_type="senco", email="riley.evans@school.example")
    db.session.add(Involvement(professional_id=colleague.id, person_id=child.id, status=InvolvementStatus.AUTHENTICATED.value))
    db.session.commit()
    as_user(client_request, professional)
    client_request.post(thread_url(child), data={"body": "A private note from Sam"}, expected_status=303)
    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "A reply only for Sam"}, expected_status=303)
    as_user(client_request, colleague)
    page = client_request.get(thread_url(child))
    assert messages_on(page) == []
    assert "A private note from Sam" not in str(page) and "A reply only for Sam" not in str(page)
    as_user(client_request, admin)
    threads = client_request.get(f"/admin/people/{child.id}/messages")
    assert "Sam Patel" in text(threads.main) and "Riley Evans" in text(threads.main)


def test_after_delete_messages_are_not_found_until_re_authenticated(client_request, child, professional, admin):
    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "About Amelia"}, expected_status=303)
    as_user(client_request, professional)
    involvement = _delete(professional, child)
    client_request.get(thread_url(child), expected_status=404)
    client_request.post(thread_url(child), data={"body": "Still here?"}, expected_status=404)
    # The LA keeps the thread, and cannot write to someone who cannot read it.
    as_user(client_request, admin)
    page = client_request.get(admin_thread_url(child, professional))
    assert "About Amelia" in text(page.select_one(".app-messages"))
    assert page.select_one("#body") is None
    sign_out(client_request)
    client_request.user = None
    _reauthenticate(involvement)
    as_user(client_request, professional)
    page = client_request.get(thread_url(child))
    assert "About Amelia" in text(page.select_one(".app-messages"))
