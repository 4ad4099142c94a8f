"""The rules of access, each written once.

Every rule here gives the same answer three ways, all built from one
definition so that they cannot drift apart:

- ``is_live(involvement)`` / ``sees_la_record(involvement)``: on an
  Involvement already loaded (Python);
- ``live(entity)`` / ``la_record_visible(entity)``: a SQL condition on the
  Involvement class, an ``aliased(Involvement)`` or a table (``sa.table``)
  with the same columns, for queries;
- ``live_sql(row)``: the same condition as SQL text over a trigger's row
  (``NEW``, ``OLD``) or a query's alias, for the triggers that keep
  caseload_name_token in step (send_portal.triggers, migrations 0005, 0006).

``tests/test_rules.py`` checks by brute force that the three agree for every
combination of the columns they read.

The rules:

- A **live** involvement is one the professional still holds: not deleted by
  them, and awaiting the LA's authentication or authenticated (not
  unauthenticated by the LA, not declined).
- A professional **may see children** at all only while they are a verified,
  active professional account.
- A professional **sees what the LA holds** about a child (the EHC timeline,
  forms that need authentication, messages) only through an authenticated
  involvement.

Whose involvements a professional may read (their own, their team's, those of
a colleague they cover for) is decided by send_portal.caseload.queries
(Scope), which builds on these rules: add an access rule there, never beside
it.
"""
from __future__ import annotations

from sqlalchemy import and_, literal_column
from sqlalchemy.dialects import sqlite

AWAITING = "awaiting"
AUTHENTICATED = "authenticated"
LIVE_STATUSES = (AWAITING, AUTHENTICATED)


# --- live involvements ------------------------------------------------------------------------


def live(entity=None):
    """SQL: the involvement (of entity, the Involvement class by default) is
    live."""
    if entity is None:
        from .models import Involvement

        entity = Involvement
    columns = entity.c if hasattr(entity, "c") else entity
    return and_(columns.deleted_at.is_(None), columns.status.in_(LIVE_STATUSES))


def is_live(involvement) -> bool:
    """Python: the loaded involvement is live."""
    return involvement.deleted_at is None and involvement.status in LIVE_STATUSES


def live_sql(row: str) -> str:
    """SQL text: the row called ``row`` (a trigger's NEW or OLD, or a query's
    alias) is live. Compiled from live() itself, with the statuses written
    in, so the text and the query condition are one rule."""
    condition = live(_Prefixed(row))
    return str(condition.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


class _Prefixed:
    """Columns written as ``row.column`` in the compiled text."""

    def __init__(self, row: str):
        self.deleted_at = literal_column(f"{row}.deleted_at")
        self.status = literal_column(f"{row}.status")


# --- what a professional may see ------------------------------------------------------------------


def may_see_children(user) -> bool:
    """A professional sees children only while verified and active."""
    return bool(user.is_professional and user.is_verified and user.is_active)


def sees_la_record(involvement) -> bool:
    """Python: through this involvement the professional sees what the LA
    holds about the child (timeline, messages, forms needing
    authentication)."""
    return involvement.status == AUTHENTICATED


def la_record_visible(entity=None):
    """SQL: as sees_la_record."""
    if entity is None:
        from .models import Involvement

        entity = Involvement
    columns = entity.c if hasattr(entity, "c") else entity
    return columns.status == AUTHENTICATED
