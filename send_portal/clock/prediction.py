"""At risk: whether an open case's outstanding steps, each taking this
authority's own median time (from its recent history; the statutory time
where it has too little), would carry it past a statutory deadline, and why,
in words.

The one rule (`assess`) serves the counts, the status filter and each row.
The steps and the days they take:

- decision: request received -> decision whether to assess;
- advice: advice requested -> advice submitted (each professional asked);
- draft: decision -> draft plan (the assessment; it also waits for the advice);
- final: draft plan -> final plan.

A step that is outstanding and already older than its median is predicted
to finish today at the earliest, never in the past.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from . import deadlines as dl

# Days each step takes by statute (the fallback without history): 6 weeks to
# decide, 6 weeks for advice, the rest of the 16 weeks for the draft, and
# weeks 16 to 20 for the final plan.
STATUTORY_DAYS = {
    "decision": dl.RULES["decision"].days,
    "advice": dl.RULES["advice"].days,
    "draft": dl.RULES["draft"].days - dl.RULES["decision"].days,
    "final": dl.RULES["final"].days - dl.RULES["draft"].days,
}
STEP_WORDS = {
    "decision": "the decision whether to assess",
    "advice": "advice",
    "draft": "a draft plan after the decision",
    "final": "the final plan after the draft",
}
MIN_HISTORY = 5  # completed steps needed before a median replaces the statutory time


@dataclass(frozen=True)
class Medians:
    days: dict[str, int]
    from_history: dict[str, bool]

    @classmethod
    def from_samples(cls, samples: dict[str, list[int]]) -> "Medians":
        days, history = {}, {}
        for step, statutory in STATUTORY_DAYS.items():
            values = [v for v in samples.get(step, []) if v >= 0]
            if len(values) >= MIN_HISTORY:
                days[step], history[step] = int(round(median(values))), True
            else:
                days[step], history[step] = statutory, False
        return cls(days, history)

    def words(self, step: str) -> str:
        n = self.days[step]
        unit = "day" if n == 1 else "days"
        if self.from_history[step]:
            return f"{STEP_WORDS[step]} has taken a median of {n} {unit} here"
        return f"{STEP_WORDS[step]} is taken at the statutory {n} {unit} (too little history here)"


STATUTORY = Medians.from_samples({})


@dataclass(frozen=True)
class Advice:
    """One request for advice about the child: who, when, and whether answered."""
    professional_id: int
    requested_on: date
    answered: bool


@dataclass
class Assessment:
    status: str  # deadlines.STATUSES key
    reasons: list[str] = field(default_factory=list)
    predicted_final: date | None = None

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


def _later(*days: date) -> date:
    return max(days)


def _at_risk(case, advice: list[Advice], m: dict[str, int], today: date) -> bool:
    """assess()'s verdict without its words, for counting many cases: the
    same predicted dates compared with the same deadlines."""
    received = case.request_received_on
    day = timedelta(days=1)
    if case.clock_stage == dl.REQUEST:
        decided = max(received + m["decision"] * day, today)
        if decided > received + dl.RULES["decision"].days * day:
            return True
        drafted = decided + m["draft"] * day
    elif case.clock_stage == dl.ASSESSMENT:
        drafted = max(case.assessment_decision_on + m["draft"] * day, today)
        for a in advice:
            if not a.answered and a.requested_on >= received:
                drafted = max(drafted, a.requested_on + m["advice"] * day)
        if drafted > received + dl.RULES["draft"].days * day:
            return True
    else:
        drafted = case.draft_plan_on
    return max(drafted + m["final"] * day, today) > received + dl.RULES["final"].days * day


@dataclass(frozen=True)
class Thresholds:
    """_at_risk's verdict, worked out once for all cases not yet due this
    week (clock_due_on at least a week away), as bounds the database can test
    on each stage's stored columns. `slack` is the days between the step's
    start (the decision for an assessment, the draft for a draft) and the
    stage's deadline (clock_due_on). tests/test_clock.py checks these against
    _at_risk on a grid of cases.

    - request (due = received + 42): decided = max(received + m_decision,
      today); at risk iff m_decision > 42, or decided + m_draft + m_final >
      received + 140, i.e. m_decision + m_draft + m_final > 140 or due <
      today + m_draft + m_final - 98;
    - assessment (due = received + 112): drafted = max(decision + m_draft,
      today); at risk iff slack < m_draft, or slack < m_draft + m_final - 28,
      or due < today + m_final - 28 (and the advice: advice_late);
    - draft (due = received + 140): at risk iff slack < m_final."""
    request_all: bool
    request_due_before: date
    assessment_slack_below: int
    assessment_due_before: date
    draft_slack_below: int
    # Outstanding advice asked for on day A makes an assessment at risk iff
    # A + advice_days_late > due.
    advice_days_late: int


def thresholds(medians: Medians, today: date) -> Thresholds:
    m = medians.days
    decision, draft, final = dl.RULES["decision"].days, dl.RULES["draft"].days, dl.RULES["final"].days
    return Thresholds(
        request_all=m["decision"] > decision or m["decision"] + m["draft"] + m["final"] > final,
        request_due_before=today + timedelta(days=m["draft"] + m["final"] - (final - decision)),
        assessment_slack_below=max(m["draft"], m["draft"] + m["final"] - (final - draft)),
        assessment_due_before=today + timedelta(days=m["final"] - (final - draft)),
        draft_slack_below=m["final"],
        advice_days_late=m["advice"] + max(0, m["final"] - (final - draft)),
    )


def assess(case, advice: list[Advice], medians: Medians, today: date, explain: bool = True) -> Assessment:
    """The clock status of an open case (clock_stage and clock_due_on set) and,
    when At risk and `explain`, why."""
    status = dl.date_status(case.clock_due_on, today)
    if status != dl.ON_TRACK or case.clock_stage not in dl.PRE_PLAN_STAGES:
        return Assessment(status)
    if not explain:
        return Assessment(dl.AT_RISK if _at_risk(case, advice, medians.days, today) else dl.ON_TRACK)
    m = medians.days
    received = case.request_received_on
    decision_due = dl.due("decision", received)
    draft_due = dl.due("draft", received)
    final_due = dl.due("final", received)
    reasons: list[str] = []
    risky = False

    if case.clock_stage == dl.REQUEST:
        decided = _later(received + timedelta(days=m["decision"]), today)
        if decided > decision_due:
            risky = True
            reasons.append(f"The decision whether to assess is due {decision_due:%-d %B %Y}; {medians.words('decision')}")
        drafted = decided + timedelta(days=m["draft"])
    elif case.clock_stage == dl.ASSESSMENT:
        decided = case.assessment_decision_on
        drafted = _later(decided + timedelta(days=m["draft"]), today)
        asked = {a.professional_id for a in advice if a.requested_on >= received}
        waiting = [a for a in advice if a.requested_on >= received and not a.answered]
        waiting_from = {a.professional_id for a in waiting}
        if waiting:
            arrives = _later(today, *(a.requested_on + timedelta(days=m["advice"]) for a in waiting))
            if arrives > drafted:
                drafted = arrives
                risky_advice = arrives > draft_due or arrives + timedelta(days=m["final"]) > final_due
                if risky_advice:
                    risky = True
                    who = "professional" if len(asked) == 1 else "professionals"
                    reasons.append(
                        f"Advice from {len(waiting_from)} of {len(asked)} {who} outstanding; "
                        f"{medians.words('advice')}"
                    )
        if drafted > draft_due and not risky:
            risky = True
            reasons.append(f"The draft plan is due {draft_due:%-d %B %Y}; {medians.words('draft')}")
    else:  # DRAFT
        drafted = case.draft_plan_on
    final = _later(drafted + timedelta(days=m["final"]), today)
    if final > final_due and not reasons:
        risky = True
        reasons.append(
            f"At this authority's pace the final plan would be issued about {final:%-d %B %Y}, "
            f"after the 20-week date of {final_due:%-d %B %Y}; {medians.words('final')}"
        )
    elif final > final_due:
        risky = True
    return Assessment(dl.AT_RISK if risky else dl.ON_TRACK, reasons, final)
