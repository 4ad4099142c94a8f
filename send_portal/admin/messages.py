"""The LA's side of messaging (SPEC section 5): every thread with what is
unread, the threads about a child, and a thread with one professional, where
the LA replies and may ask for a form by a date."""
from __future__ import annotations

import re
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..forms import queries as form_queries
from ..forms.answers import clean_text
from ..messages.queries import thread_messages
from ..messages.views import BODY_MAX, read_body, render_and_mark_read
from ..models import Person, User
from ..portal import flashed_message_and_error, page_addresses, page_number
from . import bp
from . import messages_queries as queries
from .access import admin_required
from .common import page_size


@bp.get("/messages")
@admin_required
def messages_inbox():
    return render_template(
        "messages/admin_inbox.html",
        result=queries.threads_page(page_number(request.args.get("page")), page_size()),
        page_url=page_addresses("admin.messages_inbox"),
        unread_total=queries.unread_for_la_total(),
    )


@bp.get("/people/<int:person_id>/messages")
@admin_required
def person_messages(person_id: int):
    person = db.get_or_404(Person, person_id)
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


@bp.route("/people/<int:person_id>/messages/<int:professional_id>", methods=["GET", "POST"])
@admin_required
def message_thread(person_id: int, professional_id: int):
    person = db.get_or_404(Person, person_id)
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
            return redirect(url_for("admin.message_thread", person_id=person_id, professional_id=professional_id), 303)
        body = read_body(errors)
        form_key = request.form.get("form_key") or ""
        definition = next((f for f in forms if f.key == form_key), None)
        if form_key and definition is None:
            errors.append(("form_key", "Choose a form from the list"))
        due = None
        if definition is not None:
            due, due_parts = _read_due_date(definition, errors)
        if not errors:
            queries.send_from_la(current_user, involvement, body, definition, due)
            db.session.commit()
            flash(f"Your message has been sent to {professional.full_name}.", "success")
            return redirect(url_for("admin.message_thread", person_id=person_id, professional_id=professional_id) + "#reply", 303)
        db.session.rollback()
    messages = thread_messages(professional_id, person_id)
    unread_ids = [m.id for m in messages if not m.from_la and m.read_at is None]
    banner, banner_error = flashed_message_and_error(errors=errors)
    # Which of the requests in the thread have been answered.
    request_states = {}
    for response in queries.answered_requests(messages):
        request_states.setdefault(response.form_request_id, response)
    return render_and_mark_read(
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
