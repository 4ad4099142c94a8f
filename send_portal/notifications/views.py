"""The notifications page, opening a notification, and the unread count in
the header.

Opening is a link (GET /notifications/<id>) that records the notification as
read and goes to the page it is about. Marking as read is the one thing a GET
writes here, as opening a message thread does: it records only that the
signed-in person read their own notification, doing it twice changes nothing,
and a notification stays a real link (the links list of a screen reader, open
in a new tab). The address it goes to is stored by the service, never taken
from the request. "Mark all as read" is a POST with the CSRF token."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..portal import flashed_message_and_error, page_addresses, page_number
from . import queries

log = logging.getLogger(__name__)

# cli_group=None: the blueprint's commands (send-reminders) sit at the top level.
bp = Blueprint("notifications", __name__, cli_group=None)


@bp.app_template_global("unread_notification_count")
def unread_notification_count() -> int:
    """The header's count: one COUNT over the partial index of unread rows.
    Called from base.html's header only, so an htmx partial (a block of a
    page, without the header) never runs it."""
    if "unread_notifications" not in g:
        g.unread_notifications = queries.unread_count(current_user.id) if current_user.is_authenticated else 0
    return g.unread_notifications


@bp.get("/notifications")
@login_required
def notifications():
    result = queries.notifications_page(
        current_user.id, page_number(request.args.get("page")), current_app.config.get("PAGE_SIZE", 50)
    )
    message, error = flashed_message_and_error()
    return render_template(
        "notifications/notifications.html",
        result=result,
        unread=unread_notification_count(),
        page_url=page_addresses("notifications.notifications"),
        message=message,
        error=error,
    )


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    user_id = current_user.id
    link = queries.notification_link(notification_id, user_id)
    if link is None:
        abort(404)  # not there, or someone else's
    db.session.commit()  # end the read; the write begins its own transaction
    try:
        queries.mark_read(notification_id, user_id)
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        log.warning("could not mark notification %d as read; it stays unread", notification_id)
    return redirect(request.script_root + link, 303)


@bp.post("/notifications/mark-all-read")
@login_required
def mark_all_read():
    marked = queries.mark_all_read(current_user.id)
    db.session.commit()
    flash(
        f"{marked} notification{'' if marked == 1 else 's'} marked as read." if marked
        else "You have no unread notifications.",
        "success",
    )
    return redirect(url_for("notifications.notifications"), 303)
