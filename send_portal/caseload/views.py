"""The Select Person page (SPEC section 2): the caseload, its filter, views and
the Hide, Unhide and Delete Person actions."""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request
from flask_login import current_user

from ..extensions import db, writes_committed
from ..htmx import is_htmx, render_page_or_block
from ..portal import flashed_message_and_error, list_address, page_addresses, page_number, professional_required
from . import queries
from .queries import View
from .rows import caseload_rows

bp = Blueprint("caseload", __name__, url_prefix="/send")

ACTIONS = {
    # action: (views it may be taken from, past tense, needs confirmation)
    "hide": ((View.ACTIVE, View.RECENT), "hidden", True),
    "unhide": ((View.HIDDEN,), "unhidden", False),
    "delete": ((View.ACTIVE, View.HIDDEN, View.RECENT), "deleted", True),
}
MAX_QUERY = 200


def people_count(n: int) -> str:
    return "1 person" if n == 1 else f"{n:,} people"


def _list_args(view: View, query: str, scope: queries.Scope | None = None) -> dict:
    args = {"q": query, "view": None if view is View.ACTIVE else view.value}
    if scope is not None and scope.is_cover:
        args["cover_id"] = scope.cover_id
    return args


SCOPE_ENDPOINTS = {
    queries.ScopeKind.MINE: "caseload.select_person",
    queries.ScopeKind.TEAM: "caseload.team_caseload",
    queries.ScopeKind.COVER: "caseload.covering",
}


def list_url(view: View, query: str = "", page: int = 1, scope: queries.Scope | None = None) -> str:
    endpoint = SCOPE_ENDPOINTS[scope.kind] if scope is not None else "caseload.select_person"
    return list_address(endpoint, page, **_list_args(view, query, scope))


def scope_url(scope: queries.Scope) -> str:
    return list_url(View.ACTIVE, scope=scope)


def _parse_list_args(source) -> tuple[View, str, int]:
    try:
        view = View(source.get("view", "active") or "active")
    except ValueError:
        abort(400, "That view does not exist. Choose Active, Hidden or Recent (18 months).")
    query = (source.get("q") or "").strip()
    if len(query) > MAX_QUERY:
        abort(400, f"The Person filter must be {MAX_QUERY} characters or fewer.")
    return view, query, page_number(source.get("page"))


def _render(view: View, query: str, page: int, message: str | None = None, error: str | None = None, status: int = 200,
            scope: queries.Scope | None = None, scopes: list[queries.Scope] | None = None):
    professional = current_user._get_current_object()
    scopes = scopes or queries.scopes_for(professional)
    scope = scope or scopes[0]
    caseload = queries.caseload_page(
        professional,
        view,
        query,
        page,
        page_size=current_app.config["PAGE_SIZE"],
        recent_months=current_app.config["RECENT_MONTHS"],
        scope=scope,
    )
    message, error = flashed_message_and_error(message, error)
    found = (
        f"{people_count(caseload.total)} found" if caseload.total else "No people found"
    )
    # An error links to the first checkbox, or to the list's heading when no row is left.
    error_target = f"select-{int(caseload.rows[0][1].id)}" if caseload.rows and scope.is_mine else "caseload-heading"

    def scoped_list_url(view: View, query: str = "", page: int = 1) -> str:
        return list_url(view, query, page, scope)

    return render_page_or_block(
        "caseload/select_person.html",
        "workspace",
        status=status,
        view=view,
        views=list(View),
        query=query,
        caseload=caseload,
        message=message,
        error=error,
        error_target=error_target,
        found=found,
        list_url=scoped_list_url,
        page_url=page_addresses(SCOPE_ENDPOINTS[scope.kind], **_list_args(view, query, scope)),
        scope=scope,
        scopes=scopes if len(scopes) > 1 else [],
        scope_url=scope_url,
        actions=ACTIONS,
        caseload_rows=caseload_rows,
    )


