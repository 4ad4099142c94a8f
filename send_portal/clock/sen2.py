"""The person-level fields of the DfE SEN2 return that the clock is built on,
for a census date, as CSV: the requests received in the 12 months up to the
census date and every EHC plan in force on it.

Each date is as the authority knew it on the census date: a step taken after
it is left blank. Cells a spreadsheet would read as a formula are written
with a leading apostrophe."""
from __future__ import annotations

import csv
from datetime import date

from sqlalchemy import or_, select

from ..csv_export import csv_safe
from ..extensions import db
from ..models import Person
from . import deadlines as dl

HEADER = [
    "Person ID", "LA reference", "UPN", "Forename", "Surname", "Date of birth", "Sex", "Postcode",
    "Request received date", "Assessment outcome", "Assessment outcome date", "Draft plan date",
    "EHC plan start date", "Within 20 weeks", "20-week exception", "20-week exception reason",
]
OUTCOME_WORDS = {dl.ASSESS: "Assess", dl.NOT_ASSESS: "Not assess"}
BLOCK = 1000


def _known(day: date | None, census: date) -> date | None:
    return day if day and day <= census else None


def people(census: date):
    """The people the return covers, in id order, a block at a time."""
    year_before = dl.add_months(census, -12)
    covered = (
        select(Person.id)
        .where(or_(
            Person.request_received_on.is_not(None) & (Person.request_received_on > year_before)
            & (Person.request_received_on <= census),
            Person.final_plan_on.is_not(None) & (Person.final_plan_on <= census) & (Person.case_status != "Plan ceased"),
        ))
        .order_by(Person.id)
    )
    ids = list(db.session.scalars(covered))
    for start in range(0, len(ids), BLOCK):
        yield from db.session.scalars(select(Person).where(Person.id.in_(ids[start:start + BLOCK])).order_by(Person.id))


def row(person: Person, census: date) -> list[str]:
    received = _known(person.request_received_on, census)
    decided = _known(person.assessment_decision_on, census)
    drafted = _known(person.draft_plan_on, census)
    final = _known(person.final_plan_on, census)
    outcome = OUTCOME_WORDS.get(person.assessment_outcome or "", "") if decided else ""
    if received and final:
        within = "Yes" if final <= dl.due("final", received) else "No"
    elif received and census > dl.due("final", received) and outcome != "Not assess":
        within = "No"
    else:
        within = ""
    reason = person.twenty_week_exception_reason or ""
    values = [
        person.id, person.la_reference, person.upn, person.given_name, person.family_name,
        person.date_of_birth.isoformat(), person.gender, person.postcode,
        received.isoformat() if received else "", outcome, decided.isoformat() if decided else "",
        drafted.isoformat() if drafted else "", final.isoformat() if final else "", within,
        reason, dl.EXCEPTION_REASONS.get(reason, ""),
    ]
    return [csv_safe(v) for v in values]


def write(stream, census: date) -> None:
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    for person in people(census):
        writer.writerow(row(person, census))
