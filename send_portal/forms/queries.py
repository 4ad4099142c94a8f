"""Which forms a professional sees, and the writes that change a form.

Access to a child is decided by caseload.queries.involvement_for_person
alone; everything here narrows from the involvement it returns:

- a professional sees only the forms on their own involvements with the
  child, and none at all without a live involvement (after a Delete, or
  before the LA re-authenticates them, every form of theirs is a 404);
- before the LA has authenticated the involvement, only what is on that
  involvement itself (nothing the LA holds: no requests, no messages).

The LA's administrators see every submitted form, never a draft
(send_portal.admin.inbox_queries)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, rules
from ..caseload.queries import acting_for, involvement_for_person, record_activity
from ..extensions import db
from ..models import Involvement, User, utcnow
from .definitions import Catalogue, FormDefinition
from .models import FormFile, FormRequest, FormResponse, FormStatus
from .uploads import CheckedFile, discard, new_storage_name, store

DECIDED = (FormStatus.ACCEPTED.value, FormStatus.REJECTED.value)
SENT = (FormStatus.SUBMITTED.value, *DECIDED)


def catalogue() -> Catalogue:
    return current_app.extensions["send_forms"]


def definition_for(response: FormResponse) -> FormDefinition | None:
    """What a form is answered against: its snapshot once submitted, the
    authority's current definition while a draft."""
    if response.definition_snapshot:
        return FormDefinition.from_snapshot(response.definition_snapshot)
    return catalogue().get(response.form_key)


# --- what a professional may see ---------------------------------------------------------


def involvement_or_none(professional: User, person_id: int) -> Involvement | None:
    return involvement_for_person(professional, person_id)


def _visible_involvements(professional: User, involvement: Involvement):
    """The professional's involvements whose forms show with this live one:
    once authenticated, all of theirs with the child (a re-authenticated
    involvement gets its history back); before, only this one. "Theirs" is
    the involvement's professional: through a team caseload or cover, a
    colleague works on that professional's forms (caseload.queries decided
    they may)."""
    if not rules.sees_la_record(involvement):
        return Involvement.id == involvement.id
    return and_(Involvement.professional_id == involvement.professional_id, Involvement.person_id == involvement.person_id)


def offered_forms(professional: User, involvement: Involvement) -> list[FormDefinition]:
    return catalogue().for_professional(professional.professional_type, rules.sees_la_record(involvement))


def responses_for(professional: User, involvement: Involvement) -> list[FormResponse]:
    return list(
        db.session.scalars(
            select(FormResponse)
            .join(Involvement, Involvement.id == FormResponse.involvement_id)
            .where(_visible_involvements(professional, involvement))
            .order_by(FormResponse.updated_at.desc(), FormResponse.id.desc())
        )
    )


def response_for(professional: User, involvement: Involvement, response_id: int, for_update: bool = False) -> FormResponse | None:
    query = (
        select(FormResponse)
        .join(Involvement, Involvement.id == FormResponse.involvement_id)
        .where(FormResponse.id == response_id, _visible_involvements(professional, involvement))
    )
    if for_update:
        query = query.with_for_update(of=FormResponse)
    return db.session.scalar(query)


def requests_for(professional: User, involvement: Involvement) -> list[FormRequest]:
    """The forms the LA has asked this professional for, about this child,
    that are not yet sent (a rejected one is asked for again). Nothing before
    authentication: a request is something the LA holds."""
    if not rules.sees_la_record(involvement):
        return []
    sent = select(FormResponse.id).where(
        FormResponse.form_request_id == FormRequest.id, FormResponse.status.in_((FormStatus.SUBMITTED.value, FormStatus.ACCEPTED.value))
    ).exists()
    return list(
        db.session.scalars(
            select(FormRequest)
            .join(Involvement, Involvement.id == FormRequest.involvement_id)
            .where(_visible_involvements(professional, involvement), ~sent)
            .order_by(FormRequest.due_on, FormRequest.id)
        )
    )


def request_for(professional: User, involvement: Involvement, request_id: int) -> FormRequest | None:
    if not rules.sees_la_record(involvement):
        return None
    return db.session.scalar(
        select(FormRequest)
        .join(Involvement, Involvement.id == FormRequest.involvement_id)
        .where(FormRequest.id == request_id, _visible_involvements(professional, involvement))
    )


def draft_of(involvement: Involvement, form_key: str) -> FormResponse | None:
    return db.session.scalar(
        select(FormResponse).where(
            FormResponse.involvement_id == involvement.id,
            FormResponse.form_key == form_key,
            FormResponse.status == FormStatus.DRAFT.value,
        )
    )


