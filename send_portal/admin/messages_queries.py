"""The LA's side of messaging: every thread, those about a child, who the LA
may write to, and sending a message, with or without asking for a form by a
date (the flow that needs both forms and messages lives here, in the admin
area that depends on both)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, select, true

from .. import audit, rules
from ..caseload.queries import record_activity
from ..extensions import db
from ..forms.definitions import FormDefinition
from ..forms.models import FormRequest, FormResponse, FormStatus
from ..messages.models import Message
from ..messages.queries import add_message, in_thread
from ..models import Involvement, Person, User
from ..notifications import link_to, notify
from ..pagination import Page, paginate


def involvement_to_write_on(professional_id: int, person_id: int) -> Involvement | None:
    """The involvement a new LA message goes on: the professional's live,
    authenticated one with the child. None when they cannot read messages
    about the child (awaiting authentication, deleted, declined, or the
    professional's account deactivated)."""
    return db.session.scalar(
        select(Involvement)
        .join(User, User.id == Involvement.professional_id)
        .where(
            in_thread(professional_id, person_id),
            rules.live(),
            rules.la_record_visible(),
            User.is_deactivated.is_(False),
        )
        .order_by(Involvement.id.desc())
        .limit(1)
    )


def has_involvement(professional_id: int, person_id: int) -> bool:
    return db.session.scalar(select(Involvement.id).where(in_thread(professional_id, person_id)).limit(1)) is not None


@dataclass
class ThreadSummary:
    person: Person
    professional: User
    last_sent_at: datetime | None
    unread: int
    total: int


def _summaries(where, order, limit=None, offset=0) -> list[ThreadSummary]:
    unread = func.sum(case((and_(Message.from_la.is_(False), Message.read_at.is_(None)), 1), else_=0))
    query = (
        select(Involvement.person_id, Involvement.professional_id, func.max(Message.sent_at), unread, func.count(Message.id))
        .select_from(Message)
        .join(Involvement, Involvement.id == Message.involvement_id)
        .where(where)
        .group_by(Involvement.person_id, Involvement.professional_id)
        .order_by(*order(unread))
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = db.session.execute(query).all()
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_({r[0] for r in rows})))}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({r[1] for r in rows})))}
    return [ThreadSummary(people[r[0]], users[r[1]], r[2], int(r[3] or 0), int(r[4])) for r in rows]


def threads_about(person_id: int) -> list[ThreadSummary]:
    """Every professional's thread about a child, with what is unread."""
    return _summaries(Involvement.person_id == person_id, lambda unread: (func.max(Message.sent_at).desc(),))


def professionals_without_thread(person_id: int) -> list[tuple[User, Involvement]]:
    """Professionals the LA may write to about this child who have no messages yet."""
    with_messages = select(Message.id).where(Message.involvement_id == Involvement.id).exists()
    rows = db.session.execute(
        select(User, Involvement)
        .join(Involvement, Involvement.professional_id == User.id)
        .where(
            Involvement.person_id == person_id,
            rules.live(),
            rules.la_record_visible(),
            ~with_messages,
        )
        .order_by(User.family_name, User.given_name, User.id)
    ).all()
    seen, result = set(), []
    for user, involvement in rows:
        if user.id not in seen:
            seen.add(user.id)
            result.append((user, involvement))
    return result


def threads_page(page: int, page_size: int) -> Page:
    """Every thread (ThreadSummary rows), those with unread messages from
    professionals first."""
    total = db.session.scalar(
        select(func.count()).select_from(
            select(Involvement.person_id, Involvement.professional_id)
            .select_from(Message)
            .join(Involvement, Involvement.id == Message.involvement_id)
            .group_by(Involvement.person_id, Involvement.professional_id)
            .subquery()
        )
    ) or 0
    return paginate(total, page, page_size, lambda limit, offset: _summaries(
        true(),
        lambda unread: ((unread > 0).desc(), func.max(Message.sent_at).desc(), Involvement.person_id, Involvement.professional_id),
        limit=limit,
        offset=offset,
    ))


def unread_for_la_total() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Message).where(Message.from_la.is_(False), Message.read_at.is_(None))
    ) or 0


def answered_requests(messages: list[Message]) -> list[FormResponse]:
    """The sent forms answering the form requests in a thread, newest first."""
    wanted = {m.form_request_id for m in messages if m.form_request_id}
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(FormResponse)
            .where(FormResponse.form_request_id.in_(wanted), FormResponse.status != FormStatus.DRAFT.value)
            .order_by(FormResponse.submitted_at.desc())
        )
    )


def send_from_la(
    admin: User, involvement: Involvement, body: str, definition: FormDefinition | None = None, due: date | None = None
) -> Message:
    """The LA writes to the involvement's professional about the child, and
    with a definition asks them for that form by the due date (a form
    request, audited); the professional is told."""
    person, professional = involvement.person, involvement.professional
    form_request = None
    if definition is not None:
        form_request = FormRequest(
            involvement_id=involvement.id, form_key=definition.key, title=definition.title, due_on=due,
            requested_by_id=admin.id,
        )
        db.session.add(form_request)
        db.session.flush()
        audit.record(
            audit.FORM_REQUESTED, changed_by=admin, person=person, professional=professional,
            details=f"{definition.title}, due {due:%-d %B %Y}",
        )
    message = add_message(involvement, admin, from_la=True, body=body, form_request=form_request)
    record_activity(person, "Message from the LA", admin)
    if form_request is not None:
        notify(professional, "form_requested", link_to("forms.child_forms", person_id=person.id))
    else:
        notify(professional, "message_from_la", link_to("messages.thread", person_id=person.id))
    return message
