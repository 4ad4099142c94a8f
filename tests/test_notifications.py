"""In-portal notifications (issue 13, part 4): each event tells the right
person, in words that name no child, with a link to the thing; the unread
count in the header; opening one and Mark all as read; nobody sees another's
notifications; and htmx partials never count them."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from send_portal.caseload.queries import View, delete_people, selected_involvements
from send_portal.extensions import db
from send_portal.forms.models import FormRequest
from send_portal.models import Involvement, InvolvementStatus, User
from send_portal.notifications import notify
from send_portal.notifications.models import Notification

from .conftest import text
from .test_forms import sign_out, submit_ehc_request
from .test_messages import admin_thread_url, thread_url

CHILD = ("Amelia", "Jones")


@pytest.fixture
def child(professional, make_person):
    return make_person(*CHILD, professional=professional)


def notifications_of(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(Notification).where(Notification.recipient_id == user.id).order_by(Notification.id)
    ))


def assert_names_no_child(notifications, *names):
    for notification in notifications:
        for name in names or CHILD:
            assert name.lower() not in notification.text.lower(), notification.text
            assert name.lower() not in notification.link.lower(), notification.link


def header_link(page):
    return page.select_one("nav[aria-label=Account] a[href='/notifications']")


def as_user(client_request, user):
    if client_request.user is not None:
        sign_out(client_request)
    client_request.sign_in(user)


# --- each event notifies the right person --------------------------------------------------


def test_a_submitted_form_tells_every_active_admin_and_accepting_it_tells_the_professional(
    client_request, child, professional, admin, make_user
):
    other_admin = make_user("Priya", "Shah", role="admin", email="priya.shah@la.example")
    gone_admin = make_user("Old", "Timer", role="admin", email="old.timer@la.example")
    gone_admin.is_deactivated = True
    db.session.commit()
    as_user(client_request, professional)
    form = submit_ehc_request(client_request, child)
    for each in (admin, other_admin):
        [note] = notifications_of(each)
        assert note.kind == "form_submitted" and note.text == "A professional has sent a form"
        assert note.link == f"/admin/inbox/{form.id}"
    assert notifications_of(gone_admin) == []
    assert notifications_of(professional) == []  # nobody is told of their own act

    as_user(client_request, admin)
    client_request.post(f"/admin/inbox/{form.id}/accept", expected_status=303)
    [note] = notifications_of(professional)
    assert note.text == "A form you sent has been accepted"
    assert note.link == f"/send/people/{child.id}/forms/{form.id}"
    assert_names_no_child(notifications_of(professional) + notifications_of(admin))

    # The professional sees it, opens it and lands on their form.
    as_user(client_request, professional)
    home = client_request.get("/home")
    assert text(header_link(home)) == "Notifications (1 unread)"
    page = client_request.get("/notifications")
    row = page.select_one("tbody tr")
    assert "A form you sent has been accepted" in text(row) and "Unread" in text(row)
    opened = client_request.get_response(row.select_one("a")["href"])
    assert opened.status_code == 303 and opened.headers["Location"] == f"/send/people/{child.id}/forms/{form.id}"
    assert notifications_of(professional)[0].read_at is not None
    form_page = client_request.get(opened.headers["Location"])
    assert text(header_link(form_page)) == "Notifications"
    assert "Read" == text(client_request.get("/notifications").select("tbody tr td")[-1])


def test_rejecting_a_form_tells_the_professional(client_request, child, professional, admin):
    as_user(client_request, professional)
    form = submit_ehc_request(client_request, child)
    as_user(client_request, admin)
    client_request.post(f"/admin/inbox/{form.id}/reject", data={"reason": "Amelia Jones's plan is out of date"}, expected_status=303)
    [note] = notifications_of(professional)
    assert note.kind == "form_rejected"
    assert note.text == "A form you sent has not been accepted. Open it to read why"
    assert note.link == f"/send/people/{child.id}/forms/{form.id}"
    assert_names_no_child([note])


def test_an_la_reply_and_a_form_request_tell_the_professional(client_request, child, professional, admin):
    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "Please call us about Amelia."}, expected_status=303)
    due = date.today() + timedelta(days=30)
    client_request.post(admin_thread_url(child, professional), data={
        "body": "Please send your contribution for Amelia Jones.", "form_key": "annual-review-contribution",
        "due-day": str(due.day), "due-month": str(due.month), "due-year": str(due.year),
    }, expected_status=303)
    reply, request = notifications_of(professional)
    assert (reply.kind, reply.text, reply.link) == (
        "message_from_la", "You have a new message from Demo Borough Council", f"/send/people/{child.id}/messages"
    )
    assert (request.kind, request.text, request.link) == (
        "form_requested", "Demo Borough Council has asked you for a form", f"/send/people/{child.id}/forms"
    )
    assert_names_no_child([reply, request])
    assert notifications_of(admin) == []


def test_a_message_from_a_professional_tells_the_admins(client_request, child, professional, admin):
    as_user(client_request, professional)
    client_request.post(thread_url(child), data={"body": "Amelia Jones has moved school."}, expected_status=303)
    [note] = notifications_of(admin)
    assert note.kind == "message_from_professional" and note.text == "A professional has sent a message"
    assert note.link == admin_thread_url(child, professional)
    assert_names_no_child([note])
    assert notifications_of(professional) == []


def test_verifying_an_account_tells_the_professional(client_request, make_user, admin):
    newcomer = make_user("Ruth", "Evans", verified=False, email="ruth.evans@school.example")
    as_user(client_request, admin)
    client_request.post(f"/admin/professionals/{newcomer.id}/verify", expected_status=303)
    [note] = notifications_of(newcomer)
    assert note.kind == "account_verified" and note.link == "/send/select-person"
    assert "verified your account" in note.text


def test_authenticating_and_declining_tell_the_professional(client_request, professional, admin, make_person):
    added = make_person("Noah", "Brown", professional=professional, status=InvolvementStatus.AWAITING.value)
    refused = make_person("Zara", "Ali", professional=professional, status=InvolvementStatus.AWAITING.value)
    first, second = (db.session.scalar(select(Involvement).where(Involvement.person_id == p.id)) for p in (added, refused))
    as_user(client_request, admin)
    client_request.post(f"/admin/authentication-requests/{first.id}/authenticate", {"record": "new"}, expected_status=303)
    client_request.post(
        f"/admin/authentication-requests/{second.id}/decline", {"reason": "Zara Ali is not known to us"}, expected_status=303
    )
    authenticated, declined = notifications_of(professional)
    assert authenticated.kind == "involvement_authenticated" and authenticated.link == f"/send/people/{added.id}"
    assert declined.kind == "involvement_declined" and declined.link == "/send/select-person"
    assert_names_no_child([authenticated, declined], "Noah", "Brown", "Zara", "Ali")


def test_a_refused_change_notifies_nobody(client_request, child, professional, admin):
    """A notification is part of the change: no change, no notification."""
    as_user(client_request, professional)
    form = submit_ehc_request(client_request, child)
    as_user(client_request, admin)
    client_request.post(f"/admin/inbox/{form.id}/reject", data={"reason": "  "}, expected_status=400)
    client_request.post(admin_thread_url(child, professional), data={"body": ""}, expected_status=400)
    client_request.post(f"/admin/inbox/{form.id}/accept", expected_status=303)
    client_request.post(f"/admin/inbox/{form.id}/accept", expected_status=303)  # already decided
    assert [n.kind for n in notifications_of(professional)] == ["form_accepted"]


# --- the page, the count, reading -----------------------------------------------------------


def test_the_header_counts_unread_notifications_for_admins_too(client_request, admin):
    for _ in range(3):
        notify(admin, "form_submitted", "/admin/inbox")
    db.session.commit()
    as_user(client_request, admin)
    assert text(header_link(client_request.get("/home"))) == "Notifications (3 unread)"
    page = client_request.get("/notifications")
    assert header_link(page)["aria-current"] == "page"
    assert text(page.select_one("#notifications-unread")) == "You have 3 unread notifications."


def test_signed_out_there_is_no_count_and_the_page_asks_to_sign_in(client):
    page = client.get("/accessibility")
    assert b"/notifications" not in page.data
    response = client.get("/notifications")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_mark_all_as_read_needs_csrf_and_reads_only_mine(client_request, professional, other_professional):
    for _ in range(2):
        notify(professional, "message_from_la", "/send/select-person")
    notify(other_professional, "message_from_la", "/send/select-person")
    db.session.commit()
    as_user(client_request, professional)
    assert client_request.post("/notifications/mark-all-read", csrf=False).status_code == 400
    assert all(n.read_at is None for n in notifications_of(professional))
    response = client_request.post("/notifications/mark-all-read", expected_status=303)
    page = client_request.get(response.headers["Location"])
    assert text(page.select_one(".govuk-notification-banner")) == "Success 2 notifications marked as read."
    assert text(page.select_one("#notifications-unread")) == "You have no unread notifications."
    assert page.select_one("form[action='/notifications/mark-all-read']") is None
    assert text(header_link(page)) == "Notifications"
    assert all(n.read_at is not None for n in notifications_of(professional))
    assert notifications_of(other_professional)[0].read_at is None
    assert client_request.client.get("/notifications/mark-all-read").status_code == 405


def test_another_users_notification_is_not_found_and_not_listed(client_request, professional, other_professional):
    theirs = notify(other_professional, "form_accepted", "/send/select-person")
    mine = notify(professional, "form_rejected", "/send/select-person")
    db.session.commit()
    as_user(client_request, professional)
    page = client_request.get("/notifications")
    links = [a["href"] for a in page.select("tbody a")]
    assert links == [f"/notifications/{mine.id}"]
    assert client_request.get_response(f"/notifications/{theirs.id}").status_code == 404
    assert client_request.get_response("/notifications/99999999999").status_code == 404
    db.session.refresh(theirs)
    assert theirs.read_at is None


def test_the_page_is_newest_first_and_paged(client_request, professional):
    for n in range(52):
        notify(professional, "reminder_week", "/send/select-person", due_on=date(2026, 1, 1) + timedelta(days=n))
    db.session.commit()
    as_user(client_request, professional)
    page = client_request.get("/notifications")
    rows = page.select("tbody tr")
    assert len(rows) == 50
    assert "due on 21 February 2026" in text(rows[0])  # the last made
    assert text(page.select_one("#notifications-count")) == "Showing 1 to 50 of 52 notifications, newest first."
    second = client_request.get(page.select_one(".govuk-pagination__next a")["href"])
    assert [text(r.select_one("a")) for r in second.select("tbody tr")] == [
        "A form Demo Borough Council asked you for is due on 2 January 2026",
        "A form Demo Borough Council asked you for is due on 1 January 2026",
    ]
    assert client_request.get_response("/notifications?page=x").status_code == 400


def test_no_notifications_is_said_plainly(client_request, professional):
    as_user(client_request, professional)
    page = client_request.get("/notifications")
    assert page.select_one("table") is None
    assert text(page.select_one("#notifications-count")).startswith("You have no notifications yet.")


def test_after_losing_access_the_notification_still_names_no_child_and_its_link_is_not_found(
    client_request, child, professional, admin
):
    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "About Amelia"}, expected_status=303)
    as_user(client_request, professional)
    delete_people(professional, selected_involvements(professional, [child.id], View.ACTIVE))
    db.session.commit()
    page = client_request.get("/notifications")
    assert "Amelia" not in text(page.main) and "Jones" not in text(page.main)
    response = client_request.get_response(page.select_one("tbody a")["href"])
    assert response.status_code == 303
    assert client_request.get_response(response.headers["Location"]).status_code == 404


def test_a_notification_only_links_inside_the_service():
    with pytest.raises(ValueError):
        notify(1, "form_accepted", "https://elsewhere.example/")
    with pytest.raises(ValueError):
        notify(1, "form_accepted", "//elsewhere.example/")


# --- the header's cost -------------------------------------------------------------------------


@pytest.fixture
def notification_queries(app):
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        # The notification table, not a column such as email_notifications.
        if re.search(r"\bnotification\b", statement):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_the_count_is_one_query_on_a_page_and_none_on_an_htmx_partial(client_request, professional, make_person, notification_queries):
    make_person("Amelia", "Jones", professional=professional)
    notify(professional, "message_from_la", "/send/select-person")
    db.session.commit()
    as_user(client_request, professional)
    notification_queries.clear()
    partial = client_request.get("/send/select-person?q=am", htmx=True)
    assert "Amelia Jones" in text(partial)
    assert notification_queries == []
    page = client_request.get("/send/select-person?q=am")
    assert text(header_link(page)) == "Notifications (1 unread)"
    assert len(notification_queries) == 1 and "count" in notification_queries[0].lower()


# --- for the whole-service crawls (tests/test_html_validity.py, tests/browser/test_every_page.py) ---


def add_notifications_and_due_forms(email: str) -> None:
    """Give a demo user what the new pages show when they are not empty: read
    and unread notifications, and (a verified professional) forms due, one
    overdue, on their Due list."""
    from send_portal.models import SYSTEM_USER_ID

    from send_portal.notifications.due import london_today
    from send_portal.notifications.events import link_to

    user = db.session.scalar(select(User).where(User.email == email))
    if user.is_professional:
        involvement = db.session.scalar(
            select(Involvement)
            .where(Involvement.professional_id == user.id, Involvement.status == InvolvementStatus.AUTHENTICATED.value,
                   Involvement.deleted_at.is_(None), Involvement.ended_on.is_(None))
            .order_by(Involvement.id).limit(1)
        )
        if involvement is not None:
            today = london_today()
            for days, title in ((-2, "Annual review contribution"), (0, "Annual review contribution"), (5, "Annual review contribution")):
                db.session.add(FormRequest(
                    involvement_id=involvement.id, form_key="annual-review-contribution", title=title,
                    due_on=today + timedelta(days=days), requested_by_id=SYSTEM_USER_ID,
                ))
            notify(user, "form_requested", link_to("forms.child_forms", person_id=involvement.person_id))
        notify(user, "account_verified", link_to("caseload.select_person")).read_at = datetime(2026, 1, 1)
    else:
        notify(user, "form_submitted", link_to("admin.inbox"))
        notify(user, "message_from_professional", link_to("admin.messages_inbox")).read_at = datetime(2026, 1, 1)
    db.session.commit()
