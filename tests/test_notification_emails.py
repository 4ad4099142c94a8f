"""Notification emails (issue 13, part 4b): each event that notifies a
person in the portal also emails them, in the same transaction, saying only
what kind of thing happened and linking to the portal; the person can turn
these emails off on Your account; and no email ever carries a child's
personal data."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from send_portal.extensions import db
from send_portal.mail.models import OutboxEmail
from send_portal.models import Involvement, InvolvementStatus, Person

from .conftest import text
from .mail_support import deliver, smtp_server, use_smtp
from .test_forms import submit_ehc_request
from .test_messages import admin_thread_url, thread_url
from .test_notifications import as_user

NOTIFICATIONS_LINK = "https://portal.la.example/notifications"


@pytest.fixture(autouse=True)
def portal_url(app):
    app.config["PORTAL_URL"] = "https://portal.la.example"


@pytest.fixture
def child(professional, make_person):
    return make_person("Amelia", "Jones", professional=professional)


def emails_to(user) -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == user.email).order_by(OutboxEmail.id)
    ))


def subjects(user) -> list[str]:
    return [email.subject for email in emails_to(user)]


def assert_points_to_the_portal(email, notification_text):
    assert f"{notification_text}." in email.body
    assert NOTIFICATIONS_LINK in email.body
    assert "never say who they are about" in email.body


# --- each event's email ------------------------------------------------------------------------


def test_a_submitted_form_emails_every_active_admin_and_its_acceptance_emails_the_professional(
    client_request, child, professional, admin, make_user
):
    gone = make_user("Old", "Timer", role="admin", email="old.timer@la.example")
    gone.is_deactivated = True
    db.session.commit()
    as_user(client_request, professional)
    form = submit_ehc_request(client_request, child)
    [email] = emails_to(admin)
    assert email.subject == "A professional has sent a form"
    assert_points_to_the_portal(email, "A professional has sent a form")
    assert emails_to(gone) == []
    assert emails_to(professional) == []

    as_user(client_request, admin)
    client_request.post(f"/admin/inbox/{form.id}/accept", expected_status=303)
    [email] = emails_to(professional)
    assert email.subject == "A form you sent has been accepted"
    assert_points_to_the_portal(email, "A form you sent has been accepted")


def test_a_rejected_form_emails_the_professional_without_the_reason(client_request, child, professional, admin):
    as_user(client_request, professional)
    form = submit_ehc_request(client_request, child)
    as_user(client_request, admin)
    client_request.post(f"/admin/inbox/{form.id}/reject", data={"reason": "The plan is out of date"}, expected_status=303)
    [email] = emails_to(professional)
    assert email.subject == "A form you sent has not been accepted"
    assert "out of date" not in email.body


def test_an_la_message_and_a_form_request_email_the_professional_without_the_message(
    client_request, child, professional, admin
):
    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "Please call us today."}, expected_status=303)
    due = date.today() + timedelta(days=30)
    client_request.post(admin_thread_url(child, professional), data={
        "body": "Please send your contribution.", "form_key": "annual-review-contribution",
        "due-day": str(due.day), "due-month": str(due.month), "due-year": str(due.year),
    }, expected_status=303)
    message, request = emails_to(professional)
    assert message.subject == "You have a new message"
    assert_points_to_the_portal(message, "You have a new message from Demo Borough Council")
    assert request.subject == "The local authority has asked you for a form"
    for email in (message, request):
        assert "call us" not in email.body and "contribution" not in email.body
    assert emails_to(admin) == []


def test_a_professionals_message_emails_the_admins(client_request, child, professional, admin):
    as_user(client_request, professional)
    client_request.post(thread_url(child), data={"body": "We have news."}, expected_status=303)
    [email] = emails_to(admin)
    assert email.subject == "A professional has sent a message"
    assert "news" not in email.body
    assert emails_to(professional) == []


def test_verifying_an_account_emails_the_professional(client_request, make_user, admin):
    newcomer = make_user("Ruth", "Evans", verified=False, email="ruth.evans@school.example")
    as_user(client_request, admin)
    client_request.post(f"/admin/professionals/{newcomer.id}/verify", expected_status=303)
    [email] = emails_to(newcomer)
    assert email.subject == "Your account has been verified"
    assert email.body.startswith("Hello Ruth,")


def test_authenticating_and_declining_email_the_professional(client_request, professional, admin, make_person):
    added = make_person("Noah", "Brown", professional=professional, status=InvolvementStatus.AWAITING.value)
    refused = make_person("Zara", "Ali", professional=professional, status=InvolvementStatus.AWAITING.value)
    first, second = (db.session.scalar(select(Involvement).where(Involvement.person_id == p.id)) for p in (added, refused))
    as_user(client_request, admin)
    client_request.post(f"/admin/authentication-requests/{first.id}/authenticate", {"record": "new"}, expected_status=303)
    client_request.post(f"/admin/authentication-requests/{second.id}/decline", {"reason": "Not known"}, expected_status=303)
    assert subjects(professional) == [
        "The local authority has confirmed that you work with a child",
        "The local authority has declined a request to add a child",
    ]


def test_a_refused_change_emails_nobody(client_request, child, professional, admin):
    as_user(client_request, professional)
    form = submit_ehc_request(client_request, child)
    before = len(emails_to(admin))
    as_user(client_request, admin)
    client_request.post(f"/admin/inbox/{form.id}/reject", data={"reason": "  "}, expected_status=400)
    client_request.post(admin_thread_url(child, professional), data={"body": ""}, expected_status=400)
    assert emails_to(professional) == []
    assert len(emails_to(admin)) == before


def test_the_email_reaches_the_smtp_server(app, client_request, child, professional, admin):
    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "Hello."}, expected_status=303)
    with smtp_server() as server:
        use_smtp(app, server.port)
        assert deliver(app).sent == 1
    [message] = server.mailbox.to(professional.email)
    assert message["Subject"] == "You have a new message"
    assert NOTIFICATIONS_LINK in message.get_body(("plain",)).get_content()


def test_without_portal_url_the_email_says_to_sign_in(app, client_request, child, professional, admin):
    app.config.update(PORTAL_URL="", SEND_PORTAL_ENV="production")
    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "Hello."}, expected_status=303)
    [email] = emails_to(professional)
    assert "Sign in to the SEND Professional Portal to read your notifications." in email.body
    assert "http" not in email.body


# --- the preference ------------------------------------------------------------------------------


def email_choice(page) -> str:
    fieldset = page.select_one("#email-notifications ~ form fieldset")
    assert text(fieldset.legend) == "Send me an email when something needs my attention"
    return fieldset.select_one("input[checked]")["value"]


def test_a_professional_can_turn_the_emails_off_and_on_again(client_request, child, professional, admin):
    as_user(client_request, professional)
    assert email_choice(client_request.get("/account")) == "yes"
    response = client_request.post("/account/email-notifications", data={"email_notifications": "no"}, expected_status=303)
    page = client_request.get(response.headers["Location"])
    assert "You will not get emails about notifications" in text(page.select_one(".govuk-notification-banner"))
    assert email_choice(page) == "no"

    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "First."}, expected_status=303)
    assert emails_to(professional) == []  # still told in the portal, not by email
    from send_portal.notifications.models import Notification

    assert db.session.scalar(select(Notification).where(Notification.recipient_id == professional.id)) is not None

    as_user(client_request, professional)
    client_request.post("/account/email-notifications", data={"email_notifications": "yes"}, expected_status=303)
    as_user(client_request, admin)
    client_request.post(admin_thread_url(child, professional), data={"body": "Second."}, expected_status=303)
    assert subjects(professional) == ["You have a new message"]


def test_an_admin_can_turn_the_emails_off(client_request, child, professional, admin):
    as_user(client_request, admin)
    client_request.post("/account/email-notifications", data={"email_notifications": "no"}, expected_status=303)
    as_user(client_request, professional)
    client_request.post(thread_url(child), data={"body": "We have news."}, expected_status=303)
    assert emails_to(admin) == []


@pytest.mark.parametrize("data", [{}, {"email_notifications": "maybe"}])
def test_a_bad_choice_is_explained_and_changes_nothing(client_request, professional, data):
    as_user(client_request, professional)
    response = client_request.post("/account/email-notifications", data=data, expected_status=400)
    page = client_request.parse(response)
    link = page.select_one(".govuk-error-summary a")
    assert (text(link), link["href"]) == (
        "Select yes if you want an email when something needs your attention", "#email_notifications-0",
    )
    assert page.title.string.startswith("Error: ")
    db.session.expire_all()
    assert professional.wants_emails is True


def test_changing_the_choice_needs_the_csrf_token(client_request, professional):
    as_user(client_request, professional)
    client_request.post("/account/email-notifications", data={"email_notifications": "no"}, csrf=False, expected_status=400)
    db.session.expire_all()
    assert professional.wants_emails is True


def test_signed_out_the_choice_cannot_be_changed(client_request):
    # With a valid CSRF token, so that the refusal is the sign-in check's and
    # not the CSRF check's.
    token = client_request.csrf_token("/sign-in")
    response = client_request.client.post(
        "/account/email-notifications", data={"email_notifications": "no", "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


# --- no child's personal data in any email -----------------------------------------------------

DISTINCTIVE = [
    # given, family, date of birth, UPN, LA reference, address line, postcode
    ("Zephyrine", "Quarrington", date(2016, 2, 29), "A123456789012", "LAREF-ZQ-7731", "17 Marigold Crescent", "ZX9 8QW"),
    ("Thaddeus", "Vellacott", date(2014, 11, 3), "B987654321098", "LAREF-TV-4410", "Flat 3, Ormsby Court", "QP2 4LM"),
]


def personal_data(people) -> list[str]:
    values = []
    for person in people:
        dob = person.date_of_birth
        values += [
            person.given_name, person.family_name, person.full_name, person.upn, person.la_reference,
            person.address_line_1, person.postcode, dob.isoformat(), dob.strftime("%d/%m/%Y"),
            f"{dob.day} {dob.strftime('%B')} {dob.year}", dob.strftime("%d %B %Y"), str(person.id),
        ]
    return [v for v in values if v]


def test_no_email_subject_or_body_holds_any_childs_personal_data(app, client_request, professional, admin, make_person):
    people = []
    for given, family, born, upn, reference, line_1, postcode in DISTINCTIVE:
        person = make_person(given, family, professional=professional, date_of_birth=born)
        person.upn, person.la_reference, person.address_line_1, person.postcode = upn, reference, line_1, postcode
        people.append(person)
    waiting = make_person("Ottoline", "Brackenbury", professional=professional, date_of_birth=date(2017, 6, 21),
                          status=InvolvementStatus.AWAITING.value)
    declined = make_person("Peregrine", "Fairweather", professional=professional, date_of_birth=date(2013, 9, 9),
                           status=InvolvementStatus.AWAITING.value)
    db.session.commit()
    first, second = people

    # Every event that emails, about these children.
    as_user(client_request, professional)
    accepted = submit_ehc_request(client_request, first)
    rejected = submit_ehc_request(client_request, second)
    client_request.post(thread_url(first), data={"body": f"{first.full_name} ({first.upn}) has moved."}, expected_status=303)
    as_user(client_request, admin)
    client_request.post(f"/admin/inbox/{accepted.id}/accept", expected_status=303)
    client_request.post(f"/admin/inbox/{rejected.id}/reject",
                        data={"reason": f"{second.full_name} born {second.date_of_birth:%d/%m/%Y} is not ours"},
                        expected_status=303)
    client_request.post(admin_thread_url(first, professional),
                        data={"body": f"About {first.full_name}, {first.la_reference}"}, expected_status=303)
    due = date.today() + timedelta(days=20)
    client_request.post(admin_thread_url(second, professional), data={
        "body": f"Contribution for {second.full_name}", "form_key": "annual-review-contribution",
        "due-day": str(due.day), "due-month": str(due.month), "due-year": str(due.year),
    }, expected_status=303)
    for person, action, data in ((waiting, "authenticate", {"record": "new"}),
                                 (declined, "decline", {"reason": f"{declined.full_name} unknown"})):
        involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == person.id))
        client_request.post(f"/admin/authentication-requests/{involvement.id}/{action}", data, expected_status=303)
    newcomer_verified = client_request.post(
        f"/admin/professionals/{_newcomer(client_request).id}/verify", expected_status=303,
    )
    assert newcomer_verified.status_code == 303

    db.session.expire_all()
    everyone = people + [waiting, declined]
    references = [r for r in (accepted.reference, rejected.reference) if r]
    assert references, "submitted forms carry references"
    forbidden = personal_data(db.session.scalars(select(Person).where(Person.id.in_([p.id for p in everyone]))).all())
    forbidden += references

    emails = db.session.scalars(select(OutboxEmail)).all()
    assert {e.subject for e in emails} >= {
        "A professional has sent a form", "A professional has sent a message", "A form you sent has been accepted",
        "A form you sent has not been accepted", "You have a new message",
        "The local authority has asked you for a form",
        "The local authority has confirmed that you work with a child",
        "The local authority has declined a request to add a child", "Your account has been verified",
    }
    for email in emails:
        for value in forbidden:
            assert value.lower() not in email.subject.lower(), (value, email.subject)
            # Ids only as whole words: "12" may be part of a year.
            assert value.lower() not in _words(email.body) if value.isdigit() else value.lower() not in email.body.lower(), (
                value, email.body,
            )

    # And as they leave: what the SMTP server receives, headers included.
    with smtp_server() as server:
        use_smtp(app, server.port)
        assert deliver(app).sent == len(emails)
    for message in server.messages:
        raw = message.as_string().lower()
        for value in forbidden:
            if not value.isdigit():
                assert value.lower() not in raw, (value, message["Subject"])


def _words(body: str) -> set[str]:
    import re

    return set(re.findall(r"[a-z0-9]+", body.lower()))


def _newcomer(client_request):
    from send_portal.models import User, Verification

    user = User(email="newcomer@school.example", given_name="Nia", family_name="Evans", role="professional",
                professional_type="senco", organisation="Riverside", password_hash="x",
                verification=Verification.PENDING.value)
    db.session.add(user)
    db.session.commit()
    return user


def test_your_account_with_the_choice_and_its_error_is_valid_html(client_request, professional, tmp_path):
    from .test_html_validity import vnu_errors

    as_user(client_request, professional)
    pages = [
        client_request.client.get("/account"),
        client_request.post("/account/email-notifications", data={"email_notifications": "maybe"}, expected_status=400),
    ]
    files = []
    for n, response in enumerate(pages):
        files.append(tmp_path / f"{n}.html")
        files[-1].write_text(response.get_data(as_text=True), encoding="utf-8")
    problems = [f"{e.get('url')}: {e.get('message')}" for e in vnu_errors(files)]
    assert not problems, "\n".join(problems)


def test_an_address_that_cannot_be_emailed_does_not_stop_the_event(client_request, make_user, admin):
    """Registration allows an address with a comma, which a To header would
    read as two addresses: the event happens and is notified, unemailed."""
    odd = make_user("Odd", "Address", verified=False, email="odd,name@school.example")
    as_user(client_request, admin)
    client_request.post(f"/admin/professionals/{odd.id}/verify", expected_status=303)
    from send_portal.notifications.models import Notification

    assert db.session.scalar(select(Notification).where(Notification.recipient_id == odd.id)) is not None
    assert db.session.scalars(select(OutboxEmail)).all() == []
