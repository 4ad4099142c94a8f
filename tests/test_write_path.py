"""The shape of Hide, Unhide and Delete: a bulk change is a fixed number of
statements however many people are chosen, its audit entries are exact, and on
SQLite the list drawn after the change does not hold the write lock."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from send_portal.audit import DELETE_BY_PROFESSIONAL, HIDE, UNHIDE
from send_portal.extensions import db
from send_portal.models import SYSTEM_USER_ID, AuditEntry, Involvement

from .conftest import row_names


@contextmanager
def statements(app):
    """Every statement sent to the database, as (SQL, executemany)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        seen.append((" ".join(statement.split()), executemany))

    engine = db.engine  # the test's app context (see tests/conftest.py)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _people(make_person, professional, n, **kwargs):
    return [make_person(f"Child{n:03d}x{i:03d}", f"Family{i:03d}", professional, **kwargs) for i in range(n)]


def _change(client_request, action, people, view):
    return client_request.post(
        f"/send/select-person/{action}",
        {"person_id": [str(p.id) for p in people], "view": view, "q": "", "page": "1", "confirmed": "yes"},
        htmx=True,
        expected_status=200,
    )


def _post(client_request, action, ids, view, token):
    """One POST and nothing else (ClientRequest.post fetches a CSRF token first)."""
    response = client_request.client.post(
        f"/send/select-person/{action}",
        data={"person_id": ids, "view": view, "q": "", "page": "1", "confirmed": "yes", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def _writes(seen):
    return [(sql.split()[0], sql.split()[2] if sql.startswith("INSERT") else sql.split()[1], many)
            for sql, many in seen if sql.split()[0] in ("INSERT", "UPDATE", "DELETE")]


@pytest.mark.parametrize("action,view,hidden", [("hide", "active", False), ("unhide", "hidden", True), ("delete", "active", False)])
def test_a_bulk_change_is_the_same_statements_for_three_people_or_forty(app, client_request, professional, make_person, action, view, hidden):
    few = _people(make_person, professional, 3, hidden=hidden)
    many = _people(make_person, professional, 40, hidden=hidden)
    client_request.sign_in(professional)
    token = client_request.csrf_token()
    counts = []
    for people in (few, many):
        ids = [str(p.id) for p in people]
        with statements(app) as seen:
            _post(client_request, action, ids, view, token)
        writes = _writes(seen)
        # One UPDATE of the involvements and one INSERT (executemany) for all
        # the audit entries, whatever the number of people.
        assert writes == [("UPDATE", "involvement", False), ("INSERT", "audit_entry", True)], writes
        counts.append(len(seen))
    # The rest is reading: the professional, the chosen people, and the list
    # drawn again (its count and page, and on SQLite whether to walk the name
    # index, which depends on the list's size, not on the people chosen).
    assert max(counts) <= 10, f"too many statements: {counts}"
    assert abs(counts[0] - counts[1]) <= 1, f"statements grew with the number of people: {counts}"


def test_bulk_audit_entries_are_exact(app, client_request, professional, make_person):
    people = _people(make_person, professional, 5)
    client_request.sign_in(professional)
    _change(client_request, "hide", people[:3], "active")
    _change(client_request, "unhide", people[:2], "hidden")
    _change(client_request, "delete", people[3:], "active")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.person_id.is_not(None)).order_by(AuditEntry.id)).all()
    got = [(e.action, e.person_id, e.person_name, e.changed_by_id, e.professional_id, e.professional_given_name, e.professional_portal_name)
           for e in entries if e.action in (HIDE, UNHIDE, DELETE_BY_PROFESSIONAL)]
    portal_name = professional.portal_name
    expected = (
        [(HIDE, p.id, p.full_name, professional.id, professional.id, "Sam", portal_name) for p in sorted(people[:3], key=lambda p: p.family_name)]
        + [(UNHIDE, p.id, p.full_name, professional.id, professional.id, "Sam", portal_name) for p in sorted(people[:2], key=lambda p: p.family_name)]
        + [(DELETE_BY_PROFESSIONAL, p.id, p.full_name, SYSTEM_USER_ID, professional.id, "Sam", portal_name) for p in people[3:]]
    )
    assert got == expected


def test_the_list_drawn_after_a_change_is_read_without_the_write_lock(app, client_request, professional, make_person):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    people = _people(make_person, professional, 4)
    client_request.sign_in(professional)
    token = client_request.csrf_token()
    ids = [str(p.id) for p in people[:2]]
    with statements(app) as seen:
        response = _post(client_request, "hide", ids, "active", token)
    begins = [sql for sql, _ in seen if sql.startswith("BEGIN")]
    # The change takes the write lock when it begins; the list drawn after it
    # is committed begins as a reader.
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"], begins
    assert row_names(client_request.parse(response, partial=True)) == [p.full_name for p in people[2:]]
    assert db.session.scalar(select(Involvement.hidden_at).where(Involvement.person_id == people[0].id)) is not None
