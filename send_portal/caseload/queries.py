"""Who sees what. Every view that reads or changes a professional's children
goes through these functions; access is never re-derived inline."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, case, false, func, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import Alias

from .. import audit, rules
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
from ..pagination import Page

NAME_ORDER_INDEX = "ix_person_sort_name"


class _ReadByName(Alias):
    """The person table read, on SQLite, through its name index (``person AS
    person INDEXED BY ix_person_sort_name``): SQLite has no statistics to
    choose that walk by itself (see _walk_name_order). Other dialects render
    a plain alias. Scoped to this construct; SQLAlchemy's compiler is left
    as it is."""

    inherit_cache = True


@compiles(_ReadByName)
def _plain_alias(element, compiler, **kw):
    return compiler.visit_alias(element, **kw)


@compiles(_ReadByName, "sqlite")
def _indexed_by(element, compiler, **kw):
    rendered = compiler.visit_alias(element, **kw)
    return f"{rendered} INDEXED BY {NAME_ORDER_INDEX}" if kw.get("asfrom") else rendered


# Person, read in name order on SQLite.
_PERSON_BY_NAME = aliased(Person, _ReadByName._construct(Person.__table__, name=Person.__tablename__))


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


def _live_involvements(professional: User, professional_ids=None):
    """Involvements a professional may see at all: theirs (or, given
    professional_ids, those of the professionals whose caseloads they may
    see: see Scope), not deleted, not unauthenticated or declined, and only
    once the professional is verified."""
    conditions = [
        Involvement.professional_id == professional.id if professional_ids is None
        else Involvement.professional_id.in_(professional_ids),
        rules.live(),
    ]
    if not rules.may_see_children(professional):
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


# --- scopes: whose caseload a list shows -----------------------------------------------------


class ScopeKind(str, enum.Enum):
    MINE = "mine"
    TEAM = "team"
    COVER = "cover"


@dataclass(frozen=True)
class Scope:
    """Whose involvements a professional's list shows: their own (mine);
    every member's of their organisation, where it shares a team caseload
    (team); or a colleague's whom they cover for, between the cover's dates
    (cover). Resolved from the signed-in professional (scopes_for,
    scope_for) and handed to every list and access test below. Hide, Unhide
    and Delete stay with one's own list (selected_involvements)."""

    kind: ScopeKind
    actor_id: int
    professional_ids: tuple[int, ...]
    label: str
    cover_id: int | None = None
    organisation_name: str | None = None

    @property
    def is_mine(self) -> bool:
        return self.kind is ScopeKind.MINE

    @property
    def is_team(self) -> bool:
        return self.kind is ScopeKind.TEAM

    @property
    def is_cover(self) -> bool:
        return self.kind is ScopeKind.COVER


def my_scope(professional: User) -> Scope:
    return Scope(ScopeKind.MINE, professional.id, (professional.id,), "My caseload")


def _current_covers(professional: User, today: date):
    """(cover id, covered professional's id, given and family name) of the
    covers this professional holds today: started, not past their end, not
    ended sooner, both still members of the organisation the cover was
    given in, and the covered professional not deactivated. Plain columns:
    this runs on every request for a list."""
    from ..organisations.models import Cover  # organisations imports this module

    return db.session.execute(
        select(Cover.id, User.id, User.given_name, User.family_name)
        .join(User, User.id == Cover.professional_id)
        .where(
            Cover.colleague_id == professional.id,
            Cover.ended_at.is_(None),
            Cover.starts_on <= today,
            Cover.ends_on >= today,
            Cover.organisation_id == professional.organisation_id,
            User.organisation_id == Cover.organisation_id,
            User.is_deactivated.is_(False),
        )
        .order_by(Cover.starts_on, Cover.id)
    ).all()


def team_member_ids(organisation_id: int) -> tuple[int, ...]:
    return tuple(db.session.scalars(
        select(User.id).where(User.organisation_id == organisation_id, User.role == "professional").order_by(User.id)
    ))


def _team(organisation_id: int) -> tuple[str | None, tuple[int, ...]]:
    """(the organisation's name, its members' ids) where it shares a team
    caseload, else (None, ()): one query, as every list request asks."""
    from ..organisations.models import Organisation

    rows = db.session.execute(
        select(Organisation.name, User.id)
        .join(User, User.organisation_id == Organisation.id)
        .where(Organisation.id == organisation_id, Organisation.shares_caseload.is_(True), User.role == "professional")
        .order_by(User.id)
    ).all()
    return (rows[0][0], tuple(r[1] for r in rows)) if rows else (None, ())


