"""Hostile input to the LA admin area (issue 12): ids too big for the
database's integer in a form body, and audit-log dates at the ends of the
calendar. Each gets a clear message and a 4xx, never a 500, and changes
nothing. Run on SQLite and, with TEST_POSTGRES_URL, on PostgreSQL (where
the ids crashed)."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from send_portal import audit
from send_portal.extensions import db
from send_portal.models import AuditEntry, Involvement, InvolvementStatus, Person
from send_portal.portal import DATABASE_INT_MAX, database_id

from .conftest import ClientRequest, text

BIG_IDS = [str(2**31), str(2**31 + 7), "9" * 12, str(2**63), str(2**64), "9" * 40]


def summary_links(page) -> dict[str, str]:
    summary = page.find(class_="govuk-error-summary")
    return {a["href"]: text(a) for a in summary.find_all("a")} if summary else {}


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.fixture
def request_to_authenticate(make_person, professional):
    """A child Sam Patel added, awaiting the LA."""
    added = make_person("Amelia", "Jones", professional, status=InvolvementStatus.AWAITING.value)
    added.la_reference, added.added_by_professional = None, True
    db.session.commit()
    return db.session.scalar(select(Involvement).where(Involvement.person_id == added.id))


# --- the one parser of ids sent in forms and query strings ------------------------


@pytest.mark.parametrize("raw, expected", [
    ("1", 1), ("42", 42), (str(DATABASE_INT_MAX), DATABASE_INT_MAX),
    (str(DATABASE_INT_MAX + 1), None), ("9" * 40, None), ("0", None), ("", None), (None, None),
    ("-1", None), ("+1", None), (" 1", None), ("1.0", None), ("²", None), ("٣", None), ("１", None), ("0x10", None),
])
def test_database_id_takes_only_ids_the_database_can_hold(app, raw, expected):
    assert database_id(raw) == expected


# --- 4b. ids over 2**31 in the form body ------------------------------------------


@pytest.mark.parametrize("record", BIG_IDS)
def test_authenticate_against_a_record_id_too_big_for_the_database_is_a_400(
    client_request, admin, request_to_authenticate, record
):
    before = audit_count()
    client_request.sign_in(admin)
    response = client_request.post(
        f"/admin/authentication-requests/{request_to_authenticate.id}/authenticate", {"record": record}
    )
    assert response.status_code == 400
    page = ClientRequest.parse(response)
    assert summary_links(page) == {"#record-0": "The record chosen is not one of the authority's records. Choose another"}
    assert page.find(id="record-0")
    involvement = db.session.get(Involvement, request_to_authenticate.id)
    assert involvement.status == InvolvementStatus.AWAITING.value and involvement.authenticated_at is None
    assert audit_count() == before + 1  # the admin's sign-in only


@pytest.mark.parametrize("bad_id", [str(2**31), "9" * 40])
def test_admin_posts_with_ids_too_big_in_the_address_are_404(client_request, admin, professional, request_to_authenticate, bad_id):
    client_request.sign_in(admin)
    for path, data in (
        (f"/admin/authentication-requests/{bad_id}/decline", {"reason": "Duplicate"}),
        (f"/admin/authentication-requests/{bad_id}/authenticate", {"record": "new"}),
        (f"/admin/involvements/{bad_id}/reauthenticate", {}),
        (f"/admin/professionals/{bad_id}/verify", {}),
        (f"/admin/people/{bad_id}/case-status", {"case_status": "Plan ceased"}),
    ):
        assert client_request.post(path, data).status_code == 404, path
    assert db.session.get(Involvement, request_to_authenticate.id).status == InvolvementStatus.AWAITING.value


def test_list_positions_posted_back_with_a_page_too_big_are_a_400(client_request, admin, make_user):
    pending = make_user("Pat", "Pending", verified=False)
    client_request.sign_in(admin)
    response = client_request.post(
        f"/admin/professionals/{pending.id}/verify", {"return_to": "list", "page": "9" * 30}
    )
    assert response.status_code == 400
    db.session.refresh(pending)
    assert pending.verification == "pending"


# --- 5. audit-log dates at the ends of the calendar ----------------------------------


OUT_OF_RANGE_DATES = [
    "31/12/9999", "9999-12-31", "0001-01-01", "1/1/0001", "31/12/1899", "1/1/2101",
    "10000-01-01", "1/1/10000", "99999999999999999999", "1/1/" + "9" * 60, "0000-01-01", "1/1/0000",
]


@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES)
@pytest.mark.parametrize("key, label", [("from", "Date from"), ("to", "Date to")])
def test_audit_dates_out_of_range_are_a_message_not_a_500(client_request, admin, value, key, label):
    client_request.sign_in(admin)
    response = client_request.client.get("/admin/audit", query_string={key: value})
    assert response.status_code == 400
    page = ClientRequest.parse(response)
    assert page.title.string.startswith("Error:")
    [(href, message)] = summary_links(page).items()
    assert href == f"#audit-{key}" and message.startswith(label + " must be")
    assert page.find(id=f"audit-{key}").get("value") == value  # shown back to correct
    partial = client_request.get("/admin/audit", htmx=True, query_string={key: value})
    assert message in text(partial.find(class_="govuk-error-summary"))
    export = client_request.client.get("/admin/audit.csv", query_string={key: value})
    assert export.status_code == 400 and export.mimetype == "text/html"
    assert message in text(ClientRequest.parse(export))


def test_audit_dates_at_the_ends_of_the_range_are_accepted(client_request, admin):
    entry = audit.record(audit.SIGN_IN_FAILED, details="in range")
    entry.occurred_at = datetime(2026, 3, 27, 12)
    db.session.commit()
    client_request.sign_in(admin)
    for query in ({"from": "1/1/2000", "to": "31/12/2100"}, {"from": "2000-01-01"}, {"to": "2100-12-31"}):
        page = client_request.get("/admin/audit", query_string={**query, "action": audit.SIGN_IN_FAILED})
        assert "Showing 1 to 1 of 1 entry" in text(page.find(id="admin-results-count")), query
        export = client_request.client.get("/admin/audit.csv", query_string={**query, "action": audit.SIGN_IN_FAILED})
        assert export.status_code == 200 and "in range" in export.get_data(as_text=True)
    empty = client_request.get("/admin/audit", query_string={"from": "31/12/2100"})
    assert "No entries match these filters." in text(empty.find(id="admin-results-count"))
