"""Who sees what. Every view that reads or changes a professional's children
goes through these functions; access is never re-derived inline."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, false, func, or_, select, true

from .. import audit
from ..extensions import db
from ..models import (
    Activity,
    Involvement,
    InvolvementStatus,
    Person,
    PersonNameToken,
    User,
    utcnow,
)
from ..names import query_terms

LIVE_STATUSES = (InvolvementStatus.AWAITING.value, InvolvementStatus.AUTHENTICATED.value)


class View(str, enum.Enum):
    ACTIVE = "active"
    HIDDEN = "hidden"
    RECENT = "recent"

    @property
    def label(self) -> str:
        return {"active": "Active", "hidden": "Hidden", "recent": "Recent (18 months)"}[self.value]


def months_ago(today: date, months: int) -> date:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    month += 1
    # Clamp the day (31 August minus 18 months is 28/29 February).
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _live_involvements(professional: User):
    """Involvements a professional may see at all: theirs, not deleted, not
    unauthenticated or declined, and only once the professional is verified."""
    conditions = [
        Involvement.professional_id == professional.id,
        Involvement.deleted_at.is_(None),
        Involvement.status.in_(LIVE_STATUSES),
    ]
    if not (professional.is_professional and professional.is_verified and professional.is_active):
        conditions.append(false())
    return and_(*conditions)


def _view_condition(view: View, today: date, recent_months: int):
    not_ended = or_(Involvement.ended_on.is_(None), Involvement.ended_on > today)
    if view is View.ACTIVE:
        return and_(Involvement.hidden_at.is_(None), not_ended)
    if view is View.HIDDEN:
        return Involvement.hidden_at.is_not(None)
    cutoff = datetime.combine(months_ago(today, recent_months), datetime.min.time())
    return and_(Involvement.hidden_at.is_(None), Person.last_activity_at >= cutoff)


def _prefix_upper_bound(term: str) -> str:
    return term[:-1] + chr(ord(term[-1]) + 1)


def _filter_condition(query: str):
    """Each word typed must start some word of the given or family name."""
    conditions = []
    for term in query_terms(query):
        conditions.append(
            exists().where(
                PersonNameToken.person_id == Person.id,
                PersonNameToken.token >= term,
                PersonNameToken.token < _prefix_upper_bound(term),
            )
        )
    return and_(true(), *conditions)


@dataclass
class CaseloadPage:
    rows: list[tuple[Involvement, Person]]
    total: int
    page: int
    page_size: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)


def caseload_page(
    professional: User,
    view: View,
    query: str = "",
    page: int = 1,
    page_size: int = 50,
    recent_months: int = 18,
    today: date | None = None,
) -> CaseloadPage:
    today = today or date.today()
    where = and_(
        _live_involvements(professional),
        _view_condition(view, today, recent_months),
        _filter_condition(query),
    )
    total = db.session.scalar(
        select(func.count()).select_from(Involvement).join(Person, Person.id == Involvement.person_id).where(where)
    ) or 0
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    if view is View.RECENT:
        order = (Person.last_activity_at.desc(), Person.id)
    else:
        order = (Person.sort_name, Person.id)
    rows = db.session.execute(
        select(Involvement, Person)
        .join(Person, Person.id == Involvement.person_id)
        .where(where)
        .order_by(*order)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return CaseloadPage(rows=[tuple(r) for r in rows], total=total, page=page, page_size=page_size)


def involvement_for_person(professional: User, person_id: int) -> Involvement | None:
    """The professional's live involvement with a child, or None. This is the
    one test of whether a professional may see a child at all."""
    return db.session.scalar(
        select(Involvement)
        .join(Person, Person.id == Involvement.person_id)
        .where(_live_involvements(professional), Involvement.person_id == person_id)
        .order_by(Involvement.id.desc())
        .limit(1)
    )


def live_involvement_for_child(professional: User, sort_name: str, date_of_birth: date, upn: str | None) -> Involvement | None:
    """The professional's live involvement with a child of this name and date
    of birth (or this UPN): Add Person says so instead of adding a duplicate."""
    same_child = and_(Person.sort_name == sort_name, Person.date_of_birth == date_of_birth)
    if upn:
        same_child = or_(same_child, Person.upn == upn)
    return db.session.scalar(
        select(Involvement)
        .join(Person, Person.id == Involvement.person_id)
        .where(_live_involvements(professional), same_child)
        .limit(1)
    )


def selected_involvements(professional: User, person_ids: list[int], view: View) -> list[Involvement]:
    """The professional's involvements for the chosen people, limited to those
    in the view the action was taken from. IDs that are not theirs are ignored."""
    if not person_ids:
        return []
    rows = db.session.execute(
        select(Involvement, Person)
        .join(Person, Person.id == Involvement.person_id)
        .where(
            _live_involvements(professional),
            Involvement.person_id.in_(person_ids),
            _view_condition(view, date.today(), 10_000),
        )
        .order_by(Person.sort_name, Person.id)
        .with_for_update(of=Involvement)
    ).all()
    return [involvement for involvement, _person in rows]


def hide_people(professional: User, involvements: list[Involvement]) -> int:
    now = utcnow()
    count = 0
    for involvement in involvements:
        if involvement.hidden_at is None:
            involvement.hidden_at = now
            audit.record(audit.HIDE, changed_by=professional, person=involvement.person, professional=professional)
            count += 1
    return count


def unhide_people(professional: User, involvements: list[Involvement]) -> int:
    count = 0
    for involvement in involvements:
        if involvement.hidden_at is not None:
            involvement.hidden_at = None
            audit.record(audit.UNHIDE, changed_by=professional, person=involvement.person, professional=professional)
            count += 1
    return count


def delete_people(professional: User, involvements: list[Involvement]) -> int:
    """The GDPR Delete of SPEC section 2: the professional loses access and is
    unauthenticated; the authority keeps its record, forms and messages."""
    now = utcnow()
    count = 0
    for involvement in involvements:
        if involvement.deleted_at is not None:
            continue
        involvement.deleted_at = now
        involvement.status = InvolvementStatus.UNAUTHENTICATED.value
        audit.record(
            audit.DELETE_BY_PROFESSIONAL,
            changed_by=None,  # the built-in system account, user 1
            person=involvement.person,
            professional=professional,
        )
        count += 1
    return count


def record_activity(person: Person, description: str, actor: User | None = None, when: datetime | None = None) -> Activity:
    when = when or utcnow()
    activity = Activity(person_id=person.id, description=description, actor_id=actor.id if actor else None, occurred_at=when)
    db.session.add(activity)
    if person.last_activity_at is None or when > person.last_activity_at:
        person.last_activity_at = when
    return activity


def recent_cutoff(today: date | None = None, months: int = 18) -> date:
    return months_ago(today or date.today(), months)


__all__ = [
    "View",
    "CaseloadPage",
    "caseload_page",
    "involvement_for_person",
    "selected_involvements",
    "hide_people",
    "unhide_people",
    "delete_people",
    "record_activity",
]
