"""Signing in and out, and professionals registering themselves."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db, limiter, login_manager
from ..htmx import is_htmx
from ..models import Role, User, Verification
from .forms import RegistrationForm, SignInForm
from .passwords import check_password, hash_password

bp = Blueprint("auth", __name__)


# Built once: every request loads its user, and Session.get built and keyed
# its statement again each time (a third of the load's 0.4 ms).
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


@login_manager.user_loader
def load_user(user_id: str):
    if not user_id.isdigit() or len(user_id) > 10:
        return None
    user = db.session.execute(_USER_BY_ID, {"user_id": int(user_id)}).scalar_one_or_none()
    if user is None or not user.is_active:
        return None
    return user


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


def _sign_in_key():
    return request.remote_addr or "unknown"


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"], key_func=_sign_in_key)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        allowed = user is not None and user.role != Role.SYSTEM.value and not user.is_deactivated
        if check_password(user.password_hash if allowed else None, form.password.data) and allowed:
            # A fresh session at sign-in: nothing from before survives.
            session.clear()
            login_user(user)
            session.permanent = True
            audit.record(audit.SIGN_IN, changed_by=user, professional=user if user.is_professional else None)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("portal.home"))
        failed = True
        audit.record(audit.SIGN_IN_FAILED, details=f"Email tried: {email[:254]}")
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
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for("auth.sign_in")
        return response
    return redirect(url_for("auth.sign_in"), 303)


EMAIL_TAKEN = "An account already exists with this email address. Sign in instead, or use a different email address"


def _email_taken(email: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"], key_func=_sign_in_key)
def register():
    """A professional registers and is signed in at once; they see no child
    until an LA administrator verifies them (SPEC section 1)."""
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        if _email_taken(form.email.data):
            form.email.errors.append(EMAIL_TAKEN)
        else:
            user = User(
                email=form.email.data,  # lower-case: unique regardless of case
                given_name=form.given_name.data,
                family_name=form.family_name.data,
                role=Role.PROFESSIONAL.value,
                professional_type=form.professional_type.data,
                organisation=form.organisation.data,
                password_hash=hash_password(form.password.data),
                verification=Verification.PENDING.value,
            )
            db.session.add(user)
            try:
                db.session.flush()
            except IntegrityError:  # registered a moment ago by another request
                db.session.rollback()
                form.email.errors.append(EMAIL_TAKEN)
            else:
                audit.record(
                    audit.REGISTERED, changed_by=user, professional=user,
                    details=f"{user.professional_type_label}, {user.organisation}",
                )
                db.session.commit()
                session.clear()
                login_user(user)
                session.permanent = True
                return redirect(url_for("portal.home"), 303)
    errors = [
        (f"{field.id}-0" if field.type == "RadioField" else field.id, field.errors[0])
        for field in form
        if field.errors and field.type != "CSRFTokenField"
    ]
    status = 400 if errors else 200
    return render_template("auth/register.html", form=form, errors=errors), status
