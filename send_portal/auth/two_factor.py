"""Two-factor sign-in with an authenticator app (TOTP, RFC 6238), and the ten
single-use recovery codes that stand in for the app.

After a correct password, a person with two-factor sign-in set up is not
signed in yet: the signed cookie holds only a short-lived "password passed"
marker (their user id and when, for 5 minutes, no privileges), and the
"Enter your security code" page finishes the sign-in. Wrong codes are
counted by the sign-in failure limit (limits.py) under kinds of their own;
a code is never accepted twice (two_factor_last_step).

The key is encrypted at rest (Fernet, with a key derived from SECRET_KEY;
SECRET_KEY_FALLBACKS are tried too while decrypting). If SECRET_KEY changes
with no fallback, stored keys can no longer be read: those people are told
to ask the LA to reset their two-factor sign-in, which they then set up
again. Keys and codes are never logged nor written to the audit log.

Who must use it is TWO_FACTOR_REQUIRED: "admins" (the default), "everyone"
or "nobody". Someone for whom it is required and who has not set it up is
signed in after the password, but every page but set-up and sign out sends
them to set-up (require_two_factor_set_up, one before_request)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import delete, func, insert, or_, select, update
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from .. import audit
from ..extensions import db
from ..htmx import is_htmx
from ..models import User, utcnow
from ..notifications import link_to, notify
from ..portal import form_errors
from . import limits, user_sessions
from .models import RecoveryCode
from .passwords import check_password
from .views import _safe_next, _start_session, _too_many_attempts, bp

MODES = ("admins", "everyone", "nobody")
STEP_SECONDS = 30
PENDING_KEY = "_two_factor_pending"
SETUP_KEY = "_two_factor_setup"
PENDING_SECONDS = 5 * 60
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are copied by hand.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RESET = "two-factor sign-in reset"  # user_session.ended_reason
QR_LABEL = "QR code for your authenticator app"

OK = "ok"
WRONG = "wrong"
USED = "used"
UNREADABLE = "unreadable"


@bp.record_once
def _check_mode(state) -> None:
    mode = state.app.config.get("TWO_FACTOR_REQUIRED", "admins")
    if mode not in MODES:
        raise RuntimeError(f"TWO_FACTOR_REQUIRED must be one of {', '.join(MODES)}, not {mode!r}.")


# --- the key, encrypted at rest ----------------------------------------------------


def _fernet_key(secret: str | bytes) -> bytes:
    secret = secret.encode() if isinstance(secret, str) else secret
    return base64.urlsafe_b64encode(hmac.new(secret, b"send-portal two-factor key", hashlib.sha256).digest())


def _fernet() -> MultiFernet:
    secrets_in_use = [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets_in_use])


def encrypt_key(key: str) -> str:
    return _fernet().encrypt(key.encode()).decode()


def decrypt_key(token: str | None) -> str | None:
    """The key, or None if it cannot be read (SECRET_KEY changed)."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def group_key(key: str) -> str:
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


# --- who must use it ----------------------------------------------------------------


def is_set_up(user: User) -> bool:
    return user.two_factor_enabled_at is not None and user.two_factor_secret is not None


def is_required(user: User) -> bool:
    mode = current_app.config.get("TWO_FACTOR_REQUIRED", "admins")
    return mode == "everyone" or (mode == "admins" and user.is_admin)


# Pages open to someone who must set up two-factor sign-in and has not yet.
_OPEN_WHILE_SETTING_UP = {
    "auth.two_factor_setup", "auth.sign_out", "auth.sign_in", "static", "health",
    "portal.accessibility", "portal.favicon", "timeout.keep_alive", "timeout.timed_out",
}


@bp.before_app_request
def require_two_factor_set_up():
    if current_app.config.get("TWO_FACTOR_REQUIRED") == "nobody" or request.endpoint in _OPEN_WHILE_SETTING_UP:
        return None
    if request.endpoint is None or not current_user.is_authenticated:
        return None
    user = current_user._get_current_object()
    if is_set_up(user) or not is_required(user):
        return None
    target = url_for("auth.two_factor_setup")
    if is_htmx():
        response = make_response("", 403)
        response.headers["HX-Redirect"] = target
        return response
    flash(f"{current_app.config['LA_NAME']} asks you to set up two-factor sign-in before you continue.", "info")
    return redirect(target, 303)


