"""A child's page, Edit Person, and Add Person with address look-up
(SPEC sections 3 and 4)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import audit, rules
from ..addresses import format_postcode, normalise_postcode, provider_for
from ..caseload import queries
from ..extensions import db
from ..models import Involvement, InvolvementStatus, Person, User
from ..names import sort_key
from ..portal import professional_required
from .forms import AddPersonForm, EditPersonForm, ManualAddressForm
from .models import PersonDraft, current_draft, discard_draft, save_draft
from .timeline import ehc_timeline

bp = Blueprint("people", __name__, url_prefix="/send")


def _live_involvement_or_404(person_id: int) -> Involvement:
    involvement = queries.involvement_for_person(current_user, person_id)
    if involvement is None:
        abort(404)
    return involvement


@bp.get("/people/<int:person_id>")
@professional_required
def child(person_id: int):
    involvement = _live_involvement_or_404(person_id)
    person = involvement.person
    acting = queries.acting_for(current_user, involvement)
    if acting:
        # A colleague's child (team caseload or cover): who opened it is audited.
        audit.record(audit.PERSON_OPENED_FOR_COLLEAGUE, changed_by=current_user, person=person,
                     professional=involvement.professional, details=acting)
        db.session.commit()
    return render_template(
        "people/child.html",
        involvement=involvement,
        person=person,
        # What the LA holds (status, timeline) only once the involvement is authenticated.
        timeline=ehc_timeline(person) if rules.sees_la_record(involvement) else [],
        forms_url=url_for("forms.child_forms", person_id=person.id),
        messages_url=url_for("messages.thread", person_id=person.id) if rules.sees_la_record(involvement) else None,
    )


def _errors(form, extra=None):
    """(field id, message) pairs for the error summary, in page order."""
    errors = []
    for field in form:
        if field.errors and field.type != "CSRFTokenField":
            target = field.id
            if field.type == "RadioField":
                target = f"{field.id}-0"
            errors.append((target, field.errors[0]))
    for item in extra or []:
        errors.append(item)
    return errors


def _duplicate(given: str, family: str, dob: date, upn: str | None) -> Involvement | None:
    return queries.live_involvement_for_child(current_user, sort_key(given, family), dob, upn)


@bp.route("/add-person", methods=["GET", "POST"])
@professional_required
def add_person():
    form = AddPersonForm()
    draft = current_draft(current_user.id) if request.method == "GET" and request.args.get("change") else None
    if draft is not None:
        form.given_name.data = draft.given_name
        form.family_name.data = draft.family_name
        form.set_date_of_birth(draft.date_of_birth)
        form.gender.data = draft.gender
        form.upn.data = draft.upn
        form.postcode.data = format_postcode(draft.postcode_key)
    errors, duplicate = [], None
    if request.method == "POST":
        valid = form.validate()
        dob_problem = form.check_date_of_birth()
        extra = [("dob_day", dob_problem)] if dob_problem else []
        if valid and not dob_problem:
            duplicate = _duplicate(form.given_name.data, form.family_name.data, form.date_of_birth, form.upn.data or None)
            if duplicate is None:
                save_draft(
                    current_user.id,
                    given_name=form.given_name.data,
                    family_name=form.family_name.data,
                    date_of_birth=form.date_of_birth,
                    gender=form.gender.data,
                    upn=form.upn.data or None,
                    postcode_key=normalise_postcode(form.postcode.data),
                )
                db.session.commit()
                return redirect(url_for("people.address_details"), 303)
        errors = _errors(form)
        # The date error sits in its page position, after the names.
        if extra:
            errors = errors[:2] + extra + errors[2:] if len(errors) >= 2 else extra + errors
        form.dob_error = dob_problem
    status = 400 if errors else 200
    if duplicate is not None and not errors:
        status = 409
    return render_template("people/add_person.html", form=form, errors=errors, duplicate=duplicate), status


def _draft_or_restart() -> PersonDraft | None:
    return current_draft(current_user.id)


@bp.route("/add-person/address", methods=["GET", "POST"])
@professional_required
def address_details():
    draft = _draft_or_restart()
    if draft is None:
        return redirect(url_for("people.add_person"))
    provider = provider_for()
    result = provider.lookup(draft.postcode_key)
    errors = []
    if request.method == "POST":
        uprn = request.form.get("uprn", "")
        chosen = next((a for a in result.addresses if a.uprn == uprn), None)
        if chosen is None:
            errors = [("uprn-0" if result.addresses else "manual-link", "Select the child’s address, or enter it by hand")]
        else:
            return _save_child(draft, chosen.address_line_1, chosen.address_line_2, chosen.town, chosen.postcode, chosen.uprn)
    return render_template(
        "people/address_details.html",
        draft=draft,
        postcode=format_postcode(draft.postcode_key),
        result=result,
        errors=errors,
    ), (400 if errors else 200)


@bp.route("/add-person/address/manual", methods=["GET", "POST"])
@professional_required
def manual_address():
    draft = _draft_or_restart()
    if draft is None:
        return redirect(url_for("people.add_person"))
    form = ManualAddressForm()
    if request.method == "GET":
        form.postcode.data = format_postcode(draft.postcode_key)
    elif form.validate():
        return _save_child(draft, form.address_line_1.data, form.address_line_2.data or "", form.town.data, form.postcode.data, None)
    errors = _errors(form)
    return render_template("people/manual_address.html", form=form, errors=errors, draft=draft), (400 if errors else 200)


def _save_child(draft: PersonDraft, line_1: str, line_2: str, town: str, postcode: str, uprn: str | None):
    """Save Child: a new involvement awaiting the LA's authentication.

    One Save Child at a time for each professional: their user row is locked
    (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
    writers) before the duplicate check, so two posts at once, a double click
    or two tabs, cannot both find no duplicate and both add the child."""
    db.session.execute(select(User.id).where(User.id == current_user.id).with_for_update())
    still_there = db.session.execute(
        select(PersonDraft.professional_id).where(PersonDraft.professional_id == current_user.id)
    ).scalar_one_or_none()
    if still_there is None:  # saved a moment ago by another post: show the list it went to
        db.session.rollback()
        return redirect(url_for("caseload.select_person"), 303)
    duplicate = _duplicate(draft.given_name, draft.family_name, draft.date_of_birth, draft.upn)
    if duplicate is not None:
        discard_draft(current_user.id)
        db.session.commit()
        return redirect(url_for("people.child", person_id=duplicate.person_id), 303)
    person = Person(
        date_of_birth=draft.date_of_birth,
        gender=draft.gender,
        upn=draft.upn,
        address_line_1=line_1,
        address_line_2=line_2 or None,
        town=town,
        postcode=postcode,
        uprn=uprn,
        case_status="No open case",
        added_by_professional=True,
    )
    person.set_names(draft.given_name, draft.family_name)
    db.session.add(person)
    db.session.flush()
    db.session.add(
        Involvement(
            professional_id=current_user.id,
            person_id=person.id,
            status=InvolvementStatus.AWAITING.value,
            started_on=date.today(),
        )
    )
    queries.record_activity(person, "Added by a professional", current_user)
    audit.record(audit.PERSON_ADDED, changed_by=current_user, person=person, professional=current_user)
    discard_draft(current_user.id)
    db.session.commit()
    return redirect(
        url_for("forms.child_forms", person_id=person.id, added=1), 303
    )


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@professional_required
def edit_person(person_id: int):
    involvement = _live_involvement_or_404(person_id)
    person = involvement.person
    form = EditPersonForm(obj=person if request.method == "GET" else None)
    if request.method == "GET":
        form.set_date_of_birth(person.date_of_birth)
        errors = []
    else:
        valid = form.validate()
        dob_problem = form.check_date_of_birth()
        form.dob_error = dob_problem
        if valid and not dob_problem:
            changed = _apply_edit(person, form)
            if changed:
                queries.record_activity(person, "Details corrected by a professional", current_user)
                acting = queries.acting_for(current_user, involvement)
                audit.record(
                    audit.PERSON_EDITED, changed_by=current_user, person=person, professional=current_user,
                    details="Changed: " + ", ".join(changed) + (f". {acting}" if acting else ""),
                )
            db.session.commit()
            return redirect(url_for("people.child", person_id=person.id, updated=1 if changed else 0), 303)
        errors = _errors(form)
        if dob_problem:
            errors = errors[:2] + [("dob_day", dob_problem)] + errors[2:]
    return render_template("people/edit_person.html", form=form, person=person, errors=errors), (400 if errors else 200)


def _apply_edit(person: Person, form: EditPersonForm) -> list[str]:
    changed = []
    if (form.given_name.data, form.family_name.data) != (person.given_name, person.family_name):
        changed.append(f"name from {person.full_name} to {form.given_name.data} {form.family_name.data}")
        person.set_names(form.given_name.data, form.family_name.data)
    if form.date_of_birth != person.date_of_birth:
        changed.append(f"date of birth from {person.date_of_birth.isoformat()} to {form.date_of_birth.isoformat()}")
        person.date_of_birth = form.date_of_birth
    for field in ("address_line_1", "address_line_2", "town", "postcode"):
        new = (getattr(form, field).data or "").strip() or None
        if new != getattr(person, field):
            changed.append(field.replace("_", " "))
            setattr(person, field, new)
    return changed
