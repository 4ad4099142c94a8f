"""The Forms page for a child, and completing, checking and submitting a form
(SPEC section 4). Every page works without JavaScript; htmx only saves a
draft without reloading the page.

Access: caseload.queries.involvement_for_person decides whether the
professional may see the child at all; forms/queries.py narrows to their own
forms from there. Anything else is a 404."""
from __future__ import annotations

import logging
import os
from datetime import date, datetime

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import rules, timeout
from ..display import LOCAL_ZONE
from ..extensions import db
from ..htmx import is_htmx, render_page_or_block
from ..models import Involvement
from ..portal import professional_required
from . import queries
from .answers import answer_rows, attached_files, error_target, first_incomplete_page, problems, read_page, states_from_stored
from .definitions import DEFAULT_DIRECTORY, load_catalogue
from .models import FormResponse
from .uploads import accept_attribute, discard, path_of, size_phrase, types_phrase

log = logging.getLogger(__name__)

bp = Blueprint("forms", __name__)

# Room in a request for the answers themselves, on top of any files.
FORM_BODY_MARGIN = 2 * 1024 * 1024


@bp.record_once
def _load_definitions(state) -> None:
    """Read and check the authority's form definitions as the app starts: a
    bad file stops the app with a message naming the file and the problem."""
    app = state.app
    directory = app.config.get("FORM_DEFINITIONS_DIR") or os.environ.get("FORM_DEFINITIONS_DIR") or DEFAULT_DIRECTORY
    app.extensions["send_forms"] = load_catalogue(directory)


@bp.url_value_preprocessor
def _limit_request_size(endpoint, values) -> None:  # noqa: ARG001
    """Runs before the CSRF check reads the body: a form page may carry its
    files, any other POST only a little text."""
    if request.method == "POST":
        # Remove is a button of the page's own form, so it may carry a file too.
        files = queries.catalogue().largest_upload_bytes if endpoint in ("forms.form_page", "forms.remove_file") else 0
        request.max_content_length = files + FORM_BODY_MARGIN


@bp.app_template_global("status_tag_colour")
def status_tag_colour(status: str) -> str:
    return {
        "draft": "govuk-tag--grey",
        "submitted": "govuk-tag--blue",
        "accepted": "govuk-tag--green",
        "rejected": "govuk-tag--red",
    }.get(status, "")


for _helper in (types_phrase, accept_attribute, size_phrase):
    bp.add_app_template_global(_helper)
bp.add_app_template_global(date.today, "today")


# --- finding things, or 404 ------------------------------------------------------------------


def _involvement_or_404(person_id: int) -> Involvement:
    involvement = queries.involvement_or_none(current_user, person_id)
    if involvement is None:
        abort(404)
    return involvement


def _response_or_404(involvement: Involvement, response_id: int) -> FormResponse:
    response = queries.response_for(current_user, involvement, response_id, for_update=request.method == "POST")
    if response is None:
        abort(404)
    return response


def _draft_definition_or_404(involvement: Involvement, response: FormResponse):
    """The definition a draft is completed against; a draft of a form the
    authority has withdrawn (or one not allowed yet) cannot be continued."""
    definition = queries.catalogue().get(response.form_key)
    if definition is None or not (rules.sees_la_record(involvement) or definition.before_authentication):
        abort(404)
    return definition


def _page_url(response: FormResponse, number: int, change: bool = False) -> str:
    args = {"change": 1} if change else {}
    return url_for(
        "forms.form_page", person_id=response.involvement.person_id, response_id=response.id, page_number=number, **args
    )


def _resume_url(response: FormResponse, definition) -> str:
    """Where Continue takes a draft: the first page still to answer, or
    Check your answers when every page is done."""
    number = first_incomplete_page(definition, response)
    if number is None:
        return url_for("forms.check_answers", person_id=response.involvement.person_id, response_id=response.id)
    return _page_url(response, number)


# --- the Forms page --------------------------------------------------------------------------


