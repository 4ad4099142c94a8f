"""notify(): one in-portal notification, added to the caller's transaction,
so the event and the notification of it are committed together or not at
all. An email outbox can later be written here in the same way (a row in
the same transaction, sent by a job after commit); email would also name
no child."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from ..display import long_date
from ..extensions import db
from ..mail.notifications import email_notification
from ..models import Role, User
from .models import Notification

# Each kind's text. None names a child (or a professional): the link leads to
# the thing, whose page decides whether the reader may see it. {la} is the
# authority's name; {due} a date.
KINDS = {
    # To the professional
    "account_verified": "{la} has verified your account. You can now see the children you work with",
    "involvement_authenticated": "{la} has confirmed that you work with a child. You can now see their record",
    "involvement_declined": "{la} has declined a request to add a child to your caseload",
    "form_requested": "{la} has asked you for a form",
    "form_accepted": "A form you sent has been accepted",
    "form_rejected": "A form you sent has not been accepted. Open it to read why",
    "message_from_la": "You have a new message from {la}",
    "reminder_week": "A form {la} asked you for is due on {due}",
    "reminder_today": "A form {la} asked you for is due today",
    "reminder_overdue": "A form {la} asked you for is overdue. It was due on {due}",
    # To anyone, about their own account: names no code, address or time.
    "second_factor_failures": "Someone has entered many wrong security codes when signing in to your account. "
                              "If this was not you, change your password and tell {la}",
    # To LA administrators
    "form_submitted": "A professional has sent a form",
    "message_from_professional": "A professional has sent a message",
}


def link_to(endpoint: str, **values) -> str:
    """A page's path within the app, built without a request (the reminders
    job runs from the command line). The script root is added when the
    notification is opened."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def notification_text(kind: str, due_on: date | None = None) -> str:
    return KINDS[kind].format(la=current_app.config["LA_NAME"], due=long_date(due_on))


def notify(user: User | int, kind: str, link: str, *, due_on: date | None = None) -> Notification:
    """Tell one user about something, in the caller's transaction."""
    if not link.startswith("/") or link.startswith("//"):
        raise ValueError("a notification links to a page of this service")
    notification = Notification(
        recipient_id=user if isinstance(user, int) else user.id,
        kind=kind,
        text=notification_text(kind, due_on),
        link=link,
    )
    db.session.add(notification)
    # Its email (if the kind is emailed and the person wants them), in the
    # same transaction: written to the outbox, sent after commit.
    email_notification(user, kind, notification.text)
    return notification


def notify_admins(kind: str, link: str) -> int:
    """Tell every active LA administrator; returns how many."""
    admins = db.session.scalars(
        select(User.id).where(User.role == Role.ADMIN.value, User.is_deactivated.is_(False))
    ).all()
    for admin_id in admins:
        notify(admin_id, kind, link)
    return len(admins)
