"""The LA's inbox of submitted forms (SPEC sections 4 and 5): filter by status
and form, read the answers and files, accept, or reject with a reason the
professional sees."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..forms.answers import answer_rows, clean_text
from ..forms.queries import definition_for
from ..forms.views import FORM_BODY_MARGIN, send_form_file
from ..messages.queries import unread_count
from ..portal import flashed_message_and_error, page_addresses, page_number
from . import bp
from . import inbox_queries as queries
from .access import admin_required
from .common import page_size
from .messages_queries import unread_for_la_total

REASON_MAX = 2000


@bp.url_value_preprocessor
def _limit_request_size(endpoint, values) -> None:  # noqa: ARG001
    """The inbox's POSTs carry a little text, as every POST of the forms
    feature: the same limit (before the CSRF check reads the body)."""
    if request.method == "POST" and endpoint in ("admin.accept_form", "admin.reject_form"):
        request.max_content_length = FORM_BODY_MARGIN


@bp.get("/inbox")
@admin_required
def inbox():
    status = request.args.get("status") or "submitted"
    if status not in queries.INBOX_STATUSES:
        abort(400, "Choose a status from the list.")
    choices = queries.inbox_form_choices()
    form_key = request.args.get("form") or ""
    if form_key and form_key not in {key for key, _ in choices}:
        abort(400, "Choose a form from the list.")
    page = page_number(request.args.get("page"))
    result = queries.inbox_page(status, form_key, page, page_size())
    message, error = flashed_message_and_error()
    return render_template(
        "forms/inbox.html",
        result=result,
        status=status,
        statuses=queries.INBOX_STATUSES,
        form_key=form_key,
        form_choices=choices,
        form_title=dict(choices).get(form_key, ""),
        page_url=page_addresses("admin.inbox", status=None if status == "submitted" else status, form=form_key),
        unread_messages=unread_for_la_total(),
        message=message,
        error=error,
    )


def _submitted_or_404(response_id: int):
    response = queries.submitted_response(response_id, for_update=request.method == "POST")
    if response is None:
        abort(404)
    return response


@bp.get("/inbox/<int:response_id>")
@admin_required
def inbox_form(response_id: int):
    response = _submitted_or_404(response_id)
    involvement = response.involvement
    message, error = flashed_message_and_error()
    return render_template(
        "forms/inbox_form.html",
        response=response,
        person=involvement.person,
        professional=involvement.professional,
        sections=answer_rows(definition_for(response), response.answers, response.files),
        unread=unread_count(involvement.professional_id, involvement.person_id, for_la=True),
        file_link=lambda f: url_for("admin.inbox_file", response_id=response.id, file_id=f.id),
        message=message,
        error=error,
    )


@bp.post("/inbox/<int:response_id>/accept")
@admin_required
def accept_form(response_id: int):
    response = _submitted_or_404(response_id)
    try:
        queries.decide(current_user, response, accept=True)
    except queries.AlreadyDecided as problem:
        db.session.rollback()
        flash(str(problem), "error")
    else:
        db.session.commit()
        flash(f"{response.title} {response.reference} accepted. {response.involvement.professional.full_name} has been sent a message.", "success")
    return redirect(url_for("admin.inbox_form", response_id=response_id), 303)


@bp.route("/inbox/<int:response_id>/reject", methods=["GET", "POST"])
@admin_required
def reject_form(response_id: int):
    response = _submitted_or_404(response_id)
    if response.status != "submitted":
        db.session.rollback()
        flash(f"This form has already been {response.status}. Nothing was changed.", "error")
        return redirect(url_for("admin.inbox_form", response_id=response_id), 303)
    reason, errors = "", []
    if request.method == "POST":
        reason = clean_text(request.form.get("reason"), multiline=True)
        if not reason:
            errors.append(("reason", "Enter the reason for rejecting the form"))
        elif len(reason) > REASON_MAX:
            errors.append(("reason", f"The reason must be {REASON_MAX:,} characters or fewer"))
        else:
            queries.decide(current_user, response, accept=False, reason=reason)
            db.session.commit()
            flash(f"{response.title} {response.reference} rejected. {response.involvement.professional.full_name} has been sent the reason.", "success")
            return redirect(url_for("admin.inbox_form", response_id=response_id), 303)
        db.session.rollback()
    involvement = response.involvement
    return render_template(
        "forms/reject.html",
        response=response,
        person=involvement.person,
        professional=involvement.professional,
        reason=reason,
        errors=errors,
        reason_max=REASON_MAX,
    ), (400 if errors else 200)


@bp.get("/inbox/<int:response_id>/files/<int:file_id>")
@admin_required
def inbox_file(response_id: int, file_id: int):
    return send_form_file(_submitted_or_404(response_id), file_id)
