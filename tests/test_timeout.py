"""The idle time-out (WCAG 2.2.1 Timing Adjustable): said in words on the
forms, warned about and extendable with "Stay signed in", and nothing typed
lost when it ends (send_portal/timeout.py, static/js/timeout.js)."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from send_portal import audit
from send_portal.extensions import db
from send_portal.forms.models import FormResponse
from send_portal.models import AuditEntry
from send_portal.timeout import KeptAnswers

from .conftest import PASSWORD, ClientRequest, text

EHC = "ehc-needs-assessment-request"
COOKIE = "send_portal_session="


@pytest.fixture
def child(professional, make_person):
    return make_person("Amelia", "Jones", professional=professional)


@pytest.fixture
def signed_in(client_request, professional):
    client_request.sign_in(professional)
    return client_request


def start_form(client_request, person) -> str:
    """Start the EHC request; returns its first page's address."""
    response = client_request.post(f"/send/people/{person.id}/forms/{EHC}/start", expected_status=303)
    return response.headers["Location"]


def draft_answers(page_url: str) -> dict:
    response_id = int(re.search(r"/forms/(\d+)/pages/", page_url).group(1))
    db.session.expire_all()
    return db.session.get(FormResponse, response_id).answers or {}


def kept_count() -> int:
    return db.session.scalar(select(func.count()).select_from(KeptAnswers))


def set_cookie_header(response) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]


def sign_in_coming_back_to(location: str) -> str | None:
    """The page a sign-in address returns to (None if it is not the sign-in page)."""
    parts = urlsplit(location)
    if parts.path != "/sign-in":
        return None
    return parse_qs(parts.query).get("next", [""])[0]


def signed_in_now(client_request) -> bool:
    return client_request.get_response("/home").status_code == 200


def expire_the_session(app, monkeypatch) -> None:
    """From now on, every signature reads as made (lifetime + 1) seconds ago:
    the session in the browser's cookie has timed out."""
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + lifetime + 1)


def flash_on_sign_in_page(client_request, location: str) -> str:
    page = client_request.get(location)
    return text(page.select_one(".govuk-inset-text"))


# --- Stay signed in: the keep-alive ---------------------------------------------------------