def scopes_for(professional: User, today: date | None = None) -> list[Scope]:
    """Every list the professional may open: their own, their team's, and one
    for each colleague they cover for today. Only their own until they are
    verified (and then it is empty)."""
    scopes = [my_scope(professional)]
    if not rules.may_see_children(professional) or professional.organisation_id is None:
        return scopes
    today = today or date.today()
    organisation_name, members = _team(professional.organisation_id)
    if members:
        scopes.append(Scope(ScopeKind.TEAM, professional.id, members, "Team caseload", organisation_name=organisation_name))
    for cover_id, covered_id, given, family in _current_covers(professional, today):
        scopes.append(Scope(
            ScopeKind.COVER, professional.id, (covered_id,), f"Covering for {given} {family}", cover_id=cover_id,
        ))
    return scopes


def scope_for(professional: User, kind: ScopeKind, cover_id: int | None = None, today: date | None = None,
              scopes: list[Scope] | None = None) -> Scope | None:
    """The scope asked for, if the professional has it today; else None (a
    404). scopes: scopes_for's answer, when the caller has it already."""
    if kind is ScopeKind.MINE:
        return my_scope(professional)
    return next(
        (s for s in scopes or scopes_for(professional, today)
         if s.kind is kind and (kind is not ScopeKind.COVER or s.cover_id == cover_id)),
        None,
    )


def _visible_professional_ids(professional: User, today: date | None = None) -> tuple[int, ...]:
    """Whose involvements the professional may open a child through: every scope's."""
    return tuple(sorted({pid for scope in scopes_for(professional, today) for pid in scope.professional_ids}))


def acting_for(actor: User, involvement: Involvement, today: date | None = None) -> str | None:
    """What an audit entry says when the actor works through a colleague's
    involvement (team caseload or cover): how, and both names. None for
    their own."""
    if involvement.professional_id == actor.id:
        return None
    owner = db.session.get(User, involvement.professional_id)
    covering = any(
        s.is_cover and owner.id in s.professional_ids for s in scopes_for(actor, today)
    )
    how = "Under cover" if covering else "Through the team caseload"
    return f"{how}: by {actor.full_name} ({actor.email}) for {owner.full_name} ({owner.email})"


def _whose(column, team: bool):
    """One professional's rows (a bind parameter professional_id), or, for a
    team, its members' (professional_ids, a list): one range of the key for
    each member, never a scan of the organisation's caseload."""
    if team:
        return column.in_(bindparam("professional_ids", expanding=True))
    return column == bindparam("professional_id")


def _matches(view: View, other_terms: int, may_see: bool, team: bool = False):
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
    row instead was a random read a row on SQLite, and PostgreSQL hashed
    the term's matches across the whole authority: figures in
    docs/PERFORMANCE.md, "Figures from the code's comments".)

    Built once for each shape (see _STATEMENTS); the values are bind
    parameters: professional_id, from_n and to_n (the range of the nth term,
    the 0th being the longest), length_0, today and cutoff."""
    c = CaseloadNameToken
    hidden = view is View.HIDDEN
    conditions = [
        _whose(c.professional_id, team),
        c.hidden == hidden,
        c.token >= bindparam("from_0"),
        c.token < bindparam("to_0"),
        c.shared_prefix < bindparam("length_0"),
    ]
    for n in range(1, other_terms + 1):
        other = aliased(CaseloadNameToken)
        conditions.append(c.involvement_id.in_(select(other.involvement_id).where(
            _whose(other.professional_id, team),
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
    professional_name: str = ""  # the team caseload's Professional column

    @property
    def case_status(self) -> str:
        """As Involvement.case_status: the LA's status once it has confirmed."""
        if self.status == InvolvementStatus.AWAITING.value:
            return AWAITING_AUTHENTICATION
        return self.person.case_status


def caseload_page(
    professional: User,
    view: View,
    query: str = "",
    page: int = 1,
    page_size: int = 50,
    recent_months: int = 18,
    today: date | None = None,
    scope: Scope | None = None,
) -> Page:
    """A page of the professional's list (or of the scope's: their team's, a
    colleague's they cover for) in a view, filtered by what was typed: in
    name order (Recent: latest activity first), then by person, then by
    involvement."""
    today = today or date.today()
    scope = scope or my_scope(professional)
    if scope.actor_id != professional.id:
        raise ValueError("a scope belongs to the professional it was resolved for")
    # The longest term drives the filter (see _matches); the rest narrow it.
    terms = sorted(query_terms(query), key=len, reverse=True)
    may_see = rules.may_see_children(professional)
    team = scope.is_team
    params = {"today": today, "cutoff": _cutoff(today, recent_months)}
    if team:
        params["professional_ids"] = list(scope.professional_ids)
    else:
        params["professional_id"] = scope.professional_ids[0]
    for n, term in enumerate(terms):
        params.update({f"from_{n}": term, f"to_{n}": _prefix_upper_bound(term), f"length_{n}": len(term)})
    # Run on the session's connection: the ORM's execution layer adds
    # nothing to plain rows, and cost time on every statement
    # (docs/PERFORMANCE.md, "Figures from the code's comments").
    connection = db.session.connection()
    total = connection.execute(_count_statement(view, len(terms), may_see, team), params).scalar() or 0
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
    statement = _page_statement(view, len(terms), may_see, backwards, walk, team)
    rows = []
    for involvement_id, status, *person in connection.execute(statement, {**params, "limit": limit, "offset": offset}):
        professional_name = ""
        if team:
            *person, given, family = person
            professional_name = f"{given} {family}"
        listed = ListedPerson(*person)
        rows.append((ListedInvolvement(involvement_id, status, listed, professional_name), listed))
    if backwards:
        rows.reverse()
    return Page(rows=rows, total=total, page=page, page_size=page_size)


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


