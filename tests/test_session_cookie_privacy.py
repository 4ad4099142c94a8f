"""No child's name travels in the session cookie, which is only signed, not
encrypted: anyone who sees it can read it (issue 12, item 6, for Add Person;
found again in the LA's flashed messages by a review of that change)."""
import json

from send_portal.extensions import db
from send_portal.models import Involvement

from .test_add_person_drafts import session_cookie_data
from .test_admin import added_child, involvement_of
from .test_forms import _delete
from .test_messages import admin_thread_url


def cookie_text(app, client) -> str:
    return json.dumps(session_cookie_data(app, client))


def test_authenticating_flashes_no_childs_name(app, client_request, admin, professional, make_person):
    added = added_child(make_person, professional, "Zebedee", "Quartermaine")
    involvement = involvement_of(professional, added)
    client_request.sign_in(admin)
    client_request.post(f"/admin/authentication-requests/{involvement.id}/authenticate", {"record": "new"}, expected_status=303)
    assert db.session.get(Involvement, involvement.id).status == "authenticated"
    stored = cookie_text(app, client_request.client)
    assert "_flashes" in stored and "Sam Patel is authenticated" in stored
    assert "Zebedee" not in stored and "Quartermaine" not in stored


def test_declining_flashes_no_childs_name(app, client_request, admin, professional, make_person):
    added = added_child(make_person, professional, "Zebedee", "Quartermaine")
    involvement = involvement_of(professional, added)
    client_request.sign_in(admin)
    client_request.post(f"/admin/authentication-requests/{involvement.id}/decline", {"reason": "Not ours"}, expected_status=303)
    stored = cookie_text(app, client_request.client)
    assert "is declined" in stored
    assert "Zebedee" not in stored and "Quartermaine" not in stored


def test_a_refused_message_flashes_no_childs_name(app, client_request, admin, professional, make_person):
    child = make_person("Zebedee", "Quartermaine", professional=professional)
    client_request.sign_in(professional)
    _delete(professional, child)
    client_request.client.post("/sign-out", data={"csrf_token": client_request.csrf_token()})
    client_request.sign_in(admin)
    client_request.post(admin_thread_url(child, professional), {"body": "Hello"}, expected_status=303)
    stored = cookie_text(app, client_request.client)
    assert "cannot read messages" in stored
    assert "Zebedee" not in stored and "Quartermaine" not in stored