@bp.get("/send/people/<int:person_id>/forms")
@professional_required
def child_forms(person_id: int):
    involvement = _involvement_or_404(person_id)
    person = involvement.person
    responses = queries.responses_for(current_user, involvement)
    drafts = {}
    for response in responses:  # newest first: the latest draft of each form
        if response.is_draft:
            drafts.setdefault(response.form_key, response)
    requests = queries.requests_for(current_user, involvement)
    draft_for_request = {}
    for form_request in requests:
        draft = next((r for r in responses if r.is_draft and r.form_request_id == form_request.id), None)
        draft_for_request[form_request.id] = draft or drafts.get(form_request.form_key)
    return render_template(
        "forms/child_forms.html",
        involvement=involvement,
        person=person,
        responses=responses,
        drafts=drafts,
        offered=queries.offered_forms(current_user, involvement),
        requests=requests,
        draft_for_request=draft_for_request,
        added=request.args.get("added") == "1",
        messages_url=url_for("messages.thread", person_id=person.id) if rules.sees_la_record(involvement) else None,
    )


@bp.post("/send/people/<int:person_id>/forms/<form_key>/start")
@professional_required
def start_form(person_id: int, form_key: str):
    involvement = _involvement_or_404(person_id)
    definition = next((f for f in queries.offered_forms(current_user, involvement) if f.key == form_key), None)
    if definition is None:
        abort(404)
    existing = queries.draft_of(involvement, definition.key)
    draft = queries.start_draft(current_user, involvement, definition)
    db.session.commit()
    if existing is not None:
        return redirect(_resume_url(draft, definition), 303)
    return redirect(_page_url(draft, 1), 303)


@bp.post("/send/people/<int:person_id>/forms/requests/<int:request_id>/start")
@professional_required
def start_requested_form(person_id: int, request_id: int):
    involvement = _involvement_or_404(person_id)
    form_request = queries.request_for(current_user, involvement, request_id)
    if form_request is None:
        abort(404)
    definition = queries.catalogue().get(form_request.form_key)
    if definition is None:
        abort(404)
    draft = queries.start_draft(current_user, involvement, definition, form_request)
    db.session.commit()
    return redirect(_resume_url(draft, definition), 303)


# --- one page of questions -------------------------------------------------------------------


def _render_page(involvement, response, definition, number, states, errors, change, status=200, saved=False, kept=False):
    page = definition.pages[number - 1]
    context = dict(
        kept_answers=kept,
        involvement=involvement,
        person=involvement.person,
        response=response,
        definition=definition,
        page=page,
        number=number,
        states=states,
        errors=errors,
        change=change,
        saved_at=datetime.now(LOCAL_ZONE) if saved else None,
        file_url=lambda f: url_for("forms.download_file", person_id=involvement.person_id, response_id=response.id, file_id=f.id),
        remove_url=lambda f: url_for("forms.remove_file", person_id=involvement.person_id, response_id=response.id, file_id=f.id),
        page_url=_page_url(response, number),
        back_url=(
            url_for("forms.check_answers", person_id=involvement.person_id, response_id=response.id) if change
            else _page_url(response, number - 1) if number > 1
            else url_for("forms.child_forms", person_id=involvement.person_id)
        ),
    )
    return render_page_or_block("forms/page.html", "form_area", status=status, **context)


@bp.route("/send/people/<int:person_id>/forms/<int:response_id>/pages/<int:page_number>", methods=["GET", "POST"])
@professional_required
def form_page(person_id: int, response_id: int, page_number: int):
    involvement = _involvement_or_404(person_id)
    response = _response_or_404(involvement, response_id)
    if not response.is_draft:
        if request.method == "POST":
            db.session.rollback()
            flash("This form has been sent and can no longer be changed.", "info")
        return redirect(url_for("forms.view_form", person_id=person_id, response_id=response.id), 303)
    definition = _draft_definition_or_404(involvement, response)
    if not 1 <= page_number <= len(definition.pages):
        abort(404)
    page = definition.pages[page_number - 1]
    change = request.values.get("change") == "1"
    if request.method == "GET":
        # Answers typed and sent after the session had ended (send_portal/timeout.py).
        kept = timeout.kept_answers(current_user, response.id, page_number)
        states = timeout.kept_states(page, response, kept) if kept else states_from_stored(page, response)
        return _render_page(involvement, response, definition, page_number, states, [], change, kept=kept is not None)

    as_draft = request.form.get("action") == "draft"
    # timeout.js saving the page as the idle time-out ends (unless another tab kept the session going).
    timed_out = as_draft and request.form.get("timed_out") == "1" and timeout.nearly_over()
    result = read_page(page, request.form, request.files, response.answers or {}, attached_files(response), require=not as_draft)
    if not result.valid:
        db.session.rollback()
        if timed_out:
            timeout.keep_answers(current_user, response.id, page_number, page, request.form)
            return redirect(timeout.sign_out_after_time_out(_page_url(response, page_number, change), "kept"), 303)
        # htmx swaps only a 2xx answer; without it the errors come with a 400.
        status = 200 if is_htmx() else 400
        return _render_page(involvement, response, definition, page_number, result.states, result.errors, change, status=status)
    timeout.forget_kept_answers(current_user, response.id, page_number)
    _commit_answers(response, result, as_draft)
    if as_draft:
        if timed_out:
            return redirect(timeout.sign_out_after_time_out(_page_url(response, page_number, change), "saved"), 303)
        if is_htmx():
            db.session.expire_all()
            return _render_page(involvement, response, definition, page_number, states_from_stored(page, response), [], change, saved=True)
        flash(f"Your draft of “{response.title}” has been saved. You can come back to it from this page.", "success")
        return redirect(url_for("forms.child_forms", person_id=person_id), 303)
    if change or page_number == len(definition.pages):
        return redirect(url_for("forms.check_answers", person_id=person_id, response_id=response.id), 303)
    return redirect(_page_url(response, page_number + 1), 303)