def test_stay_signed_in_signs_the_session_again(signed_in, app):
    token = signed_in.csrf_token()
    response = signed_in.client.post("/session/keep-alive", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 204
    assert response.get_data() == b""
    # The cookie is signed afresh, so the idle time starts again now.
    assert set_cookie_header(response), "the session cookie is signed again"
    assert response.headers["X-Session-Seconds"] == str(int(app.permanent_session_lifetime.total_seconds()))
    assert signed_in_now(signed_in)


def test_stay_signed_in_is_a_post_with_a_csrf_token(signed_in):
    assert signed_in.get_response("/session/keep-alive").status_code == 405
    refused = signed_in.client.post("/session/keep-alive")
    assert refused.status_code == 400
    assert not set_cookie_header(refused)


def test_stay_signed_in_after_the_session_ended_goes_to_sign_in(client, signed_in, app, monkeypatch):
    token = signed_in.csrf_token()
    expire_the_session(app, monkeypatch)
    response = client.post("/session/keep-alive", headers={"X-CSRFToken": token, "HX-Request": "true", "HX-Current-URL": "http://localhost/send/select-person"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in?next=")


def test_signed_in_pages_carry_the_timeout_settings_and_signed_out_pages_do_not(client_request, professional, app):
    page = client_request.get("/sign-in")
    assert page.select_one("#timeout-settings") is None
    assert not [s for s in page.select("script[src]") if "timeout.js" in s["src"]]

    client_request.sign_in(professional)
    page = client_request.get("/home")
    [script] = [s for s in page.select("script[src]") if "timeout.js" in s["src"]]
    assert script.has_attr("defer")
    settings = page.select_one("div#timeout-settings")
    # The script builds the dialog: the page itself holds no text of it, so a
    # browser without scripts (Lynx, w3m) shows no warning that cannot work.
    assert settings.has_attr("hidden") and text(settings) == "" and not settings.find(True)
    assert page.select_one("dialog") is None and "signed out soon" not in page.get_text()
    assert int(settings["data-seconds-left"]) == 30 * 60  # signed at sign-in, a moment ago
    assert settings["data-warning-seconds"] == "120"
    assert settings["data-keep-alive-url"] == "/session/keep-alive"
    assert settings["data-sign-out-url"] == "/sign-out"


def test_htmx_responses_say_how_long_the_session_has_left(signed_in, child):
    response = signed_in.get_response("/send/select-person?q=am", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 29 * 60 <= int(response.headers["X-Session-Seconds"]) <= 30 * 60
    # A whole page carries it in the dialog instead.
    assert "X-Session-Seconds" not in signed_in.get_response("/send/select-person").headers


# --- the time-out said in words (works without JavaScript) -------------------------------------


def test_form_pages_and_add_person_say_how_long_before_sign_out(signed_in, child, app):
    first = start_form(signed_in, child)
    notice = text(signed_in.get(first).select_one(".app-timeout-notice"))
    assert notice == (
        "For your security, we will sign you out if you do nothing for 30 minutes. "
        "Save your answers as a draft if you need more time."
    )
    notice = text(signed_in.get("/send/add-person").select_one(".app-timeout-notice"))
    assert notice.startswith("For your security, we will sign you out if you do nothing for 30 minutes.")

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=1)
    assert "if you do nothing for 1 minute." in text(signed_in.get(first).select_one(".app-timeout-notice"))


# --- the time runs out on a form page, with JavaScript: saved as a draft ------------------------


def test_when_the_time_runs_out_the_form_is_saved_as_a_draft_and_the_person_signed_out(signed_in, child, app, professional):
    first = start_form(signed_in, child)
    # 30 seconds left: timeout.js sends the form as the time ends.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=30)
    response = signed_in.post(first, data={"action": "draft", "timed_out": "1", "child_views": "Likes drawing."}, expected_status=303)
    assert sign_in_coming_back_to(response.headers["Location"]) == first
    assert draft_answers(first)["child_views"] == "Likes drawing."
    assert not signed_in_now(signed_in)
    message = flash_on_sign_in_page(signed_in, response.headers["Location"])
    assert message == "You were signed out because you did nothing for 30 seconds. Your answers were saved as a draft. Sign in to carry on."
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == audit.SIGN_OUT)).one()
    assert entry.changed_by_id == professional.id and "without activity" in entry.details

    # Signing in again comes back to the page, with what was typed.
    signed_in.sign_in(professional)
    assert signed_in.get(first).select_one("#child_views").get_text() == "Likes drawing."


def test_a_draft_saved_as_the_time_ran_out_in_one_tab_does_not_sign_out_another(signed_in, child, app):
    first = start_form(signed_in, child)
    # Another tab kept the session going: the whole 30 minutes are left.
    response = signed_in.post(first, data={"action": "draft", "timed_out": "1", "child_views": "Likes drawing."}, expected_status=303)
    assert response.headers["Location"] == f"/send/people/{child.id}/forms"
    assert draft_answers(first)["child_views"] == "Likes drawing."
    assert signed_in_now(signed_in)


def test_answers_that_cannot_be_saved_as_the_time_runs_out_are_kept_for_the_person(signed_in, child, app, professional):
    first = start_form(signed_in, child)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=30)
    typed = {"child_views": "Likes drawing.", "consent_date-day": "40", "consent_date-month": "1", "consent_date-year": "2025"}
    response = signed_in.post(first, data={"action": "draft", "timed_out": "1", **typed}, expected_status=303)
    assert sign_in_coming_back_to(response.headers["Location"]) == first
    assert draft_answers(first) == {}, "nothing is saved that does not pass the checks"
    assert not signed_in_now(signed_in)
    assert "We kept the answers you typed" in flash_on_sign_in_page(signed_in, response.headers["Location"])

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=30)
    signed_in.sign_in(professional)
    page = signed_in.get(first)
    assert page.select_one("#child_views").get_text() == "Likes drawing."
    assert page.select_one("#consent_date-day")["value"] == "40"
    assert "We kept the answers you typed. Check them and save." in text(page.select_one(".govuk-notification-banner"))


def test_time_out_with_nothing_to_save_signs_out_and_comes_back(signed_in, app):
    token = signed_in.csrf_token()
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    # Another tab kept the session going: nothing happens.
    still = signed_in.client.post("/session/timed-out", data={"next": "/send/select-person"}, headers=headers)
    assert still.status_code == 204 and "HX-Redirect" not in still.headers
    assert int(still.headers["X-Session-Seconds"]) > 29 * 60
    assert signed_in_now(signed_in)

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=30)
    response = signed_in.client.post("/session/timed-out", data={"next": "/send/select-person?q=am"}, headers=headers)
    assert response.status_code == 204
    assert sign_in_coming_back_to(response.headers["HX-Redirect"]) == "/send/select-person?q=am"
    assert not signed_in_now(signed_in)
    assert flash_on_sign_in_page(signed_in, response.headers["HX-Redirect"]) == (
        "You were signed out because you did nothing for 30 seconds. Sign in to carry on."
    )


def test_time_out_never_sends_the_person_to_another_site(signed_in, app):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=30)
    response = signed_in.client.post(
        "/session/timed-out", data={"next": "//evil.example/"}, headers={"X-CSRFToken": signed_in.csrf_token(), "HX-Request": "true"}
    )
    assert response.headers["HX-Redirect"] == "/sign-in"


# --- the time ran out without JavaScript: what was typed is kept --------------------------------


