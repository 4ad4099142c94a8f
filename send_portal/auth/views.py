"""Signing in and out, and professionals registering themselves."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from .. import audit
from ..extensions import db, limiter, login_manager
from ..htmx import is_htmx
from ..models import Role, User
from ..portal import flashed_message_and_error, form_errors
from . import limits, registration, user_sessions
from .forms import RegistrationForm, SignInForm
from .passwords import check_password

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    # Read with its server-side session, in one query (user_sessions).
    return user_sessions.load_user(user_id)


bp.teardown_app_request(user_sessions.touch)


@login_manager.unauthorized_handler
def unauthorized():
    target = url_for("auth.sign_in", next=request.full_path if request.method == "GET" else None)
    if is_htmx():
        # An expired session must not swap a sign-in page into a table.
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    flash("Sign in to continue.", "info")
    return redirect(target)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
        or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return None
    return target


def _registration_key():
    return request.remote_addr or "unknown"


def _start_session(user: User) -> None:
    """A fresh session at sign-in: nothing from before survives, and the
    cookie names a new server-side session."""
    session.clear()
    login_user(user)
    session.pop("_id", None)  # Flask-Login's session protection is off (see create_app)
    session.permanent = True
    user_sessions.start(user)


def _too_many_attempts(wait: int):
    response = make_response(
        render_template("auth/too_many_attempts.html", wait=limits.wait_in_words(wait)), 429
    )
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        email = limits.normalise_email(form.email.data)
        address = limits.client_address()
        wait = limits.seconds_to_wait(email, address)
        if wait:
            # Refused without checking the password, even a correct one.
            db.session.rollback()
            return _too_many_attempts(wait)
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        allowed = user is not None and user.role != Role.SYSTEM.value and not user.is_deactivated
        if check_password(user.password_hash if allowed else None, form.password.data) and allowed:
            limits.forget_account_failures(email)
            next_url = _safe_next(request.args.get("next"))
            if two_factor.is_set_up(user):
                # Not signed in yet: the security code comes next.
                two_factor.start_pending(user, next_url)
                db.session.commit()
                return redirect(url_for("auth.security_code"), 303)
            _start_session(user)
            must_set_up = two_factor.is_required(user)
            audit.record(
                audit.SIGN_IN, changed_by=user, professional=user if user.is_professional else None,
                details="password only; two-factor set-up required" if must_set_up else None,
            )
            db.session.commit()
            if must_set_up:
                return redirect(url_for("auth.two_factor_setup"), 303)
            return redirect(next_url or url_for("portal.home"))
        failed = True
        limits.record_failure(email, address)
        if user is None:
            # What was typed is not recorded: people type passwords into the
            # email box.
            audit.record(audit.SIGN_IN_FAILED, details="Unknown account")
        else:
            audit.record(
                audit.SIGN_IN_FAILED, professional=user if user.is_professional else None,
                details=f"Account: {user.email}",
            )
        db.session.commit()
    status = 400 if request.method == "POST" else 200
    return render_template("auth/sign_in.html", form=form, failed=failed), status


@bp.route("/sign-out", methods=["GET", "POST"])
def sign_out():
    if request.method == "GET":
        # No GET changes state: without JavaScript the header link leads here.
        if not current_user.is_authenticated:
            return redirect(url_for("auth.sign_in"))
        return render_template("auth/sign_out.html")
    if current_user.is_authenticated:
        audit.record(audit.SIGN_OUT, changed_by=current_user._get_current_object())
    # Ended on the server: a copy of the cookie signs nobody in from now on.
    user_sessions.end_current(user_sessions.SIGNED_OUT)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for("auth.sign_in")
        return response
    return redirect(url_for("auth.sign_in"), 303)


@bp.get("/account")
@login_required
def account():
    # The email choice's own errors (mail/preferences.py) win over a flashed outcome.
    message, error = flashed_message_and_error(errors=g.get("email_notifications_errors"))
    return render_template(
        "account/account.html",
        other_sessions=user_sessions.active_count(current_user, exclude_current=True),
        message=message,
        error=error,
        two_factor=two_factor.summary(current_user._get_current_object()),
    )


@bp.post("/account/sign-out-other-devices")
@login_required
def sign_out_other_devices():
    user = current_user._get_current_object()
    ended = user_sessions.end_all(user, user_sessions.SIGNED_OUT_ELSEWHERE, keep_current=True)
    audit.record(
        audit.SIGNED_OUT_OTHER_DEVICES, changed_by=user, professional=user if user.is_professional else None,
        details=f"{ended} other session{'' if ended == 1 else 's'} ended",
    )
    db.session.commit()
    if ended:
        flash(f"You have signed out of {ended} other device{'' if ended == 1 else 's'}.", "success")
    else:
        flash("You were not signed in anywhere else.", "success")
    return redirect(url_for("auth.account"), 303)


@bp.app_template_global("active_session_count")
def active_session_count(user: User) -> int:
    return user_sessions.active_count(user)


EMAIL_TAKEN = "An account already exists with this email address. Sign in instead, or use a different email address"


@bp.route("/register", methods=["GET", "POST"])
# Every attempt counts here (Flask-Limiter, RATELIMIT_STORAGE_URI): each one
# that succeeds makes an account.
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"], key_func=_registration_key)
def register():
    """A professional registers and is signed in at once; they see no child
    until an LA administrator verifies them (SPEC section 1)."""
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        user = None
        if not registration.email_taken(form.email.data):
            user = registration.add_professional(
                email=form.email.data,
                given_name=form.given_name.data,
                family_name=form.family_name.data,
                professional_type=form.professional_type.data,
                organisation=form.organisation.data,
                password=form.password.data,
            )
        if user is None:  # taken, or registered a moment ago by another request
            form.email.errors.append(EMAIL_TAKEN)
        else:
            _start_session(user)
            db.session.commit()
            return redirect(url_for("portal.home"), 303)
    errors = form_errors(form)
    status = 400 if errors else 200
    return render_template("auth/register.html", form=form, errors=errors), status


# Its routes and its before_request are on bp; it reads the helpers above.
from . import two_factor  # noqa: E402