def _commit_answers(response: FormResponse, result, as_draft: bool) -> list[str]:
    """One transaction: the answers, the files and the activity. Files
    written for it are removed if it fails; files it replaced are removed
    once it has committed."""
    try:
        replaced = queries.save_answers(current_user, response, result.answers, result.uploads, as_draft=as_draft)
        db.session.commit()
    except Exception:
        db.session.rollback()
        queries.discard_new_files()
        raise
    queries.forget_new_files()
    for name in replaced:
        discard(name)
    return replaced


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):  # noqa: ARG001
    db.session.rollback()
    message = "The selected file is too big. Each file must be smaller than the size given with its question."
    args = request.view_args or {}
    if request.endpoint == "forms.form_page" and current_user.is_authenticated and current_user.is_professional:
        involvement = queries.involvement_or_none(current_user, args.get("person_id", 0))
        response = queries.response_for(current_user, involvement, args.get("response_id", 0)) if involvement else None
        definition = queries.catalogue().get(response.form_key) if response is not None and response.is_draft else None
        number = args.get("page_number", 0)
        if definition is not None and 1 <= number <= len(definition.pages):
            page = definition.pages[number - 1]
            target = next((q.key for q in page.questions if q.type == "file"), None)
            return _render_page(
                involvement, response, definition, number, states_from_stored(page, response), [(target, message)],
                change=False, status=413,
            )
    return render_template("errors/error.html", title="The file is too big", message=message), 413


@bp.route("/send/people/<int:person_id>/forms/<int:response_id>/files/<int:file_id>/remove", methods=["POST"])
@professional_required
def remove_file(person_id: int, response_id: int, file_id: int):
    involvement = _involvement_or_404(person_id)
    response = _response_or_404(involvement, response_id)
    form_file = response.file(file_id)
    if form_file is None:
        abort(404)
    if not response.is_draft:
        db.session.rollback()
        flash("This form has been sent and can no longer be changed.", "info")
        return redirect(url_for("forms.view_form", person_id=person_id, response_id=response.id), 303)
    definition = _draft_definition_or_404(involvement, response)
    number = definition.page_of(form_file.question_key) or 1
    filename = form_file.filename
    name = queries.remove_file(response, form_file)
    db.session.commit()
    discard(name)
    flash(f"{filename} has been removed.", "success")
    return redirect(_page_url(response, number, change=request.form.get("change") == "1"), 303)


# --- check your answers and submit -----------------------------------------------------------


def _render_check(involvement, response, definition, errors=(), status=200):
    return render_template(
        "forms/check_answers.html",
        involvement=involvement,
        person=involvement.person,
        response=response,
        definition=definition,
        sections=answer_rows(definition, response.answers, response.files),
        errors=list(errors),
        file_link=_file_link(response),
        change_link=lambda row: _page_url(response, row.page_number, change=True) + "#" + error_target(row.question),
    ), status


def _file_link(response: FormResponse):
    return lambda f: url_for("forms.download_file", person_id=response.involvement.person_id, response_id=response.id, file_id=f.id)


