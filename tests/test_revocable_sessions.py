"""Sessions the server can end (issue 12, defect 2): a copy of the session
cookie stops working at Sign out, at "Sign out of other devices", when the LA
ends all of a professional's sessions, and when the account is deactivated;
the session is read with the user in one query and noted as used at most
once a minute."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from send_portal.auth import user_sessions
from send_portal.auth.models import UserSession
from send_portal.extensions import db
from send_portal.models import AuditEntry, utcnow

from .conftest import CSRF_RE, PASSWORD, ClientRequest, text

COOKIE = "send_portal_session"


def browser(app, user=None, address="198.51.100.10", agent="Browser A"):
    """A test client standing for one browser (its own address and
    User-Agent), signed in as user if given."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent})
    if user is not None:
        response = client.post(
            "/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token(client, "/sign-in")}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def token(client, url="/accessibility") -> str:
    return CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)


def copy_of(app, client, address="203.0.113.99", agent="Someone else's browser"):
    """Another browser, elsewhere, holding a copy of client's cookie."""
    thief = browser(app, address=address, agent=agent)
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def signed_in(client) -> bool:
    response = client.get("/home")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    return False


def sessions_of(user) -> list[UserSession]:
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)).all()


def actions(action) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_a_copied_cookie_stops_working_at_sign_out(app, professional):
    mine = browser(app, professional)
    copy = copy_of(app, mine)
    assert signed_in(copy), "a copy works while the session is live (from another address and browser too)"
    response = mine.post("/sign-out", data={"csrf_token": token(mine)})
    assert response.status_code == 303
    assert not signed_in(copy)
    htmx = copy.get("/send/select-person?q=am", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/sign-in")
    [ended] = sessions_of(professional)
    assert ended.ended_at is not None and ended.ended_reason == "signed out"
    assert not signed_in(mine)


def test_a_copy_kept_in_use_does_not_keep_the_session_alive(app, professional, monkeypatch):
    """Used every minute after Sign out, the copy still gets nowhere."""
    mine = browser(app, professional)
    copy = copy_of(app, mine)
    mine.post("/sign-out", data={"csrf_token": token(mine)})
    later = utcnow()
    for minutes in (1, 2, 3):
        monkeypatch.setattr(user_sessions, "utcnow", lambda m=minutes: later + timedelta(minutes=m))
        assert not signed_in(copy)


def test_a_session_made_at_registration_ends_at_sign_out(app, client_request):
    client = app.test_client()
    response = client.post("/register", data={
        "given_name": "Nia", "family_name": "Newcomer", "email": "nia.newcomer@school.example",
        "organisation": "Hillside School", "professional_type": "senco",
        "password": "violet harbour lantern", "password_confirm": "violet harbour lantern",
        "csrf_token": token(client, "/register"),
    })
    assert response.status_code == 303
    copy = copy_of(app, client)
    assert signed_in(copy)
    client.post("/sign-out", data={"csrf_token": token(client)})
    assert not signed_in(copy)


def test_your_account_shows_who_you_are_and_where_else_you_are_signed_in(app, professional):
    ClientRequest(browser(app, professional))  # signed in on another device too
    here = ClientRequest(app.test_client())
    here.sign_in(professional)
    home = here.get("/home")
    nav = home.find("nav", attrs={"aria-label": "Account"})
    link = nav.find("a", string="Your account")
    page = here.get(link["href"])
    assert text(page.find("h1")) == "Your account"
    details = {text(row.find("dt")): text(row.find("dd")) for row in page.select(".govuk-summary-list__row")}
    assert details == {
        "Name": "Sam Patel",
        "Email address": "sam.patel@school.example",
        "Organisation": "Riverside Primary School",
    }
    assert "You are also signed in on 1 other device or browser." in text(page.find("main"))
    assert page.find("nav", attrs={"aria-label": "Account"}).find("a", string="Your account")["aria-current"] == "page"


def test_sign_out_of_other_devices_keeps_this_one(app, professional, other_professional):
    laptop = browser(app, professional, agent="Laptop")
    phone = browser(app, professional, agent="Phone")
    stolen = copy_of(app, phone)
    colleague = browser(app, other_professional)
    here = ClientRequest(app.test_client())
    here.sign_in(professional)
    page = here.get("/account")
    form = page.find("button", string="Sign out of other devices").find_parent("form")
    assert form["method"] == "post" and form.find("input", attrs={"name": "csrf_token"})
    response = here.post(form["action"], {"csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"]}, csrf=False)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert not signed_in(laptop) and not signed_in(phone) and not signed_in(stolen)
    assert signed_in(here.client), "this device stays signed in"
    assert signed_in(colleague), "nobody else is signed out"
    page = here.get("/account")
    assert "You have signed out of 2 other devices." in text(page.find(class_="govuk-notification-banner"))
    assert "You are not signed in on any other device or browser." in text(page.find("main"))
    [entry] = actions("Signed out of other devices")
    assert entry.changed_by_id == professional.id and entry.details == "2 other sessions ended"
    reasons = sorted(s.ended_reason or "live" for s in sessions_of(professional))
    assert reasons == ["live", "signed out of other devices", "signed out of other devices"]


