"""Organisations, team caseloads, cover and leavers (issue 14). Who sees
what through them is decided in caseload/queries.py."""
from . import models  # noqa: F401  (the tables, for the app and its tests)
from .views import bp  # noqa: F401
