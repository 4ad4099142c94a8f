"""The authority's records of children (SPEC section 5): the search, a
child's record, its case status and its EHC timeline dates (with the SEN2
fields)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..clock.queries import set_sen2_fields
from ..extensions import db
from ..htmx import render_page_or_block
from ..models import Person
from ..portal import flashed_message_and_error, form_errors, list_address, page_addresses
from . import bp
from . import people_queries as queries
from .access import admin_required
from .common import page_arg, page_size, text_arg
from .forms import CaseStatusForm, TimelineForm, read_sen2_fields


def _person_or_404(person_id: int) -> Person:
    # A POST changes the row it names: it is read locked, until the commit.
    person = queries.person_or_none(person_id, for_update=request.method == "POST")
    if person is None:
        abort(404)
    return person


def people_url(query: str = "", page: int = 1) -> str:
    return list_address("admin.people", page, q=query)


@bp.get("/people")
@admin_required
def people():
    query, page = text_arg(request.args, "q", "The search"), page_arg(request.args)
    result = queries.people_page(query, page, page_size())
    found = f"{result.total:,} {'person' if result.total == 1 else 'people'} found" if result.total else "No people found"
    return render_page_or_block(
        "admin/people.html", "workspace", query=query, result=result, found=found, list_url=people_url,
        page_url=page_addresses("admin.people", q=query),
    )


@bp.get("/people/<int:person_id>")
@admin_required
def person(person_id: int):
    record = _person_or_404(person_id)
    message, error = flashed_message_and_error()
    return render_template(
        "admin/person.html",
        person=record,
        involvements=queries.person_involvements(record),
        activity=queries.recent_activity(record),
        timeline_dates=queries.TIMELINE_DATES,
        message=message,
        error=error,
    )


@bp.route("/people/<int:person_id>/case-status", methods=["GET", "POST"])
@admin_required
def case_status(person_id: int):
    record = _person_or_404(person_id)
    form = CaseStatusForm()
    if request.method == "GET":
        form.case_status.data = record.case_status
    elif form.validate():
        if queries.set_case_status(current_user, record, form.case_status.data):
            db.session.commit()
            flash(f"Case status changed to {record.case_status}", "success")
        else:
            db.session.rollback()
            flash(f"The case status is still {record.case_status}: nothing was changed", "success")
        return redirect(url_for("admin.person", person_id=record.id), 303)
    errors = form_errors(form)
    return render_template("admin/case_status.html", person=record, form=form, errors=errors), (400 if errors else 200)


@bp.route("/people/<int:person_id>/timeline", methods=["GET", "POST"])
@admin_required
def timeline(person_id: int):
    record = _person_or_404(person_id)
    form = TimelineForm()
    errors: list[tuple[str, str]] = []
    problems: dict[str, str] = {}
    if request.method == "GET":
        for attribute, _label in queries.TIMELINE_DATES:
            form.set_date(attribute, getattr(record, attribute))
        form.assessment_outcome.data = record.assessment_outcome or ""
        form.twenty_week_exception_reason.data = record.twenty_week_exception_reason or ""
    else:
        dates, found = form.read_dates()
        sen2_fields, sen2_found = read_sen2_fields(form, dates)
        found += sen2_found
        if not found:
            changed = queries.set_timeline_dates(current_user, record, dates)
            changed += set_sen2_fields(current_user, record, sen2_fields)
            db.session.commit()
            if changed:
                flash(f"{len(changed)} EHC timeline {'date' if len(changed) == 1 else 'dates'} changed: " + ", ".join(changed), "success")
            else:
                flash("The EHC timeline dates are unchanged", "success")
            return redirect(url_for("admin.person", person_id=record.id), 303)
        for attribute, field_id, text in found:
            problems.setdefault(attribute, text)
            errors.append((field_id, text))
    return render_template(
        "admin/timeline.html", person=record, form=form, errors=errors, problems=problems,
        timeline_dates=queries.TIMELINE_DATES,
    ), (400 if errors else 200)