# --- writes (each joins the caller's transaction; the view commits once) ----------------------


def start_draft(professional: User, involvement: Involvement, definition: FormDefinition, form_request: FormRequest | None = None) -> FormResponse:
    """The draft of this form for this involvement: the one already started,
    or a new one. A draft started from an LA request carries its due date."""
    draft = draft_of(involvement, definition.key)
    if draft is None:
        due = form_request.due_on if form_request else (
            date.today() + timedelta(days=definition.due_days) if definition.due_days else None
        )
        draft = FormResponse(
            involvement_id=involvement.id, form_key=definition.key, title=definition.title, answers={},
            status=FormStatus.DRAFT.value, due_on=due, form_request_id=form_request.id if form_request else None,
        )
        db.session.add(draft)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            # Another request (a double click) started it first.
            draft = draft_of(involvement, definition.key)
            if draft is None:
                raise
            return draft
        record_activity(involvement.person, f"{definition.title} started", professional)
    elif form_request is not None and draft.form_request_id is None:
        draft.form_request_id = form_request.id
        draft.due_on = form_request.due_on
    return draft


def save_answers(
    professional: User, response: FormResponse, answers: dict, uploads: dict[str, CheckedFile], *, as_draft: bool
) -> list[str]:
    """Store a page's answers and files. Returns the storage names of files
    replaced, to remove once the transaction has committed (and the names of
    the new files are kept on the session so a failed commit removes them)."""
    merged = dict(response.answers or {})
    merged.update(answers)
    replaced = []
    for key, checked in uploads.items():
        old = merged.get(key)
        storage_name = new_storage_name()
        store(storage_name, checked.content)
        db.session.info.setdefault("new_files", []).append(storage_name)
        record = FormFile(
            response=response, question_key=key, filename=checked.filename, content_type=checked.mimetype,
            size=checked.size, sha256=checked.sha256, storage_name=storage_name, uploaded_by_id=professional.id,
        )
        db.session.add(record)
        db.session.flush()
        merged[key] = record.id
        previous = response.file(old) if isinstance(old, int) else None
        if previous is not None:
            replaced.append(previous.storage_name)
            db.session.delete(previous)
    response.answers = merged
    response.updated_at = utcnow()
    if as_draft:
        record_activity(response.involvement.person, f"{response.title} saved as a draft", professional)
    return replaced


def remove_file(response: FormResponse, form_file: FormFile) -> str:
    answers = dict(response.answers or {})
    if answers.get(form_file.question_key) == form_file.id:
        answers.pop(form_file.question_key)
    response.answers = answers
    response.updated_at = utcnow()
    name = form_file.storage_name
    db.session.delete(form_file)
    return name


def delete_draft(response: FormResponse) -> list[str]:
    """Delete a draft and its files' rows; the storage names of its files,
    to discard once the deletion is committed."""
    names = [f.storage_name for f in response.files]
    for form_file in list(response.files):
        db.session.delete(form_file)
    db.session.delete(response)
    return names


def discard_new_files() -> None:
    """After a rollback: remove the files written for it."""
    for name in db.session.info.pop("new_files", []):
        discard(name)


def forget_new_files() -> None:
    db.session.info.pop("new_files", None)


def reference_for(response: FormResponse, when: datetime) -> str:
    return f"SEND-{when:%Y}-{response.id:06d}"


def submit(professional: User, response: FormResponse, definition: FormDefinition) -> bool:
    """Freeze the answers and send the form to the LA. False when it had
    already been sent (a double click, or the back button and Submit again):
    the status only moves from draft once, whatever the race."""
    now = utcnow()
    reference = reference_for(response, now)
    moved = db.session.execute(
        update(FormResponse)
        .where(FormResponse.id == response.id, FormResponse.status == FormStatus.DRAFT.value)
        .values(
            status=FormStatus.SUBMITTED.value, submitted_at=now, updated_at=now, reference=reference,
            definition_snapshot=definition.to_snapshot(), title=definition.title,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        return False
    db.session.refresh(response)
    person = response.involvement.person
    record_activity(person, f"{definition.title} submitted (reference {reference})", professional, when=now)
    acting = acting_for(professional, response.involvement)
    audit.record(
        audit.FORM_SUBMITTED, changed_by=professional, person=person, professional=professional,
        details=f"{definition.title}, reference {reference}" + (f". {acting}" if acting else ""),
    )
    from ..notifications import link_to, notify_admins

    notify_admins("form_submitted", link_to("admin.inbox_form", response_id=response.id))
    return True