@bp.get("/select-person", defaults={"view": "active"})
@bp.get("/select-person/<any(hidden, recent):view>")
@professional_required
def select_person(view: str):
    args = request.args.to_dict()
    args["view"] = view
    view_, query, page = _parse_list_args(args)
    return _render(view_, query, page)


@bp.get("/team-caseload", defaults={"view": "active"})
@bp.get("/team-caseload/<any(hidden, recent):view>")
@professional_required
def team_caseload(view: str):
    """Every member's children, where the LA lets the organisation share a
    caseload; else 404."""
    # Resolved once a request: the keystrokes of a team list are many.
    scopes = queries.scopes_for(current_user._get_current_object())
    scope = queries.scope_for(current_user._get_current_object(), queries.ScopeKind.TEAM, scopes=scopes)
    if scope is None:
        abort(404)
    args = request.args.to_dict()
    args["view"] = view
    view_, query, page = _parse_list_args(args)
    return _render(view_, query, page, scope=scope, scopes=scopes)


@bp.get("/covering/<int:cover_id>", defaults={"view": "active"})
@bp.get("/covering/<int:cover_id>/<any(hidden, recent):view>")
@professional_required
def covering(cover_id: int, view: str):
    """A colleague's caseload, while this professional covers for them; 404
    before the cover starts, after it ends, and for anyone else."""
    scopes = queries.scopes_for(current_user._get_current_object())
    scope = queries.scope_for(current_user._get_current_object(), queries.ScopeKind.COVER, cover_id, scopes=scopes)
    if scope is None:
        abort(404)
    args = request.args.to_dict()
    args["view"] = view
    view_, query, page = _parse_list_args(args)
    return _render(view_, query, page, scope=scope, scopes=scopes)


# Person ids are PostgreSQL integers: anything larger cannot be anyone's, and
# comparing with it would be a database error rather than "not found".
MAX_PERSON_ID = 2**31 - 1


def _selected_ids() -> list[int]:
    ids = []
    for raw in request.form.getlist("person_id"):
        if not re.fullmatch(r"[0-9]{1,10}", raw) or not 1 <= int(raw) <= MAX_PERSON_ID:
            abort(400, "The people selected could not be read. Go back and try again.")
        ids.append(int(raw))
    if len(ids) > 1000:
        abort(400, "Select 1,000 people or fewer at a time.")
    return list(dict.fromkeys(ids))


@bp.post("/select-person")
@professional_required
def change_selected_people():
    """The caseload form's own address. Which button was pressed (its
    name="action" value) decides, so browsers that ignore formaction (Lynx,
    w3m) hide, unhide and delete as the button says."""
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400, "Choose Hide Person, Unhide Person or Delete Person. Go back and try again.")
    return change_people(action)


@bp.post("/select-person/<any(hide, unhide, delete):action>")
@professional_required
def change_people(action: str):
    view, query, page = _parse_list_args(request.form)
    allowed_views, done, needs_confirmation = ACTIONS[action]
    if view not in allowed_views:
        abort(400, "That action cannot be taken from this view.")
    ids = _selected_ids()
    professional = current_user._get_current_object()
    involvements = queries.selected_involvements(professional, ids, view)

    if not involvements:
        error = f"Select at least one person to {action}" if not ids else f"No people were {done}: the people selected are no longer in this list"
        db.session.rollback()
        if is_htmx():
            return _render(view, query, page, error=error)
        flash(error, "error")
        return redirect(list_url(view, query, page), 303)

    if needs_confirmation and request.form.get("confirmed") != "yes":
        db.session.rollback()
        return render_template(
            "caseload/confirm.html",
            action=action,
            involvements=involvements,
            view=view,
            query=query,
            page=page,
            cancel_url=list_url(view, query, page),
            people_count=people_count,
        )

    change = {"hide": queries.hide_people, "unhide": queries.unhide_people, "delete": queries.delete_people}[action]
    count = change(professional, involvements)
    db.session.commit()
    writes_committed()
    message = f"{people_count(count)} {done}"
    if is_htmx():
        return _render(view, query, page, message=message)
    flash(message, "success")
    return redirect(list_url(view, query, page), 303)