def test_a_form_sent_after_the_session_ended_keeps_the_answers_until_the_person_saves_them(signed_in, child, app, monkeypatch, professional):
    first = start_form(signed_in, child)
    token = signed_in.csrf_token(first)
    expire_the_session(app, monkeypatch)

    typed = {"parents_agree": "Yes", "child_views": "Likes drawing.", "parent_views": "Wants help.", "csrf_token": token}
    response = signed_in.post(first, data={"action": "continue", **typed}, csrf=False, expected_status=303)
    assert sign_in_coming_back_to(response.headers["Location"]) == first
    assert "We kept the answers you typed: sign in to check and save them." in flash_on_sign_in_page(signed_in, response.headers["Location"])
    # Kept for this person, never saved to the form by itself.
    assert draft_answers(first) == {}
    assert kept_count() == 1

    signed_in.sign_in(professional)
    page = signed_in.get(first)
    banner = page.select_one(".govuk-notification-banner")
    assert banner["role"] == "region"
    assert "We kept the answers you typed. Check them and save." in text(banner)
    assert page.select_one("#parents_agree-0").has_attr("checked")
    assert page.select_one("#child_views").get_text() == "Likes drawing."
    assert draft_answers(first) == {}

    # Saving the page saves them, and what was kept is forgotten.
    signed_in.post(first, data={"action": "draft", **{k: v for k, v in typed.items() if k != "csrf_token"}}, expected_status=303)
    assert draft_answers(first)["child_views"] == "Likes drawing."
    assert kept_count() == 0
    assert signed_in.get(first).select_one(".govuk-notification-banner") is None


def test_a_draft_sent_with_htmx_after_the_session_ended_is_kept_too(signed_in, child, app, monkeypatch):
    first = start_form(signed_in, child)
    token = signed_in.csrf_token(first)
    expire_the_session(app, monkeypatch)
    response = signed_in.client.post(
        first, data={"action": "draft", "child_views": "Likes drawing."},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 401
    assert sign_in_coming_back_to(response.headers["HX-Redirect"]) == first
    assert kept_count() == 1


def test_answers_are_not_kept_without_the_sessions_own_csrf_token(signed_in, child, app, monkeypatch):
    first = start_form(signed_in, child)
    # A real token, but another browser's (as a page on another site could get).
    another_sessions = ClientRequest(app.test_client()).csrf_token("/sign-in")
    expired = signed_in.client.get_cookie("send_portal_session").value
    expire_the_session(app, monkeypatch)
    for token in ("", "not-a-token", another_sessions):
        signed_in.client.set_cookie("send_portal_session", expired)
        response = signed_in.post(first, data={"action": "draft", "child_views": "Planted.", "csrf_token": token}, csrf=False)
        assert response.status_code == 400
        assert "Your session has expired" in text(signed_in.parse(response).h1)
    assert kept_count() == 0


def test_answers_are_not_kept_for_a_cookie_we_did_not_sign(client_request, child, professional):
    client_request.sign_in(professional)
    first = start_form(client_request, child)
    token = client_request.csrf_token(first)
    client_request.client.set_cookie("send_portal_session", "eyJfdXNlcl9pZCI6IjEifQ.forged.signature")
    response = client_request.post(first, data={"action": "draft", "child_views": "Planted.", "csrf_token": token}, csrf=False)
    assert response.status_code == 400
    assert kept_count() == 0


def test_answers_are_not_kept_for_a_session_that_was_signed_out(signed_in, child, app, monkeypatch):
    first = start_form(signed_in, child)
    token = signed_in.csrf_token(first)
    copy = signed_in.client.get_cookie("send_portal_session").value
    signed_in.client.post("/sign-out", data={"csrf_token": token})
    # A copy of the cookie from before Sign out, sent once it has expired.
    signed_in.client.set_cookie("send_portal_session", copy)
    expire_the_session(app, monkeypatch)
    response = signed_in.post(first, data={"action": "draft", "child_views": "Planted.", "csrf_token": token}, csrf=False)
    assert response.status_code == 400
    assert kept_count() == 0


def test_kept_answers_are_only_shown_to_their_own_person(signed_in, child, app, monkeypatch, make_user, make_person):
    first = start_form(signed_in, child)
    token = signed_in.csrf_token(first)
    expire_the_session(app, monkeypatch)
    signed_in.post(first, data={"action": "draft", "child_views": "Likes drawing.", "csrf_token": token}, csrf=False, expected_status=303)
    assert kept_count() == 1
    someone_else = make_user("Robin", "Lee", email="robin.lee@school.example")
    make_person("Amelia", "Jones", professional=someone_else)
    signed_in.client.delete_cookie("send_portal_session")
    signed_in.sign_in(someone_else)
    # Not their form: not found, and nothing kept is shown anywhere.
    signed_in.get(first, expected_status=404)
    assert kept_count() == 1


def test_a_deleted_draft_takes_what_was_kept_with_it(signed_in, child, app, monkeypatch, professional):
    first = start_form(signed_in, child)
    token = signed_in.csrf_token(first)
    expire_the_session(app, monkeypatch)
    signed_in.post(first, data={"action": "draft", "child_views": "Likes drawing.", "csrf_token": token}, csrf=False, expected_status=303)
    signed_in.sign_in(professional, PASSWORD)
    signed_in.post(first.split("/pages/")[0] + "/delete", expected_status=303)
    assert kept_count() == 0
