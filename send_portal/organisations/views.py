"""Organisations (LA admins), Cover my caseload (professionals) and handing
over a leaver's children (LA admins and organisation leads)."""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..admin.access import admin_required
from ..extensions import db
from ..models import User
from ..portal import database_id, flashed_message_and_error, professional_required
from . import service
from .models import ORGANISATION_KINDS, Cover, Organisation, name_key
from .service import Refused

bp = Blueprint("organisations", __name__)

NAME_MAX = 200
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _professional_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_professional:
        abort(404)
    return user


def _messages():
    return flashed_message_and_error()


# --- LA admins: organisations ---------------------------------------------------------------


@bp.get("/admin/organisations")
@admin_required
def organisations():
    rows = db.session.execute(select(Organisation).order_by(Organisation.name_key)).scalars().all()
    counts = dict(db.session.execute(
        select(User.organisation_id, db.func.count()).where(User.organisation_id.is_not(None), User.role == "professional")
        .group_by(User.organisation_id)
    ).all())
    message, error = _messages()
    return render_template("organisations/admin_list.html", organisations=rows, counts=counts, message=message, error=error)


def _read_organisation_form(form) -> tuple[dict, list[tuple[str, str]]]:
    errors = []
    name = " ".join((form.get("name") or "").split())
    kind = form.get("kind") or ""
    urn = (form.get("urn") or "").strip()
    if not name:
        errors.append(("name", "Enter the organisation’s name"))
    elif len(name) > NAME_MAX or CONTROL.search(name):
        errors.append(("name", f"The name must be {NAME_MAX} characters or fewer, without control characters"))
    elif service.find_by_name(name) is not None:
        errors.append(("name", f"There is already an organisation called {name}"))
    if kind not in ORGANISATION_KINDS:
        errors.append(("kind", "Choose what kind of organisation it is"))
    if kind == "school" and not re.fullmatch(r"[0-9]{6}", urn):
        errors.append(("urn", "Enter the school’s URN, 6 digits such as 123456"))
    elif kind != "school":
        urn = ""
    return {"name": name, "kind": kind, "urn": urn or None, "shares_caseload": form.get("shares_caseload") == "yes"}, errors


@bp.route("/admin/organisations/new", methods=["GET", "POST"])
@admin_required
def new_organisation():
    values, errors = {"name": "", "kind": "", "urn": "", "shares_caseload": False}, []
    if request.method == "POST":
        values, errors = _read_organisation_form(request.form)
        if not errors:
            organisation = Organisation(name_key=name_key(values["name"]), **values)
            db.session.add(organisation)
            db.session.flush()
            service.audit.record(service.ORGANISATION_CREATED, changed_by=current_user, details=organisation.name)
            db.session.commit()
            flash(f"{organisation.name} is added. Add its members.", "success")
            return redirect(url_for("organisations.organisation", organisation_id=organisation.id), 303)
        db.session.rollback()
    return render_template(
        "organisations/admin_new.html", values=values, errors=errors, kinds=ORGANISATION_KINDS,
    ), (400 if errors else 200)


def _render_organisation(organisation: Organisation, errors=(), email: str = "", status: int = 200):
    message, error = _messages()
    members = service.members(organisation)
    covers = [c for c in service.open_covers(date.today()) if c.organisation_id == organisation.id]
    return render_template(
        "organisations/admin_organisation.html", organisation=organisation, members=members, covers=covers,
        errors=list(errors), email=email, message=message, error=error, today=date.today(),
    ), status


@bp.get("/admin/organisations/<int:organisation_id>")
@admin_required
def organisation(organisation_id: int):
    return _render_organisation(db.get_or_404(Organisation, organisation_id))


