"""The Due list of a professional's home page: the forms the LA has asked
them for and not yet received, with the days left, counted in the
authority's own (London) calendar."""
from __future__ import annotations

from datetime import date, datetime, timezone

from ..caseload.queries import DueForm, outstanding_form_requests
from ..display import LOCAL_ZONE
from ..models import User

DUE_LIST_LIMIT = 50


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def london_today(now: datetime | None = None) -> date:
    """Today's date in London, not UTC: 11:30pm UTC on 30 June is already
    1 July in London (BST)."""
    now = now or utc_now()
    return now.astimezone(LOCAL_ZONE).date() if LOCAL_ZONE is not None else now.date()


def days_left(due_on: date, today: date) -> int:
    return (due_on - today).days


def days_left_text(due_on: date, today: date) -> str:
    """"Due today", "Due in 1 day", "Due in 3 days", "1 day overdue"."""
    left = days_left(due_on, today)
    if left == 0:
        return "Due today"
    if left > 0:
        return f"Due in {left} day{'' if left == 1 else 's'}"
    return f"{-left} day{'' if left == -1 else 's'} overdue"


def due_list(professional: User, today: date | None = None, limit: int = DUE_LIST_LIMIT) -> tuple[list[DueForm], int, date]:
    """(the most urgent forms, how many are outstanding in all, today)."""
    today = today or london_today()
    forms, total = outstanding_form_requests(today, professional, limit=limit)
    return forms, total, today
