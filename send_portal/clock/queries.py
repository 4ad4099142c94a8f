"""The statutory clock's reads. Every query keeps "clock_due_on IS NOT NULL"
among its conditions, so both engines read the open cases from the partial
indexes of migration 0011 and never the whole person table.

Admin only: the views check the role; an LA administrator sees every case."""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, exists, func, not_, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from .. import rules
from ..extensions import db
from ..forms.models import FormRequest, FormResponse
from ..models import Involvement, Person, User
from ..pagination import Page
from . import deadlines as dl
from .prediction import Advice, Assessment, Medians, assess, thresholds

OPEN = Person.clock_due_on.is_not(None)
MEDIANS_SECONDS = 600  # the authority's medians are worked out at most this often
HISTORY_ROWS = 2000  # the most recent requests (and advice) the medians read
IDS_AT_ONCE = 500
# A list of keys bound as one parameter: SQLAlchemy does not build (and
# coerce) a literal for each key of the list on every request.
IDS = bindparam("ids", expanding=True)


@dataclass(frozen=True)
class ClockFilters:
    stage: str = ""
    status: str = ""
    professional: str = ""  # the professional's email address
    organisation: str = ""

    def args(self) -> dict:
        return {"stage": self.stage, "status": self.status, "professional": self.professional,
                "organisation": self.organisation}

    @property
    def any(self) -> bool:
        return any(self.args().values())


@dataclass
class ClockRow:
    id: int
    given_name: str
    family_name: str
    la_reference: str | None
    stage: str
    deadline: str  # deadlines.RULES key
    due_on: date
    received_on: date
    week: int | None  # of the 20, before the final plan
    status: str
    why: str
    advice_waiting: int
    advice_asked: int
    exception_reason: str | None

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def stage_label(self) -> str:
        return dl.STAGES[self.stage]

    @property
    def deadline_label(self) -> str:
        return dl.RULES[self.deadline].label

    @property
    def status_label(self) -> str:
        return dl.STATUSES[self.status]


@dataclass
class ClockPage(Page):
    rows: list[ClockRow]
    counts: dict[str, int] = field(default_factory=dict)
    medians: Medians | None = None


# --- the authority's medians -------------------------------------------------

def _days(later: date | None, earlier: date | None) -> int | None:
    return (later - earlier).days if later and earlier else None


def compute_medians() -> Medians:
    samples: dict[str, list[int]] = defaultdict(list)
    people = db.session.execute(
        select(Person.request_received_on, Person.assessment_decision_on, Person.draft_plan_on, Person.final_plan_on)
        .where(Person.request_received_on.is_not(None))
        .order_by(Person.request_received_on.desc())
        .limit(HISTORY_ROWS)
    ).all()
    for received, decided, drafted, final in people:
        for step, days in (("decision", _days(decided, received)), ("draft", _days(drafted, decided)),
                           ("final", _days(final, drafted))):
            if days is not None:
                samples[step].append(days)
    advice = db.session.execute(
        select(FormRequest.requested_at, func.min(FormResponse.submitted_at))
        .join(FormResponse, FormResponse.form_request_id == FormRequest.id)
        .where(FormResponse.submitted_at.is_not(None))
        .group_by(FormRequest.id, FormRequest.requested_at)
        .order_by(FormRequest.id.desc())
        .limit(HISTORY_ROWS)
    ).all()
    for requested_at, submitted_at in advice:
        samples["advice"].append((dl.london_today(submitted_at) - dl.london_today(requested_at)).days)
    return Medians.from_samples(samples)


def medians() -> Medians:
    """The medians, worked out again at most every MEDIANS_SECONDS per app."""
    cache = current_app.extensions.setdefault("clock_medians", {})
    now = time.monotonic()
    if cache.get("until", 0) <= now:
        cache["value"], cache["until"] = compute_medians(), now + MEDIANS_SECONDS
    return cache["value"]


def forget_medians() -> None:
    current_app.extensions.pop("clock_medians", None)


# --- filters -------------------------------------------------------------------

def professional_ids(filters: ClockFilters) -> list[int] | None:
    """The professionals the professional and organisation filters name (None: no such filter)."""
    if not filters.professional and not filters.organisation:
        return None
    query = select(User.id).where(User.role == "professional")
    if filters.professional:
        query = query.where(func.lower(User.email) == filters.professional.lower())
    if filters.organisation:
        query = query.where(func.lower(func.trim(User.organisation)) == filters.organisation.lower())
    return list(db.session.scalars(query))


def _conditions(filters: ClockFilters) -> list:
    return [OPEN, *_filter_conditions(filters)]


def _filter_conditions(filters: ClockFilters) -> list:
    """The stage, professional and organisation filters."""
    conditions = []
    if filters.stage:
        conditions.append(Person.clock_stage == filters.stage)
    ids = professional_ids(filters)
    if ids is not None:
        if not ids:
            conditions.append(Person.id.is_(None))  # nobody: no such professional
        else:
            # Its own alias, so that it correlates with the person alone.
            theirs = aliased(Involvement)
            conditions.append(exists().where(
                theirs.person_id == Person.id,
                theirs.professional_id.in_(ids),
                rules.live(theirs),
                rules.la_record_visible(theirs),
            ))
    return conditions


