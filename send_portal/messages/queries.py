"""Reading and writing message threads.

A professional's thread about a child is the messages on their involvements
with that child; they may read it only through a live involvement that sees
what the LA holds (caseload.queries.involvement_for_person decides the
child, rules.sees_la_record the rest). The LA's side (every thread, and
asking for a form) is send_portal.admin.messages_queries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update

from .. import audit
from ..caseload.queries import acting_for, record_activity
from ..extensions import db
from ..models import Involvement, User, utcnow
from ..notifications import link_to, notify_admins
from .models import Message


def in_thread(professional_id: int, person_id: int):
    """SQL: the involvement is one of the professional's with the child, so
    its messages are in their thread with the LA."""
    return and_(Involvement.professional_id == professional_id, Involvement.person_id == person_id)


def thread_messages(professional_id: int, person_id: int) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message)
            .join(Involvement, Involvement.id == Message.involvement_id)
            .where(in_thread(professional_id, person_id))
            .order_by(Message.sent_at, Message.id)
        )
    )


def unread_count(professional_id: int, person_id: int, for_la: bool) -> int:
    """Messages the other side sent that this side has not opened yet."""
    return db.session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Involvement, Involvement.id == Message.involvement_id)
        .where(in_thread(professional_id, person_id), Message.from_la.is_(not for_la), Message.read_at.is_(None))
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


def send_from_professional(sender: User, involvement: Involvement, body: str) -> Message:
    """A professional writes to the LA about the child (for a colleague,
    through a team caseload or cover, it is audited as such); the LA's
    admins are told."""
    person = involvement.person
    message = add_message(involvement, sender, from_la=False, body=body)
    record_activity(person, "Message from a professional", sender)
    acting = acting_for(sender, involvement)
    if acting:
        audit.record(audit.MESSAGE_SENT_FOR_COLLEAGUE, changed_by=sender, person=person,
                     professional=involvement.professional, details=acting)
    # The thread is the involvement's professional's with the LA.
    notify_admins("message_from_professional",
                  link_to("admin.message_thread", person_id=person.id, professional_id=involvement.professional_id))
    return message
