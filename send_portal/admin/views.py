"""The LA admin area (SPEC section 5): verifying professionals, the
authentication requests, a child's case status and EHC timeline dates,
unauthenticating a caseload, and the audit log.

Every route is behind admin_required. Lists are GET forms and links that htmx
enhances: the server answers an htmx request with the "workspace" block of
the same template (chosen by the HX-Request header alone), and every write is
a POST that works without JavaScript (confirmation pages for the destructive
ones) and commits once, with its audit entries."""
from __future__ import annotations

import csv
import re
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..auth import user_sessions
from ..csv_export import csv_safe, spooled_csv
from ..extensions import db
from ..htmx import is_htmx, render_page_or_block
from ..models import InvolvementStatus, Person, Verification
from ..portal import database_id, flashed_message_and_error, list_address, page_number
from . import queries
from .access import admin_required
from .forms import AuthenticateForm, CaseStatusForm, DeclineForm, RejectForm, TimelineForm
from .queries import AuditFilters, Conflict, ProfessionalView, QueueView

bp = Blueprint("admin", __name__, url_prefix="/admin")

MAX_QUERY = 200


# --- helpers --------------------------------------------------------------------


def people_count(n: int) -> str:
    return "1 child" if n == 1 else f"{n:,} children"


def _page_size() -> int:
    return current_app.config["PAGE_SIZE"]


def _text_arg(source, name: str, label: str) -> str:
    value = (source.get(name) or "").strip()
    if len(value) > MAX_QUERY:
        abort(400, f"{label} must be {MAX_QUERY} characters or fewer.")
    return value


def _page_arg(source) -> int:
    return page_number(source.get("page"))


def _form_errors(form) -> list[tuple[str, str]]:
    errors = []
    for field in form:
        if field.errors and field.type != "CSRFTokenField":
            errors.append((f"{field.id}-0" if field.type == "RadioField" else field.id, field.errors[0]))
    return errors


# A POST changes the row it names: it is read locked, until the commit.


def _professional_or_404(user_id: int):
    user = queries.professional_or_none(user_id, for_update=request.method == "POST")
    if user is None:
        abort(404)
    return user


def _involvement_or_404(involvement_id: int):
    involvement = queries.involvement_or_none(involvement_id, for_update=request.method == "POST")
    if involvement is None:
        abort(404)
    return involvement


def _person_or_404(person_id: int) -> Person:
    person = queries.person_or_none(person_id, for_update=request.method == "POST")
    if person is None:
        abort(404)
    return person


@bp.app_template_global("admin_dashboard_counts")
def admin_dashboard_counts() -> dict[str, int]:
    """For the admin home page: how much is waiting."""
    return {
        "pending_professionals": queries.pending_professionals_count(),
        "awaiting_authentication": queries.awaiting_authentication_count(),
    }


@bp.get("/")
@admin_required
def index():
    """/admin/ as someone might type it: the admin home page is /home."""
    return redirect(url_for("portal.home"))


# --- professionals ----------------------------------------------------------------


def professionals_url(view: ProfessionalView, query: str = "", page: int = 1) -> str:
    return list_address("admin.professionals", page, q=query, view=None if view is ProfessionalView.PENDING else view.value)


def _render_professionals(view: ProfessionalView, query: str, page: int, message=None, error=None, status=200):
    if not is_htmx():
        flashed_message, flashed_error = flashed_message_and_error()
        message, error = message or flashed_message, error or flashed_error
    result = queries.professionals_page(view, query, page, _page_size())
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
    )


