"""The session cookie: an idle time-out, renewed at most once a minute while
nothing in the session changes (send_portal.sessions)."""
from __future__ import annotations

from datetime import timedelta

from itsdangerous import TimestampSigner

from send_portal import sessions

COOKIE = "send_portal_session="


def session_cookies(response) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]


def test_an_unchanged_session_is_not_signed_again_within_a_minute(client_request, professional):
    signed_in = client_request.sign_in(professional)
    assert session_cookies(signed_in), "signing in sets the cookie"
    for _ in range(3):
        response = client_request.get_response("/send/select-person?q=am", headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert session_cookies(response) == []


def test_a_session_signed_a_minute_ago_is_signed_again(client_request, professional, monkeypatch):
    client_request.sign_in(professional)
    monkeypatch.setattr(sessions, "REFRESH_AFTER", timedelta(0))
    response = client_request.get_response("/send/select-person")
    assert response.status_code == 200
    [cookie] = session_cookies(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_a_session_idle_for_longer_than_the_time_out_signs_the_person_out(client_request, professional, app, monkeypatch):
    client_request.sign_in(professional)
    assert client_request.get_response("/send/select-person").status_code == 200
    lifetime = app.permanent_session_lifetime.total_seconds()
    real = TimestampSigner.get_timestamp
    # Every signature from now on reads as if it were made (lifetime + 1) s ago.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + int(lifetime) + 1)
    response = client_request.get_response("/send/select-person")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    htmx = client_request.get_response("/send/select-person?q=am", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and "/sign-in" in htmx.headers["HX-Redirect"]
