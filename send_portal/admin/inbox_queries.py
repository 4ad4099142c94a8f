"""The LA's inbox of submitted forms: every form that has been sent (never a
draft, which is the professional's own until they send it), and the LA's
decision on one, told to the professional in a message on the form's
involvement."""
from __future__ import annotations

from sqlalchemy import and_, func, select

from .. import audit
from ..caseload.queries import record_activity
from ..extensions import db
from ..forms.models import FormResponse, FormStatus
from ..forms.queries import SENT, catalogue
from ..messages.models import Message
from ..messages.queries import add_message
from ..models import Involvement, Person, User, utcnow
from ..notifications import link_to, notify
from ..pagination import Page, paginate

INBOX_STATUSES = {
    "submitted": "Awaiting decision",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "all": "All",
}


def inbox_page(status: str, form_key: str, page: int, page_size: int) -> Page:
    """A page of the forms sent, newest first: (response, child, professional) rows."""
    conditions = [FormResponse.status.in_(SENT)]
    if status != "all":
        conditions.append(FormResponse.status == status)
    if form_key:
        conditions.append(FormResponse.form_key == form_key)
    where = and_(*conditions)
    total = db.session.scalar(select(func.count()).select_from(FormResponse).where(where)) or 0
    return paginate(total, page, page_size, lambda limit, offset: [tuple(r) for r in db.session.execute(
        select(FormResponse, Person, User)
        .join(Involvement, Involvement.id == FormResponse.involvement_id)
        .join(Person, Person.id == Involvement.person_id)
        .join(User, User.id == Involvement.professional_id)
        .where(where)
        .order_by(FormResponse.submitted_at.desc(), FormResponse.id.desc())
        .limit(limit)
        .offset(offset)
    )])


def inbox_form_choices() -> list[tuple[str, str]]:
    """The forms to filter by: the authority's, and any retired one that
    still has submissions."""
    choices = [(f.key, f.title) for f in catalogue().forms]
    known = {key for key, _ in choices}
    for key, title in db.session.execute(
        select(FormResponse.form_key, func.max(FormResponse.title))
        .where(FormResponse.status.in_(SENT))
        .group_by(FormResponse.form_key)
        .order_by(FormResponse.form_key)
    ):
        if key not in known:
            choices.append((key, title))
    return choices


def submitted_response(response_id: int, for_update: bool = False) -> FormResponse | None:
    """A form the LA may read: any that has been sent. Drafts are the
    professional's own until they send them."""
    query = select(FormResponse).where(FormResponse.id == response_id, FormResponse.status.in_(SENT))
    if for_update:
        query = query.with_for_update()
    return db.session.scalar(query)


class AlreadyDecided(Exception):
    pass


def decide(admin: User, response: FormResponse, accept: bool, reason: str | None = None) -> Message:
    """Accept, or reject with a reason; the professional is told in a message
    on the form's involvement. Returns the message."""
    if response.status != FormStatus.SUBMITTED.value:
        raise AlreadyDecided(f"This form has already been {response.status}. Nothing was changed.")
    now = utcnow()
    response.status = (FormStatus.ACCEPTED if accept else FormStatus.REJECTED).value
    response.decided_at = now
    response.decided_by_id = admin.id
    response.rejection_reason = None if accept else reason
    involvement = response.involvement
    person, professional = involvement.person, involvement.professional
    if accept:
        body = f"We have accepted your {response.title} (reference {response.reference}). Thank you."
    else:
        body = f"We have not accepted your {response.title} (reference {response.reference}).\n\nReason: {reason}"
    message = add_message(involvement, admin, from_la=True, body=body, response=response, when=now)
    record_activity(person, f"{response.title} {'accepted' if accept else 'rejected'} by the LA", admin, when=now)
    audit.record(
        audit.FORM_ACCEPTED if accept else audit.FORM_REJECTED, changed_by=admin, person=person, professional=professional,
        details=f"{response.title}, reference {response.reference}" + ("" if accept else f". Reason: {reason}"),
    )
    notify(professional, "form_accepted" if accept else "form_rejected",
           link_to("forms.view_form", person_id=person.id, response_id=response.id))
    return message
