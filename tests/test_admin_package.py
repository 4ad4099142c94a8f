"""The LA admin area as one package (issue 16): every LA route is on the admin
blueprint behind admin_required, at the address it always had, and the forms
feature no longer imports messages (nor the admin area)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from send_portal import audit
from send_portal.extensions import db
from send_portal.forms.models import FormFile, FormResponse
from send_portal.forms.uploads import new_storage_name, store
from send_portal.messages.models import Message
from send_portal.models import AuditEntry, User

from .conftest import ClientRequest
from .test_admin import _path_for, added_child, as_user, involvement_of

ROOT = Path(__file__).resolve().parent.parent


# --- the import circles are gone ---------------------------------------------------------------


def _modules_loaded_by(statement: str) -> set[str]:
    """The send_portal modules a fresh interpreter has loaded after running
    statement."""
    script = textwrap.dedent(f"""
        import sys
        {statement}
        print("\\n".join(sorted(m for m in sys.modules if m.startswith("send_portal"))))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_forms_feature_imports_neither_messages_nor_the_admin_area():
    loaded = _modules_loaded_by("import send_portal.forms, send_portal.forms.queries, send_portal.forms.views")
    assert "send_portal.forms.queries" in loaded and "send_portal.forms.views" in loaded
    assert not {m for m in loaded if m.startswith(("send_portal.messages", "send_portal.admin"))}


def test_messages_depend_on_forms_and_never_on_the_admin_area():
    loaded = _modules_loaded_by("import send_portal.messages, send_portal.messages.queries, send_portal.messages.views")
    assert "send_portal.forms.models" in loaded, "a message can ask for a form"
    assert not {m for m in loaded if m.startswith("send_portal.admin")}


# --- every LA route: on the admin blueprint, behind admin_required, at its old address -----------


@pytest.fixture
def la_world(app, admin, professional, make_user, make_person):
    """A verified professional with an authenticated child (a submitted form
    with a file, a message to the LA) and an added child awaiting
    authentication, and a professional awaiting verification."""
    pending = make_user("New", "Starter", verified=False)
    child = make_person("Amelia", "Jones", professional=professional)
    awaiting = added_child(make_person, professional, "Ben", "Smith")
    involvement = involvement_of(professional, child)
    definition = app.extensions["send_forms"].for_professional(professional.professional_type, True)[0]
    submitted = FormResponse(
        involvement_id=involvement.id, form_key=definition.key, title=definition.title, answers={}, status="submitted",
        reference="SEND-2026-000001", submitted_at=datetime(2026, 2, 1, 10, 0), definition_snapshot=definition.to_snapshot(),
    )
    db.session.add(submitted)
    db.session.flush()
    content = b"%PDF-1.4\n% notes\n"
    storage_name = new_storage_name()
    store(storage_name, content)
    form_file = FormFile(
        response_id=submitted.id, question_key="evidence", filename="notes.pdf", content_type="application/pdf",
        size=len(content), sha256="0" * 64, storage_name=storage_name, uploaded_by_id=professional.id,
    )
    db.session.add(form_file)
    db.session.add(Message(involvement_id=involvement.id, sender_id=professional.id, from_la=False, body="Hello",
                           sent_at=datetime(2026, 2, 1, 11, 0)))
    db.session.commit()
    return {
        "user_id": pending.id,
        "professional_id": professional.id,
        "person_id": child.id,
        "involvement_id": involvement_of(professional, awaiting).id,
        "authenticated_involvement_id": involvement.id,
        "response_id": submitted.id,
        "file_id": form_file.id,
    }


