"""The authority's records of children: the search, a child's record with
its involvements and recent activity, and the changes the LA makes to it
(case status, EHC timeline dates)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import joinedload

from .. import audit
from ..caseload.queries import record_activity
from ..extensions import db
from ..models import Activity, Involvement, Person, User, utcnow
from ..names import query_terms
from ..pagination import Page
from .common_queries import name_filter_condition, paged


def _person_search_condition(query: str):
    raw = query.strip()
    if not raw:
        return true()
    conditions = [func.lower(Person.la_reference) == raw.lower()]
    upn = "".join(raw.split()).upper()
    if len(upn) == 13:
        conditions.append(Person.upn == upn)
    if query_terms(raw):
        conditions.append(name_filter_condition(raw))
    return or_(*conditions)


def people_page(query: str, page: int, page_size: int) -> Page:
    where = _person_search_condition(query)
    return paged(
        select(Person).where(where).order_by(Person.sort_name, Person.id),
        select(func.count()).select_from(Person).where(where),
        page,
        page_size,
        scalars=True,
    )


def person_or_none(person_id: int, for_update: bool = False) -> Person | None:
    return db.session.get(Person, person_id, with_for_update=for_update)


def person_involvements(person: Person) -> list[Involvement]:
    return db.session.scalars(
        select(Involvement)
        .where(Involvement.person_id == person.id)
        .options(joinedload(Involvement.professional))
        .order_by(Involvement.created_at.desc(), Involvement.id.desc())
    ).all()


def recent_activity(person: Person, limit: int = 10) -> list[Activity]:
    return db.session.scalars(
        select(Activity).where(Activity.person_id == person.id).order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit)
    ).all()


def set_case_status(admin: User, person: Person, status: str) -> bool:
    if status == person.case_status:
        return False
    previous = person.case_status
    person.case_status = status
    record_activity(person, f"Case status changed to {status}", admin)
    audit.record(audit.CASE_STATUS_CHANGED, changed_by=admin, person=person, details=f"From {previous} to {status}")
    return True


# The EHC timeline dates the LA keeps (SPEC section 4), in the order of the process.
TIMELINE_DATES = [
    ("request_received_on", "Request received"),
    ("assessment_decision_on", "Decision whether to assess"),
    ("draft_plan_on", "Draft plan issued"),
    ("final_plan_on", "Final plan issued"),
    ("next_review_on", "Next review"),
]


def _show_date(value: date | None) -> str:
    return f"{value:%-d %B %Y}" if value else "not set"


def set_timeline_dates(admin: User, person: Person, dates: dict[str, date | None]) -> list[str]:
    """Each date that changes is recorded as activity and in the audit log."""
    changed = []
    when = utcnow()
    for attribute, label in TIMELINE_DATES:
        new = dates.get(attribute)
        old = getattr(person, attribute)
        if new == old:
            continue
        setattr(person, attribute, new)
        record_activity(person, f"{label} date {'set to ' + _show_date(new) if new else 'removed'}", admin, when)
        audit.record(
            audit.TIMELINE_DATE_CHANGED, changed_by=admin, person=person,
            details=f"{label}: from {_show_date(old)} to {_show_date(new)}",
        )
        changed.append(label)
    return changed