def test_sign_out_of_other_devices_needs_the_csrf_token(app, professional):
    other = browser(app, professional)
    here = ClientRequest(app.test_client())
    here.sign_in(professional)
    response = here.post("/account/sign-out-other-devices", {"csrf_token": "forged"}, csrf=False)
    assert response.status_code == 400
    assert signed_in(other)
    assert here.client.get("/account/sign-out-other-devices").status_code == 405


def test_your_account_needs_signing_in(client_request):
    client = client_request.client
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    # With a valid CSRF token, so that the refusal is the sign-in check's.
    token = client_request.csrf_token("/sign-in")
    response = client.post("/account/sign-out-other-devices", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_the_la_can_end_all_of_a_professionals_sessions(app, professional, admin):
    laptop = browser(app, professional, agent="Laptop")
    phone = browser(app, professional, agent="Phone")
    admin_request = ClientRequest(app.test_client())
    admin_request.sign_in(admin)
    page = admin_request.get(f"/admin/professionals/{professional.id}")
    assert "Sam is signed in on 2 devices or browsers." in text(page.find("main"))
    form = page.find("button", string="End all sessions").find_parent("form")
    response = admin_request.post(form["action"], {"csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"]}, csrf=False)
    assert response.status_code == 303
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(admin_request.client)
    page = admin_request.get(response.headers["Location"])
    assert "Sam Patel is signed out everywhere (2 active sessions ended)." in text(page.find(class_="govuk-notification-banner"))
    assert "Sam is signed in on 0 devices or browsers." in text(page.find("main"))
    [entry] = actions("All sessions ended by LA")
    assert (entry.changed_by_id, entry.professional_id, entry.details) == (admin.id, professional.id, "2 active sessions ended")
    assert signed_in(browser(app, professional)), "they can sign in again"


def test_only_the_la_ends_sessions(app, professional, other_professional):
    mine = browser(app, professional)
    them = ClientRequest(app.test_client())
    them.sign_in(other_professional)
    response = them.post(f"/admin/professionals/{professional.id}/end-sessions")
    assert response.status_code in (403, 404)
    assert signed_in(mine)
    assert not actions("All sessions ended by LA")


def test_ending_sessions_of_nobody_is_404(app, admin):
    admin_request = ClientRequest(app.test_client())
    admin_request.sign_in(admin)
    assert admin_request.post("/admin/professionals/999999/end-sessions").status_code == 404
    assert not actions("All sessions ended by LA")


def test_deactivation_ends_sessions_and_reactivation_does_not_bring_them_back(app, professional, admin):
    mine = browser(app, professional)
    admin_request = ClientRequest(app.test_client())
    admin_request.sign_in(admin)
    admin_request.post(f"/admin/professionals/{professional.id}/deactivate", expected_status=303)
    assert not signed_in(mine)
    admin_request.post(f"/admin/professionals/{professional.id}/reactivate", expected_status=303)
    assert not signed_in(mine), "the session ended with the deactivation"
    assert [s.ended_reason for s in sessions_of(professional)] == ["account deactivated"]
    assert signed_in(browser(app, professional))


def test_the_server_times_out_an_idle_session_too(app, professional, monkeypatch):
    """Even with a freshly signed cookie, a session not used for longer than
    the idle time-out is refused."""
    mine = browser(app, professional)
    assert signed_in(mine)
    later = utcnow() + app.permanent_session_lifetime + timedelta(minutes=3)
    monkeypatch.setattr(user_sessions, "utcnow", lambda: later)
    assert not signed_in(mine)


def test_last_seen_is_written_at_most_once_a_minute(app, professional, monkeypatch):
    mine = browser(app, professional)
    [first] = sessions_of(professional)
    seen = first.last_seen_at
    for _ in range(3):
        assert mine.get("/send/select-person?q=am", headers={"HX-Request": "true"}).status_code == 200
    db.session.expire_all()
    assert sessions_of(professional)[0].last_seen_at == seen
    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(user_sessions, "utcnow", lambda: later)
    assert mine.get("/send/select-person?q=am", headers={"HX-Request": "true"}).status_code == 200
    db.session.expire_all()
    assert sessions_of(professional)[0].last_seen_at == later
    assert mine.get("/send/select-person?q=am", headers={"HX-Request": "true"}).status_code == 200


@pytest.fixture
def statements(app):
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        seen.append(" ".join(statement.split()).lower())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def test_a_keystroke_reads_the_user_and_session_in_one_query_and_writes_nothing(app, professional, statements):
    mine = browser(app, professional)
    statements.clear()
    assert mine.get("/send/select-person?q=am", headers={"HX-Request": "true"}).status_code == 200
    about_sessions = [s for s in statements if "user_session" in s]
    assert len(about_sessions) == 1, about_sessions
    assert about_sessions[0].startswith("select") and "portal_user" in about_sessions[0] and "join" in about_sessions[0]
    writes = [s for s in statements if s.split()[0] in ("insert", "update", "delete")]
    assert writes == []
