"""Forms of the LA admin area."""
from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..clock.deadlines import ASSESSMENT_OUTCOMES, EXCEPTION_REASONS
from ..models import CASE_STATUSES
from .people_queries import TIMELINE_DATES

REASON_MAX = 1000
DAY_OR_MONTH = re.compile(r"[0-9]{1,2}")
YEAR = re.compile(r"[0-9]{4}")


def _tidy(value):
    return value.strip() if value else value


def _reason(label: str, missing: str):
    return TextAreaField(
        label,
        validators=[DataRequired(missing), Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX:,} characters or fewer")],
        filters=[_tidy],
    )


class RejectForm(FlaskForm):
    reason = _reason("Reason for rejecting", "Enter the reason for rejecting this registration")


class DeclineForm(FlaskForm):
    reason = _reason("Reason for declining", "Enter the reason for declining this request")


class CaseStatusForm(FlaskForm):
    case_status = RadioField(
        "Case status",
        choices=[(s, s) for s in CASE_STATUSES],
        validators=[DataRequired("Select a case status")],
        validate_choice=False,
    )

    def validate_case_status(self, field):
        if field.data not in CASE_STATUSES:
            raise ValidationError("Select a case status")


class AuthenticateForm(FlaskForm):
    # A person id, or "new"; checked by the view against the authority's records.
    record = StringField("Record", validators=[DataRequired("Select the matching record, or confirm it is a new record")])
    la_reference = StringField(
        "LA reference for a new record (optional)",
        validators=[Optional(), Length(max=50, message="The LA reference must be 50 characters or fewer")],
        filters=[_tidy],
    )

    def validate_record(self, field):
        # Any number is a choice; one that names no record (too big to be a
        # key, say) is refused by the view as not one of the authority's.
        if field.data != "new" and not re.fullmatch(r"[0-9]{1,100}", field.data):
            raise ValidationError("Select the matching record, or confirm it is a new record")

    def validate_la_reference(self, field):
        if field.data and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/_.-]*", field.data):
            raise ValidationError("The LA reference can only contain letters, numbers, hyphens, full stops, underscores and slashes")


class TimelineForm(FlaskForm):
    """Five GOV.UK date inputs; an empty date removes it."""

    # Fields are added below: request_received_on_day, ..._month, ..._year, ...

    def date_parts(self, attribute: str):
        return [getattr(self, f"{attribute}_{part}") for part in ("day", "month", "year")]

    def set_date(self, attribute: str, value: date | None) -> None:
        day, month, year = self.date_parts(attribute)
        if value is None:
            day.data = month.data = year.data = ""
        else:
            day.data, month.data, year.data = str(value.day), str(value.month), str(value.year)

    def read_dates(self, today: date | None = None) -> tuple[dict[str, date | None], list[tuple[str, str, str]]]:
        """The dates typed, and the problems as (attribute, first field id, message)."""
        today = today or date.today()
        dates: dict[str, date | None] = {}
        problems: list[tuple[str, str, str]] = []
        for attribute, label in TIMELINE_DATES:
            day, month, year = self.date_parts(attribute)
            parts = {"day": (day.data or "").strip(), "month": (month.data or "").strip(), "year": (year.data or "").strip()}
            missing = [k for k, v in parts.items() if not v]
            if len(missing) == 3:
                dates[attribute] = None
                continue
            first_field = f"{attribute}_{missing[0]}" if missing else f"{attribute}_day"
            if missing:
                problems.append((attribute, first_field, f"{label} date must include a " + " and ".join(missing)))
                continue
            try:
                # ASCII digits only, and no longer than a date part can be, so
                # int() and date() see nothing that overflows.
                if not (DAY_OR_MONTH.fullmatch(parts["day"]) and DAY_OR_MONTH.fullmatch(parts["month"]) and YEAR.fullmatch(parts["year"])):
                    raise ValueError
                value = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
            except ValueError:
                problems.append((attribute, first_field, f"{label} date must be a real date, such as 27 3 2026"))
                continue
            if value.year < 2000 or value.year > today.year + 5:
                problems.append((attribute, first_field, f"{label} date must be between 2000 and {today.year + 5}"))
                continue
            dates[attribute] = value
        received = dates.get("request_received_on")
        if received and received > today:
            problems.append(("request_received_on", "request_received_on_day", "Request received date must be today or in the past"))
        if received:
            for attribute, label in TIMELINE_DATES[1:4]:
                value = dates.get(attribute)
                if value and value < received:
                    problems.append((attribute, f"{attribute}_day", f"{label} date must be on or after the date the request was received"))
        draft, final = dates.get("draft_plan_on"), dates.get("final_plan_on")
        if draft and final and final < draft:
            problems.append(("final_plan_on", "final_plan_on_day", "Final plan issued date must be on or after the draft plan date"))
        problems.sort(key=lambda p: [a for a, _ in TIMELINE_DATES].index(p[0]))
        return dates, problems


for _attribute, _label in TIMELINE_DATES:
    for _part, _part_label in (("day", "Day"), ("month", "Month"), ("year", "Year")):
        setattr(TimelineForm, f"{_attribute}_{_part}", StringField(_part_label))


# SEN2 fields on the timeline form: the outcome of the request and the
# 20-week exception reason; the lists live in send_portal/clock/deadlines.py.
TimelineForm.assessment_outcome = RadioField(
    "Outcome of the request", choices=[("", "Not decided yet"), *ASSESSMENT_OUTCOMES.items()],
    default="", validate_choice=False,
)
TimelineForm.twenty_week_exception_reason = RadioField(
    "20-week exception", choices=[("", "No exception"), *((code, f"{code}: {text}") for code, text in EXCEPTION_REASONS.items())],
    default="", validate_choice=False,
)


def read_sen2_fields(form: TimelineForm, dates: dict) -> tuple[dict[str, str | None], list[tuple[str, str, str]]]:
    """The outcome and exception chosen, and the problems as read_dates gives them."""
    outcome = form.assessment_outcome.data or ""
    reason = form.twenty_week_exception_reason.data or ""
    problems = []
    if outcome not in ("", *ASSESSMENT_OUTCOMES):
        problems.append(("assessment_outcome", "assessment_outcome", "Choose an outcome of the request from the list"))
    elif outcome and not dates.get("assessment_decision_on"):
        problems.append(("assessment_outcome", "assessment_outcome",
                         "Enter the date of the decision whether to assess, or choose Not decided yet"))
    if reason not in ("", *EXCEPTION_REASONS):
        problems.append(("twenty_week_exception_reason", "twenty_week_exception_reason", "Choose a 20-week exception from the list"))
    return {"assessment_outcome": outcome or None, "twenty_week_exception_reason": reason or None}, problems