# --- codes --------------------------------------------------------------------------


def _digits(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "")


def _matching_step(key: str, code: str, now: float | None = None) -> int | None:
    """The time step (the previous, this or the next one, for clocks a little
    out) whose code is code, or None."""
    code = _digits(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(key)
    current = int(now if now is not None else time.time()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_code(user: User, code: str) -> str:
    """OK (and the code's time step is used up), WRONG, USED (accepted once
    already) or UNREADABLE (the key cannot be decrypted). Joins the
    caller's transaction."""
    key = decrypt_key(user.two_factor_secret)
    if key is None:
        return UNREADABLE
    step = _matching_step(key, code)
    if step is None:
        return WRONG
    # One statement, so two requests with the same code cannot both pass.
    taken = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.two_factor_last_step.is_(None), User.two_factor_last_step < step))
        .values(two_factor_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return USED
    user.two_factor_last_step = step
    return OK


def _code_hash(user: User, code: str) -> str:
    return hashlib.sha256(f"{user.id}:{_digits(code).lower()}".encode()).hexdigest()


def make_recovery_codes(user: User) -> list[str]:
    """Ten new codes (the old ones stop working). Only hashes are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    now = utcnow()
    db.session.execute(
        insert(RecoveryCode),
        [{"user_id": user.id, "code_hash": _code_hash(user, code), "created_at": now} for code in codes],
    )
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ) or 0


def use_recovery_code(user: User, code: str) -> bool:
    """Uses the code up if it is one of user's unused codes."""
    if not 10 <= len(_digits(code)) <= 12:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(user, code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(used)


def turn_off(user: User) -> None:
    user.two_factor_secret = None
    user.two_factor_enabled_at = None
    user.two_factor_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def reset(user: User, changed_by: User | None) -> int:
    """An administrator's reset (their page for a professional, or the
    reset-two-factor command): the second factor is removed and every
    session of the person ends. Audited; returns how many sessions were live."""
    turn_off(user)
    ended = user_sessions.end_all(user, RESET)
    audit.record(
        audit.TWO_FACTOR_RESET, changed_by=changed_by, professional=user if user.is_professional else None,
        details=f"Account: {user.email}; {ended} active session{'' if ended == 1 else 's'} ended",
    )
    return ended


def qr_code_svg(key: str, user: User) -> Markup:
    uri = pyotp.TOTP(key).provisioning_uri(name=user.email, issuer_name=current_app.config["SERVICE_NAME"])
    svg = segno.make(uri, error="m").svg_inline(scale=4, light="#fff", title=QR_LABEL)
    # svg_inline escapes the title; the key itself is only in the path data.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{QR_LABEL}" ', 1))  # nosec B704


def _audit_who(user: User) -> dict:
    return {"changed_by": user, "professional": user if user.is_professional else None}


# --- forms --------------------------------------------------------------------------


class SecurityCodeForm(FlaskForm):
    code = StringField(
        "Security code",
        validators=[DataRequired("Enter the security code from your authenticator app"), Length(max=20, message="Security code must be 6 numbers")],
    )

    def validate_code(self, field):
        digits = _digits(field.data)
        if not (len(digits) == 6 and digits.isdigit()):
            raise ValidationError("Security code must be 6 numbers")


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        "Recovery code",
        validators=[DataRequired("Enter one of your recovery codes"), Length(max=30, message="Recovery code must be 10 letters and numbers")],
    )


class PasswordAgainForm(FlaskForm):
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password"), Length(max=200, message="Password must be 200 characters or fewer")],
    )


# --- signing in: the second step ----------------------------------------------------


def start_pending(user: User, next_url: str | None) -> None:
    """The password was right: remember that (briefly) instead of signing in."""
    session.clear()
    session[PENDING_KEY] = {"user": user.id, "at": int(time.time()), "next": next_url}


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    user_id, at = pending.get("user"), pending.get("at")
    if not isinstance(user_id, int) or not isinstance(at, int) or not 0 <= time.time() - at <= PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not is_set_up(user):
        return None
    return user


