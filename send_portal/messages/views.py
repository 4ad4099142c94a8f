"""Message threads about a child: the professional's side (needs a live,
authenticated involvement) and the LA's (every thread; replies, and asking
for a form by a date).

Opening a thread marks what it shows from the other side as read. That one
write happens after the page is rendered, in a transaction of its own that
begins with it; if it cannot be made (the database busy), the messages just
stay new until next time."""
from __future__ import annotations

import logging
import re
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from .. import audit
from ..caseload.queries import acting_for, involvement_for_person, record_activity
from ..extensions import db
from ..forms import queries as form_queries
from ..forms.answers import clean_text
from ..admin.access import admin_required
from ..portal import flashed_message_and_error, page_number
from ..forms.models import FormRequest, FormStatus
from ..models import Person, User, utcnow
from ..notifications import link_to, notify, notify_admins
from ..portal import professional_required
from . import queries

log = logging.getLogger(__name__)

bp = Blueprint("messages", __name__)

BODY_MAX = 5000
REQUEST_LIMIT = 1024 * 1024


@bp.url_value_preprocessor
def _limit_request_size(endpoint, values) -> None:  # noqa: ARG001
    if request.method == "POST":
        request.max_content_length = REQUEST_LIMIT



def _read_body(errors: list) -> str:
    body = clean_text(request.form.get("body"), multiline=True)
    if not body:
        errors.append(("body", "Enter a message"))
    elif len(body) > BODY_MAX:
        errors.append(("body", f"The message must be {BODY_MAX:,} characters or fewer"))
    return body


def _render_and_mark_read(template: str, status: int, unread_ids: list[int], **context):
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


