"""The statutory clock (issue 15): where every open EHC case stands against
the 20-week timescales, for LA administrators.

Importing this package keeps Person.clock_stage and Person.clock_due_on in
step with the timeline dates on every ORM write (the admin's timeline and
case status forms, the CSV import, the tests' records), by the one rule in
deadlines.py. Code that writes person rows with raw SQL (bench/build.py) sets
them itself (bench/clock.py)."""
from __future__ import annotations

from sqlalchemy import event

from ..models import Person
from .deadlines import clock_fields


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _keep_clock_in_step(mapper, connection, person: Person) -> None:
    stage, due_on = clock_fields(person)
    if person.clock_stage != stage:
        person.clock_stage = stage
    if person.clock_due_on != due_on:
        person.clock_due_on = due_on


from .views import bp  # noqa: E402,F401
