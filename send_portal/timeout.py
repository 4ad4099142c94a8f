"""The idle time-out, said in advance and extendable (WCAG 2.2.1 Timing
Adjustable), and nothing typed lost when it ends.

- Every page a signed-in person fills says how long they have (the
  timeout_notice component). With JavaScript, static/js/timeout.js opens the
  timeout dialog (components/timeout_dialog.html) a little before the end;
  "Stay signed in" POSTs to keep_alive, which signs the session again.
- When the time runs out on a SEND form page the script sends the form as a
  draft (forms.form_page with timed_out=1), then we sign the person out.
- Without JavaScript, a form page sent after the session ended fails the CSRF
  check (the token lived in the session). The expired cookie's signature
  still names its user, so what they typed is kept for that user only
  (KeptAnswers) and shown again, pre-filled, after they sign in: never saved
  until they save it themselves.

The session's end is worked out as the cookie's re-signing follows it: its
signature time plus PERMANENT_SESSION_LIFETIME, or the whole lifetime from
now when this response signs the cookie again."""
from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict

from . import audit
from .extensions import db
from .htmx import is_htmx
from .models import User, utcnow

log = logging.getLogger(__name__)

bp = Blueprint("timeout", __name__)

# Response header: seconds until the session ends, for timeout.js.
SECONDS_HEADER = "X-Session-Seconds"
# Typed answers kept after a time-out are forgotten after this long; an
# expired session older than this no longer names anyone.
KEEP_FOR = timedelta(hours=24)
# A kept value is at most this long (no question allows more).
LONGEST_VALUE = 50_000
# Why the server-side session ended (user_session.ended_reason).
TIMED_OUT = "timed out"


# --- how long is left -----------------------------------------------------------------------


def lifetime() -> timedelta:
    return current_app.permanent_session_lifetime


def seconds_left() -> int:
    """Seconds until this session ends, as of the response being made: the
    whole lifetime when the response signs the cookie again."""
    app = current_app
    signed_at = getattr(session, "signed_at", None)
    if signed_at is None or app.session_interface.should_set_cookie(app, session._get_current_object()):
        return int(lifetime().total_seconds())
    return _seconds_until_end(signed_at)


def _seconds_until_end(signed_at: datetime) -> int:
    left = signed_at + lifetime() - datetime.now(timezone.utc)
    return max(0, int(left.total_seconds()))


def seconds_left_before_this_request() -> int:
    """Seconds the session had left when this request arrived (0 if unknown)."""
    signed_at = getattr(session, "signed_at", None)
    return 0 if signed_at is None else _seconds_until_end(signed_at)


def nearly_over() -> bool:
    """The session is about to end: no other tab or request has kept it going."""
    margin = current_app.config["SESSION_TIMEOUT_SAVE_SECONDS"] + 30
    return seconds_left_before_this_request() <= margin


def idle_phrase(seconds: int | None = None) -> str:
    """The idle time-out in words: "30 minutes", "1 minute", "20 seconds"."""
    seconds = int(lifetime().total_seconds()) if seconds is None else seconds
    if seconds >= 3600 and seconds % 3600 == 0:
        n, unit = seconds // 3600, "hour"
    elif seconds >= 60:
        n, unit = round(seconds / 60), "minute"
    else:
        n, unit = seconds, "second"
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


@bp.app_context_processor
def _timeout_context():
    return {"session_seconds_left": seconds_left, "idle_time_phrase": idle_phrase}


@bp.after_app_request
def _say_seconds_left(response):
    """htmx requests keep the session going (or not): tell timeout.js."""
    if request.headers.get("HX-Request") == "true" and SECONDS_HEADER not in response.headers and "_user_id" in session:
        response.headers[SECONDS_HEADER] = str(seconds_left())
    return response


# --- staying signed in, or being signed out ---------------------------------------------------