# --- the professional's thread -------------------------------------------------------------


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
    if involvement is None or not involvement.is_authenticated:
        abort(404)
    person = involvement.person
    errors, body = [], ""
    if request.method == "POST":
        body = _read_body(errors)
        if not errors:
            queries.add_message(involvement, current_user, from_la=False, body=body)
            record_activity(person, "Message from a professional", current_user)
            acting = acting_for(current_user, involvement)
            if acting:
                audit.record(audit.MESSAGE_SENT_FOR_COLLEAGUE, changed_by=current_user, person=person,
                             professional=involvement.professional, details=acting)
            # The thread is the involvement's professional's with the LA.
            notify_admins("message_from_professional", link_to("messages.admin_thread", person_id=person_id, professional_id=involvement.professional_id))
            db.session.commit()
            flash(f"Your message has been sent to {current_app.config['LA_NAME']}.", "success")
            return redirect(url_for("messages.thread", person_id=person_id) + "#reply", 303)
        db.session.rollback()
    messages = queries.thread_messages(involvement.professional_id, person_id)
    unread_ids = [m.id for m in messages if m.from_la and m.read_at is None]
    banner, _error = flashed_message_and_error() if not errors else (None, None)
    return _render_and_mark_read(
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


# --- the LA's side ---------------------------------------------------------------------------



@bp.get("/admin/messages")
@admin_required
def admin_inbox():
    page = page_number(request.args.get("page"))
    page_size = current_app.config.get("PAGE_SIZE", 50)
    threads, total = queries.threads_page(page, page_size)
    page_count = max(1, -(-total // page_size))
    page = min(page, page_count)
    return render_template(
        "messages/admin_inbox.html",
        threads=threads,
        total=total,
        page=page,
        page_count=page_count,
        first=0 if not total else (page - 1) * page_size + 1,
        last=min(total, page * page_size),
        unread_total=queries.unread_for_la_total(),
    )


def _person_or_404(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    return person


@bp.get("/admin/people/<int:person_id>/messages")
@admin_required
def admin_threads(person_id: int):
    person = _person_or_404(person_id)
    return render_template(
        "messages/admin_threads.html",
        person=person,
        threads=queries.threads_about(person_id),
        others=queries.professionals_without_thread(person_id),
    )


def _read_due_date(definition, errors: list) -> tuple[date | None, dict]:
    parts = {p: clean_text(request.form.get(f"due-{p}"), multiline=False) for p in ("day", "month", "year")}
    if not any(parts.values()):
        if definition is not None and definition.due_days:
            return date.today() + timedelta(days=definition.due_days), parts
        errors.append(("due-day", "Enter the date the form is due"))
        return None, parts
    missing = [p for p, v in parts.items() if not v]
    if missing:
        errors.append((f"due-{missing[0]}", f"The due date must include a {' and '.join(missing)}"))
        return None, parts
    if not all(re.fullmatch(r"[0-9]{1,4}", v) for v in parts.values()) or len(parts["year"]) != 4:
        errors.append(("due-day", "The due date must be a real date"))
        return None, parts
    try:
        due = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        errors.append(("due-day", "The due date must be a real date"))
        return None, parts
    if due < date.today():
        errors.append(("due-day", "The due date must be today or in the future"))
        return None, parts
    if due > date.today() + timedelta(days=366):
        errors.append(("due-day", "The due date must be within a year"))
        return None, parts
    return due, parts


@bp.route("/admin/people/<int:person_id>/messages/<int:professional_id>", methods=["GET", "POST"])
@admin_required
def admin_thread(person_id: int, professional_id: int):
    person = _person_or_404(person_id)
    professional = db.session.get(User, professional_id)
    if professional is None or not professional.is_professional or not queries.has_involvement(professional_id, person_id):
        abort(404)
    involvement = queries.involvement_to_write_on(professional_id, person_id)
    forms = [f for f in form_queries.catalogue().forms if f.for_type(professional.professional_type)]
    errors, body, form_key, due_parts = [], "", "", {}
    if request.method == "POST":
        if involvement is None:
            db.session.rollback()
            # No child's name: flashed messages travel in the readable session cookie.
            flash(f"{professional.full_name} cannot read messages about this child: they are not authenticated for them. Nothing was sent.", "error")
            return redirect(url_for("messages.admin_thread", person_id=person_id, professional_id=professional_id), 303)
        body = _read_body(errors)
        form_key = request.form.get("form_key") or ""
        definition = next((f for f in forms if f.key == form_key), None)
        if form_key and definition is None:
            errors.append(("form_key", "Choose a form from the list"))
        due = None
        if definition is not None:
            due, due_parts = _read_due_date(definition, errors)
        if not errors:
            form_request = None
            if definition is not None:
                form_request = FormRequest(
                    involvement_id=involvement.id, form_key=definition.key, title=definition.title, due_on=due,
                    requested_by_id=current_user.id,
                )
                db.session.add(form_request)
                db.session.flush()
                audit.record(
                    audit.FORM_REQUESTED, changed_by=current_user, person=person, professional=professional,
                    details=f"{definition.title}, due {due:%-d %B %Y}",
                )
            queries.add_message(involvement, current_user, from_la=True, body=body, form_request=form_request)
            record_activity(person, "Message from the LA", current_user)
            if form_request is not None:
                notify(professional, "form_requested", link_to("forms.child_forms", person_id=person_id))
            else:
                notify(professional, "message_from_la", link_to("messages.thread", person_id=person_id))
            db.session.commit()
            flash(f"Your message has been sent to {professional.full_name}.", "success")
            return redirect(url_for("messages.admin_thread", person_id=person_id, professional_id=professional_id) + "#reply", 303)
        db.session.rollback()
    messages = queries.thread_messages(professional_id, person_id)
    unread_ids = [m.id for m in messages if not m.from_la and m.read_at is None]
    banner, banner_error = flashed_message_and_error() if not errors else (None, None)
    # Which of the requests in the thread have been answered.
    request_states = {}
    for response in _sent_for_requests(messages):
        request_states.setdefault(response.form_request_id, response)
    return _render_and_mark_read(
        "messages/admin_thread.html",
        400 if errors else 200,
        unread_ids,
        person=person,
        professional=professional,
        involvement=involvement,
        messages=messages,
        new_ids=set(unread_ids),
        forms=forms,
        request_states=request_states,
        errors=errors,
        error_map=dict(errors),
        body=body,
        form_key=form_key,
        due_parts=due_parts,
        body_max=BODY_MAX,
        banner=banner,
        banner_error=banner_error,
    )


def _sent_for_requests(messages):
    from sqlalchemy import select

    from ..forms.models import FormResponse

    wanted = {m.form_request_id for m in messages if m.form_request_id}
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(FormResponse)
            .where(FormResponse.form_request_id.in_(wanted), FormResponse.status != FormStatus.DRAFT.value)
            .order_by(FormResponse.submitted_at.desc())
        )
    )
