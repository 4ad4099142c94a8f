"""The benchmark's own parts, on a tiny database: the builder makes what the
app would make, and the floor (bench/floor.py, the bare-driver version of the
Select Person queries) answers with the same people, count and page as the
app's caseload_page, so the ratios `python -m bench` reports compare like
with like. A correctness test: nothing here is timed."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from bench.build import Size, build, name_fields
from bench.floor import Db, caseload, change, connect, professional, team_members
from send_portal.caseload.queries import ScopeKind, View, _walk_name_order, caseload_page, scope_for
from send_portal.extensions import db
from send_portal.models import AuditEntry, CaseloadNameToken, Involvement, Person, PersonNameToken, User

SMOKE = Size("smoke", people=300, professionals=6, caseloads={"big": 150, "senco": 15}, hide_pool=20,
             team_members=3, team_involvements=200)
QUERIES = ["", "s", "sm", "SMIT", "am j", "zoe", "Zoë", "o'b", "ł", "jones smith", "qqq"]


@pytest.fixture
def built(app, database_url):
    info = build(app, SMOKE, log=lambda message: None)
    db.session.remove()
    conn, dialect = connect(database_url)
    yield info, Db(conn, dialect)
    conn.close()


def test_the_builder_stores_names_as_the_app_does(built):
    info, _ = built
    assert db.session.scalar(select(func.count()).select_from(Person)) == SMOKE.people
    assert db.session.scalar(select(func.count()).select_from(PersonNameToken)) == info.tokens
    for person in db.session.scalars(select(Person).limit(40)):
        sort_name, tokens = name_fields(person.given_name, person.family_name)
        assert person.sort_name == sort_name
        assert sorted((t.token, t.shared_prefix) for t in person.name_tokens) == list(tokens)
    zoe = Person()
    zoe.set_names("Zoë", "O'Brien")
    sort_name, tokens = name_fields("Zoë", "O'Brien")
    assert (sort_name, list(tokens)) == (zoe.sort_name, sorted((t.token, t.shared_prefix) for t in zoe.name_tokens))
    # Folded, each word of the name, and each with what it shares with the one before.
    assert {("zoe", 0), ("brien", 0), ("o", 0), ("obrien", 1)} == set(tokens)
    # The triggers filled the filter's table as the involvements went in.
    assert db.session.scalar(select(func.count()).select_from(CaseloadNameToken)) > 0
    big = db.session.get(User, info.caseloads["big"])
    assert db.session.scalar(select(func.count()).select_from(Involvement).where(Involvement.professional_id == big.id)) == 150


@pytest.mark.parametrize("group", ["big", "senco"])
@pytest.mark.parametrize("view", list(View))
def test_the_floor_lists_the_same_people_as_the_app(built, group, view):
    info, floor = built
    user = db.session.get(User, info.caseloads[group])
    pro = professional(floor, user.id)
    # Pages of 7 as well, so that filtered lists are read from the end too.
    for query, (page, size) in itertools.product(QUERIES, [(1, 50), (2, 50), (99, 50), (2, 7), (3, 7), (99, 7)]):
        app_page = caseload_page(user, view, query, page, page_size=size)
        floor.begin()
        total, floor_page, rows = caseload(floor, user.id, view.value, query, page, page_size=size, may_see=pro[3])
        floor.rollback()
        where = (group, view.value, query, page, size)
        assert (total, floor_page) == (app_page.total, app_page.page), where
        assert [r[0] for r in rows] == [person.id for _, person in app_page.rows], where
        assert [r[4] for r in rows] == [involvement.case_status for involvement, _ in app_page.rows], where
        db.session.rollback()
    assert caseload_page(user, View.ACTIVE).total > 0


def test_both_ways_of_reading_a_page_are_checked(built):
    """The smoke data is sized so that the big caseload's first page walks the
    name index on SQLite (later pages sort the caseload), and late pages are
    read from the end: the comparison above covers every path."""
    info, _ = built
    user = db.session.get(User, info.caseloads["big"])
    total = caseload_page(user, View.ACTIVE).total
    if db.engine.dialect.name == "sqlite":
        assert _walk_name_order(View.ACTIVE, total, 50)
        assert not _walk_name_order(View.ACTIVE, total, 100)
        assert not _walk_name_order(View.HIDDEN, total, 50)
    assert total > 100  # page 2 of 3 is read from the end
    pages = [caseload_page(user, View.ACTIVE, page=n) for n in (1, 2, 3)]
    names = [(person.family_name, person.given_name) for page in pages for _, person in page.rows]
    assert len(names) == total
    from send_portal.names import sort_key

    keys = [sort_key(given, family) for family, given in names]
    assert keys == sorted(keys)


def _app_list(user_id: int, view: View) -> tuple[int, set[int]]:
    """The app's list, read in a transaction that is over before the floor
    writes (outside a request the app's SQLite transactions take the write lock)."""
    page = caseload_page(db.session.get(User, user_id), view)
    result = page.total, {person.id for _, person in page.rows}
    db.session.rollback()
    return result


def test_the_floor_hides_and_unhides_as_the_app_does(built):
    info, floor = built
    user = db.session.get(User, info.caseloads["big"])
    user_id, given_name, email = user.id, user.given_name, user.email
    chosen = info.hide_pool[:5]
    before, _ = _app_list(user_id, View.ACTIVE)

    assert change(floor, professional(floor, user_id), "hide", chosen, "active") == 5
    assert set(chosen) <= _app_list(user_id, View.HIDDEN)[1]
    assert _app_list(user_id, View.ACTIVE)[0] == before - 5
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.person_id.in_(chosen))).all()
    assert sorted(e.person_id for e in entries) == sorted(chosen)
    assert {e.action for e in entries} == {"Person hidden by professional"}
    assert {(e.changed_by_id, e.professional_given_name, e.professional_portal_name) for e in entries} == {
        (user_id, given_name, email)}
    db.session.rollback()

    # Hiding again from Active changes nothing; unhiding puts them back.
    assert change(floor, professional(floor, user_id), "hide", chosen, "active") == 0
    assert change(floor, professional(floor, user_id), "unhide", chosen, "hidden") == 5
    assert _app_list(user_id, View.ACTIVE)[0] == before