@bp.get("/send/people/<int:person_id>/forms/<int:response_id>/check")
@professional_required
def check_answers(person_id: int, response_id: int):
    involvement = _involvement_or_404(person_id)
    response = _response_or_404(involvement, response_id)
    if not response.is_draft:
        return redirect(url_for("forms.view_form", person_id=person_id, response_id=response.id), 303)
    definition = _draft_definition_or_404(involvement, response)
    return _render_check(involvement, response, definition)


@bp.post("/send/people/<int:person_id>/forms/<int:response_id>/submit")
@professional_required
def submit_form(person_id: int, response_id: int):
    involvement = _involvement_or_404(person_id)
    response = _response_or_404(involvement, response_id)
    confirmation = url_for("forms.confirmation", person_id=person_id, response_id=response.id)
    if not response.is_draft:
        # Already sent: a double click, or the back button and Submit again.
        db.session.rollback()
        return redirect(confirmation, 303)
    definition = _draft_definition_or_404(involvement, response)
    found = problems(definition, response)
    if found:
        db.session.rollback()
        errors = [(f"change-{q.key}", f"{message}. Use the Change link to answer it") for _n, q, message in found]
        return _render_check(involvement, response, definition, errors, status=400)
    if not queries.submit(current_user, response, definition):
        db.session.rollback()
        return redirect(confirmation, 303)
    db.session.commit()
    return redirect(confirmation, 303)


@bp.get("/send/people/<int:person_id>/forms/<int:response_id>/confirmation")
@professional_required
def confirmation(person_id: int, response_id: int):
    involvement = _involvement_or_404(person_id)
    response = _response_or_404(involvement, response_id)
    if response.is_draft:
        return redirect(url_for("forms.check_answers", person_id=person_id, response_id=response.id), 303)
    return render_template("forms/confirmation.html", involvement=involvement, person=involvement.person, response=response)


# --- reading a form --------------------------------------------------------------------------


@bp.get("/send/people/<int:person_id>/forms/<int:response_id>")
@professional_required
def view_form(person_id: int, response_id: int):
    involvement = _involvement_or_404(person_id)
    response = _response_or_404(involvement, response_id)
    if response.is_draft:
        return redirect(_resume_url(response, _draft_definition_or_404(involvement, response)), 303)
    definition = queries.definition_for(response)
    return render_template(
        "forms/view_form.html",
        involvement=involvement,
        person=involvement.person,
        response=response,
        sections=answer_rows(definition, response.answers, response.files),
        file_link=_file_link(response),
    )


@bp.get("/send/people/<int:person_id>/forms/<int:response_id>/files/<int:file_id>")
@professional_required
def download_file(person_id: int, response_id: int, file_id: int):
    involvement = _involvement_or_404(person_id)
    response = _response_or_404(involvement, response_id)
    return send_form_file(response, file_id)


def send_form_file(response: FormResponse, file_id: int):
    form_file = response.file(file_id)
    if form_file is None:
        abort(404)
    try:
        path = path_of(form_file.storage_name)
    except ValueError:
        abort(404)
    if not os.path.isfile(path):
        log.warning("form file %s of response %s is missing from the upload folder", form_file.id, response.id)
        abort(404)
    db.session.rollback()
    # Always a download, with the type read from its content: never run or
    # shown inline by the browser.
    return send_file(
        path, mimetype=form_file.content_type, as_attachment=True, download_name=form_file.filename,
        max_age=0, conditional=False, etag=False,
    )


# --- deleting a draft ------------------------------------------------------------------------


@bp.route("/send/people/<int:person_id>/forms/<int:response_id>/delete", methods=["GET", "POST"])
@professional_required
def delete_draft(person_id: int, response_id: int):
    involvement = _involvement_or_404(person_id)
    response = _response_or_404(involvement, response_id)
    if not response.is_draft:
        db.session.rollback()
        return redirect(url_for("forms.view_form", person_id=person_id, response_id=response.id), 303)
    if request.method == "GET":
        return render_template("forms/delete_draft.html", involvement=involvement, person=involvement.person, response=response)
    title = response.title
    names = queries.delete_draft(response)
    db.session.commit()
    for name in names:
        discard(name)
    flash(f"Your draft of “{title}” has been deleted.", "success")
    return redirect(url_for("forms.child_forms", person_id=person_id), 303)