def _no_pending_sign_in():
    session.pop(PENDING_KEY, None)
    flash("Your sign-in timed out, or you have not entered your password yet. Sign in again.", "info")
    return redirect(url_for("auth.sign_in"), 303)


def _finish_sign_in(user: User, how: str, message: str | None = None):
    next_url = _safe_next((session.get(PENDING_KEY) or {}).get("next"))
    limits.forget_account_failures(limits.normalise_email(user.email), limits.SECOND_FACTOR)
    _start_session(user)
    audit.record(audit.SIGN_IN, details=how, **_audit_who(user))
    db.session.commit()
    if message:
        # Your account says how many recovery codes are left, and has the
        # button to make new ones.
        flash(message, "success")
        return redirect(url_for("auth.account"), 303)
    return redirect(next_url or url_for("portal.home"), 303)


def _refused(user: User, form, reason: str, message: str) -> None:
    email = limits.normalise_email(user.email)
    limits.record_failure(email, limits.client_address(), limits.SECOND_FACTOR)
    audit.record(audit.SECOND_FACTOR_FAILED, details=f"Account: {user.email}; {reason}", **_audit_who(user))
    if limits.reached_hourly_limit(email, limits.SECOND_FACTOR):
        # Someone has the password, or is guessing codes: tell the holder once.
        notify(user, "second_factor_failures", link_to("auth.account"))
    db.session.commit()
    form.code.errors.append(message)


def _second_factor_wait(user: User) -> int:
    return limits.seconds_to_wait(limits.normalise_email(user.email), limits.client_address(), attempt=limits.SECOND_FACTOR)


UNREADABLE_MESSAGE = "Your two-factor sign-in must be set up again. Ask {la} to reset it"


@bp.route("/sign-in/security-code", methods=["GET", "POST"])
def security_code():
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    user = _pending_user()
    if user is None:
        return _no_pending_sign_in()
    form = SecurityCodeForm()
    if form.validate_on_submit():
        wait = _second_factor_wait(user)
        if wait:
            db.session.rollback()
            return _too_many_attempts(wait)
        result = check_code(user, form.code.data)
        if result == OK:
            return _finish_sign_in(user, "two-factor: security code")
        if result == USED:
            _refused(user, form, "security code already used",
                     "That security code has already been used. Wait for your app to show a new one, then enter it")
        elif result == UNREADABLE:
            db.session.rollback()
            form.code.errors.append(UNREADABLE_MESSAGE.format(la=current_app.config["LA_NAME"]))
        else:
            _refused(user, form, "wrong security code",
                     "The security code is not correct. Enter the code your authenticator app shows now")
    errors = form_errors(form)
    return render_template("auth/security_code.html", form=form, errors=errors), (400 if errors else 200)


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
def recovery_code():
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    user = _pending_user()
    if user is None:
        return _no_pending_sign_in()
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        wait = _second_factor_wait(user)
        if wait:
            db.session.rollback()
            return _too_many_attempts(wait)
        if use_recovery_code(user, form.code.data):
            left = recovery_codes_left(user)
            audit.record(audit.RECOVERY_CODE_USED, details=f"{left} recovery code{'' if left == 1 else 's'} left", **_audit_who(user))
            if left:
                message = f"You used a recovery code. You have {left} recovery code{'' if left == 1 else 's'} left: each works once."
            else:
                message = "You used your last recovery code. Make new recovery codes from Your account now."
            return _finish_sign_in(user, "two-factor: recovery code", message)
        _refused(user, form, "wrong recovery code",
                 "The recovery code is not correct, or it has been used. Check it and try again")
    errors = form_errors(form)
    return render_template("auth/recovery_code.html", form=form, errors=errors), (400 if errors else 200)


# --- Your account: setting it up, new recovery codes, turning it off ----------------


def _setup_key() -> str:
    """The new key while set-up is under way: kept (encrypted) in the
    cookie, so reloading the page does not change the code already scanned."""
    key = decrypt_key(session.get(SETUP_KEY))
    if key is None or len(key) != 32:
        key = pyotp.random_base32()
        session[SETUP_KEY] = encrypt_key(key)
    return key