@bp.post("/session/keep-alive")
@login_required
def keep_alive():
    """"Stay signed in": sign the session again, so its time starts afresh."""
    session.modified = True
    response = make_response("", 204)
    response.headers[SECONDS_HEADER] = str(int(lifetime().total_seconds()))
    return response


@bp.post("/session/timed-out")
@login_required
def timed_out():
    """timeout.js, when the time has run out on a page with nothing to save.
    If another tab has kept the session going, nothing happens."""
    if not nearly_over():
        response = make_response("", 204)
        response.headers[SECONDS_HEADER] = str(seconds_left_before_this_request())
        return response
    location = sign_out_after_time_out(_same_site_path(request.form.get("next")))
    response = make_response("", 204)
    response.headers["HX-Redirect"] = location
    return response


def sign_out_after_time_out(next_path: str | None, answers: str | None = None) -> str:
    """Sign the person out because they did nothing for the idle time;
    returns the sign-in address to go to, with the message to show there.
    answers: "saved" (as a draft), "kept" (for them, not saved) or None.
    Commits the caller's transaction."""
    user = current_user._get_current_object()
    audit.record(audit.SIGN_OUT, changed_by=user, details=f"Signed out after {idle_phrase()} without activity")
    _end_server_session()
    db.session.commit()
    logout_user()
    session.clear()
    message = f"You were signed out because you did nothing for {idle_phrase()}."
    message += {
        "saved": " Your answers were saved as a draft. Sign in to carry on.",
        "kept": " We kept the answers you typed: sign in to check and save them.",
    }.get(answers, " Sign in to carry on.")
    flash(message, "info")
    return url_for("auth.sign_in", next=next_path)


def _end_server_session() -> None:
    """End the session on the server too (send_portal/auth/user_sessions.py),
    as Sign out does: a copy of the cookie signs nobody in afterwards."""
    try:
        from .auth import user_sessions
    except ImportError:  # sessions kept in the cookie alone
        return
    user_sessions.end_current(TIMED_OUT)


def _server_session_ended(data: dict) -> bool:
    """The expired cookie's session was ended on purpose (signed out, ended by
    an administrator): it names nobody any more."""
    try:
        from .auth import user_sessions
        from .auth.models import UserSession
    except ImportError:
        return False
    token = data.get(user_sessions.TOKEN_KEY)
    if not isinstance(token, str):
        return True
    ended = db.session.execute(
        select(UserSession.ended_at).where(UserSession.token_hash == hashlib.sha256(token.encode()).hexdigest())
    ).first()
    return ended is None or ended.ended_at is not None


