"""How the templates show things: dates and times (stored in UTC, shown in
UK time), case status tags, pages of a list and flashed outcomes.
One home for each, registered once for every blueprint's templates."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from markupsafe import Markup

from . import rules
from .pagination import pagination, showing
from .portal import flashed_message_and_error

try:  # the authority's own (UK) time
    LOCAL_ZONE: ZoneInfo | None = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # pragma: no cover - a machine without tzdata
    LOCAL_ZONE = None


def utc_to_local(moment: datetime) -> datetime:
    """A stored (naive UTC) time as naive UK time."""
    if LOCAL_ZONE is None:
        return moment
    return moment.replace(tzinfo=timezone.utc).astimezone(LOCAL_ZONE).replace(tzinfo=None)


def local_to_utc(moment: datetime) -> datetime:
    """A naive UK time as naive UTC, as times are stored."""
    if LOCAL_ZONE is None:
        return moment
    return moment.replace(tzinfo=LOCAL_ZONE).astimezone(timezone.utc).replace(tzinfo=None)


def long_date(value) -> str:
    """A date as GOV.UK writes it: 5 January 2026 (empty for none)."""
    return f"{value:%-d %B %Y}" if value else ""


def _clock(moment: datetime) -> str:
    return f"{moment:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")


def local_time(value: datetime | None) -> str:
    """A stored (UTC) time as UK time: "3 May 2026 at 2:05pm"."""
    if value is None:
        return ""
    local = utc_to_local(value)
    return f"{long_date(local)} at {_clock(local)}"


def admin_time(value: datetime | None) -> str:
    """The same for the audit log and a person's activity: "3 May 2026, 2:05pm"."""
    if value is None:
        return ""
    local = utc_to_local(value)
    return f"{long_date(local)}, {_clock(local)}"


# The tag colour of each case status.
CASE_STATUS_COLOURS = {
    "Awaiting authentication": "govuk-tag--yellow",
    "No open case": "govuk-tag--grey",
    "Request received": "govuk-tag--light-blue",
    "Deciding whether to assess": "govuk-tag--light-blue",
    "Assessment in progress": "govuk-tag--blue",
    "Not assessing": "govuk-tag--grey",
    "Draft plan issued": "govuk-tag--purple",
    "EHC plan issued": "govuk-tag--green",
    "Annual review due": "govuk-tag--orange",
    "Plan ceased": "govuk-tag--grey",
}


@lru_cache(maxsize=64)
def case_status_tag(status: str) -> Markup:
    """A case status as a GOV.UK tag in its colour. A function, not a macro:
    the caseload draws one a row, and a Jinja macro call costs many times as
    much (docs/PERFORMANCE.md, "Figures from the code's comments")."""
    return Markup('<strong class="govuk-tag {}">{}</strong>').format(CASE_STATUS_COLOURS.get(status, ""), status)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(long_date=long_date, local_time=local_time, admin_time=admin_time)
    app.jinja_env.globals.update(
        case_status_tag=case_status_tag, flashed_message_and_error=flashed_message_and_error,
        pagination=pagination, showing=showing,
    )
    # Templates decide what a professional is shown by the one rule (send_portal/rules.py).
    app.jinja_env.tests.update(sees_la_record=rules.sees_la_record)