# Every LA route of the admin area, the forms inbox and the LA's messaging as
# they were before issue 16 (methods, address), and what an admin gets from a
# GET, or from a POST with only the CSRF token (the form's own checks answer).
BEFORE = [
    ("GET", "/admin/", 302),
    ("GET", "/admin/professionals", 200),
    ("GET", "/admin/professionals/verified", 200),
    ("GET", "/admin/professionals/{user_id}", 200),
    ("POST", "/admin/professionals/{user_id}/reject", 400),
    ("GET", "/admin/professionals/{user_id}/reject", 200),
    ("GET", "/admin/professionals/{user_id}/deactivate", 200),
    ("POST", "/admin/professionals/{user_id}/end-sessions", 303),
    ("GET", "/admin/professionals/{user_id}/reset-two-factor", 303),
    ("POST", "/admin/professionals/{user_id}/reset-two-factor", 303),
    ("POST", "/admin/professionals/{user_id}/reactivate", 303),
    ("GET", "/admin/professionals/{professional_id}/unauthenticate-caseload", 200),
    ("POST", "/admin/professionals/{professional_id}/unauthenticate-caseload", 409),
    ("GET", "/admin/authentication-requests", 200),
    ("GET", "/admin/authentication-requests/deleted", 200),
    ("GET", "/admin/authentication-requests/{involvement_id}", 200),
    ("POST", "/admin/authentication-requests/{involvement_id}/authenticate", 400),
    ("GET", "/admin/authentication-requests/{involvement_id}/decline", 200),
    ("POST", "/admin/authentication-requests/{involvement_id}/decline", 400),
    ("POST", "/admin/involvements/{authenticated_involvement_id}/reauthenticate", 303),
    ("GET", "/admin/people", 200),
    ("GET", "/admin/people/{person_id}", 200),
    ("GET", "/admin/people/{person_id}/case-status", 200),
    ("POST", "/admin/people/{person_id}/case-status", 400),
    ("GET", "/admin/people/{person_id}/timeline", 200),
    ("GET", "/admin/audit", 200),
    ("GET", "/admin/audit.csv", 200),
    ("GET", "/admin/inbox", 200),
    ("GET", "/admin/inbox/{response_id}", 200),
    ("GET", "/admin/inbox/{response_id}/files/{file_id}", 200),
    ("GET", "/admin/inbox/{response_id}/reject", 200),
    ("POST", "/admin/inbox/{response_id}/reject", 400),
    ("GET", "/admin/messages", 200),
    ("GET", "/admin/people/{person_id}/messages", 200),
    ("GET", "/admin/people/{person_id}/messages/{professional_id}", 200),
    ("POST", "/admin/people/{person_id}/messages/{professional_id}", 400),
    # Last: these change what the rows above read.
    ("POST", "/admin/inbox/{response_id}/accept", 303),
    ("POST", "/admin/professionals/{user_id}/verify", 303),
    ("POST", "/admin/people/{person_id}/timeline", 303),
    ("POST", "/admin/professionals/{user_id}/deactivate", 303),
]

# The routes of the admin blueprint, as (rule, method): each is in BEFORE.
ADMIN_ROUTES = {
    ("/admin/", "GET"),
    ("/admin/professionals", "GET"),
    ("/admin/professionals/<any(verified, rejected, deactivated):view>", "GET"),
    ("/admin/professionals/<int:user_id>", "GET"),
    ("/admin/professionals/<int:user_id>/verify", "POST"),
    ("/admin/professionals/<int:user_id>/reject", "GET"),
    ("/admin/professionals/<int:user_id>/reject", "POST"),
    ("/admin/professionals/<int:user_id>/deactivate", "GET"),
    ("/admin/professionals/<int:user_id>/deactivate", "POST"),
    ("/admin/professionals/<int:user_id>/end-sessions", "POST"),
    ("/admin/professionals/<int:user_id>/reset-two-factor", "GET"),
    ("/admin/professionals/<int:user_id>/reset-two-factor", "POST"),
    ("/admin/professionals/<int:user_id>/reactivate", "POST"),
    ("/admin/professionals/<int:user_id>/unauthenticate-caseload", "GET"),
    ("/admin/professionals/<int:user_id>/unauthenticate-caseload", "POST"),
    ("/admin/authentication-requests", "GET"),
    ("/admin/authentication-requests/<any(deleted):view>", "GET"),
    ("/admin/authentication-requests/<int:involvement_id>", "GET"),
    ("/admin/authentication-requests/<int:involvement_id>/authenticate", "POST"),
    ("/admin/authentication-requests/<int:involvement_id>/decline", "GET"),
    ("/admin/authentication-requests/<int:involvement_id>/decline", "POST"),
    ("/admin/involvements/<int:involvement_id>/reauthenticate", "POST"),
    ("/admin/people", "GET"),
    ("/admin/people/<int:person_id>", "GET"),
    ("/admin/people/<int:person_id>/case-status", "GET"),
    ("/admin/people/<int:person_id>/case-status", "POST"),
    ("/admin/people/<int:person_id>/timeline", "GET"),
    ("/admin/people/<int:person_id>/timeline", "POST"),
    ("/admin/audit", "GET"),
    ("/admin/audit.csv", "GET"),
    ("/admin/inbox", "GET"),
    ("/admin/inbox/<int:response_id>", "GET"),
    ("/admin/inbox/<int:response_id>/accept", "POST"),
    ("/admin/inbox/<int:response_id>/reject", "GET"),
    ("/admin/inbox/<int:response_id>/reject", "POST"),
    ("/admin/inbox/<int:response_id>/files/<int:file_id>", "GET"),
    ("/admin/messages", "GET"),
    ("/admin/people/<int:person_id>/messages", "GET"),
    ("/admin/people/<int:person_id>/messages/<int:professional_id>", "GET"),
    ("/admin/people/<int:person_id>/messages/<int:professional_id>", "POST"),
}


