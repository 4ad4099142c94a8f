"""Reading and writing message threads.

A professional's thread about a child is the messages on their involvements
with that child; they may read it only through a live, authenticated
involvement (caseload.queries.involvement_for_person decides the child, the
view checks is_authenticated). The LA reads every thread."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select, true, update

from ..extensions import db
from ..models import Involvement, InvolvementStatus, Person, User, utcnow
from .models import Message


def _thread(professional_id: int, person_id: int):
    return and_(Involvement.professional_id == professional_id, Involvement.person_id == person_id)


def thread_messages(professional_id: int, person_id: int) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message)
            .join(Involvement, Involvement.id == Message.involvement_id)
            .where(_thread(professional_id, person_id))
            .order_by(Message.sent_at, Message.id)
        )
    )


def unread_count(professional_id: int, person_id: int, for_la: bool) -> int:
    """Messages the other side sent that this side has not opened yet."""
    return db.session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Involvement, Involvement.id == Message.involvement_id)
        .where(_thread(professional_id, person_id), Message.from_la.is_(not for_la), Message.read_at.is_(None))
    ) or 0


def mark_read(message_ids: list[int], when: datetime) -> None:
    """Opening a thread reads what it shows. Run in a transaction of its own
    that starts with this write (see views), so on SQLite it takes the write
    lock at once instead of upgrading a read."""
    if not message_ids:
        return
    db.session.execute(
        update(Message)
        .where(Message.id.in_(message_ids), Message.read_at.is_(None))
        .values(read_at=when)
        .execution_options(synchronize_session=False)
    )


def add_message(involvement: Involvement, sender: User, *, from_la: bool, body: str, response=None, form_request=None, when=None) -> Message:
    message = Message(
        involvement_id=involvement.id, sender_id=sender.id, from_la=from_la, body=body, sent_at=when or utcnow(),
        response_id=response.id if response is not None else None,
        form_request_id=form_request.id if form_request is not None else None,
    )
    db.session.add(message)
    return message


# --- the LA's side ------------------------------------------------------------------------


def involvement_to_write_on(professional_id: int, person_id: int) -> Involvement | None:
    """The involvement a new LA message goes on: the professional's live,
    authenticated one with the child. None when they cannot read messages
    about the child (awaiting authentication, deleted, declined, ended)."""
    return db.session.scalar(
        select(Involvement)
        .join(User, User.id == Involvement.professional_id)
        .where(
            _thread(professional_id, person_id),
            Involvement.status == InvolvementStatus.AUTHENTICATED.value,
            Involvement.deleted_at.is_(None),
            User.is_deactivated.is_(False),
        )
        .order_by(Involvement.id.desc())
        .limit(1)
    )


def has_involvement(professional_id: int, person_id: int) -> bool:
    return db.session.scalar(select(Involvement.id).where(_thread(professional_id, person_id)).limit(1)) is not None


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
            Involvement.status == InvolvementStatus.AUTHENTICATED.value,
            Involvement.deleted_at.is_(None),
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


def threads_page(page: int, page_size: int) -> tuple[list[ThreadSummary], int]:
    """Every thread, those with unread messages from professionals first."""
    total = db.session.scalar(
        select(func.count()).select_from(
            select(Involvement.person_id, Involvement.professional_id)
            .select_from(Message)
            .join(Involvement, Involvement.id == Message.involvement_id)
            .group_by(Involvement.person_id, Involvement.professional_id)
            .subquery()
        )
    ) or 0
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    rows = _summaries(
        true(),
        lambda unread: ((unread > 0).desc(), func.max(Message.sent_at).desc(), Involvement.person_id, Involvement.professional_id),
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return rows, total


def unread_for_la_total() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Message).where(Message.from_la.is_(False), Message.read_at.is_(None))
    ) or 0
