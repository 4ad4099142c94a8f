"""Message threads about a child, the professional's side: it needs a live
involvement that sees what the LA holds (send_portal.rules). The LA's side is
send_portal.admin.messages, which shares read_body and render_and_mark_read.

Opening a thread marks what it shows from the other side as read. That one
write happens after the page is rendered, in a transaction of its own that
begins with it; if it cannot be made (the database busy), the messages just
stay new until next time."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from .. import rules
from ..caseload.queries import involvement_for_person
from ..extensions import db
from ..forms import queries as form_queries
from ..forms.answers import clean_text
from ..models import User, utcnow
from ..portal import flashed_message_and_error, professional_required
from . import queries

log = logging.getLogger(__name__)

bp = Blueprint("messages", __name__)

BODY_MAX = 5000
REQUEST_LIMIT = 1024 * 1024


@bp.url_value_preprocessor
def _limit_request_size(endpoint, values) -> None:  # noqa: ARG001
    if request.method == "POST":
        request.max_content_length = REQUEST_LIMIT


@bp.app_template_global("unread_from_la")
def unread_from_la(involvement) -> int:
    """For a professional's pages about a child (the Forms page): the LA's
    messages they have not opened; none while they cannot see the thread."""
    if not rules.sees_la_record(involvement):
        return 0
    return queries.unread_count(involvement.professional_id, involvement.person_id, for_la=False)


def read_body(errors: list) -> str:
    body = clean_text(request.form.get("body"), multiline=True)
    if not body:
        errors.append(("body", "Enter a message"))
    elif len(body) > BODY_MAX:
        errors.append(("body", f"The message must be {BODY_MAX:,} characters or fewer"))
    return body


def render_and_mark_read(template: str, status: int, unread_ids: list[int], **context):
    """Render the thread (showing which messages are new), then record that
    they have been read."""
    response = make_response(render_template(template, **context), status)
    db.session.commit()  # end the read transaction
    if unread_ids and status == 200:
        try:
            queries.mark_read(unread_ids, utcnow())
            db.session.commit()
        except OperationalError:
            db.session.rollback()
            log.warning("could not mark %d messages as read; they stay new", len(unread_ids))
    return response


def _request_states(professional: User, involvement, messages) -> dict[int, object]:
    """For each form request in the thread, the professional's form for it
    (a draft or a sent form), if any."""
    wanted = {m.form_request_id for m in messages if m.form_request_id}
    if not wanted:
        return {}
    states = {}
    for response in form_queries.responses_for(professional, involvement):
        if response.form_request_id in wanted:
            current = states.get(response.form_request_id)
            # Prefer the most promising: sent over draft, newest first.
            if current is None or (current.is_draft and not response.is_draft):
                states[response.form_request_id] = response
    return states


@bp.route("/send/people/<int:person_id>/messages", methods=["GET", "POST"])
@professional_required
def thread(person_id: int):
    involvement = involvement_for_person(current_user, person_id)
    if involvement is None or not rules.sees_la_record(involvement):
        abort(404)
    person = involvement.person
    errors, body = [], ""
    if request.method == "POST":
        body = read_body(errors)
        if not errors:
            queries.send_from_professional(current_user, involvement, body)
            db.session.commit()
            flash(f"Your message has been sent to {current_app.config['LA_NAME']}.", "success")
            return redirect(url_for("messages.thread", person_id=person_id) + "#reply", 303)
        db.session.rollback()
    messages = queries.thread_messages(involvement.professional_id, person_id)
    unread_ids = [m.id for m in messages if m.from_la and m.read_at is None]
    banner, _error = flashed_message_and_error(errors=errors)
    return render_and_mark_read(
        "messages/thread.html",
        400 if errors else 200,
        unread_ids,
        involvement=involvement,
        person=person,
        messages=messages,
        new_ids=set(unread_ids),
        request_states=_request_states(current_user, involvement, messages),
        catalogue=form_queries.catalogue(),
        errors=errors,
        error_map=dict(errors),
        body=body,
        body_max=BODY_MAX,
        banner=banner,
    )
