"""queue_email(): an email joins the caller's transaction, so it is written
if and only if the change that causes it is committed. Nothing is sent
during a request."""
from __future__ import annotations

import re

from ..extensions import db
from ..models import utcnow
from .models import OutboxEmail

SUBJECT_MAX = 200
ADDRESS_MAX = 254
# One address, and no line breaks anywhere in a header (header injection).
_ADDRESS_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
_LINE_BREAK_RE = re.compile(r"[\r\n\x00\u2028\u2029]")


def deliverable(address: str | None) -> bool:
    """Whether queue_email accepts this address: one plain address. (An
    account's address can hold a comma or a quote, which registration
    allows and a To header would read as more than one address.)"""
    address = (address or "").strip()
    return bool(_ADDRESS_RE.match(address)) and len(address) <= ADDRESS_MAX


def queue_email(to: str, subject: str, body: str) -> OutboxEmail:
    """Add one email to the outbox in the current transaction."""
    to = (to or "").strip()
    if not deliverable(to):
        raise ValueError("an email goes to one email address")
    if not subject or _LINE_BREAK_RE.search(subject) or len(subject) > SUBJECT_MAX:
        raise ValueError("an email's subject is one line of at most 200 characters")
    if "\x00" in body:
        raise ValueError("an email's body cannot hold a NUL character")
    now = utcnow()
    email = OutboxEmail(to_address=to, subject=subject, body=body, created_at=now, attempts=0, next_attempt_at=now)
    db.session.add(email)
    return email


def portal_url(path: str) -> str | None:
    """The absolute address of a page of the portal, for an email: from
    PORTAL_URL (or SERVER_NAME), never from a request's Host header, which
    whoever sends the request chooses. Development without either uses the
    address the developer is browsing. None when none is known."""
    from flask import current_app, has_request_context, request

    config = current_app.config
    base = (config.get("PORTAL_URL") or "").rstrip("/")
    if not base and config.get("SERVER_NAME"):
        base = f"{config.get('PREFERRED_URL_SCHEME') or 'https'}://{config['SERVER_NAME']}{config.get('APPLICATION_ROOT') or ''}".rstrip("/")
    if not base and config.get("SEND_PORTAL_ENV") in ("development", "testing") and has_request_context():
        base = request.url_root.rstrip("/")
    return f"{base}{path}" if base else None


def render_email(template: str, **context) -> str:
    """An email's text from templates/mail/. Rendered without the request's
    context processors: an email may be written by a command, with no
    request, and must not depend on who is signed in."""
    from flask import current_app

    return current_app.jinja_env.get_template(template).render(config=current_app.config, **context)
