"""Professionals' accounts (SPEC section 5): the lists by verification,
a professional's page, verify, reject, deactivate and reactivate, sign out
everywhere, reset two-factor sign-in, and unauthenticate a caseload."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth import two_factor, user_sessions
from ..extensions import db
from ..htmx import is_htmx, render_page_or_block
from ..models import Verification
from ..portal import flashed_message_and_error, form_errors, list_address, page_addresses
from . import bp
from . import professionals_queries as queries
from .access import admin_required
from .common import children_count, page_arg, page_size, text_arg
from .common_queries import Conflict
from .forms import RejectForm
from .professionals_queries import ProfessionalView


def _professional_or_404(user_id: int):
    # A POST changes the row it names: it is read locked, until the commit.
    user = queries.professional_or_none(user_id, for_update=request.method == "POST")
    if user is None:
        abort(404)
    return user


def professionals_url(view: ProfessionalView, query: str = "", page: int = 1) -> str:
    return list_address("admin.professionals", page, q=query, view=None if view is ProfessionalView.PENDING else view.value)


def _render_professionals(view: ProfessionalView, query: str, page: int, message=None, error=None, status=200):
    message, error = flashed_message_and_error(message, error)
    result = queries.professionals_page(view, query, page, page_size())
    found = f"{result.total:,} {'professional' if result.total == 1 else 'professionals'} found" if result.total else "No professionals found"
    return render_page_or_block(
        "admin/professionals.html",
        "workspace",
        status=status,
        view=view,
        views=list(ProfessionalView),
        query=query,
        result=result,
        message=message,
        error=error,
        found=found,
        list_url=professionals_url,
        page_url=page_addresses("admin.professionals", q=query, view=None if view is ProfessionalView.PENDING else view.value),
    )


@bp.get("/professionals", defaults={"view": "pending"})
@bp.get("/professionals/<any(verified, rejected, deactivated):view>")
@admin_required
def professionals(view: str):
    return _render_professionals(ProfessionalView(view), text_arg(request.args, "q", "The filter"), page_arg(request.args))


@bp.get("/professionals/<int:user_id>")
@admin_required
def professional(user_id: int):
    user = _professional_or_404(user_id)
    message, error = flashed_message_and_error()
    return render_template(
        "admin/professional.html",
        professional=user,
        caseload_count=queries.live_caseload_count(user),
        message=message,
        error=error,
        children_count=children_count,
    )


def _list_position():
    """The list a change was made from, as (view, query, page), or None for
    the professional's page. Read before the change, so that a bad value is
    a 400 with nothing changed."""
    if request.form.get("return_to") != "list":
        return None
    try:
        view = ProfessionalView(request.form.get("view") or "pending")
    except ValueError:
        view = ProfessionalView.PENDING
    return view, text_arg(request.form, "q", "The filter"), page_arg(request.form)


def _back_to_list_or_profile(user, position, message: str | None = None, error: str | None = None):
    """After a change: the list it was made from (in place, with htmx), or
    the professional's page."""
    if position is not None:
        view, query, page = position
        if is_htmx():
            return _render_professionals(view, query, page, message=message, error=error)
        target = professionals_url(view, query, page)
    else:
        target = url_for("admin.professional", user_id=user.id)
    flash(error or message, "error" if error else "success")
    return redirect(target, 303)


@bp.post("/professionals/<int:user_id>/verify")
@admin_required
def verify_professional(user_id: int):
    user = _professional_or_404(user_id)
    position = _list_position()
    try:
        queries.verify_professional(current_user, user)
    except Conflict as problem:
        db.session.rollback()
        return _back_to_list_or_profile(user, position, error=str(problem))
    db.session.commit()
    return _back_to_list_or_profile(user, position, message=f"{user.full_name} is verified")


@bp.route("/professionals/<int:user_id>/reject", methods=["GET", "POST"])
@admin_required
def reject_professional(user_id: int):
    user = _professional_or_404(user_id)
    if user.verification != Verification.PENDING.value or user.is_deactivated:
        flash(f"{user.full_name} is not awaiting verification.", "error")
        return redirect(url_for("admin.professional", user_id=user.id), 303)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            queries.reject_professional(current_user, user, form.reason.data)
        except Conflict as problem:  # pragma: no cover - checked above; a race
            db.session.rollback()
            flash(str(problem), "error")
            return redirect(url_for("admin.professional", user_id=user.id), 303)
        db.session.commit()
        flash(f"{user.full_name}'s registration is rejected", "success")
        return redirect(url_for("admin.professionals"), 303)
    errors = form_errors(form)
    return render_template("admin/reject.html", professional=user, form=form, errors=errors), (400 if errors else 200)


