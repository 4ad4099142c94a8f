"""Reading and checking the answers to one page of a form, following the
GOV.UK Design System's rules and error messages for each kind of question;
and showing answers back (check your answers, a submitted form, the inbox).

The same checks run on a page as it is sent and, at submission, on every
stored answer, so what is submitted always passes them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from .definitions import FormDefinition, Page, Question
from .uploads import CheckedFile, UploadRefused, check_upload

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGITS = re.compile(r"[0-9]{1,4}")
DATE_PARTS = ("day", "month", "year")


def clean_text(value: str | None, multiline: bool) -> str:
    """Text as stored: no control characters (a NUL cannot be stored in
    PostgreSQL), Windows line ends made plain, and trimmed."""
    value = _CONTROL.sub("", value or "").replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        value = " ".join(value.split())
    return value.strip()


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _name(question: Question, fallback: str) -> str:
    return question.name or fallback


@dataclass
class FieldState:
    """What a question shows: the answer to fill in and any error."""

    value: str = ""
    values: list[str] = field(default_factory=list)
    day: str = ""
    month: str = ""
    year: str = ""
    error: str | None = None
    error_parts: tuple[str, ...] = ()  # date parts to highlight
    file: Any = None  # the FormFile already attached


@dataclass
class PageResult:
    answers: dict[str, Any]  # question key -> answer to store ("" or [] when empty)
    uploads: dict[str, CheckedFile]
    states: dict[str, FieldState]
    errors: list[tuple[str, str]]  # (element id, message), in page order

    @property
    def valid(self) -> bool:
        return not self.errors


def error_target(question: Question, state: FieldState | None = None) -> str:
    if question.type in ("single_choice", "multiple_choice", "yes_no"):
        return f"{question.key}-0"
    if question.type == "date":
        part = state.error_parts[0] if state and state.error_parts else "day"
        return f"{question.key}-{part}"
    return question.key


def read_page(page: Page, form: MultiDict, files, stored: dict, attached: dict, *, require: bool) -> PageResult:
    """Check one page as sent. `stored` is the answers so far, `attached` the
    files already attached ({question key: FormFile}). With require=False
    (Save as draft) an empty answer is allowed; a wrong one is not."""
    result = PageResult(answers={}, uploads={}, states={}, errors=[])
    for question in page.questions:
        state = FieldState(file=attached.get(question.key))
        answer = _read_question(question, form, files, state, require)
        if state.error:
            result.errors.append((error_target(question, state), state.error))
        elif isinstance(answer, CheckedFile):
            result.uploads[question.key] = answer
        elif question.type != "file":
            result.answers[question.key] = answer
        result.states[question.key] = state
    return result


def _read_question(question: Question, form: MultiDict, files, state: FieldState, require: bool):
    kind = question.type
    if kind in ("short_text", "long_text"):
        value = clean_text(form.get(question.key), multiline=kind == "long_text")
        state.value = value
        if not value:
            if question.required and require:
                state.error = f"Enter {_name(question, 'an answer')}"
            return ""
        if len(value) > question.max_length:
            state.error = f"{_capital(_name(question, 'the answer'))} must be {question.max_length:,} characters or fewer"
        return value
    if kind == "date":
        return _read_date(question, form, state, require)
    if kind in ("single_choice", "yes_no"):
        value = clean_text(form.get(question.key), multiline=False)
        state.value = value
        if not value:
            if question.required and require:
                state.error = f"Select yes if {question.name}" if kind == "yes_no" and question.name else (
                    "Select yes or no" if kind == "yes_no" else f"Select {_name(question, 'an option')}"
                )
            return ""
        if value not in question.choices:
            state.value = ""
            state.error = "Select yes or no" if kind == "yes_no" else f"Select {_name(question, 'an option')} from the list"  # nosec B608 - an error message, not SQL
            return ""
        return value
    if kind == "multiple_choice":
        chosen = [clean_text(v, multiline=False) for v in form.getlist(question.key)]
        chosen = [v for v in chosen if v]
        unknown = [v for v in chosen if v not in question.options]
        state.values = [o for o in question.options if o in chosen]
        if unknown:
            state.error = f"Select {_name(question, 'options')} from the list"  # nosec B608 - an error message, not SQL
            return []
        if not state.values and question.required and require:
            state.error = f"Select {_name(question, 'at least one option')}"
        return state.values
    if kind == "file":
        upload = files.get(question.key) if files is not None else None
        if upload is not None and upload.filename:
            try:
                return check_upload(upload, question.allowed_types, question.max_size_mb)
            except UploadRefused as problem:
                state.error = str(problem)
                return None
        if state.file is None and question.required and require:
            state.error = f"Select {_name(question, 'a file')}"
        return None
    raise AssertionError(f"unknown question type {kind}")


def _read_date(question: Question, form: MultiDict, state: FieldState, require: bool) -> str:
    parts = {p: clean_text(form.get(f"{question.key}-{p}"), multiline=False) for p in DATE_PARTS}
    state.day, state.month, state.year = parts["day"], parts["month"], parts["year"]
    name = _name(question, "the date")
    missing = [p for p in DATE_PARTS if not parts[p]]
    if len(missing) == 3:
        if question.required and require:
            state.error = f"Enter {name}"
            state.error_parts = DATE_PARTS
        return ""
    if missing:
        state.error = f"{_capital(name)} must include a {' and '.join(missing)}"
        state.error_parts = tuple(missing)
        return ""
    bad = [p for p in DATE_PARTS if not _DIGITS.fullmatch(parts[p])]
    if bad or len(parts["year"]) != 4:
        state.error = f"{_capital(name)} must be a real date"
        state.error_parts = tuple(bad) or ("year",)
        return ""
    try:
        value = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        state.error = f"{_capital(name)} must be a real date"
        state.error_parts = DATE_PARTS
        return ""
    today = date.today()
    if question.when == "past" and value > today:
        state.error = f"{_capital(name)} must be today or in the past"
        state.error_parts = DATE_PARTS
        return ""
    if question.when == "future" and value < today:
        state.error = f"{_capital(name)} must be today or in the future"
        state.error_parts = DATE_PARTS
        return ""
    if value.year < 1900:
        state.error = f"{_capital(name)} must be after 1900"
        state.error_parts = ("year",)
        return ""
    return value.isoformat()


# --- stored answers -----------------------------------------------------------------------


def stored_as_form(page: Page, answers: dict) -> MultiDict:
    """A page's stored answers, as the page would send them."""
    data = MultiDict()
    for question in page.questions:
        value = answers.get(question.key)
        if value in (None, "", []):
            continue
        if question.type == "date":
            try:
                parsed = date.fromisoformat(value)
            except (TypeError, ValueError):
                continue
            data.add(f"{question.key}-day", str(parsed.day))
            data.add(f"{question.key}-month", str(parsed.month))
            data.add(f"{question.key}-year", str(parsed.year))
        elif question.type == "multiple_choice":
            for item in value if isinstance(value, list) else [value]:
                data.add(question.key, str(item))
        elif question.type != "file":
            data.add(question.key, str(value))
    return data


