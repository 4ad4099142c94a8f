"""Who sees what. Every view that reads or changes a professional's children
goes through these functions; access is never re-derived inline."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, exists, false, func, or_, select, true, update
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..extensions import db
from ..models import (
    AWAITING_AUTHENTICATION,
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
NAME_ORDER_INDEX = "ix_person_sort_name"


def _sqlite_from_hint(compiler, table, text):  # noqa: ARG001
    return text


# SQLAlchemy renders no table hints for SQLite; the one hint used here is
# INDEXED BY (see _walk_name_order).
SQLiteCompiler.get_from_hint_text = _sqlite_from_hint


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
    """Each word typed must start some word of the given or family name.
    Correlated on the involvement, so counting needs no person rows."""
    conditions = []
    for term in query_terms(query):
        conditions.append(
            exists().where(
                PersonNameToken.person_id == Involvement.person_id,
                PersonNameToken.token >= term,
                PersonNameToken.token < _prefix_upper_bound(term),
            )
        )
    return and_(true(), *conditions)


class ListedPerson(NamedTuple):
    """A person as the caseload lists them: what the page shows, read as plain
    columns (building ORM objects for a page of 50 cost more than the query)."""

    id: int
    given_name: str
    family_name: str
    date_of_birth: date
    case_status: str  # the authority's record; see ListedInvolvement.case_status
    last_activity_at: datetime | None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class ListedInvolvement(NamedTuple):
    id: int
    status: str
    person: ListedPerson

    @property
    def case_status(self) -> str:
        """As Involvement.case_status: the LA's status once it has confirmed."""
        if self.status == InvolvementStatus.AWAITING.value:
            return AWAITING_AUTHENTICATION
        return self.person.case_status


