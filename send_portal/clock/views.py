"""The statutory clock pages (issue 15), for LA administrators:

- /admin/clock: every open case against the statutory timescales, with
  counts, filters, a picture and the cases in deadline order; a page, or an
  htmx partial chosen by the HX-Request header as the caseload does;
- /admin/clock/cases.csv: the same filtered cases as CSV;
- /admin/clock/sen2: the SEN2 person-level fields for a census date as CSV.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from flask import Blueprint, abort, current_app, render_template, request

from ..admin.access import admin_required
from ..csv_export import csv_safe, spooled_csv
from ..htmx import render_page_or_block
from ..portal import list_address, page_addresses, page_number
from . import deadlines as dl
from . import queries, sen2
from .chart import bar_chart
from .queries import ClockFilters

bp = Blueprint("clock", __name__, url_prefix="/admin/clock")

MAX_EMAIL = 254
MAX_ORGANISATION = 200


def _filters(source) -> ClockFilters:
    stage = (source.get("stage") or "").strip()
    if stage and stage not in dl.STAGES:
        abort(400, "That stage does not exist. Choose a stage from the list.")
    status = (source.get("status") or "").strip()
    if status and status not in dl.STATUSES:
        abort(400, "That status does not exist. Choose Overdue, Due this week, At risk or On track.")
    professional = (source.get("professional") or "").strip()
    if len(professional) > MAX_EMAIL:
        abort(400, f"The professional’s email address must be {MAX_EMAIL} characters or fewer.")
    organisation = " ".join((source.get("organisation") or "").split())
    if len(organisation) > MAX_ORGANISATION:
        abort(400, f"The organisation must be {MAX_ORGANISATION} characters or fewer.")
    return ClockFilters(stage, status, professional, organisation)


def clock_url(filters: ClockFilters, page: int = 1) -> str:
    return list_address("clock.clock", page, **filters.args())


def _children(n: int) -> str:
    return "1 child" if n == 1 else f"{n:,} children"


@bp.get("")
@admin_required
def clock():
    filters = _filters(request.args)
    page = page_number(request.args.get("page"))
    today = dl.london_today()
    result = queries.clock_page(filters, page, current_app.config["PAGE_SIZE"], today)
    chart = queries.chart_data(filters, today)
    found = f"{_children(result.total)} found" if result.total else "No children found"
    weeks_desc = (
        "Open cases before the final plan, by the week of the 20 they are in: "
        + ", ".join(f"week {label}: {n}" if label.isdigit() else f"past week 20: {n}" for label, n in chart.weeks)
        + ". The same figures are in the table that follows."
    )
    months_desc = (
        "Final plans issued after week 20, by month: "
        + ", ".join(f"{month:%B %Y}: {n}" for month, n in chart.months)
        + ". The same figures are in the table that follows."
    )
    return render_page_or_block(
        "clock/clock.html",
        "workspace",
        filters=filters,
        result=result,
        chart=chart,
        today=today,
        found=found,
        stages=dl.STAGES,
        statuses=dl.STATUSES,
        exception_reasons=dl.EXCEPTION_REASONS,
        rules=dl.RULES,
        base_url=clock_url(ClockFilters()),
        status_url=lambda status: clock_url(replace(filters, status=status)),
        page_url=page_addresses("clock.clock", **filters.args()),
        csv_url=list_address("clock.cases_csv", 1, **filters.args()),
        weeks_chart=bar_chart("clock-weeks-chart", "Open cases by week of the 20", weeks_desc,
                              [(label if label.isdigit() else "20+", n) for label, n in chart.weeks], "Week of the 20"),
        months_chart=bar_chart("clock-breaches-chart", "Final plans issued late, by month", months_desc,
                               [(f"{month:%b}", n) for month, n in chart.months], "Month the final plan was issued"),
    )


CASES_HEADER = ["Person ID", "Name", "LA reference", "Stage", "Week of 20", "Next deadline", "Due on",
                "Status", "Why", "Advice outstanding", "Request received", "20-week exception"]


@bp.get("/cases.csv")
@admin_required
def cases_csv():
    filters = _filters(request.args)
    today = dl.london_today()

    def write(stream):
        import csv

        writer = csv.writer(stream)
        writer.writerow(CASES_HEADER)
        for row in queries.all_rows(filters, today):
            writer.writerow([csv_safe(v) for v in (
                row.id, row.name, row.la_reference, row.stage_label, row.week or "", row.deadline_label,
                row.due_on.isoformat(), row.status_label, row.why,
                f"{row.advice_waiting} of {row.advice_asked}" if row.advice_asked else "",
                row.received_on.isoformat(), row.exception_reason or "",
            )])

    return spooled_csv(write, f"statutory-clock-{today:%Y-%m-%d}.csv")


_NUMBER = re.compile(r"[0-9]{1,4}")


def _census_date(args) -> tuple[date | None, dict, list[tuple[str, str]]]:
    raw = {part: (args.get(f"census-{part}") or "").strip() for part in ("day", "month", "year")}
    if not any(raw.values()):
        return None, raw, [("census-day", "Enter the census date")]
    missing = [part for part in ("day", "month", "year") if not raw[part]]
    if missing:
        return None, raw, [(f"census-{missing[0]}", f"The census date must include a {missing[0]}")]
    if not all(_NUMBER.fullmatch(v) for v in raw.values()) or len(raw["year"]) != 4:
        return None, raw, [("census-day", "The census date must be a real date, for example 16 1 2025")]
    if not 2000 <= int(raw["year"]) <= 2100:  # the export reaches back a year: year 1 has no year before it
        return None, raw, [("census-year", "The census year must be between 2000 and 2100")]
    try:
        census = date(int(raw["year"]), int(raw["month"]), int(raw["day"]))
    except ValueError:
        return None, raw, [("census-day", "The census date must be a real date, for example 16 1 2025")]
    if census > dl.london_today():
        return None, raw, [("census-day", "The census date must be today or in the past")]
    return census, raw, []


@bp.get("/sen2")
@admin_required
def sen2_export():
    if "census-day" not in request.args and "census-month" not in request.args and "census-year" not in request.args:
        return render_template("clock/sen2.html", raw={}, errors=[], reasons=dl.EXCEPTION_REASONS)
    census, raw, errors = _census_date(request.args)
    if errors:
        return render_template("clock/sen2.html", raw=raw, errors=errors, reasons=dl.EXCEPTION_REASONS), 400
    return spooled_csv(lambda stream: sen2.write(stream, census), f"sen2-{census:%Y-%m-%d}.csv")
