"""The Professional Portal home page, the admin landing page and the static
service pages."""
from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

bp = Blueprint("portal", __name__)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    return redirect(url_for("portal.home"))


@bp.route("/home")
@login_required
def home():
    if current_user.is_admin:
        return render_template("portal/admin_home.html")
    return render_template("portal/home.html")


@bp.route("/accessibility")
def accessibility():
    return render_template("portal/accessibility.html")


@bp.route("/favicon.ico")
def favicon():
    return Response(status=204)


def professional_required(view):
    """Only professionals reach the SEND pages; others get 404."""
    from functools import wraps

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_professional:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
