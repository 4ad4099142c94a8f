"""The "Email notifications" choice on Your account: whether notify()'s
events are also emailed to this person (send_portal/mail/notifications.py).
Its route joins the auth blueprint, beside the rest of Your account."""
from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired, ValidationError

from ..auth.views import account, bp
from ..extensions import db

QUESTION = "Send me an email when something needs my attention"
CHOICE_ERROR = "Select yes if you want an email when something needs your attention"


class EmailNotificationsForm(FlaskForm):
    email_notifications = RadioField(
        QUESTION, choices=[("yes", "Yes"), ("no", "No")],
        validators=[InputRequired(CHOICE_ERROR)], validate_choice=False,
    )

    def validate_email_notifications(self, field):
        if field.data not in ("yes", "no"):
            raise ValidationError(CHOICE_ERROR)


@bp.app_template_global("email_notifications_form")
def email_notifications_form(user) -> EmailNotificationsForm:
    """The form as Your account shows it: as posted, after a refused post;
    otherwise set to the person's choice."""
    if "email_notifications_form" in g:
        return g.email_notifications_form
    return EmailNotificationsForm(formdata=None, email_notifications="yes" if user.wants_emails else "no")


@bp.app_template_global("email_notifications_errors")
def email_notifications_errors() -> list[tuple[str, str]]:
    """(field id, message) for Your account's error summary."""
    return g.get("email_notifications_errors", [])


@bp.post("/account/email-notifications")
@login_required
def email_notifications():
    form = EmailNotificationsForm()
    if not form.validate_on_submit():
        # Only a hand-made request gets here: one of the radios is always checked.
        g.email_notifications_form = form
        g.email_notifications_errors = [("email_notifications-0", CHOICE_ERROR)]
        return account(), 400
    user = current_user._get_current_object()
    user.wants_emails = form.email_notifications.data == "yes"
    db.session.commit()
    flash(
        "You will get an email when something needs your attention." if user.wants_emails
        else "You will not get emails about notifications. You can still read them in the portal.",
        "success",
    )
    return redirect(url_for("auth.account"), 303)