def _same_site_path(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    return target


# --- answers kept after the session ended ----------------------------------------------------


class KeptAnswers(db.Model):
    """What a person typed on one page of a draft form and sent after their
    session had ended. Shown to them (and only them) when they sign in again;
    never saved to the form until they save the page themselves."""

    __tablename__ = "kept_answers"

    user_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id", ondelete="CASCADE"), primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("form_response.id", ondelete="CASCADE"), primary_key=True)
    page_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    # [[field name, value], ...] as the page sent them (no files).
    fields: Mapped[list] = mapped_column(JSON)
    kept_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    def as_form(self) -> MultiDict:
        return MultiDict([(name, value) for name, value in self.fields])


def kept_answers(user: User, response_id: int, page_number: int) -> KeptAnswers | None:
    kept = db.session.get(KeptAnswers, (user.id, response_id, page_number))
    if kept is None or utcnow() - kept.kept_at > KEEP_FOR:
        return None
    return kept


def kept_states(page, response, kept: KeptAnswers) -> dict:
    """The page's fields as they were typed, without error messages: the
    person checks them and saves."""
    from .forms.answers import attached_files, read_page

    result = read_page(page, kept.as_form(), None, response.answers or {}, attached_files(response), require=False)
    for state in result.states.values():
        state.error = None
        state.error_parts = ()
    return result.states


def forget_kept_answers(user: User, response_id: int, page_number: int) -> None:
    """The page has been saved: what was kept has served its purpose."""
    db.session.execute(
        delete(KeptAnswers).where(
            KeptAnswers.user_id == user.id, KeptAnswers.response_id == response_id, KeptAnswers.page_number == page_number
        )
    )


def keep_answers(user: User, response_id: int, page_number: int, page, form: MultiDict) -> None:
    """Keep this page's fields as sent (replacing anything kept before), and
    forget everyone's stale ones. Part of the caller's transaction."""
    names = set()
    for question in page.questions:
        if question.type == "date":
            names.update(f"{question.key}-{part}" for part in ("day", "month", "year"))
        elif question.type != "file":
            names.add(question.key)
    fields = [[name, value[:LONGEST_VALUE]] for name in form if name in names for value in form.getlist(name)]
    db.session.execute(delete(KeptAnswers).where(KeptAnswers.kept_at < utcnow() - KEEP_FOR))
    forget_kept_answers(user, response_id, page_number)
    db.session.add(KeptAnswers(user_id=user.id, response_id=response_id, page_number=page_number, fields=fields))


def _expired_session_user() -> User | None:
    """The user an expired session cookie names, if its signature is ours,
    it ended no more than KEEP_FOR ago and the form's CSRF token is the one
    that session held. Good enough to keep what they typed for them; never
    good enough to change anything."""
    app = current_app
    interface = app.session_interface
    serializer = interface.get_signing_serializer(app) if hasattr(interface, "get_signing_serializer") else None
    value = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
    if serializer is None or not value:
        return None
    try:
        data, signed_at = serializer.loads(value, return_timestamp=True)
    except BadSignature:
        return None
    if datetime.now(timezone.utc) - signed_at > lifetime() + KEEP_FOR:
        return None
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    held, sent = data.get(field), request.form.get(field) or request.headers.get("X-CSRFToken")
    if not (isinstance(held, str) and sent):
        return None
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    try:
        token = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").loads(sent)
    except BadSignature:
        return None
    if not (isinstance(token, str) and hmac.compare_digest(token, held)):
        return None
    if _server_session_ended(data):
        return None
    user_id = data.get("_user_id")
    if not (isinstance(user_id, str) and user_id.isdigit() and len(user_id) <= 10):
        return None
    user = db.session.scalar(select(User).where(User.id == int(user_id)))
    if user is None or not user.is_active or not user.is_professional:
        return None
    return user


def keep_answers_sent_after_time_out():
    """For the CSRF error handler: a SEND form page sent after the session
    ended. Keeps what was typed and sends the person to sign in, coming back
    to the page; None when this is not that case."""
    if request.method != "POST" or request.endpoint != "forms.form_page" or current_user.is_authenticated:
        return None
    try:
        user = _expired_session_user()
        if user is None:
            return None
        from .forms import queries

        args = request.view_args or {}
        involvement = queries.involvement_or_none(user, args.get("person_id", 0))
        response = queries.response_for(user, involvement, args.get("response_id", 0)) if involvement else None
        definition = queries.catalogue().get(response.form_key) if response is not None and response.is_draft else None
        number = args.get("page_number", 0)
        if definition is None or not 1 <= number <= len(definition.pages):
            db.session.rollback()
            return None
        keep_answers(user, response.id, number, definition.pages[number - 1], request.form)
        db.session.commit()
    except Exception:  # noqa: BLE001 - keeping is a courtesy: fall back to the usual message
        db.session.rollback()
        log.exception("could not keep the answers sent after a time-out")
        return None
    page_path = url_for("forms.form_page", person_id=involvement.person_id, response_id=response.id, page_number=number)
    flash(
        f"You were signed out because you did nothing for {idle_phrase()}. "
        "We kept the answers you typed: sign in to check and save them.",
        "info",
    )
    target = url_for("auth.sign_in", next=page_path)
    if is_htmx():
        answer = make_response("", 401)
        answer.headers["HX-Redirect"] = target
        return answer
    return redirect(target, 303)
