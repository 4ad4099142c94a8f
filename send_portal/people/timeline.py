"""The EHC timeline of SPEC section 4 (SEND Code of Practice, 20 weeks):
Request (decision to assess due 6 weeks after the request was received),
Assessment (decision not to issue a plan due by week 16), EHC plan (final plan
due by week 20), then reviews (every 12 months)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..clock.deadlines import due

DUE_SOON_DAYS = 14

DONE = "Done"
CURRENT = "Current"
DUE_SOON = "Due soon"
OVERDUE = "Overdue"
NOT_STARTED = "Not started"
NOT_NEEDED = "Not needed"


@dataclass
class Step:
    name: str
    state: str
    due_on: date | None = None
    done_on: date | None = None
    note: str = ""

    @property
    def css(self) -> str:
        return self.state.lower().replace(" ", "-")


def _open_state(due_on: date | None, today: date) -> str:
    if due_on is None:
        return CURRENT
    if today > due_on:
        return OVERDUE
    if (due_on - today).days <= DUE_SOON_DAYS:
        return DUE_SOON
    return CURRENT


def ehc_timeline(person, today: date | None = None) -> list[Step]:
    """The four steps for a person's record. Empty when no request is recorded."""
    today = today or date.today()
    received = person.request_received_on
    if received is None:
        return []
    # The statutory timescales live in one table (send_portal/clock/deadlines.py).
    decision_due = due("decision", received)
    assessment_due = due("draft", received)
    plan_due = due("final", received)
    not_assessing = person.case_status == "Not assessing"
    ceased = person.case_status == "Plan ceased"

    steps: list[Step] = []
    decided = person.assessment_decision_on
    steps.append(
        Step("Request", DONE if decided else _open_state(decision_due, today), decision_due, decided,
             f"Request received {received:%-d %B %Y}")
    )

    # Assessment: done once a draft plan is issued (or the LA decides not to issue one).
    if not_assessing:
        steps.append(Step("Assessment", NOT_NEEDED, assessment_due, None, "The LA decided not to assess"))
        steps.append(Step("EHC plan", NOT_NEEDED, plan_due))
        steps.append(Step("Reviews", NOT_NEEDED))
        return steps
    draft = person.draft_plan_on
    if draft:
        steps.append(Step("Assessment", DONE, assessment_due, draft, f"Draft plan issued {draft:%-d %B %Y}"))
    elif decided:
        steps.append(Step("Assessment", _open_state(assessment_due, today), assessment_due))
    else:
        steps.append(Step("Assessment", NOT_STARTED, assessment_due))

    final = person.final_plan_on
    if final:
        steps.append(Step("EHC plan", DONE, plan_due, final, f"Final plan issued {final:%-d %B %Y}"))
    elif decided:
        steps.append(Step("EHC plan", _open_state(plan_due, today), plan_due))
    else:
        steps.append(Step("EHC plan", NOT_STARTED, plan_due))

    if ceased:
        steps.append(Step("Reviews", DONE, None, None, "The plan has ceased"))
    elif final:
        review_due = person.next_review_on or due("review", final)
        steps.append(Step("Reviews", _open_state(review_due, today), review_due, None, "Annual review"))
    else:
        steps.append(Step("Reviews", NOT_STARTED))
    return steps
