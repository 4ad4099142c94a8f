"""Forgotten password: ask for a link by email, then set a new password.

The answer to "send me a link" is the same, and the work done nearly the
same, whether or not an account has that address: a token is made and
hashed either way, the request is counted against the rate limit and
audited either way, and the email itself is only written to the outbox
(send_portal/mail), never sent during the request. The link carries a
random token of which only the SHA-256 is stored; it works once, for an
hour, and asking again makes older links useless. Setting a new password
ends every session of the account (a thief signed in elsewhere is signed
out) and does not sign in: two-factor sign-in may apply."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import make_response, redirect, render_template, session, url_for
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import EmailField
from wtforms.validators import DataRequired, Length, ValidationError

from .. import audit
from ..extensions import db
from ..mail import queue_email
from ..mail.outbox import deliverable, portal_url, render_email
from ..models import Role, User, utcnow
from . import limits, user_sessions
from .forms import RegistrationForm
from .passwords import hash_password
from .views import bp

TOKEN_LIFETIME = timedelta(hours=1)
# secrets.token_urlsafe(32) gives 43 characters of this alphabet.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Looser than registration's EMAIL_RE: accounts made by create-user follow
# its own rule, and their owners must be able to type their address here.
TYPED_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PasswordResetToken(db.Model):
    """A link sent by email. Only the token's SHA-256 is kept, so a copy of
    this table resets nobody's password."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address"), Length(max=254, message="Email address must be 254 characters or fewer")],
    )

    def validate_email(self, field):
        if not TYPED_EMAIL_RE.match((field.data or "").strip()):
            raise ValidationError("Enter an email address in the correct format, like name@school.example")


class ResetPasswordForm(RegistrationForm):
    """The password rules of registration (RegistrationForm's own
    validators), without the fields that registration asks for besides. The
    email is the account's, set by the view (a password may not be it)."""

    given_name = None
    family_name = None
    organisation = None
    professional_type = None

    def __init__(self, user: User, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.email.data = user.email
        self.password.label.text = "Create a new password"
        self.password_confirm.label.text = "Confirm your new password"

    def validate_email(self, field):
        """Not typed here: the account's own address, whatever rule it was
        made under (create-user's is not registration's)."""

    def shown_errors(self) -> list[tuple[str, str]]:
        return [(field.id, field.errors[0]) for field in (self.password, self.password_confirm) if field.errors]


_NOBODY = SimpleNamespace(given_name="")  # the email's reader, when there is no account


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _private(response):
    """The page's address holds the token: keep it out of every cache. (The
    service's Referrer-Policy already keeps the path from other sites.)"""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _may_reset(user: User | None) -> bool:
    return user is not None and user.role != Role.SYSTEM.value and not user.is_deactivated and deliverable(user.email)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = limits.normalise_email(form.email.data)
        address = limits.client_address()
        wait = limits.seconds_to_wait(email, address, attempt=limits.PASSWORD_RESET)
        if wait:
            db.session.rollback()
            response = make_response(
                render_template("auth/forgot_password_too_many.html", wait=limits.wait_in_words(wait)), 429
            )
            response.headers["Retry-After"] = str(wait)
            return response
        # Every request counts, known address or not: each can send an email.
        limits.record_failure(email, address, attempt=limits.PASSWORD_RESET)
        token = secrets.token_urlsafe(32)
        token_hash = _hash(token)  # made either way: the same work for every address
        now = utcnow()
        # Links past their hour are of no further use to anyone.
        db.session.execute(delete(PasswordResetToken).where(PasswordResetToken.expires_at <= now))
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        may_reset = _may_reset(user)
        # The same statements and the same email text either way (for no
        # account, about nobody, and then not sent), so the time taken says
        # little about whether the address has an account.
        # A new link makes every older one useless.
        db.session.execute(
            delete(PasswordResetToken).where(PasswordResetToken.user_id == (user.id if may_reset else 0))
        )
        path = url_for("auth.reset_password", token=token)
        body = render_email("mail/password_reset.txt", user=user if may_reset else _NOBODY, link=portal_url(path), path=path)
        if may_reset:
            db.session.add(PasswordResetToken(
                user_id=user.id, token_hash=token_hash, created_at=now, expires_at=now + TOKEN_LIFETIME,
            ))
            queue_email(user.email, "Reset your password for the SEND Professional Portal", body)
            audit.record(
                audit.PASSWORD_RESET_REQUESTED, changed_by=user,
                professional=user if user.is_professional else None, details="Link sent by email",
            )
        else:
            # What was typed is not recorded (people type passwords into
            # the email box), nor whether it was a deactivated account's.
            audit.record(audit.PASSWORD_RESET_REQUESTED, details="No active account with that address: nothing sent")
        db.session.commit()
        return redirect(url_for("auth.forgot_password_sent"), 303)
    errors = [(field.id, field.errors[0]) for field in (form.email,) if field.errors]
    return render_template("auth/forgot_password.html", form=form, errors=errors), 400 if errors else 200


@bp.get("/forgot-password/sent")
def forgot_password_sent():
    return render_template("auth/forgot_password_sent.html")


def _live_token(token: str, now: datetime) -> tuple[PasswordResetToken, User] | None:
    if not TOKEN_RE.match(token):
        return None
    row = db.session.execute(
        select(PasswordResetToken, User)
        .join(User, User.id == PasswordResetToken.user_id)
        .where(
            PasswordResetToken.token_hash == _hash(token),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
    ).first()
    if row is None or not _may_reset(row[1]):
        return None
    return row[0], row[1]


def _link_not_valid():
    # Why (unknown, used, expired) is not said: a guesser learns nothing.
    return _private((render_template("auth/reset_password_invalid.html"), 404))


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    now = utcnow()
    found = _live_token(token, now)
    if found is None:
        db.session.rollback()
        return _link_not_valid()
    reset, user = found
    form = ResetPasswordForm(user)
    if form.validate_on_submit():
        # Used once: of two requests with the same link, one changes the password.
        used = db.session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.id == reset.id, PasswordResetToken.used_at.is_(None),
                   PasswordResetToken.expires_at > now)
            .values(used_at=now)
        )
        if used.rowcount != 1:
            db.session.rollback()
            return _link_not_valid()
        user.password_hash = hash_password(form.password.data)
        db.session.execute(
            delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id, PasswordResetToken.id != reset.id)
        )
        ended = user_sessions.end_all(user, user_sessions.PASSWORD_CHANGED)
        audit.record(
            audit.PASSWORD_RESET, changed_by=user, professional=user if user.is_professional else None,
            details=f"Password changed with an emailed link; {ended} active session{'' if ended == 1 else 's'} ended",
        )
        queue_email(
            user.email,
            "Your password for the SEND Professional Portal has been changed",
            render_email("mail/password_changed.txt", user=user, link=portal_url(url_for("auth.forgot_password"))),
        )
        db.session.commit()
        if current_user.is_authenticated:
            # Whoever was signed in in this browser is signed out too.
            logout_user()
            session.clear()
        return redirect(url_for("auth.password_reset_done"), 303)
    errors = form.shown_errors()
    status = 400 if errors else 200
    return _private((render_template("auth/reset_password.html", form=form, errors=errors, token=token), status))


@bp.get("/reset-password/done")
def password_reset_done():
    return render_template("auth/reset_password_done.html")
