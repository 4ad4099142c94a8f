"""The audit log (SPEC section 5): filtered by person, user, action and
dates, a page at a time or as a CSV download."""
from __future__ import annotations

import csv
import re
from datetime import date

from flask import abort, request

from ..csv_export import csv_safe, spooled_csv
from ..htmx import is_htmx, render_page_or_block
from ..portal import list_address, page_addresses
from . import audit_log_queries as queries
from . import bp
from .access import admin_required
from .audit_log_queries import AuditFilters
from .common import page_arg, page_size, text_arg

_DATE_FORMATS = (r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", r"([0-9]{1,2})[/ .-]([0-9]{1,2})[/ .-]([0-9]{4})")
# The dates the audit log can be filtered by: the service's entries lie well
# inside, and a date at the calendar's ends (31/12/9999) would overflow when
# turned into the UTC bounds of its day.
AUDIT_FIRST_DAY, AUDIT_LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def parse_filter_date(text: str) -> date | None:
    """27/3/2026, 27 3 2026 or 2026-03-27; None when it is not a real date."""
    text = text.strip()
    for number, pattern in enumerate(_DATE_FORMATS):
        match = re.fullmatch(pattern, text)
        if match:
            a, b, c = (int(g) for g in match.groups())
            year, month, day = (a, b, c) if number == 0 else (c, b, a)
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def _audit_filters(source) -> tuple[AuditFilters, dict[str, str], list[tuple[str, str]]]:
    """The filters, their raw text (to show back) and the problems found."""
    raw = {
        "person": text_arg(source, "person", "Person"),
        "user": text_arg(source, "user", "User"),
        "action": text_arg(source, "action", "Action"),
        "from": text_arg(source, "from", "Date from"),
        "to": text_arg(source, "to", "Date to"),
    }
    problems: list[tuple[str, str]] = []
    filters = AuditFilters(person=raw["person"], user=raw["user"], action=raw["action"])
    if filters.action and filters.action not in queries.audit_actions():
        problems.append(("audit-action", "Choose an action from the list"))
    for key, label, attribute in (("from", "Date from", "date_from"), ("to", "Date to", "date_to")):
        if raw[key]:
            value = parse_filter_date(raw[key])
            if value is None:
                problems.append((f"audit-{key}", f"{label} must be a real date, such as 27/3/2026"))
            elif not AUDIT_FIRST_DAY <= value <= AUDIT_LAST_DAY:
                problems.append((f"audit-{key}", f"{label} must be between {AUDIT_FIRST_DAY:%-d/%-m/%Y} and {AUDIT_LAST_DAY:%-d/%-m/%Y}"))
                value = None
            setattr(filters, attribute, value)
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        problems.append(("audit-to", "Date to must be the same as or after date from"))
    return filters, raw, problems


def audit_url(raw: dict[str, str], page: int = 1, endpoint: str = "admin.audit_log") -> str:
    return list_address(endpoint, page, **raw)


@bp.get("/audit")
@admin_required
def audit_log():
    filters, raw, problems = _audit_filters(request.args)
    page = page_arg(request.args)
    result = None if problems else queries.audit_page(filters, page, page_size())
    if problems:
        found = "There is a problem with the filters"
    elif result.total:
        found = f"{result.total:,} {'entry' if result.total == 1 else 'entries'} found"
    else:
        found = "No entries found"
    return render_page_or_block(
        "admin/audit_log.html",
        "workspace",
        # htmx swaps only a 2xx answer: the partial shows its own error summary.
        status=400 if problems and not is_htmx() else 200,
        filters=filters,
        raw=raw,
        errors=problems,
        result=result,
        found=found,
        actions=queries.audit_actions(),
        audit_url=audit_url,
        page_url=page_addresses("admin.audit_log", **raw),
        changed_by_name=queries.changed_by_name,
    )


CSV_HEADER = ["Time (UTC)", "Changed by", "Action", "Person", "Given Name", "PortalName", "Details"]


@bp.get("/audit.csv")
@admin_required
def audit_log_csv():
    filters, _raw, problems = _audit_filters(request.args)
    if problems:
        abort(400, problems[0][1] + ".")
    return spooled_csv(lambda stream: _write_csv(stream, filters), f"audit-log-{date.today():%Y-%m-%d}.csv")


def _write_csv(stream, filters: AuditFilters) -> None:
    """The filtered entries, newest first; UTF-8 with a byte order mark so
    that spreadsheets read accented names correctly."""
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER)
    for entry in queries.audit_entries(filters):
        writer.writerow([
            csv_safe(value)
            for value in (
                entry.occurred_at.isoformat(timespec="seconds") + "Z",
                queries.changed_by_name(entry),
                entry.action,
                entry.person_name,
                entry.professional_given_name,
                entry.professional_portal_name,
                entry.details,
            )
        ])