def attached_files(response) -> dict:
    """{question key: FormFile} for the files a draft's answers point to."""
    by_id = {f.id: f for f in response.files}
    attached = {}
    for key, value in (response.answers or {}).items():
        if isinstance(value, int) and value in by_id:
            attached[key] = by_id[value]
    return attached


def states_from_stored(page: Page, response) -> dict[str, FieldState]:
    result = read_page(page, stored_as_form(page, response.answers or {}), None, response.answers or {}, attached_files(response), require=False)
    for state in result.states.values():
        state.error = None
        state.error_parts = ()
    return result.states


def problems(definition: FormDefinition, response) -> list[tuple[int, Question, str]]:
    """Every unanswered required question and every stored answer that no
    longer passes its checks: (page number, question, message)."""
    found = []
    attached = attached_files(response)
    for number, page in enumerate(definition.pages, start=1):
        result = read_page(page, stored_as_form(page, response.answers or {}), None, response.answers or {}, attached, require=True)
        for question in page.questions:
            state = result.states[question.key]
            if state.error:
                found.append((number, question, state.error))
    return found


def first_incomplete_page(definition: FormDefinition, response) -> int | None:
    found = problems(definition, response)
    return found[0][0] if found else None


# --- showing answers ------------------------------------------------------------------------


@dataclass
class AnswerRow:
    question: Question
    page_number: int
    text: str = ""  # one-line answers
    lines: list[str] = field(default_factory=list)  # long text paragraphs, or choices
    file: Any = None
    answered: bool = False


def answer_rows(definition: FormDefinition, answers: dict, files) -> list[tuple[int, Page, list[AnswerRow]]]:
    by_id = {f.id: f for f in files}
    sections = []
    for number, page in enumerate(definition.pages, start=1):
        rows = []
        for question in page.questions:
            rows.append(_row(question, number, (answers or {}).get(question.key), by_id))
        sections.append((number, page, rows))
    return sections


def _row(question: Question, number: int, value, files_by_id) -> AnswerRow:
    row = AnswerRow(question=question, page_number=number)
    if value in (None, "", []):
        return row
    if question.type == "date":
        try:
            row.text = f"{date.fromisoformat(value):%-d %B %Y}"
        except (TypeError, ValueError):
            return row
    elif question.type == "multiple_choice":
        row.lines = [str(v) for v in (value if isinstance(value, list) else [value])]
    elif question.type == "long_text":
        row.lines = [para for para in re.split(r"\n\s*\n", str(value)) if para.strip()]
    elif question.type == "file":
        row.file = files_by_id.get(value) if isinstance(value, int) else None
        if row.file is None:
            return row
    else:
        row.text = str(value)
    row.answered = True
    return row
