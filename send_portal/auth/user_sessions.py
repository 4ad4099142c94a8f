"""Server-side sessions: the signed cookie names one, and it works only while
its row says it has not ended.

The cookie alone cannot be taken back: a copy made before Sign out would go
on working. So signing in writes a row (user_session) and puts a random
token in the cookie; the user loaded on every request is read together with
that row, in one query, and a session that has ended (or been idle past the
time-out) signs nobody in. last_seen_at is written at most once a minute,
the same way the cookie is re-signed (send_portal.sessions), so typing in the
filter does not write to the database on every key."""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime

from flask import current_app, g, session
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import audit
from ..extensions import db
from ..models import User, utcnow
from ..sessions import REFRESH_AFTER
from .models import UserSession

# The key in the signed cookie that holds the session's token.
TOKEN_KEY = "_session"  # nosec B105 - the name of the cookie's key, not a token

SIGNED_OUT = "signed out"
SIGNED_OUT_ELSEWHERE = "signed out of other devices"
ENDED_BY_ADMIN = "ended by administrator"
DEACTIVATED = "account deactivated"
PASSWORD_CHANGED = "password changed"  # nosec B105 - why a session ended, not a password

log = logging.getLogger(__name__)

# Built once: the user of every request is read with this.
_USER_BY_SESSION = (
    select(User, UserSession.id, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        User.id == bindparam("user_id"),
        UserSession.ended_at.is_(None),
        UserSession.last_seen_at >= bindparam("idle_cutoff"),
    )
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_cutoff(now: datetime | None = None) -> datetime:
    """Sessions last seen before this have timed out. last_seen_at runs up to
    a minute behind (it is written once a minute), so allow for that."""
    return (now or utcnow()) - current_app.permanent_session_lifetime - 2 * REFRESH_AFTER


def start(user: User) -> None:
    """A new session for user, named in the (already cleared) cookie. Joins
    the caller's transaction."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # This person's ended and timed-out sessions are of no further use.
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.ended_at.is_not(None), UserSession.last_seen_at < idle_cutoff(now)),
        )
    )
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    session[TOKEN_KEY] = token


def load_user(user_id: str) -> User | None:
    """The signed-in user, if their session is live (Flask-Login's loader)."""
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str) or not (20 <= len(token) <= 100):
        return None
    if not user_id.isdigit() or len(user_id) > 10:
        return None
    now = utcnow()
    row = db.session.execute(
        _USER_BY_SESSION,
        {"token_hash": _hash(token), "user_id": int(user_id), "idle_cutoff": idle_cutoff(now)},
    ).first()
    if row is None:
        return None
    user, session_id, last_seen_at = row
    if not user.is_active:
        return None
    g.user_session_id = session_id
    if now - last_seen_at >= REFRESH_AFTER:
        g.user_session_to_touch = session_id
    return user


def touch(exc: BaseException | None = None) -> None:
    """At the end of a request (teardown): note that a session was used, if
    it was last noted a minute or more ago. Whatever the request left
    uncommitted is rolled back first, as the session's removal would."""
    session_id = g.pop("user_session_to_touch", None)
    if session_id is None or exc is not None:
        return
    try:
        db.session.rollback()
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
            .values(last_seen_at=utcnow())
        )
        db.session.commit()
    except SQLAlchemyError:  # the next request will try again
        db.session.rollback()
        log.warning("could not note that session %s was used", session_id, exc_info=True)


def current_session_id() -> int | None:
    return g.get("user_session_id")


def end_current(reason: str = SIGNED_OUT) -> None:
    """End this request's session at once (joins the caller's transaction)."""
    token = session.get(TOKEN_KEY)
    if isinstance(token, str):
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason)
        )


def end_all(user: User, reason: str, keep_current: bool = False) -> int:
    """End every live session of user (but this request's, if keep_current).
    Returns how many were live. Joins the caller's transaction."""
    now = utcnow()
    condition = [
        UserSession.user_id == user.id,
        UserSession.ended_at.is_(None),
    ]
    if keep_current and current_session_id() is not None:
        condition.append(UserSession.id != current_session_id())
    live = db.session.scalar(
        select(func.count()).select_from(UserSession).where(*condition, UserSession.last_seen_at >= idle_cutoff(now))
    ) or 0
    db.session.execute(update(UserSession).where(*condition).values(ended_at=now, ended_reason=reason))
    return live


def active_count(user: User, exclude_current: bool = False) -> int:
    """How many sessions of user are live (signed in and not timed out)."""
    condition = [
        UserSession.user_id == user.id,
        UserSession.ended_at.is_(None),
        UserSession.last_seen_at >= idle_cutoff(),
    ]
    if exclude_current and current_session_id() is not None:
        condition.append(UserSession.id != current_session_id())
    return db.session.scalar(select(func.count()).select_from(UserSession).where(*condition)) or 0


def end_sessions_by_admin(admin: User, professional: User) -> int:
    """The LA admin's "End all sessions": audited with how many were live."""
    ended = end_all(professional, ENDED_BY_ADMIN)
    audit.record(
        audit.SESSIONS_ENDED_BY_ADMIN, changed_by=admin, professional=professional,
        details=f"{ended} active session{'' if ended == 1 else 's'} ended",
    )
    return ended