def test_the_floor_shows_an_unverified_professional_nobody(built):
    info, floor = built
    user = db.session.get(User, info.caseloads["senco"])
    user.verification = "pending"
    db.session.commit()
    pro = professional(floor, user.id)
    assert pro[3] is False
    assert caseload(floor, user.id, "active", "", 1, may_see=pro[3])[0] == caseload_page(user, View.ACTIVE).total == 0


@pytest.mark.parametrize("view", list(View))
def test_the_floor_lists_the_same_team_caseload_as_the_app(built, view):
    """The team scenario: the floor's /send/team-caseload reads the same
    members' involvements, in the same order, with the same Professional
    column, as the app's caseload_page in the team scope."""
    info, floor = built
    user = db.session.get(User, info.caseloads["team"])
    scope = scope_for(user, ScopeKind.TEAM)
    assert scope is not None and list(scope.professional_ids) == info.team_members
    members = team_members(floor, user.id)
    assert members == info.team_members and len(members) == 3
    assert team_members(floor, info.caseloads["big"]) is None  # no organisation, no team list
    pro = professional(floor, user.id)
    for query, (page, size) in itertools.product(QUERIES, [(1, 50), (2, 50), (99, 50), (2, 7), (3, 7), (99, 7)]):
        app_page = caseload_page(user, view, query, page, page_size=size, scope=scope)
        floor.begin()
        total, floor_page, rows = caseload(floor, user.id, view.value, query, page, page_size=size, may_see=pro[3],
                                           team=members)
        floor.rollback()
        where = (view.value, query, page, size)
        assert (total, floor_page) == (app_page.total, app_page.page), where
        assert [r[0] for r in rows] == [person.id for _, person in app_page.rows], where
        assert [r[4] for r in rows] == [involvement.case_status for involvement, _ in app_page.rows], where
        assert [r[6] for r in rows] == [involvement.professional_name for involvement, _ in app_page.rows], where
        db.session.rollback()
    # The Active list holds most of the team's 200 involvements (the rest are ended, hidden or deleted).
    assert 150 < caseload_page(user, View.ACTIVE, scope=scope).total <= 200