def _admin_blueprint_routes(app) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] == "admin"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_la_route_is_on_the_admin_blueprint_at_its_old_address(app):
    assert _admin_blueprint_routes(app) == ADMIN_ROUTES
    adapter = app.url_map.bind("localhost")
    for method, address, _status in BEFORE:
        path = address.format(**{name: 7 for name in ("user_id", "professional_id", "person_id", "involvement_id",
                                                        "authenticated_involvement_id", "response_id", "file_id")})
        endpoint, _values = adapter.match(path, method=method)
        assert endpoint.startswith("admin."), (method, address, endpoint)


def test_each_la_address_answers_an_admin_as_before(app, admin, la_world):
    as_admin = as_user(app, admin)
    token = as_admin.csrf_token()
    answers = []
    for method, address, _status in BEFORE:
        path = address.format(**la_world)
        if method == "GET":
            response = as_admin.client.get(path)
            if response.status_code == 200 and response.mimetype == "text/html":
                as_admin.parse(response)  # one h1, a title, labels, no duplicate ids
        else:
            response = as_admin.client.post(path, data={"csrf_token": token})
        answers.append((method, address, response.status_code))
    assert answers == BEFORE
    # The POSTs did what they do: the form accepted (and the professional told
    # in a message), the registration verified, then the account deactivated.
    assert db.session.get(FormResponse, la_world["response_id"]).status == "accepted"
    assert db.session.scalar(select(Message.body).where(Message.response_id == la_world["response_id"])).startswith("We have accepted")
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.professional_id == la_world["user_id"])))
    assert {audit.VERIFIED, audit.DEACTIVATED} <= actions
    assert db.session.get(User, la_world["user_id"]).is_deactivated


def test_every_admin_blueprint_route_needs_an_la_admin(app, professional, la_world):
    routes = [rule for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] == "admin"]

    signed_out = ClientRequest(app.test_client())
    token = signed_out.csrf_token("/sign-in")
    as_professional = as_user(app, professional)
    professional_token = as_professional.csrf_token()
    for rule in routes:
        path = _path_for(rule, la_world)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method == "GET":
                away, refused = signed_out.client.get(path), as_professional.client.get(path)
            else:
                away = signed_out.client.post(path, data={"csrf_token": token})
                refused = as_professional.client.post(
                    path, data={"csrf_token": professional_token, "reason": "x", "record": "new", "body": "Hello"}
                )
            assert away.status_code == 302 and away.headers["Location"].startswith("/sign-in"), (method, path)
            assert refused.status_code == 404, (method, path)
    # The professional's POSTs changed nothing.
    assert db.session.get(FormResponse, la_world["response_id"]).status == "submitted"
    assert db.session.get(User, la_world["user_id"]).verification == "pending"
    assert db.session.scalar(select(Message.id).where(Message.from_la.is_(True))) is None