def _show_recovery_codes(codes: list[str], continue_to: str, made_new: bool = False):
    return render_template("account/recovery_codes.html", codes=codes, continue_to=continue_to, made_new=made_new)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    user = current_user._get_current_object()
    if is_set_up(user):
        flash("You have already set up two-factor sign-in.", "info")
        return redirect(url_for("auth.account"), 303)
    required = is_required(user)
    key = _setup_key()
    form = SecurityCodeForm()
    if form.validate_on_submit():
        step = _matching_step(key, form.code.data)
        if step is None:
            form.code.errors.append("The security code is not correct. Enter the code your authenticator app shows now")
        else:
            user.two_factor_secret = encrypt_key(key)
            user.two_factor_enabled_at = utcnow()
            user.two_factor_last_step = step
            codes = make_recovery_codes(user)
            audit.record(audit.TWO_FACTOR_SET_UP, **_audit_who(user))
            session.pop(SETUP_KEY, None)
            db.session.commit()
            return _show_recovery_codes(codes, url_for("portal.home") if required else url_for("auth.account"))
    errors = form_errors(form)
    return render_template(
        "account/two_factor_setup.html", form=form, errors=errors, required=required,
        qr_code=qr_code_svg(key, user), grouped_key=group_key(key),
    ), (400 if errors else 200)


@bp.route("/account/two-factor/recovery-codes", methods=["GET", "POST"])
@login_required
def new_recovery_codes():
    user = current_user._get_current_object()
    if not is_set_up(user):
        flash("You have not set up two-factor sign-in.", "info")
        return redirect(url_for("auth.account"), 303)
    form = SecurityCodeForm()
    if form.validate_on_submit():
        wait = _second_factor_wait(user)
        if wait:
            db.session.rollback()
            return _too_many_attempts(wait)
        result = check_code(user, form.code.data)
        if result == OK:
            codes = make_recovery_codes(user)
            audit.record(audit.RECOVERY_CODES_REPLACED, **_audit_who(user))
            db.session.commit()
            return _show_recovery_codes(codes, url_for("auth.account"), made_new=True)
        if result == UNREADABLE:
            db.session.rollback()
            form.code.errors.append(UNREADABLE_MESSAGE.format(la=current_app.config["LA_NAME"]))
        elif result == USED:
            _refused(user, form, "security code already used",
                     "That security code has already been used. Wait for your app to show a new one, then enter it")
        else:
            _refused(user, form, "wrong security code",
                     "The security code is not correct. Enter the code your authenticator app shows now")
    errors = form_errors(form)
    return render_template("account/new_recovery_codes.html", form=form, errors=errors), (400 if errors else 200)


@bp.route("/account/two-factor/turn-off", methods=["GET", "POST"])
@login_required
def two_factor_turn_off():
    user = current_user._get_current_object()
    if not is_set_up(user):
        flash("You have not set up two-factor sign-in.", "info")
        return redirect(url_for("auth.account"), 303)
    if is_required(user):
        flash(f"{current_app.config['LA_NAME']} requires two-factor sign-in for your account: you cannot turn it off.", "error")
        return redirect(url_for("auth.account"), 303)
    form = PasswordAgainForm()
    if form.validate_on_submit():
        email, address = limits.normalise_email(user.email), limits.client_address()
        wait = limits.seconds_to_wait(email, address)
        if wait:
            db.session.rollback()
            return _too_many_attempts(wait)
        if check_password(user.password_hash, form.password.data):
            turn_off(user)
            audit.record(audit.TWO_FACTOR_TURNED_OFF, **_audit_who(user))
            db.session.commit()
            flash("Two-factor sign-in is turned off. You sign in with your password only.", "success")
            return redirect(url_for("auth.account"), 303)
        limits.record_failure(email, address)
        db.session.commit()
        form.password.errors.append("Your password is not correct")
    errors = form_errors(form)
    return render_template("account/two_factor_turn_off.html", form=form, errors=errors), (400 if errors else 200)


def summary(user: User) -> dict:
    """What Your account says about two-factor sign-in."""
    set_up = is_set_up(user)
    return {
        "set_up": set_up,
        "required": is_required(user),
        "enabled_at": user.two_factor_enabled_at,
        "codes_left": recovery_codes_left(user) if set_up else 0,
    }
