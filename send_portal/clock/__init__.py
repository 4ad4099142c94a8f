"""The statutory clock (issue 15): where every open EHC case stands against
the 20-week timescales, for LA administrators.

Importing this package keeps Person.clock_stage and Person.clock_due_on in
step with the timeline dates on every ORM write (the admin's timeline and
case status forms, the CSV import, the tests' records), by the one rule in
deadlines.py. Code that writes person rows with raw SQL (bench/build.py) sets
them itself (bench/clock.py)."""
from __future__ import annotations

from sqlalchemy import event, exists, select, update
from sqlalchemy.orm import Session

from ..forms.models import FormRequest, FormResponse
from ..models import Involvement, Person
from .deadlines import clock_fields, london_today


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _keep_clock_in_step(mapper, connection, person: Person) -> None:
    stage, due_on = clock_fields(person)
    if person.clock_stage != stage:
        person.clock_stage = stage
    if person.clock_due_on != due_on:
        person.clock_due_on = due_on


def newest_unanswered_advice(connection, person_ids) -> dict[int, object]:
    """London date of each person's newest advice request with no submitted answer."""
    answered = exists().where(FormResponse.form_request_id == FormRequest.id, FormResponse.submitted_at.is_not(None))
    newest: dict[int, object] = {}
    for person_id, requested_at in connection.execute(
        select(Involvement.person_id, FormRequest.requested_at)
        .join(Involvement, Involvement.id == FormRequest.involvement_id)
        .where(Involvement.person_id.in_(list(person_ids)), ~answered)
    ):
        day = london_today(requested_at)
        newest[person_id] = max(newest.get(person_id, day), day)
    return newest


@event.listens_for(Session, "after_flush")
def _keep_advice_in_step(session, flush_context) -> None:
    """Person.clock_advice_on follows every advice request and answer written."""
    request_ids, involvement_ids = set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, FormRequest):
            involvement_ids.add(obj.involvement_id)
        elif isinstance(obj, FormResponse) and obj.form_request_id is not None:
            request_ids.add(obj.form_request_id)
    if not request_ids and not involvement_ids:
        return
    connection = session.connection()
    if request_ids:
        involvement_ids |= set(connection.scalars(
            select(FormRequest.involvement_id).where(FormRequest.id.in_(list(request_ids)))))
    person_ids = set(connection.scalars(select(Involvement.person_id).where(Involvement.id.in_(list(involvement_ids)))))
    newest = newest_unanswered_advice(connection, person_ids)
    for person_id in person_ids:
        connection.execute(update(Person.__table__).where(Person.__table__.c.id == person_id)
                           .values(clock_advice_on=newest.get(person_id)))


from .views import bp  # noqa: E402,F401