# --- advice and statuses -------------------------------------------------------

def advice_for(person_ids) -> dict[int, list[Advice]]:
    """Every request for advice about these people, and whether it was answered."""
    ids = list(person_ids)
    found: dict[int, list[Advice]] = defaultdict(list)
    answered = exists().where(FormResponse.form_request_id == FormRequest.id, FormResponse.submitted_at.is_not(None))
    for start in range(0, len(ids), IDS_AT_ONCE):
        rows = db.session.execute(
            select(Involvement.person_id, Involvement.professional_id, FormRequest.requested_at, answered)
            .join(Involvement, Involvement.id == FormRequest.involvement_id)
            .where(Involvement.person_id.in_(IDS)), {"ids": ids[start:start + IDS_AT_ONCE]}
        ).all()
        for person_id, professional_id, requested_at, done in rows:
            found[person_id].append(Advice(professional_id, dl.london_today(requested_at), bool(done)))
    return found


class days_between(FunctionElement):
    """Whole days from the second date to the first, on either engine."""
    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"CAST(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(CAST({compiler.process(later, **kw)} AS date) - CAST({compiler.process(earlier, **kw)} AS date))"


def _later(today: date):
    """Not yet due this week: the cases At risk and On track are among."""
    return Person.clock_due_on >= today + timedelta(days=dl.DUE_THIS_WEEK_DAYS)


def _at_risk_sql(m: Medians, today: date):
    """prediction._at_risk as a condition on the stored columns of the cases
    not yet due this week (prediction.Thresholds), read from
    ix_person_clock_stage alone; outstanding advice by Person.clock_advice_on,
    the newest unanswered request (the latest to arrive)."""
    t = thresholds(m, today)
    return or_(
        and_(Person.clock_stage == dl.REQUEST, true() if t.request_all else Person.clock_due_on < t.request_due_before),
        and_(Person.clock_stage == dl.ASSESSMENT, or_(
            days_between(Person.clock_due_on, Person.assessment_decision_on) < t.assessment_slack_below,
            Person.clock_due_on < t.assessment_due_before,
            # Outstanding advice, asked for since the request, arriving late.
            # (IS NOT NULL first: without advice this is false, never NULL, so On track's NOT holds.)
            and_(Person.clock_advice_on.is_not(None), Person.clock_advice_on >= Person.request_received_on,
                 days_between(Person.clock_due_on, Person.clock_advice_on) < t.advice_days_late),
        )),
        and_(Person.clock_stage == dl.DRAFT, days_between(Person.clock_due_on, Person.draft_plan_on) < t.draft_slack_below),
    )


def _at_risk_condition(today: date, m: Medians):
    """At risk: not due this week, and late by the steps to come (prediction.Thresholds)."""
    return and_(_later(today), _at_risk_sql(m, today))


def _status_conditions(filters: ClockFilters, today: date, m: Medians) -> list:
    conditions = _conditions(filters)
    if filters.status == dl.OVERDUE:
        conditions.append(Person.clock_due_on < today)
    elif filters.status == dl.DUE_THIS_WEEK:
        conditions += [Person.clock_due_on >= today, Person.clock_due_on < today + timedelta(days=dl.DUE_THIS_WEEK_DAYS)]
    elif filters.status == dl.AT_RISK:
        conditions.append(_at_risk_condition(today, m))
    elif filters.status == dl.ON_TRACK:
        conditions += [_later(today), not_(_at_risk_sql(m, today))]
    return conditions


def counts(filters: ClockFilters, today: date, m: Medians) -> dict[str, int]:
    """How many cases the filters (not the status filter) find, by status."""
    week_end = today + timedelta(days=dl.DUE_THIS_WEEK_DAYS)
    unfiltered = ClockFilters(**{**filters.args(), "status": ""})
    total, overdue, this_week = db.session.execute(
        select(
            func.count(),
            func.count().filter(Person.clock_due_on < today),
            func.count().filter(and_(Person.clock_due_on >= today, Person.clock_due_on < week_end)),
        ).select_from(Person).where(*_conditions(unfiltered))
    ).one()
    at_risk = db.session.scalar(
        select(func.count()).select_from(Person).where(
            *_conditions(unfiltered), _later(today), Person.clock_stage.in_(dl.PRE_PLAN_STAGES),
            _at_risk_sql(m, today))
    )
    return {
        "total": total,
        dl.OVERDUE: overdue,
        dl.DUE_THIS_WEEK: this_week,
        dl.AT_RISK: at_risk,
        dl.ON_TRACK: total - overdue - this_week - at_risk,
    }