@bp.route("/professionals/<int:user_id>/deactivate", methods=["GET", "POST"])
@admin_required
def deactivate_professional(user_id: int):
    user = _professional_or_404(user_id)
    if request.method == "POST":
        try:
            queries.deactivate_professional(current_user, user)
        except Conflict as problem:
            db.session.rollback()
            flash(str(problem), "error")
            return redirect(url_for("admin.professional", user_id=user.id), 303)
        db.session.commit()
        flash(f"{user.full_name}'s account is deactivated. They can no longer sign in.", "success")
        return redirect(url_for("admin.professional", user_id=user.id), 303)
    if user.is_deactivated:
        flash(f"{user.full_name}'s account is already deactivated.", "error")
        return redirect(url_for("admin.professional", user_id=user.id), 303)
    return render_template(
        "admin/confirm_deactivate.html", professional=user,
        caseload_count=queries.live_caseload_count(user), children_count=children_count,
    )


@bp.post("/professionals/<int:user_id>/end-sessions")
@admin_required
def end_sessions(user_id: int):
    """Sign the professional out everywhere (a lost or shared device)."""
    user = _professional_or_404(user_id)
    ended = user_sessions.end_sessions_by_admin(current_user, user)
    db.session.commit()
    flash(f"{user.full_name} is signed out everywhere ({ended} active session{'' if ended == 1 else 's'} ended).", "success")
    return redirect(url_for("admin.professional", user_id=user.id), 303)


@bp.route("/professionals/<int:user_id>/reset-two-factor", methods=["GET", "POST"])
@admin_required
def reset_two_factor(user_id: int):
    """Remove a professional's second factor (a lost phone and lost recovery
    codes) and sign them out everywhere; they set it up again."""
    user = _professional_or_404(user_id)
    if not two_factor.is_set_up(user):
        flash(f"{user.full_name} has not set up two-factor sign-in.", "error")
        return redirect(url_for("admin.professional", user_id=user.id), 303)
    if request.method == "POST":
        ended = two_factor.reset(user, current_user._get_current_object())
        db.session.commit()
        flash(
            f"{user.full_name}’s two-factor sign-in is reset and they are signed out everywhere "
            f"({ended} active session{'' if ended == 1 else 's'} ended).", "success",
        )
        return redirect(url_for("admin.professional", user_id=user.id), 303)
    return render_template("admin/confirm_reset_two_factor.html", professional=user)


@bp.post("/professionals/<int:user_id>/reactivate")
@admin_required
def reactivate_professional(user_id: int):
    user = _professional_or_404(user_id)
    try:
        queries.reactivate_professional(current_user, user)
    except Conflict as problem:
        db.session.rollback()
        flash(str(problem), "error")
    else:
        db.session.commit()
        flash(f"{user.full_name}'s account is active again. They can sign in.", "success")
    return redirect(url_for("admin.professional", user_id=user.id), 303)


@bp.route("/professionals/<int:user_id>/unauthenticate-caseload", methods=["GET", "POST"])
@admin_required
def unauthenticate_caseload(user_id: int):
    user = _professional_or_404(user_id)
    count = queries.live_caseload_count(user)
    if count == 0:
        flash(f"{user.full_name} has no children to unauthenticate.", "error")
        return redirect(url_for("admin.professional", user_id=user.id), 303)
    changed_since = False
    if request.method == "POST":
        expected = request.form.get("expected_count", "")
        if expected == str(count):
            done = queries.unauthenticate_caseload(current_user, user)
            db.session.commit()
            flash(f"{user.full_name} is unauthenticated from {children_count(done)}", "success")
            return redirect(url_for("admin.professional", user_id=user.id), 303)
        # The caseload changed after the confirmation was shown: confirm again.
        changed_since = True
    return render_template(
        "admin/confirm_unauthenticate.html",
        professional=user,
        count=count,
        children_count=children_count,
        changed_since=changed_since,
    ), (409 if changed_since else 200)
