"""Signed-cookie sessions with an idle time-out that is not re-signed on
every request.

Flask re-signs a permanent session on every response when
SESSION_REFRESH_EACH_REQUEST is set, so that the cookie's signature (which
itsdangerous dates, and which is refused once older than
PERMANENT_SESSION_LIFETIME) follows the person's last request. That costs a
JSON dump, a zlib pass and an HMAC on every filter keystroke. Here an
unchanged session is re-signed only once its signature is a minute old, so
the idle time-out is the configured one, give or take that minute, and a
person typing in the filter sends one new cookie a minute, not one a key."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

REFRESH_AFTER = timedelta(minutes=1)


class DatedSession(SecureCookieSession):
    signed_at: datetime | None = None


class IdleTimeoutSessionInterface(SecureCookieSessionInterface):
    session_class = DatedSession

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app, session) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or datetime.now(timezone.utc) - signed_at >= REFRESH_AFTER