@bp.get("/professionals", defaults={"view": "pending"})
@bp.get("/professionals/<any(verified, rejected, deactivated):view>")
@admin_required
def professionals(view: str):
    return _render_professionals(ProfessionalView(view), _text_arg(request.args, "q", "The filter"), _page_arg(request.args))


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
        people_count=people_count,
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
    return view, _text_arg(request.form, "q", "The filter"), _page_arg(request.form)


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
    errors = _form_errors(form)
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
        # Ended, so reactivating the account does not bring old sessions back.
        user_sessions.end_all(user, user_sessions.DEACTIVATED)
        db.session.commit()
        flash(f"{user.full_name}'s account is deactivated. They can no longer sign in.", "success")
        return redirect(url_for("admin.professional", user_id=user.id), 303)
    if user.is_deactivated:
        flash(f"{user.full_name}'s account is already deactivated.", "error")
        return redirect(url_for("admin.professional", user_id=user.id), 303)
    return render_template(
        "admin/confirm_deactivate.html", professional=user,
        caseload_count=queries.live_caseload_count(user), people_count=people_count,
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
    from ..auth import two_factor

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
            flash(f"{user.full_name} is unauthenticated from {people_count(done)}", "success")
            return redirect(url_for("admin.professional", user_id=user.id), 303)
        # The caseload changed after the confirmation was shown: confirm again.
        changed_since = True
    return render_template(
        "admin/confirm_unauthenticate.html",
        professional=user,
        count=count,
        people_count=people_count,
        changed_since=changed_since,
    ), (409 if changed_since else 200)


# --- authentication requests ------------------------------------------------------------


def queue_url(view: QueueView, query: str = "", page: int = 1) -> str:
    return list_address("admin.authentication_requests", page, q=query, view=None if view is QueueView.AWAITING else view.value)


def _render_queue(view: QueueView, query: str, page: int, message=None, error=None, status=200):
    if not is_htmx():
        flashed_message, flashed_error = flashed_message_and_error()
        message, error = message or flashed_message, error or flashed_error
    result = queries.authentication_queue(view, query, page, _page_size())
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
    )


@bp.get("/authentication-requests", defaults={"view": "awaiting"})
@bp.get("/authentication-requests/<any(deleted):view>")
@admin_required
def authentication_requests(view: str):
    return _render_queue(QueueView(view), _text_arg(request.args, "q", "The filter"), _page_arg(request.args))


def _render_request(involvement, form: AuthenticateForm, errors=(), status: int = 200):
    person = involvement.person
    awaiting = involvement.status == InvolvementStatus.AWAITING.value and involvement.deleted_at is None
    query = _text_arg(request.values, "q", "The search")
    matches = queries.likely_matches(person) if awaiting else []
    search_result = None
    if awaiting and query:
        search_result = queries.people_page(query, 1, 10)
        shown = {m.person.id for m in matches} | {person.id}
        search_result.rows = [p for p in search_result.rows if p.id not in shown and not p.added_by_professional]
    # The records to choose from: likely matches first, then any search finds.
    options = [(m.person, ", ".join(m.reasons)) for m in matches]
    options += [(p, "") for p in (search_result.rows if search_result else [])]
    message, error = (None, None) if is_htmx() else flashed_message_and_error()
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
    if involvement.status != InvolvementStatus.AWAITING.value or involvement.deleted_at is not None:
        flash("This request has already been dealt with. Nothing was changed.", "error")
        return redirect(url_for("admin.authentication_request", involvement_id=involvement.id), 303)
    form = DeclineForm()
    if form.validate_on_submit():
        professional = involvement.professional
        queries.decline(current_user, involvement, form.reason.data)
        db.session.commit()
        flash(f"The request from {professional.full_name} is declined", "success")  # no child's name in the cookie
        return redirect(url_for("admin.authentication_requests"), 303)
    errors = _form_errors(form)
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
        query, page = _text_arg(request.form, "q", "The filter"), _page_arg(request.form)
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


# --- people ---------------------------------------------------------------------------


def people_url(query: str = "", page: int = 1) -> str:
    return list_address("admin.people", page, q=query)


