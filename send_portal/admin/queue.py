"""The authentication requests (SPEC section 5): the queue (awaiting, and
children deleted by their professional), a request with the likely matching
records, authenticate, decline and re-authenticate."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..htmx import is_htmx, render_page_or_block
from ..portal import database_id, flashed_message_and_error, form_errors, list_address, page_addresses
from . import bp
from . import queue_queries as queries
from .access import admin_required
from .common import page_arg, page_size, text_arg
from .common_queries import Conflict
from .forms import AuthenticateForm, DeclineForm
from .people_queries import people_page
from .queue_queries import QueueView


def _involvement_or_404(involvement_id: int):
    # A POST changes the row it names: it is read locked, until the commit.
    involvement = queries.involvement_or_none(involvement_id, for_update=request.method == "POST")
    if involvement is None:
        abort(404)
    return involvement


def queue_url(view: QueueView, query: str = "", page: int = 1) -> str:
    return list_address("admin.authentication_requests", page, q=query, view=None if view is QueueView.AWAITING else view.value)


def _render_queue(view: QueueView, query: str, page: int, message=None, error=None, status=200):
    message, error = flashed_message_and_error(message, error)
    result = queries.authentication_queue(view, query, page, page_size())
    found = f"{result.total:,} {'request' if result.total == 1 else 'requests'} found" if result.total else "No requests found"
    return render_page_or_block(
        "admin/authentication_requests.html",
        "workspace",
        status=status,
        view=view,
        views=list(QueueView),
        query=query,
        result=result,
        message=message,
        error=error,
        found=found,
        list_url=queue_url,
        page_url=page_addresses("admin.authentication_requests", q=query, view=None if view is QueueView.AWAITING else view.value),
    )


@bp.get("/authentication-requests", defaults={"view": "awaiting"})
@bp.get("/authentication-requests/<any(deleted):view>")
@admin_required
def authentication_requests(view: str):
    return _render_queue(QueueView(view), text_arg(request.args, "q", "The filter"), page_arg(request.args))


def _render_request(involvement, form: AuthenticateForm, errors=(), status: int = 200):
    person = involvement.person
    awaiting = queries.is_awaiting(involvement)
    query = text_arg(request.values, "q", "The search")
    matches = queries.likely_matches(person) if awaiting else []
    search_result = None
    if awaiting and query:
        search_result = people_page(query, 1, 10)
        shown = {m.person.id for m in matches} | {person.id}
        search_result.rows = [p for p in search_result.rows if p.id not in shown and not p.added_by_professional]
    # The records to choose from: likely matches first, then any search finds.
    options = [(m.person, ", ".join(m.reasons)) for m in matches]
    options += [(p, "") for p in (search_result.rows if search_result else [])]
    message, error = flashed_message_and_error(errors=errors)
    if search_result is None:
        found = f"{len(matches)} likely matching {'record' if len(matches) == 1 else 'records'}"
    elif search_result.rows:
        found = f"{len(search_result.rows)} more {'record' if len(search_result.rows) == 1 else 'records'} found for “{query}”"
    else:
        found = f"No more records found for “{query}”"
    return render_page_or_block(
        "admin/authentication_request.html",
        "workspace",
        status=status,
        involvement=involvement,
        person=person,
        professional=involvement.professional,
        awaiting=awaiting,
        matches=matches,
        options=options,
        search_result=search_result,
        query=query,
        found=found,
        form=form,
        errors=list(errors),
        message=message,
        error=error,
    )


@bp.get("/authentication-requests/<int:involvement_id>")
@admin_required
def authentication_request(involvement_id: int):
    involvement = _involvement_or_404(involvement_id)
    return _render_request(involvement, AuthenticateForm())


@bp.post("/authentication-requests/<int:involvement_id>/authenticate")
@admin_required
def authenticate(involvement_id: int):
    involvement = _involvement_or_404(involvement_id)
    form = AuthenticateForm()
    if not form.validate():
        return _render_request(involvement, form, _form_errors_for_request(form), 400)
    professional = involvement.professional
    try:
        if form.record.data == "new":
            queries.authenticate_as_new(current_user, involvement, form.la_reference.data or None)
        else:
            # A number too big to be a key names no record, as a missing one.
            record_id = database_id(form.record.data)
            record = queries.authority_record_or_none(record_id) if record_id else None
            if record is None:
                db.session.rollback()
                return _render_request(
                    involvement, form, [("record-0", "The record chosen is not one of the authority's records. Choose another")], 400
                )
            queries.authenticate_against(current_user, involvement, record)
    except Conflict as problem:
        db.session.rollback()
        involvement = _involvement_or_404(involvement_id)
        target = {"record": "record-0", "la_reference": "la_reference"}.get(problem.field)
        return _render_request(involvement, form, [(target, str(problem))], 409)
    db.session.commit()
    # Flashed messages travel in the signed (readable) session cookie: they
    # name no child.
    flash(f"{professional.full_name} is authenticated for the child. They can now see the authority's record.", "success")
    return redirect(url_for("admin.authentication_requests"), 303)


def _form_errors_for_request(form) -> list[tuple[str, str]]:
    errors = []
    if form.record.errors:
        errors.append(("record-0", form.record.errors[0]))
    if form.la_reference.errors:
        errors.append(("la_reference", form.la_reference.errors[0]))
    return errors


@bp.route("/authentication-requests/<int:involvement_id>/decline", methods=["GET", "POST"])
@admin_required
def decline(involvement_id: int):
    involvement = _involvement_or_404(involvement_id)
    if not queries.is_awaiting(involvement):
        flash("This request has already been dealt with. Nothing was changed.", "error")
        return redirect(url_for("admin.authentication_request", involvement_id=involvement.id), 303)
    form = DeclineForm()
    if form.validate_on_submit():
        professional = involvement.professional
        queries.decline(current_user, involvement, form.reason.data)
        db.session.commit()
        flash(f"The request from {professional.full_name} is declined", "success")  # no child's name in the cookie
        return redirect(url_for("admin.authentication_requests"), 303)
    errors = form_errors(form)
    return render_template(
        "admin/decline.html", involvement=involvement, person=involvement.person,
        professional=involvement.professional, form=form, errors=errors,
    ), (400 if errors else 200)


@bp.post("/involvements/<int:involvement_id>/reauthenticate")
@admin_required
def reauthenticate(involvement_id: int):
    involvement = _involvement_or_404(involvement_id)
    professional, person = involvement.professional, involvement.person
    to_queue = request.form.get("return_to") == "queue"
    if to_queue:  # read before the change: a bad value is a 400 with nothing changed
        query, page = text_arg(request.form, "q", "The filter"), page_arg(request.form)
    message = error = None
    try:
        queries.reauthenticate(current_user, involvement)
    except Conflict as problem:
        db.session.rollback()
        error = str(problem)
    else:
        db.session.commit()
        message = f"{professional.full_name} is re-authenticated for {person.full_name}"
    if to_queue:
        if is_htmx():
            return _render_queue(QueueView.DELETED, query, page, message=message, error=error)
        target = queue_url(QueueView.DELETED, query, page)
    else:
        target = url_for("admin.person", person_id=person.id)
    flash(error or message, "error" if error else "success")
    return redirect(target, 303)
