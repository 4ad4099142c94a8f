"""send_portal.rules by brute force: for every combination of the columns a
rule reads, its Python test, its SQL condition (on the class, an aliased()
entity and the bare table), its trigger SQL text and the trigger-maintained
caseload_name_token all give the same answer, and what a professional is
shown follows them. Runs on SQLite and, with TEST_POSTGRES_URL, on
PostgreSQL."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from sqlalchemy import select, text as sql
from sqlalchemy.orm import aliased

from send_portal import rules
from send_portal.caseload import queries
from send_portal.caseload.queries import View, caseload_page
from send_portal.extensions import db
from send_portal.models import CaseloadNameToken, Involvement, InvolvementStatus, Person, Role, Verification

STATUSES = [s.value for s in InvolvementStatus]
DELETED = [None, datetime(2026, 1, 5)]
HIDDEN = [None, datetime(2026, 1, 6)]
TODAY = date.today()
ENDED = [None, TODAY - timedelta(days=30), TODAY + timedelta(days=30)]
COMBINATIONS = list(itertools.product(STATUSES, DELETED, HIDDEN, ENDED))


def _ids(condition, entity=Involvement) -> set[int]:
    return set(db.session.scalars(select(entity.id).where(condition)))


def _table_ids(condition) -> set[int]:
    table = Involvement.__table__
    return set(db.session.scalars(select(table.c.id).where(condition)))


def _trigger_ids() -> set[int]:
    return set(db.session.scalars(select(CaseloadNameToken.involvement_id).distinct()))


def _raw_ids(sql_text: str) -> set[int]:
    return set(db.session.scalars(sql(f"SELECT i.id FROM involvement i WHERE {sql_text}")))


def _check_every_form_agrees(involvements: list[Involvement]) -> set[int]:
    db.session.commit()
    db.session.expire_all()
    live = {i.id for i in involvements if rules.is_live(i)}
    other = aliased(Involvement)
    assert _ids(rules.live()) == live
    assert _ids(rules.live(other), other) == live
    assert _table_ids(rules.live(Involvement.__table__)) == live
    assert _raw_ids(rules.live_sql("i")) == live
    # The triggers (migration 0005, send_portal.triggers) hold the live ones only.
    assert _trigger_ids() == live

    visible = {i.id for i in involvements if rules.sees_la_record(i)}
    assert _ids(rules.la_record_visible()) == visible
    assert _ids(rules.la_record_visible(other), other) == visible
    assert _table_ids(rules.la_record_visible(Involvement.__table__)) == visible
    return live


def _people(make_person, n: int) -> list[Person]:
    return [make_person("Sam", f"Smith{chr(97 + k // 26)}{chr(97 + k % 26)}") for k in range(n)]


def test_live_agrees_in_python_sql_trigger_text_and_the_filter_table(app, professional, make_person):
    people = _people(make_person, len(COMBINATIONS))
    involvements = []
    for person, (status, deleted_at, hidden_at, ended_on) in zip(people, COMBINATIONS):
        involvement = Involvement(professional_id=professional.id, person_id=person.id, status=status,
                                  deleted_at=deleted_at, hidden_at=hidden_at, ended_on=ended_on)
        db.session.add(involvement)
        involvements.append(involvement)
    live = _check_every_form_agrees(involvements)
    # Exactly the not-deleted, awaiting or authenticated ones, whatever hidden and ended say.
    assert len(live) == 2 * len(HIDDEN) * len(ENDED)

    # Every involvement moved through every other combination by UPDATEs:
    # the update triggers agree with the rule after each step.
    for shift in range(1, len(COMBINATIONS)):
        for k, involvement in enumerate(involvements):
            status, deleted_at, hidden_at, ended_on = COMBINATIONS[(k + shift) % len(COMBINATIONS)]
            involvement.status, involvement.deleted_at = status, deleted_at
            involvement.hidden_at, involvement.ended_on = hidden_at, ended_on
        _check_every_form_agrees(involvements)


def test_the_lists_show_the_live_involvements_only(app, professional, make_person):
    """What Select Person shows (unfiltered and filtered) and what a child's
    page opens are the live involvements, in each view."""
    people = _people(make_person, len(COMBINATIONS))
    for person, (status, deleted_at, hidden_at, ended_on) in zip(people, COMBINATIONS):
        db.session.add(Involvement(professional_id=professional.id, person_id=person.id, status=status,
                                   deleted_at=deleted_at, hidden_at=hidden_at, ended_on=ended_on))
    db.session.commit()
    rows = db.session.scalars(select(Involvement)).all()
    for view in (View.ACTIVE, View.HIDDEN):
        expected = {
            i.person_id for i in rows if rules.is_live(i) and (
                i.hidden_at is not None if view is View.HIDDEN
                else i.hidden_at is None and (i.ended_on is None or i.ended_on > TODAY))
        }
        for query in ("", "sam", "smith"):
            page = caseload_page(professional, view, query, page_size=500, today=TODAY)
            assert {listed.person.id for listed, _ in page.rows} == expected, (view, query)
            assert page.total == len(expected)
    for involvement in rows:
        opened = queries.involvement_for_person(professional, involvement.person_id)
        assert (opened is not None) == rules.is_live(involvement)


def test_may_see_children_over_every_kind_of_account(app, make_user, make_person):
    """A professional sees their live children only while verified and active;
    an admin's (improbable) involvement shows nothing on a caseload."""
    for role, verification, deactivated in itertools.product(
        (Role.PROFESSIONAL.value, Role.ADMIN.value), [v.value for v in Verification], (False, True),
    ):
        user = make_user(role=role)
        user.verification, user.is_deactivated = verification, deactivated
        person = make_person("Ava", "Jones", professional=user)
        db.session.commit()
        expected = role == Role.PROFESSIONAL.value and verification == Verification.VERIFIED.value and not deactivated
        assert rules.may_see_children(user) is expected, (role, verification, deactivated)
        page = caseload_page(user, View.ACTIVE, today=TODAY)
        assert (page.total == 1) is expected, (role, verification, deactivated)
        assert (caseload_page(user, View.ACTIVE, "ava", today=TODAY).total == 1) is expected
        assert (queries.involvement_for_person(user, person.id) is not None) is expected


def test_a_professional_sees_what_the_la_holds_only_through_an_authenticated_involvement(
    app, professional, make_person, client_request,
):
    """The child's page shows the Messages link and the forms page the LA's
    requests (what the LA holds) exactly when rules.sees_la_record says so."""
    client_request.sign_in(professional)
    for status in (InvolvementStatus.AWAITING.value, InvolvementStatus.AUTHENTICATED.value):
        person = make_person("Ola", f"Nowak{status}", professional=professional, status=status)
        involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == person.id))
        db.session.commit()
        page = client_request.get(f"/send/people/{person.id}")
        has_messages = page.find("a", href=f"/send/people/{person.id}/messages") is not None
        assert has_messages is rules.sees_la_record(involvement), status
        # Messages themselves: open only through an authenticated involvement.
        response = client_request.get_response(f"/send/people/{person.id}/messages")
        assert (response.status_code == 200) is rules.sees_la_record(involvement), (status, response.status_code)
