"""The statutory timescales, in one table, and the date arithmetic on them.

Statutory weeks are calendar weeks, so no bank-holiday arithmetic. Dates are
calendar dates in Europe/London: "today" is the London date, not the UTC one
(just after midnight in British Summer Time it is already tomorrow in London
while UTC is still on yesterday).

This module imports nothing from the application: migration
0011_statutory_clock uses it to fill the stored clock columns, and
send_portal/people/timeline.py draws the child's timeline from the same table.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Rule:
    key: str
    label: str  # the deadline as the clock shows it
    days: int | None  # days from the date it counts from
    counts_from: str
    source: str


# SEND Code of Practice 0 to 25 years (2015), chapter 9, and the SEND
# Regulations 2014. The only table of the statutory timescales in the portal.
RULES: dict[str, Rule] = {
    r.key: r
    for r in (
        Rule("decision", "Decision whether to assess", 6 * 7, "request received",
             "Code of Practice 9.14; Regulation 4(1): within 6 weeks of the request"),
        Rule("advice", "Advice due", 6 * 7, "advice requested",
             "Code of Practice 9.52; Regulation 8: advice within 6 weeks of being requested"),
        # The Code fixes no separate date for the draft: the final plan is due
        # at week 20 and the parent or young person has at least 15 days to
        # comment on the draft (Regulation 13(1), Code 9.77), then the school
        # named is consulted (15 days, Code 9.79). Week 16 is also the statutory
        # date for telling the family the LA will not issue a plan (Regulation
        # 10(1)). A draft at week 16 leaves 28 days for both 15-day periods to
        # run together and the plan to be finalised, so the portal takes week
        # 16 as the latest date for the draft (as the child's timeline has).
        Rule("draft", "Draft plan", 16 * 7, "request received",
             "Regulation 10(1) and 13(1); Code 9.77: draft by week 16 so the final can be issued by week 20"),
        Rule("final", "Final plan", 20 * 7, "request received",
             "Code of Practice 9.40; Regulation 13(2): final plan within 20 weeks of the request"),
        Rule("review", "Annual review", None, "final plan or last review",
             "Code of Practice 9.166; Regulation 18: review within 12 months of the plan or last review"),
    )
}
REVIEW_MONTHS = 12
STATUTORY_WEEKS = 20

# Stages of an open case, in order; the stored Person.clock_stage values.
REQUEST, ASSESSMENT, DRAFT, REVIEW = "request", "assessment", "draft", "review"
STAGES = {
    REQUEST: "Deciding whether to assess",
    ASSESSMENT: "Assessment",
    DRAFT: "Draft plan issued",
    REVIEW: "Plan in place (annual review)",
}
PRE_PLAN_STAGES = (REQUEST, ASSESSMENT, DRAFT)
# The deadline each stage is working to.
STAGE_DEADLINE = {REQUEST: "decision", ASSESSMENT: "draft", DRAFT: "final", REVIEW: "review"}
# Case statuses that close a case for the clock.
CLOSED_STATUSES = ("No open case", "Not assessing", "Plan ceased")

# Assessment outcome (SEN2: whether the LA decided to assess).
ASSESS, NOT_ASSESS = "assess", "not_assess"
ASSESSMENT_OUTCOMES = {ASSESS: "Decided to assess", NOT_ASSESS: "Decided not to assess"}

# SEN2 20-week exception reasons (DfE SEN2 guide; the exceptions of
# Regulations 10(4) and 13(3) of the SEND Regulations 2014). The one list.
EXCEPTION_REASONS = {
    "A": "The educational institution was closed for at least 4 weeks",
    "B": "Exceptional personal circumstances affecting the child or their parent, or the young person",
    "C": "The child or their parent, or the young person, was absent from the area for at least 4 weeks",
    "D": "The child's parent or the young person failed to keep an appointment for an examination or test",
}

# Statuses, as the clock shows them (always as text).
OVERDUE, DUE_THIS_WEEK, AT_RISK, ON_TRACK = "overdue", "due_this_week", "at_risk", "on_track"
STATUSES = {OVERDUE: "Overdue", DUE_THIS_WEEK: "Due this week", AT_RISK: "At risk", ON_TRACK: "On track"}
DUE_THIS_WEEK_DAYS = 7  # due today or in the next 6 days


def london_today(now: datetime | None = None) -> date:
    """Today's date in London. A naive `now` is taken as UTC."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(LONDON).date()


def add_months(start: date, months: int) -> date:
    """The same day `months` later; a day the month lacks becomes its last
    day (29 February + 12 months is 28 February; 31 August + 6 months is the
    end of February)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due(rule: str, start: date) -> date:
    """The deadline of `rule` counted from `start`."""
    if rule == "review":
        return add_months(start, REVIEW_MONTHS)
    return start + timedelta(days=RULES[rule].days)


def week_of_twenty(received: date, today: date) -> int:
    """The week the case is in, counting from the request: week 1 is days 0 to 6.
    Past week 20 it keeps counting (21, 22, ...). 0 before the request date."""
    days = (today - received).days
    return days // 7 + 1 if days >= 0 else 0


def stage_of(person) -> str | None:
    """The clock stage of a person's record, or None if the case is not open."""
    if person.request_received_on is None or person.case_status in CLOSED_STATUSES:
        return None
    if getattr(person, "assessment_outcome", None) == NOT_ASSESS:
        return None
    if person.final_plan_on:
        return REVIEW
    if person.draft_plan_on:
        return DRAFT
    if person.assessment_decision_on:
        return ASSESSMENT
    return REQUEST


def next_deadline(person) -> tuple[str, date] | None:
    """(rule key, date) of the next statutory deadline of an open case."""
    stage = stage_of(person)
    if stage is None:
        return None
    received = person.request_received_on
    if stage == REVIEW:
        return "review", person.next_review_on or due("review", person.final_plan_on)
    return STAGE_DEADLINE[stage], due(STAGE_DEADLINE[stage], received)


def clock_fields(person) -> tuple[str | None, date | None]:
    """The stored (clock_stage, clock_due_on) of a person's record."""
    nxt = next_deadline(person)
    return (stage_of(person), nxt[1]) if nxt else (None, None)


def date_status(due_on: date, today: date) -> str:
    """Overdue / Due this week / On track from the date alone."""
    if due_on < today:
        return OVERDUE
    if due_on < today + timedelta(days=DUE_THIS_WEEK_DAYS):
        return DUE_THIS_WEEK
    return ON_TRACK