@bp.post("/admin/organisations/<int:organisation_id>/team-caseload")
@admin_required
def set_sharing(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    choice = request.form.get("shares_caseload")
    if choice not in ("yes", "no"):
        abort(400, "Choose whether members share a team caseload.")
    organisation.shares_caseload = choice == "yes"
    service.audit.record(
        service.SHARING_CHANGED, changed_by=current_user,
        details=f"{organisation.name}: members {'share' if organisation.shares_caseload else 'do not share'} a team caseload",
    )
    db.session.commit()
    flash(f"Members of {organisation.name} {'now share' if organisation.shares_caseload else 'no longer share'} a team caseload.", "success")
    return redirect(url_for("organisations.organisation", organisation_id=organisation.id), 303)


@bp.post("/admin/organisations/<int:organisation_id>/members")
@admin_required
def add_member(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    email = (request.form.get("email") or "").strip().lower()
    user = db.session.scalar(select(User).where(User.email == email)) if email and len(email) <= 254 else None
    if user is None or not user.is_professional:
        db.session.rollback()
        return _render_organisation(organisation, [("email", "Enter the email address of a registered professional")], email[:254], 400)
    try:
        service.add_member(current_user, organisation, user)
    except Refused as problem:
        db.session.rollback()
        return _render_organisation(organisation, [("email", str(problem))], email, 400)
    db.session.commit()
    flash(f"{user.full_name} is now a member of {organisation.name}.", "success")
    return redirect(url_for("organisations.organisation", organisation_id=organisation.id), 303)


@bp.post("/admin/organisations/<int:organisation_id>/members/<int:user_id>/remove")
@admin_required
def remove_member(organisation_id: int, user_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    user = _professional_or_404(user_id)
    try:
        service.remove_member(current_user, organisation, user)
    except Refused:
        abort(404)
    db.session.commit()
    flash(f"{user.full_name} is no longer a member of {organisation.name}.", "success")
    return redirect(url_for("organisations.organisation", organisation_id=organisation.id), 303)


@bp.post("/admin/organisations/<int:organisation_id>/members/<int:user_id>/lead")
@admin_required
def set_lead(organisation_id: int, user_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    user = _professional_or_404(user_id)
    if user.organisation_id != organisation.id:
        abort(404)
    choice = request.form.get("lead")
    if choice not in ("yes", "no"):
        abort(400, "Choose whether they lead the organisation.")
    user.is_organisation_lead = choice == "yes"
    service.audit.record(
        service.LEAD_CHANGED, changed_by=current_user, professional=user,
        details=f"{'Lead' if user.is_organisation_lead else 'No longer lead'} of {organisation.name}",
    )
    db.session.commit()
    flash(f"{user.full_name} {'now leads' if user.is_organisation_lead else 'no longer leads'} {organisation.name}.", "success")
    return redirect(url_for("organisations.organisation", organisation_id=organisation.id), 303)


@bp.get("/admin/cover")
@admin_required
def admin_covers():
    message, error = _messages()
    return render_template("organisations/admin_covers.html", covers=service.open_covers(date.today()), today=date.today(),
                           message=message, error=error)


@bp.post("/admin/cover/<int:cover_id>/end")
@admin_required
def admin_end_cover(cover_id: int):
    cover = db.session.get(Cover, cover_id)
    if cover is None:
        abort(404)
    try:
        service.end_cover(current_user, cover)
    except Refused as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("organisations.admin_covers"), 303)
    db.session.commit()
    flash(f"{cover.colleague.full_name} no longer covers for {cover.professional.full_name}.", "success")
    return redirect(url_for("organisations.admin_covers"), 303)


# --- professionals: Cover my caseload ----------------------------------------------------------


def _render_cover(errors=(), values=None, status: int = 200):
    professional = current_user._get_current_object()
    message, error = _messages()
    return render_template(
        "organisations/cover.html", colleagues=service.colleagues(professional) if professional.is_verified else [],
        given=service.covers_given(professional), held=service.covers_held(professional), errors=list(errors),
        values=values or {}, today=date.today(), message=message, error=error,
    ), status


@bp.route("/send/cover", methods=["GET", "POST"])
@professional_required
def cover():
    professional = current_user._get_current_object()
    if request.method == "GET":
        return _render_cover()
    values = {k: (request.form.get(k) or "")[:10] for k in (
        "colleague", "from-day", "from-month", "from-year", "to-day", "to-month", "to-year")}
    errors = []
    colleague_id = database_id(values["colleague"])
    colleague = next((c for c in service.colleagues(professional) if c.id == colleague_id), None) if professional.is_verified else None
    if colleague is None:
        errors.append(("colleague", "Choose the colleague who will cover for you"))
    starts_on, ends_on = service.parse_day(request.form, "from"), service.parse_day(request.form, "to")
    if starts_on is None:
        errors.append(("from-day", "Enter the date cover starts, such as 3 2 2027"))
    if ends_on is None:
        errors.append(("to-day", "Enter the date cover ends, such as 17 2 2027"))
    if not errors:
        try:
            service.give_cover(professional, colleague, starts_on, ends_on, date.today())
        except Refused as problem:
            errors.append(("to-day", str(problem)))
    if errors:
        db.session.rollback()
        return _render_cover(errors, values, 400)
    db.session.commit()
    flash(f"{colleague.full_name} will cover your caseload from {starts_on:%-d %B %Y} to {ends_on:%-d %B %Y}.", "success")
    return redirect(url_for("organisations.cover"), 303)


@bp.post("/send/cover/<int:cover_id>/end")
@professional_required
def end_cover(cover_id: int):
    """The professional who gave the cover ends it sooner."""
    cover = db.session.get(Cover, cover_id)
    if cover is None or cover.professional_id != current_user.id:
        abort(404)
    try:
        service.end_cover(current_user._get_current_object(), cover)
    except Refused as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("organisations.cover"), 303)
    db.session.commit()
    flash(f"{cover.colleague.full_name} no longer covers your caseload.", "success")
    return redirect(url_for("organisations.cover"), 303)


# --- leavers: handing over (LA admins, organisation leads) -------------------------------------


@bp.get("/send/organisation")
@professional_required
def lead_organisation():
    """An organisation lead's list of members, to hand over a leaver's children."""
    professional = current_user._get_current_object()
    if not (professional.is_organisation_lead and professional.is_verified and professional.organisation_id):
        abort(404)
    organisation = db.get_or_404(Organisation, professional.organisation_id)
    message, error = _messages()
    return render_template("organisations/lead.html", organisation=organisation,
                           members=[m for m in service.members(organisation) if m.id != professional.id],
                           message=message, error=error)


def _hand_over_urls(leaver: User) -> tuple[str, str]:
    """(this page, where to go back and after) for an admin or a lead."""
    if current_user.is_admin:
        return url_for("organisations.admin_hand_over", user_id=leaver.id), url_for("admin.professional", user_id=leaver.id)
    return url_for("organisations.lead_hand_over", user_id=leaver.id), url_for("organisations.lead_organisation")


def _read_plan(children, colleagues) -> tuple[dict[int, User], list[tuple[str, str]], dict]:
    by_id = {c.id: c for c in colleagues}
    mode = request.form.get("mode")
    values = {"mode": mode, "colleague": request.form.get("colleague", "")[:10]}
    plan, errors = {}, []
    if mode == "one":
        colleague = by_id.get(database_id(values["colleague"]) or 0)
        if colleague is None:
            errors.append(("colleague", "Choose the colleague who takes over every child"))
        else:
            plan = {c.involvement_id: colleague for c in children}
    elif mode == "each":
        for child in children:
            raw = request.form.get(f"colleague-{child.involvement_id}", "")[:10]
            values[f"colleague-{child.involvement_id}"] = raw
            colleague = by_id.get(database_id(raw) or 0)
            if colleague is None:
                errors.append((f"colleague-{child.involvement_id}", f"Choose a colleague for {child.full_name}"))
            else:
                plan[child.involvement_id] = colleague
    else:
        errors.append(("mode-one", "Choose whether one colleague takes over every child or you choose for each"))
    return plan, errors, values


def hand_over_view(leaver: User):
    if not service.may_hand_over(current_user._get_current_object(), leaver):
        abort(404)
    page_url, back_url = _hand_over_urls(leaver)
    children = service.leaver_children(leaver)
    colleagues = service.colleagues(leaver)
    if leaver.is_deactivated and not children:
        flash(f"{leaver.full_name}’s account is deactivated and has no children to hand over.", "error")
        return redirect(back_url, 303)
    errors, values, plan = [], {"mode": "one"}, {}
    if request.method == "POST":
        plan, errors, values = _read_plan(children, colleagues)
        if not errors and request.form.get("confirmed") == "yes":
            try:
                count = service.hand_over(current_user._get_current_object(), leaver, plan)
            except Refused as problem:
                db.session.rollback()
                errors = [(None, str(problem))]
            else:
                db.session.commit()
                flash(f"{service_count(count)} handed over. {leaver.full_name}’s account is deactivated and signed out.", "success")
                return redirect(back_url, 303)
        if not errors:
            db.session.rollback()
            names = {c.involvement_id: c for c in children}
            return render_template(
                "organisations/confirm_hand_over.html", leaver=leaver, plan=[(names[i], u) for i, u in plan.items()],
                count=len(plan), values=values, page_url=page_url, back_url=back_url, count_text=service_count(len(plan)),
                again=service.needs_authenticating_again(plan, children),
            )
        db.session.rollback()
    return render_template(
        "organisations/hand_over.html", leaver=leaver, children=children, colleagues=colleagues, errors=errors,
        values=values, page_url=page_url, back_url=back_url, count_text=service_count(len(children)),
    ), (400 if errors else 200)


def service_count(n: int) -> str:
    return "1 child" if n == 1 else f"{n:,} children"


@bp.route("/admin/professionals/<int:user_id>/hand-over", methods=["GET", "POST"])
@admin_required
def admin_hand_over(user_id: int):
    return hand_over_view(_professional_or_404(user_id))


@bp.route("/send/organisation/members/<int:user_id>/hand-over", methods=["GET", "POST"])
@professional_required
def lead_hand_over(user_id: int):
    return hand_over_view(_professional_or_404(user_id))
