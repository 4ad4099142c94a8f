"""Add Person keeps what was typed on the server (issue 12, items 4 and 6):
the signed session cookie, readable by anyone who sees it, holds no child's
details, and two Save Child posts at once add the child once."""
import json
import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from send_portal.extensions import db
from send_portal.models import Address, Involvement, Person
from send_portal.people import views as people_views
from send_portal.people.models import DRAFT_LIFETIME, PersonDraft

from .test_people import CHILD, start_add


@pytest.fixture
def gazetteer(app):
    db.session.add(Address(uprn="10001", address_line_1="1 High Street", address_line_2=None,
                           town="Demoton", postcode="DM1 2AB", postcode_key="DM12AB"))
    db.session.commit()


def session_cookie_data(app, client) -> dict:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def test_the_session_cookie_holds_no_detail_of_the_child_between_steps(app, client_request, professional, gazetteer):
    client_request.sign_in(professional)
    start_add(client_request, given_name="Zebedee", family_name="Quartermaine")
    page = client_request.get("/send/add-person/address")
    assert "Zebedee Quartermaine" in page.find("span", class_="govuk-caption-l").get_text()

    stored = json.dumps(session_cookie_data(app, client_request.client))
    for detail in ("Zebedee", "Quartermaine", "2015-03-14", "DM12AB", "Female"):
        assert detail not in stored
    draft = db.session.get(PersonDraft, professional.id)
    assert (draft.given_name, draft.family_name, draft.postcode_key) == ("Zebedee", "Quartermaine", "DM12AB")


def test_save_child_forgets_the_draft_and_change_brings_it_back_before(client_request, professional, gazetteer):
    client_request.sign_in(professional)
    start_add(client_request)
    again = client_request.get("/send/add-person?change=1")
    assert again.find("input", id="given_name")["value"] == CHILD["given_name"]
    assert again.find("input", id="postcode")["value"] == "DM1 2AB"
    client_request.post("/send/add-person/address", {"uprn": "10001"}, expected_status=303)
    db.session.expire_all()
    assert db.session.get(PersonDraft, professional.id) is None
    # Nothing left to save: the address step starts again.
    assert client_request.client.get("/send/add-person/address").headers["Location"] == "/send/add-person"


def test_a_draft_left_for_a_day_is_forgotten(client_request, professional, other_professional, gazetteer):
    client_request.sign_in(professional)
    start_add(client_request)
    draft = db.session.get(PersonDraft, professional.id)
    draft.updated_at -= DRAFT_LIFETIME
    db.session.commit()
    assert client_request.client.get("/send/add-person/address").headers["Location"] == "/send/add-person"


def test_drafts_are_each_professionals_own(client_request, professional, other_professional, gazetteer):
    client_request.sign_in(professional)
    start_add(client_request, given_name="Private")
    client_request.client.post("/sign-out", data={"csrf_token": client_request.csrf_token()})
    client_request.sign_in(other_professional)
    assert client_request.client.get("/send/add-person/address").headers["Location"] == "/send/add-person"
    page = client_request.get("/send/add-person?change=1")
    assert not page.find("input", id="given_name").get("value")


def test_two_save_child_posts_at_once_add_the_child_once(app, client_request, professional, gazetteer, monkeypatch):
    """Both posts are held after their duplicate check until the other has
    made its own (or 3 seconds pass): without a lock both found no
    duplicate and both added the child (seen on PostgreSQL)."""
    client_request.sign_in(professional)
    start_add(client_request, given_name="Twinned", family_name="Request")
    token = client_request.csrf_token("/send/add-person/address")
    cookie = client_request.client.get_cookie(app.config["SESSION_COOKIE_NAME"])

    both_checked = threading.Barrier(2)
    original = people_views._duplicate

    def slow_duplicate(*args):
        found = original(*args)
        try:
            both_checked.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(people_views, "_duplicate", slow_duplicate)
    statuses = []

    def save_child():
        # A plain client: each thread's request runs in its own context.
        client = FlaskClient(app, app.response_class, use_cookies=True)
        client.set_cookie(cookie.key, cookie.value)
        response = client.post("/send/add-person/address", data={"uprn": "10001", "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=save_child) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 2 and set(statuses) <= {302, 303}  # one saved, one sent on; no error
    db.session.expire_all()
    added = db.session.scalars(select(Person.id).where(Person.given_name == "Twinned")).all()
    assert len(added) == 1
    assert db.session.scalar(select(func.count()).select_from(Involvement).where(Involvement.person_id == added[0])) == 1