def _unfiltered_where(view: View, may_see: bool, team: bool = False):
    conditions = [
        _whose(Involvement.professional_id, team),
        rules.live(),
        _view_condition(view, bindparam("today"), bindparam("cutoff")),
    ]
    if not may_see:
        conditions.append(false())
    return and_(*conditions)


def _count_statement(view: View, terms: int, may_see: bool, team: bool = False):
    def build():
        if terms:
            return select(func.count()).select_from(CaseloadNameToken).where(_matches(view, terms - 1, may_see, team))
        # Counting reads an involvement index alone (Recent: the partial ix_involvement_recent).
        return select(func.count()).select_from(Involvement.__table__).where(_unfiltered_where(view, may_see, team))

    return _statement(("count", view, terms, may_see, team), build)


def _page_statement(view: View, terms: int, may_see: bool, backwards: bool, walk: bool, team: bool = False):
    def build():
        person = _PERSON_BY_NAME if walk and not terms else Person
        columns = (
            Involvement.id, Involvement.status, person.id, person.given_name, person.family_name,
            person.date_of_birth, person.case_status, person.last_activity_at,
        )
        if team:  # the Professional column
            columns += (User.given_name, User.family_name)
        if terms:
            statement = _matches_page(_matches(view, terms - 1, may_see, team), view, backwards, columns)
        else:
            statement = _unfiltered_page(view, _unfiltered_where(view, may_see, team), backwards, columns, team, person)
        if team:
            statement = statement.join(User, User.id == Involvement.professional_id)
        return statement

    return _statement(("page", view, terms, may_see, backwards, walk, team), build)


def _ordered(keys, backwards: bool):
    """keys as (column, descending) pairs, all turned round when reading
    backwards."""
    return [key.desc() if descending != backwards else key.asc() for key, descending in keys]


def _unfiltered_page(view: View, where, backwards: bool, columns, team: bool = False, person=Person):
    if view is View.RECENT:
        # Newest first, then the person (and involvement) most recently added:
        # the order of ix_involvement_recent read backwards, so a page is
        # read and not sorted. last_activity_at is never empty in Recent.
        keys = [(Involvement.last_activity_at, True), (Involvement.person_id, True), (Involvement.id, True)]
    else:
        key = person.sort_name
        if view is not View.ACTIVE:
            # Only the Active list is spread evenly through the name index;
            # hidden people are few, so reading the index in order could
            # pass most of the authority before a page is full. As an
            # expression the key cannot come from the index, and PostgreSQL
            # sorts the list instead (SQLite: see _walk_name_order).
            key = key.concat("")
        keys = [(key, False), (person.id, False)]
        if team:  # a child two members work with is two rows
            keys.append((Involvement.id, False))
    return (
        select(*columns)
        .join(Involvement.person.of_type(person))
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


def involvement_for_person(professional: User, person_id: int, scope: Scope | None = None) -> Involvement | None:
    """The live involvement through which the professional may see a child,
    or None. This is the one test of whether a professional may see a child
    at all: through their own involvement first, else (without a scope:
    through any of theirs) a team member's where their organisation shares
    a caseload, or that of a colleague they cover for today. Whose it is
    (involvement.professional_id) decides whose forms and messages show;
    acting_for says how to audit what is done through it."""
    ids = scope.professional_ids if scope is not None else _visible_professional_ids(professional)
    return db.session.scalar(
        select(Involvement)
        .join(Person, Person.id == Involvement.person_id)
        .where(_live_involvements(professional, ids), Involvement.person_id == person_id)
        .order_by(case((Involvement.professional_id == professional.id, 0), else_=1), Involvement.id.desc())
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
        rules.live(),
        rules.la_record_visible(),
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