@dataclass
class CaseloadPage:
    rows: list[tuple[ListedInvolvement, ListedPerson]]
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
    # Counting reads the involvement index alone; only Recent needs the person.
    count = select(func.count()).select_from(Involvement)
    if view is View.RECENT:
        count = count.join(Person, Person.id == Involvement.person_id)
    total = db.session.scalar(count.where(where)) or 0
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    offset = (page - 1) * page_size
    limit = min(page_size, total - offset) if total else page_size
    # A page past the middle is read from the end (and turned round), so the
    # last page costs what the first does, not a read of the whole list.
    backwards = total > 0 and offset > total - offset - limit
    if backwards:
        offset = total - offset - limit
    if view is View.RECENT:  # last_activity_at is never empty in Recent
        key, tie = Person.last_activity_at, Person.id
        order = (key.asc(), tie.desc()) if backwards else (key.desc(), tie.asc())
    else:
        key, tie = Person.sort_name, Person.id
        if view is not View.ACTIVE or query_terms(query):
            # Only the unfiltered Active list is spread evenly through the
            # name index. Matches cluster by name (every Smith sorts together)
            # and hidden people are few, so reading the index in order can
            # pass most of the authority before a page is full: as an
            # expression the key cannot come from the index, and PostgreSQL
            # sorts the list instead (SQLite: see _walk_name_order).
            key = key.concat("")
        order = (key.desc(), tie.desc()) if backwards else (key.asc(), tie.asc())
    statement = (
        select(
            Involvement.id, Involvement.status, Person.id, Person.given_name, Person.family_name,
            Person.date_of_birth, Person.case_status, Person.last_activity_at,
        )
        .join(Involvement.person)
        .where(where)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    if _walk_name_order(view, query, total, offset + limit):
        statement = statement.with_hint(Person, f"INDEXED BY {NAME_ORDER_INDEX}", dialect_name="sqlite")
    rows = []
    for involvement_id, status, *person in db.session.execute(statement):
        listed = ListedPerson(*person)
        rows.append((ListedInvolvement(involvement_id, status, listed), listed))
    if backwards:
        rows.reverse()
    return CaseloadPage(rows=rows, total=total, page=page, page_size=page_size)


def _walk_name_order(view: View, query: str, total: int, needed: int) -> bool:
    """Whether SQLite should read people in name order and stop after a page,
    rather than read and sort the whole caseload. SQLite has no statistics to
    choose by itself (PostgreSQL does); a caseload that is a large share of
    everyone (an LA-wide practitioner's) is found among the first few hundred
    names, a SENCo's few hundred are not. Filtered lists cluster by name, so
    they are always read through the caseload."""
    if total == 0 or view is not View.ACTIVE or query_terms(query):
        return False
    if db.session.get_bind().dialect.name != "sqlite":
        return False
    people = db.session.scalar(select(func.max(Person.id))) or 0
    # People read in name order before a page is full, against those sorted.
    return needed * people <= total * total


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


class SelectedInvolvement(NamedTuple):
    """An involvement chosen for Hide, Unhide or Delete, with what its
    confirmation page and audit entries need, read as plain columns."""

    id: int
    person_id: int
    hidden_at: datetime | None
    deleted_at: datetime | None
    person: ListedPerson


def selected_involvements(professional: User, person_ids: list[int], view: View) -> list[SelectedInvolvement]:
    """The professional's involvements for the chosen people, limited to those
    in the view the action was taken from, locked for the change (FOR UPDATE on
    PostgreSQL; SQLite's write lock is already held). IDs that are not theirs
    are ignored."""
    if not person_ids:
        return []
    rows = db.session.execute(
        select(
            Involvement.id, Involvement.person_id, Involvement.hidden_at, Involvement.deleted_at,
            Person.id, Person.given_name, Person.family_name, Person.date_of_birth, Person.case_status,
            Person.last_activity_at,
        )
        .join(Involvement.person)
        .where(
            _live_involvements(professional),
            Involvement.person_id.in_(person_ids),
            _view_condition(view, date.today(), 10_000),
        )
        .order_by(Person.sort_name, Person.id)
        .with_for_update(of=Involvement)
    )
    return [SelectedInvolvement(*row[:4], ListedPerson(*row[4:])) for row in rows]


def _change(involvements, **values) -> None:
    """One UPDATE for them all (the unit of work would send one a row). An
    involvement the session holds as an object is kept in step."""
    if not involvements:
        return
    db.session.execute(
        update(Involvement).where(Involvement.id.in_([i.id for i in involvements])).values(**values),
        execution_options={"synchronize_session": False},
    )
    for involvement in involvements:
        if isinstance(involvement, Involvement):
            for name, value in values.items():
                set_committed_value(involvement, name, value)


def _audited_people(involvements) -> list[tuple[int, str]]:
    return [(i.person.id, i.person.full_name) for i in involvements]


def hide_people(professional: User, involvements) -> int:
    chosen = [involvement for involvement in involvements if involvement.hidden_at is None]
    _change(chosen, hidden_at=utcnow())
    return audit.record_for_people(audit.HIDE, _audited_people(chosen), changed_by=professional, professional=professional)


def unhide_people(professional: User, involvements) -> int:
    chosen = [involvement for involvement in involvements if involvement.hidden_at is not None]
    _change(chosen, hidden_at=None)
    return audit.record_for_people(audit.UNHIDE, _audited_people(chosen), changed_by=professional, professional=professional)


def delete_people(professional: User, involvements) -> int:
    """The GDPR Delete of SPEC section 2: the professional loses access and is
    unauthenticated; the authority keeps its record, forms and messages. The
    audit entry is the built-in system account's (user 1)."""
    chosen = [involvement for involvement in involvements if involvement.deleted_at is None]
    _change(chosen, deleted_at=utcnow(), status=InvolvementStatus.UNAUTHENTICATED.value)
    return audit.record_for_people(audit.DELETE_BY_PROFESSIONAL, _audited_people(chosen), changed_by=None, professional=professional)


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
    "ListedInvolvement",
    "ListedPerson",
    "caseload_page",
    "involvement_for_person",
    "selected_involvements",
    "hide_people",
    "unhide_people",
    "delete_people",
    "record_activity",
]