@bp.get("/people")
@admin_required
def people():
    query, page = _text_arg(request.args, "q", "The search"), _page_arg(request.args)
    result = queries.people_page(query, page, _page_size())
    found = f"{result.total:,} {'person' if result.total == 1 else 'people'} found" if result.total else "No people found"
    return render_page_or_block(
        "admin/people.html", "workspace", query=query, result=result, found=found, list_url=people_url,
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
    errors = _form_errors(form)
    return render_template("admin/case_status.html", person=record, form=form, errors=errors), (400 if errors else 200)


from ..clock.queries import set_sen2_fields  # noqa: E402  (issue 15: the SEN2 fields)
from .forms import read_sen2_fields  # noqa: E402


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


# --- the audit log ---------------------------------------------------------------------

_DATE_FORMATS = (r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", r"([0-9]{1,2})[/ .-]([0-9]{1,2})[/ .-]([0-9]{4})")
# The dates the audit log can be filtered by: the service's entries lie well
# inside, and a date at the calendar's ends (31/12/9999) would overflow when
# turned into the UTC bounds of its day.
AUDIT_FIRST_DAY, AUDIT_LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def parse_filter_date(text: str) -> date | None:
    """27/3/2026, 27 3 2026 or 2026-03-27; None when it is not a real date."""
    text = text.strip()
    for number, pattern in enumerate(_DATE_FORMATS):
        match = re.fullmatch(pattern, text)
        if match:
            a, b, c = (int(g) for g in match.groups())
            year, month, day = (a, b, c) if number == 0 else (c, b, a)
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def _audit_filters(source) -> tuple[AuditFilters, dict[str, str], list[tuple[str, str]]]:
    """The filters, their raw text (to show back) and the problems found."""
    raw = {
        "person": _text_arg(source, "person", "Person"),
        "user": _text_arg(source, "user", "User"),
        "action": _text_arg(source, "action", "Action"),
        "from": _text_arg(source, "from", "Date from"),
        "to": _text_arg(source, "to", "Date to"),
    }
    problems: list[tuple[str, str]] = []
    filters = AuditFilters(person=raw["person"], user=raw["user"], action=raw["action"])
    if filters.action and filters.action not in queries.audit_actions():
        problems.append(("audit-action", "Choose an action from the list"))
    for key, label, attribute in (("from", "Date from", "date_from"), ("to", "Date to", "date_to")):
        if raw[key]:
            value = parse_filter_date(raw[key])
            if value is None:
                problems.append((f"audit-{key}", f"{label} must be a real date, such as 27/3/2026"))
            elif not AUDIT_FIRST_DAY <= value <= AUDIT_LAST_DAY:
                problems.append((f"audit-{key}", f"{label} must be between {AUDIT_FIRST_DAY:%-d/%-m/%Y} and {AUDIT_LAST_DAY:%-d/%-m/%Y}"))
                value = None
            setattr(filters, attribute, value)
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        problems.append(("audit-to", "Date to must be the same as or after date from"))
    return filters, raw, problems


def audit_url(raw: dict[str, str], page: int = 1, endpoint: str = "admin.audit_log") -> str:
    return list_address(endpoint, page, **raw)


@bp.get("/audit")
@admin_required
def audit_log():
    filters, raw, problems = _audit_filters(request.args)
    page = _page_arg(request.args)
    result = None if problems else queries.audit_page(filters, page, _page_size())
    if problems:
        found = "There is a problem with the filters"
    elif result.total:
        found = f"{result.total:,} {'entry' if result.total == 1 else 'entries'} found"
    else:
        found = "No entries found"
    return render_page_or_block(
        "admin/audit_log.html",
        "workspace",
        # htmx swaps only a 2xx answer: the partial shows its own error summary.
        status=400 if problems and not is_htmx() else 200,
        filters=filters,
        raw=raw,
        errors=problems,
        result=result,
        found=found,
        actions=queries.audit_actions(),
        audit_url=audit_url,
        changed_by_name=queries.changed_by_name,
    )


CSV_HEADER = ["Time (UTC)", "Changed by", "Action", "Person", "Given Name", "PortalName", "Details"]


@bp.get("/audit.csv")
@admin_required
def audit_log_csv():
    filters, _raw, problems = _audit_filters(request.args)
    if problems:
        abort(400, problems[0][1] + ".")
    return spooled_csv(lambda stream: _write_csv(stream, filters), f"audit-log-{date.today():%Y-%m-%d}.csv")


def _write_csv(stream, filters: AuditFilters) -> None:
    """The filtered entries, newest first; UTF-8 with a byte order mark so
    that spreadsheets read accented names correctly."""
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER)
    for entry in queries.audit_entries(filters):
        writer.writerow([
            csv_safe(value)
            for value in (
                entry.occurred_at.isoformat(timespec="seconds") + "Z",
                queries.changed_by_name(entry),
                entry.action,
                entry.person_name,
                entry.professional_given_name,
                entry.professional_portal_name,
                entry.details,
            )
        ])
