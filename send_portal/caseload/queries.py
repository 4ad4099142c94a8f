"""Who sees what. Every view that reads or changes a professional's children
goes through these functions; access is never re-derived inline."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, false, func, or_, select, update
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..extensions import db
from ..models import (
    AWAITING_AUTHENTICATION,
    Activity,
    CaseloadNameToken,
    Involvement,
    InvolvementStatus,
    Person,
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
    if not _may_see_children(professional):
        conditions.append(false())
    return and_(*conditions)


def _cutoff(today: date, months: int) -> datetime:
    """The start of Recent: activity at or after this time counts."""
    return datetime.combine(months_ago(today, months), datetime.min.time())


def _view_condition(view: View, today, cutoff):
    """today and cutoff are values or bind parameters."""
    not_ended = or_(Involvement.ended_on.is_(None), Involvement.ended_on > today)
    if view is View.ACTIVE:
        return and_(Involvement.hidden_at.is_(None), not_ended)
    if view is View.HIDDEN:
        return Involvement.hidden_at.is_not(None)
    return and_(Involvement.hidden_at.is_(None), Involvement.last_activity_at >= cutoff)


def _prefix_upper_bound(term: str) -> str:
    return term[:-1] + chr(ord(term[-1]) + 1)


def _may_see_children(professional: User) -> bool:
    return professional.is_professional and professional.is_verified and professional.is_active


def _matches(view: View, other_terms: int, may_see: bool):
    """The WHERE clause, on caseload_name_token alone, of a filtered list:
    one row for each of the professional's involvements in the view whose
    person has, for every term, a word that starts with it.

    The table holds live involvements only (its triggers, migration 0005,
    apply the rule of _live_involvements) with copies of what the views test
    and sort by; the professional's own check (verified, active) is made
    here. Every term is a range of the table's key (professional, hidden,
    token), so a keystroke costs its matches in this caseload, never the
    caseload's size or the authority's. The longest term (the likeliest to
    be rare) gives the rows: a person's words that start with a term of n
    characters sort together and only the first shares fewer than n
    characters with the word before it (names.shared_prefixes), so
    "shared_prefix < n" keeps one row an involvement and counting needs no
    DISTINCT. Each other term's range is read once, as the set of
    involvements the rows must be in. (Probing person_name_token for each
    row instead was a random read a row on SQLite, 28 against 14 ms for
    "o'b" in a caseload of 100,000, and PostgreSQL hashed the term's
    matches across the whole authority, 69 against 9 ms.)

    Built once for each shape (see _STATEMENTS); the values are bind
    parameters: professional_id, from_n and to_n (the range of the nth term,
    the 0th being the longest), length_0, today and cutoff."""
    c = CaseloadNameToken
    hidden = view is View.HIDDEN
    professional_id = bindparam("professional_id")
    conditions = [
        c.professional_id == professional_id,
        c.hidden == hidden,
        c.token >= bindparam("from_0"),
        c.token < bindparam("to_0"),
        c.shared_prefix < bindparam("length_0"),
    ]
    for n in range(1, other_terms + 1):
        other = aliased(CaseloadNameToken)
        conditions.append(c.involvement_id.in_(select(other.involvement_id).where(
            other.professional_id == professional_id,
            other.hidden == hidden,
            other.token >= bindparam(f"from_{n}"),
            other.token < bindparam(f"to_{n}"),
        )))
    if not may_see:
        conditions.append(false())
    if view is View.ACTIVE:
        conditions.append(or_(c.ended_on.is_(None), c.ended_on > bindparam("today")))
    elif view is View.RECENT:
        conditions.append(c.last_activity_at >= bindparam("cutoff"))
    return and_(*conditions)


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
    """A page of the professional's list in a view, filtered by what was
    typed: in name order (Recent: latest activity first), then by person,
    then (filtered lists) by involvement."""
    today = today or date.today()
    # The longest term drives the filter (see _matches); the rest narrow it.
    terms = sorted(query_terms(query), key=len, reverse=True)
    may_see = _may_see_children(professional)
    params = {"professional_id": professional.id, "today": today, "cutoff": _cutoff(today, recent_months)}
    for n, term in enumerate(terms):
        params.update({f"from_{n}": term, f"to_{n}": _prefix_upper_bound(term), f"length_{n}": len(term)})
    # Run on the session's connection: the ORM's execution layer adds
    # nothing to plain rows, and cost a third of a millisecond a statement.
    connection = db.session.connection()
    total = connection.execute(_count_statement(view, len(terms), may_see), params).scalar() or 0
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    offset = (page - 1) * page_size
    limit = min(page_size, total - offset) if total else page_size
    # A page past the middle is read from the end (and turned round), so the
    # last page costs what the first does, not a read of the whole list.
    backwards = total > 0 and offset > total - offset - limit
    if backwards:
        offset = total - offset - limit
    walk = not terms and _walk_name_order(view, total, offset + limit)
    statement = _page_statement(view, len(terms), may_see, backwards, walk)
    rows = []
    for involvement_id, status, *person in connection.execute(statement, {**params, "limit": limit, "offset": offset}):
        listed = ListedPerson(*person)
        rows.append((ListedInvolvement(involvement_id, status, listed), listed))
    if backwards:
        rows.reverse()
    return CaseloadPage(rows=rows, total=total, page=page, page_size=page_size)


# The caseload's statements, built once for each shape (view, number of
# words typed, whether the professional may see children, reading direction,
# index walk) with bind parameters for the values: building a statement and
# its cache key again for every keystroke cost more than running it.
_STATEMENTS: dict[tuple, object] = {}


def _statement(key: tuple, build):
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build()
    return statement


def _unfiltered_where(view: View, may_see: bool):
    conditions = [
        Involvement.professional_id == bindparam("professional_id"),
        Involvement.deleted_at.is_(None),
        Involvement.status.in_(LIVE_STATUSES),
        _view_condition(view, bindparam("today"), bindparam("cutoff")),
    ]
    if not may_see:
        conditions.append(false())
    return and_(*conditions)


def _count_statement(view: View, terms: int, may_see: bool):
    def build():
        if terms:
            return select(func.count()).select_from(CaseloadNameToken).where(_matches(view, terms - 1, may_see))
        # Counting reads an involvement index alone (Recent: the partial ix_involvement_recent).
        return select(func.count()).select_from(Involvement.__table__).where(_unfiltered_where(view, may_see))

    return _statement(("count", view, terms, may_see), build)


def _page_statement(view: View, terms: int, may_see: bool, backwards: bool, walk: bool):
    def build():
        columns = (
            Involvement.id, Involvement.status, Person.id, Person.given_name, Person.family_name,
            Person.date_of_birth, Person.case_status, Person.last_activity_at,
        )
        if terms:
            return _matches_page(_matches(view, terms - 1, may_see), view, backwards, columns)
        statement = _unfiltered_page(view, _unfiltered_where(view, may_see), backwards, columns)
        if walk:
            statement = statement.with_hint(Person, f"INDEXED BY {NAME_ORDER_INDEX}", dialect_name="sqlite")
        return statement

    return _statement(("page", view, terms, may_see, backwards, walk), build)


def _ordered(keys, backwards: bool):
    """keys as (column, descending) pairs, all turned round when reading
    backwards."""
    return [key.desc() if descending != backwards else key.asc() for key, descending in keys]


def _unfiltered_page(view: View, where, backwards: bool, columns):
    if view is View.RECENT:
        # Newest first, then the person (and involvement) most recently added:
        # the order of ix_involvement_recent read backwards, so a page is
        # read and not sorted. last_activity_at is never empty in Recent.
        keys = [(Involvement.last_activity_at, True), (Involvement.person_id, True), (Involvement.id, True)]
    else:
        key = Person.sort_name
        if view is not View.ACTIVE:
            # Only the Active list is spread evenly through the name index;
            # hidden people are few, so reading the index in order could
            # pass most of the authority before a page is full. As an
            # expression the key cannot come from the index, and PostgreSQL
            # sorts the list instead (SQLite: see _walk_name_order).
            key = key.concat("")
        keys = [(key, False), (Person.id, False)]
    return (
        select(*columns)
        .join(Involvement.person)
        .where(where)
        .order_by(*_ordered(keys, backwards))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _matches_page(where, view: View, backwards: bool, columns):
    """The page is chosen among the matches alone, sorted by the filter's
    table's copies of the keys, and only its rows are joined to their
    involvement and person."""
    c = CaseloadNameToken
    if view is View.RECENT:  # as _unfiltered_page
        keys = [(c.last_activity_at, True), (c.person_id, True), (c.involvement_id, True)]
    else:
        keys = [(c.sort_name, False), (c.person_id, False), (c.involvement_id, False)]
    chosen = (
        select(*(key for key, _ in keys))
        .where(where)
        .order_by(*_ordered(keys, backwards))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("chosen")
    )
    return (
        select(*columns)
        .select_from(chosen)
        .join(Involvement, Involvement.id == chosen.c.involvement_id)
        .join(Person, Person.id == chosen.c.person_id)
        .order_by(*_ordered([(column, descending) for column, (_, descending) in zip(chosen.c, keys)], backwards))
    )


_MAX_PERSON_ID = select(func.max(Person.id))


def _walk_name_order(view: View, total: int, needed: int) -> bool:
    """Whether SQLite should read people in name order and stop after a page,
    rather than read and sort the whole caseload, for the unfiltered Active
    list. SQLite has no statistics to choose by itself (PostgreSQL does); a
    caseload that is a large share of everyone (an LA-wide practitioner's)
    is found among the first few hundred names, a SENCo's few hundred are
    not."""
    if total == 0 or view is not View.ACTIVE:
        return False
    if db.session.get_bind().dialect.name != "sqlite":
        return False
    people = db.session.connection().execute(_MAX_PERSON_ID).scalar() or 0
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
            _view_condition(view, date.today(), _cutoff(date.today(), 10_000)),
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


class DueForm(NamedTuple):
    """A form the LA asked for and has not received (the Due list, reminders)."""

    request_id: int
    title: str
    due_on: date
    requested_at: datetime
    professional_id: int
    person: ListedPerson


def outstanding_form_requests(
    today: date, professional: User | None = None, *, due_by: date | None = None, limit: int | None = None
) -> tuple[list[DueForm], int]:
    """(the most urgent first, how many in all) of the forms the LA asked for
    that no sent form answers yet (a rejected one is asked for again), on live,
    authenticated involvements not ended by today (hidden ones too: hiding
    changes nothing else). Those of one professional (their Due list), or,
    with professional None, of every verified, active professional (the
    reminders job); due_by leaves out those due later."""
    from ..forms.models import FormRequest, FormResponse, FormStatus  # forms imports this module

    sent = select(FormResponse.id).where(
        FormResponse.form_request_id == FormRequest.id,
        FormResponse.status.in_((FormStatus.SUBMITTED.value, FormStatus.ACCEPTED.value)),
    ).exists()
    conditions = [
        Involvement.status == InvolvementStatus.AUTHENTICATED.value,
        Involvement.deleted_at.is_(None),
        or_(Involvement.ended_on.is_(None), Involvement.ended_on > today),
        ~sent,
    ]
    if professional is not None:
        conditions.append(_live_involvements(professional))
    else:
        conditions.append(Involvement.professional_id.in_(select(User.id).where(
            User.role == "professional", User.verification == "verified", User.is_deactivated.is_(False),
        )))
    if due_by is not None:
        conditions.append(FormRequest.due_on <= due_by)
    where = and_(*conditions)
    joined = select(FormRequest.id).join(Involvement, Involvement.id == FormRequest.involvement_id).where(where)
    total = db.session.scalar(select(func.count()).select_from(joined.subquery())) or 0
    statement = (
        select(
            FormRequest.id, FormRequest.title, FormRequest.due_on, FormRequest.requested_at, Involvement.professional_id,
            Person.id, Person.given_name, Person.family_name, Person.date_of_birth, Person.case_status,
            Person.last_activity_at,
        )
        .join(Involvement, Involvement.id == FormRequest.involvement_id)
        .join(Person, Person.id == Involvement.person_id)
        .where(where)
        .order_by(FormRequest.due_on, FormRequest.requested_at, FormRequest.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = [DueForm(*row[:5], ListedPerson(*row[5:])) for row in db.session.execute(statement)]
    return rows, total


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
