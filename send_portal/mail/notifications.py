"""The email that goes with an in-portal notification (notify() in
send_portal/notifications/events.py calls email_notification in the same
transaction).

Email leaves the authority's systems, so it says only what kind of thing
happened and links to the portal's notifications page: never a child's
name, date of birth, UPN, reference, address, a form's reference or a
message's text. The subject is fixed by the kind, and the body is the
notification's own text (fixed by its kind, naming no child) with the
authority's name."""
from __future__ import annotations

from flask import current_app

from ..extensions import db
from ..models import User
from .outbox import deliverable, portal_url, queue_email, render_email

# The kinds that are emailed, and each one's subject.
SUBJECTS = {
    "account_verified": "Your account has been verified",
    "involvement_authenticated": "The local authority has confirmed that you work with a child",
    "involvement_declined": "The local authority has declined a request to add a child",
    "form_requested": "The local authority has asked you for a form",
    "form_accepted": "A form you sent has been accepted",
    "form_rejected": "A form you sent has not been accepted",
    "message_from_la": "You have a new message",
    "form_submitted": "A professional has sent a form",
    "message_from_professional": "A professional has sent a message",
    # About the account itself: wrong security codes reached the hourly limit.
    "second_factor_failures": "Wrong security codes were entered for your account",
    # The daily reminders (flask send-reminders, issue 15): the due date is
    # the only detail, and it names no child.
    "reminder_week": "A form is due next week",
    "reminder_today": "A form is due today",
    "reminder_overdue": "A form is overdue",
}


def wants_email(user: User) -> bool:
    return bool(user.wants_emails) and not user.is_deactivated and not user.is_system and deliverable(user.email)


def email_notification(user: User | int, kind: str, text: str):
    """Queue the email for a notification of this kind, if its kind is
    emailed and its recipient has not turned these emails off."""
    subject = SUBJECTS.get(kind)
    if subject is None:
        return None
    recipient = user if isinstance(user, User) else db.session.get(User, user)
    if recipient is None or not wants_email(recipient):
        return None
    path = current_app.url_map.bind("localhost").build("notifications.notifications")
    body = render_email(
        "mail/notification.txt", user=recipient, text=text, link=portal_url(path),
        account_link=portal_url(current_app.url_map.bind("localhost").build("auth.account")),
    )
    return queue_email(recipient.email, subject, body)
