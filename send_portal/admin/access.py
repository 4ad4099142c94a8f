"""Who may use the LA admin area: signed-in LA administrators only."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def admin_required(view):
    """Signed out: off to sign in. Signed in but not an LA administrator: 404,
    so the admin area does not even admit to existing."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
