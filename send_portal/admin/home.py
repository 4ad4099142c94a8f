"""The admin area's front door: /admin/ as typed, and the counts of what is
waiting that the admin home page (portal/admin_home.html) shows."""
from __future__ import annotations

from flask import redirect, url_for

from . import bp
from .access import admin_required
from .professionals_queries import pending_professionals_count
from .queue_queries import awaiting_authentication_count


@bp.app_template_global("admin_dashboard_counts")
def admin_dashboard_counts() -> dict[str, int]:
    """For the admin home page: how much is waiting."""
    return {
        "pending_professionals": pending_professionals_count(),
        "awaiting_authentication": awaiting_authentication_count(),
    }


@bp.get("/")
@admin_required
def index():
    """/admin/ as someone might type it: the admin home page is /home."""
    return redirect(url_for("portal.home"))