def _rows(ids: list[int], statuses: dict[int, Assessment], today: date) -> list[ClockRow]:
    """The page's rows, in the order of ids."""
    if not ids:
        return []
    people = {
        p.id: p for p in db.session.execute(
            select(Person.id, Person.given_name, Person.family_name, Person.la_reference, Person.clock_stage,
                   Person.clock_due_on, Person.request_received_on, Person.assessment_decision_on,
                   Person.draft_plan_on, Person.final_plan_on, Person.next_review_on, Person.case_status,
                   Person.assessment_outcome, Person.twenty_week_exception_reason)
            .where(Person.id.in_(IDS)), {"ids": ids}
        ).all()
    }
    advice = advice_for(i for i in ids if people[i].clock_stage in dl.PRE_PLAN_STAGES)
    rows = []
    for i in ids:
        p = people[i]
        nxt = dl.next_deadline(p)
        result = statuses.get(i) or assess(p, advice.get(i, []), medians(), today)
        asked = {a.professional_id for a in advice.get(i, []) if a.requested_on >= p.request_received_on}
        waiting = {a.professional_id for a in advice.get(i, []) if a.requested_on >= p.request_received_on and not a.answered}
        rows.append(ClockRow(
            id=p.id, given_name=p.given_name, family_name=p.family_name, la_reference=p.la_reference,
            stage=p.clock_stage, deadline=nxt[0] if nxt else dl.STAGE_DEADLINE[p.clock_stage], due_on=p.clock_due_on,
            received_on=p.request_received_on,
            week=dl.week_of_twenty(p.request_received_on, today) if p.clock_stage in dl.PRE_PLAN_STAGES else None,
            status=result.status, why=result.why, advice_waiting=len(waiting), advice_asked=len(asked),
            exception_reason=p.twenty_week_exception_reason,
        ))
    return rows


def clock_page(filters: ClockFilters, page: int, page_size: int, today: date) -> ClockPage:
    m = medians()
    tally = counts(filters, today, m)
    total = tally[filters.status] if filters.status else tally["total"]
    page = min(max(1, page), max(1, -(-total // page_size)))
    page_ids = list(db.session.scalars(
        select(Person.id).where(*_status_conditions(filters, today, m)).order_by(Person.clock_due_on, Person.id)
        .limit(page_size).offset((page - 1) * page_size)
    ))
    return ClockPage(_rows(page_ids, {}, today), total, page, page_size, tally, m)


def all_rows(filters: ClockFilters, today: date):
    """Every case the filters find, in deadline order (the CSV export), a
    block at a time."""
    m = medians()
    ids = list(db.session.scalars(
        select(Person.id).where(*_status_conditions(filters, today, m)).order_by(Person.clock_due_on, Person.id)))
    for start in range(0, len(ids), IDS_AT_ONCE):
        yield from _rows(ids[start:start + IDS_AT_ONCE], {}, today)


# --- the picture -------------------------------------------------------------

@dataclass
class ChartData:
    weeks: list[tuple[str, int]]  # ("1", n) ... ("20", n), ("Past 20", n)
    months: list[tuple[date, int]]  # (first of month, final plans issued after week 20)


def chart_data(filters: ClockFilters, today: date, months: int = 12) -> ChartData:
    by_week = [0] * 21
    rows = db.session.execute(
        select(Person.request_received_on, func.count())
        .where(*_conditions(filters), Person.clock_stage.in_(dl.PRE_PLAN_STAGES))
        .group_by(Person.request_received_on)
    ).all()
    for received, n in rows:
        week = dl.week_of_twenty(received, today)
        by_week[min(max(week, 1), 21) - 1] += n
    weeks = [(str(i + 1), by_week[i]) for i in range(20)] + [("Past 20", by_week[20])]

    first = dl.add_months(today.replace(day=1), -(months - 1))
    late: dict[date, int] = {dl.add_months(first, i): 0 for i in range(months)}
    # Counted from ix_person_final_plan_on alone (it holds both dates), a row a day.
    late_days = days_between(Person.final_plan_on, Person.request_received_on) > dl.RULES["final"].days
    by_day = db.session.execute(
        select(Person.final_plan_on, func.count().filter(late_days))
        .where(Person.final_plan_on.is_not(None), Person.final_plan_on >= first, Person.final_plan_on <= today,
               Person.request_received_on.is_not(None))
        .group_by(Person.final_plan_on)
    ).all()
    for final, n in by_day:
        late[final.replace(day=1)] += n
    return ChartData(weeks, list(late.items()))


# --- the SEN2 fields the LA admin records (the admin's timeline form) -------------

SEN2_FIELDS = (("assessment_outcome", "Outcome of the request", dl.ASSESSMENT_OUTCOMES),
               ("twenty_week_exception_reason", "20-week exception", dl.EXCEPTION_REASONS))


def set_sen2_fields(admin, person: Person, values: dict) -> list[str]:
    """Each field that changes is recorded as activity and in the audit log,
    as the timeline dates are."""
    from .. import audit
    from ..caseload.queries import record_activity

    changed = []
    for attribute, label, words in SEN2_FIELDS:
        new, old = values.get(attribute), getattr(person, attribute)
        if new == old:
            continue
        setattr(person, attribute, new)
        shown = words.get(new, "none") if new else "none"
        record_activity(person, f"{label} set to {shown}" if new else f"{label} removed", admin)
        audit.record(audit.TIMELINE_DATE_CHANGED, changed_by=admin, person=person,
                     details=f"{label}: from {words.get(old, 'none') if old else 'none'} to {shown}")
        changed.append(label)
    return changed
