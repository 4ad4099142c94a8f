"""Forms as data. The authority defines its SEND forms in files (TOML, or
JSON), one form a file: its title, who may use it, whether it may be sent
before the LA has authenticated the involvement, an optional due period, and
pages of questions. Every file is checked when the app starts, so a mistake
is reported with the file and the place ("ehc_request.toml: pages[2].
questions[1] (primary_need): ...") instead of being met by a professional
half-way through a form.

A submitted form keeps a snapshot of the definition it was answered against
(FormDefinition.to_snapshot), so it reads the same after the file changes."""
from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field

from ..models import PROFESSIONAL_TYPES
from .uploads import DEFAULT_MAX_SIZE_MB, FILE_TYPES, MAX_SIZE_MB_LIMIT

DEFAULT_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "definitions")
SUFFIXES = (".toml", ".json")

QUESTION_TYPES = ("short_text", "long_text", "date", "single_choice", "multiple_choice", "yes_no", "file")
TEXT_LIMITS = {"short_text": (200, 1000), "long_text": (5000, 20000)}  # (default, largest allowed)
WHEN_VALUES = ("any", "past", "future")
YES_NO = ("Yes", "No")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
FORM_KEY_RE = re.compile(r"^[a-z][a-z0-9-]{0,79}$")
# Names the question pages already use for their own fields.
RESERVED_KEYS = {"csrf_token", "action", "change"}

_COMMON = {"key", "type", "label", "hint", "name", "required"}
QUESTION_SETTINGS = {
    "short_text": _COMMON | {"max_length"},
    "long_text": _COMMON | {"max_length"},
    "date": _COMMON | {"when"},
    "single_choice": _COMMON | {"options"},
    "multiple_choice": _COMMON | {"options"},
    "yes_no": _COMMON,
    "file": _COMMON | {"allowed_types", "max_size_mb"},
}
PAGE_SETTINGS = {"title", "description", "questions"}
FORM_SETTINGS = {"key", "title", "description", "professional_types", "before_authentication", "due_days", "pages"}


class FormDefinitionError(ValueError):
    """A form definition file that cannot be used; the message names the file
    and the problem."""


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    label: str
    hint: str = ""
    # A short noun phrase for error messages: "Enter <name>", "Select <name>".
    name: str = ""
    required: bool = True
    max_length: int = 0
    options: tuple[str, ...] = ()
    allowed_types: tuple[str, ...] = ()
    max_size_mb: float = DEFAULT_MAX_SIZE_MB
    when: str = "any"

    @property
    def choices(self) -> tuple[str, ...]:
        return YES_NO if self.type == "yes_no" else self.options

    @property
    def is_fieldset(self) -> bool:
        return self.type in ("date", "single_choice", "multiple_choice", "yes_no")

    def to_snapshot(self) -> dict:
        data = {"key": self.key, "type": self.type, "label": self.label, "hint": self.hint,
                "name": self.name, "required": self.required}
        if self.type in TEXT_LIMITS:
            data["max_length"] = self.max_length
        if self.type in ("single_choice", "multiple_choice"):
            data["options"] = list(self.options)
        if self.type == "file":
            data["allowed_types"] = list(self.allowed_types)
            data["max_size_mb"] = self.max_size_mb
        if self.type == "date":
            data["when"] = self.when
        return data

    @classmethod
    def from_snapshot(cls, data: dict) -> "Question":
        return cls(
            key=data["key"], type=data["type"], label=data["label"], hint=data.get("hint", ""),
            name=data.get("name", ""), required=bool(data.get("required", True)),
            max_length=int(data.get("max_length", 0)), options=tuple(data.get("options", ())),
            allowed_types=tuple(data.get("allowed_types", ())),
            max_size_mb=float(data.get("max_size_mb", DEFAULT_MAX_SIZE_MB)), when=data.get("when", "any"),
        )


@dataclass(frozen=True)
class Page:
    title: str
    questions: tuple[Question, ...]
    description: str = ""

    @property
    def has_file(self) -> bool:
        return any(q.type == "file" for q in self.questions)

    @property
    def upload_limit_bytes(self) -> int:
        return int(sum(q.max_size_mb for q in self.questions if q.type == "file") * 1024 * 1024)


@dataclass(frozen=True)
class FormDefinition:
    key: str
    title: str
    professional_types: tuple[str, ...]
    pages: tuple[Page, ...]
    description: str = ""
    before_authentication: bool = False
    due_days: int | None = None
    source: str = field(default="", compare=False)

    @property
    def questions(self) -> list[Question]:
        return [q for page in self.pages for q in page.questions]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def page_of(self, key: str) -> int | None:
        """The 1-based number of the page that asks this question."""
        for number, page in enumerate(self.pages, start=1):
            if any(q.key == key for q in page.questions):
                return number
        return None

    def for_type(self, professional_type: str | None) -> bool:
        return professional_type in self.professional_types

    def to_snapshot(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "pages": [
                {"title": p.title, "description": p.description, "questions": [q.to_snapshot() for q in p.questions]}
                for p in self.pages
            ],
        }

    @classmethod
    def from_snapshot(cls, data: dict) -> "FormDefinition":
        """The definition a form was submitted against (no checks: it was
        checked when it was loaded)."""
        return cls(
            key=data["key"],
            title=data["title"],
            description=data.get("description", ""),
            professional_types=(),
            pages=tuple(
                Page(title=p["title"], description=p.get("description", ""),
                     questions=tuple(Question.from_snapshot(q) for q in p["questions"]))
                for p in data["pages"]
            ),
        )


# --- checking a definition -------------------------------------------------------------


class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str):
        place = f"{where}: " if where else ""
        raise FormDefinitionError(f"{self.source}: {place}{problem}")

    def unknown(self, where: str, data: dict, allowed: set[str]) -> None:
        for name in data:
            if name not in allowed:
                close = difflib.get_close_matches(str(name), sorted(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(sorted(allowed))})"
                self.fail(where, f"unknown setting '{name}'{hint}")

    def text(self, where: str, data: dict, name: str, required: bool = True, limit: int = 500) -> str:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(where, f"'{name}' is missing")
            return ""
        if not isinstance(value, str):
            self.fail(where, f"'{name}' must be text, not {_kind(value)}")
        value = value.strip()
        if required and not value:
            self.fail(where, f"'{name}' must not be empty")
        if len(value) > limit:
            self.fail(where, f"'{name}' must be {limit} characters or fewer")
        return value

    def boolean(self, where: str, data: dict, name: str, default: bool) -> bool:
        value = data.get(name, default)
        if not isinstance(value, bool):
            self.fail(where, f"'{name}' must be true or false, not {_kind(value)}")
        return value

    def number(self, where: str, data: dict, name: str, default, low, high, whole: bool = True):
        value = data.get(name, default)
        if value is None:
            return None
        ok = isinstance(value, int) if whole else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            self.fail(where, f"'{name}' must be a {'whole ' if whole else ''}number, not {_kind(value)}")
        if not low <= value <= high:
            self.fail(where, f"'{name}' must be between {low} and {high}, not {value}")
        return value

    def strings(self, where: str, data: dict, name: str, required: bool = True) -> list[str]:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(where, f"'{name}' is missing")
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(where, f"'{name}' must be a list of text")
        value = [v.strip() for v in value]
        if required and not value:
            self.fail(where, f"'{name}' must not be empty")
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            self.fail(where, f"'{name}' lists {duplicates[0]!r} twice")
        return value


def _kind(value) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def check_definition(data, source: str) -> FormDefinition:
    """A FormDefinition from a file's parsed content, or FormDefinitionError."""
    check = _Checker(source)
    if not isinstance(data, dict):
        check.fail("", "the file must hold one form (a table of settings)")
    check.unknown("", data, FORM_SETTINGS)
    key = check.text("", data, "key", limit=80)
    if not FORM_KEY_RE.match(key):
        check.fail("", f"'key' must be lower-case letters, digits and hyphens, starting with a letter, not {key!r}")
    title = check.text("", data, "title", limit=200)
    description = check.text("", data, "description", required=False, limit=1000)
    types = check.strings("", data, "professional_types")
    for ptype in types:
        if ptype not in PROFESSIONAL_TYPES:
            check.fail("", f"professional type {ptype!r} is not one of {', '.join(PROFESSIONAL_TYPES)}")
    before = check.boolean("", data, "before_authentication", False)
    due_days = check.number("", data, "due_days", None, 1, 365)
    raw_pages = data.get("pages")
    if not isinstance(raw_pages, list) or not raw_pages:
        check.fail("", "a form needs at least one page ([[pages]])")
    pages, seen = [], {}
    for p, raw_page in enumerate(raw_pages, start=1):
        where = f"pages[{p}]"
        if not isinstance(raw_page, dict):
            check.fail(where, "a page must be a table of settings")
        check.unknown(where, raw_page, PAGE_SETTINGS)
        page_title = check.text(where, raw_page, "title", limit=200)
        page_description = check.text(where, raw_page, "description", required=False, limit=1000)
        raw_questions = raw_page.get("questions")
        if not isinstance(raw_questions, list) or not raw_questions:
            check.fail(where, "a page needs at least one question ([[pages.questions]])")
        questions = []
        for n, raw in enumerate(raw_questions, start=1):
            question = _check_question(check, f"{where}.questions[{n}]", raw)
            if question.key in seen:
                check.fail(f"{where}.questions[{n}]", f"key {question.key!r} is already used at {seen[question.key]}")
            seen[question.key] = f"{where}.questions[{n}]"
            questions.append(question)
        pages.append(Page(title=page_title, description=page_description, questions=tuple(questions)))
    return FormDefinition(
        key=key, title=title, description=description, professional_types=tuple(types),
        before_authentication=before, due_days=due_days, pages=tuple(pages), source=source,
    )


def _check_question(check: _Checker, where: str, raw) -> Question:
    if not isinstance(raw, dict):
        check.fail(where, "a question must be a table of settings")
    key = raw.get("key")
    if isinstance(key, str) and key:
        where = f"{where} ({key})"
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        check.fail(where, f"'type' must be one of {', '.join(QUESTION_TYPES)}, not {qtype!r}")
    check.unknown(where, raw, QUESTION_SETTINGS[qtype])
    key = check.text(where, raw, "key", limit=60)
    if not KEY_RE.match(key) or key in RESERVED_KEYS:
        check.fail(where, f"'key' must be lower-case letters, digits and underscores, starting with a letter (and not {', '.join(sorted(RESERVED_KEYS))}), not {key!r}")
    label = check.text(where, raw, "label", limit=300)
    values = {
        "key": key, "type": qtype, "label": label,
        "hint": check.text(where, raw, "hint", required=False, limit=1000),
        "name": check.text(where, raw, "name", required=False, limit=150),
        "required": check.boolean(where, raw, "required", True),
    }
    if qtype in TEXT_LIMITS:
        default, largest = TEXT_LIMITS[qtype]
        values["max_length"] = check.number(where, raw, "max_length", default, 1, largest)
    if qtype in ("single_choice", "multiple_choice"):
        options = check.strings(where, raw, "options")
        if qtype == "single_choice" and len(options) < 2:
            check.fail(where, "a single choice question needs at least two options")
        for option in options:
            if len(option) > 200:
                check.fail(where, f"option {option[:30]!r}... must be 200 characters or fewer")
        values["options"] = tuple(options)
    if qtype == "date":
        when = raw.get("when", "any")
        if when not in WHEN_VALUES:
            check.fail(where, f"'when' must be one of {', '.join(WHEN_VALUES)}, not {when!r}")
        values["when"] = when
    if qtype == "file":
        allowed = check.strings(where, raw, "allowed_types", required=False) or ["pdf", "docx"]
        for name in allowed:
            if name not in FILE_TYPES:
                check.fail(where, f"file type {name!r} is not one of {', '.join(FILE_TYPES)}")
        values["allowed_types"] = tuple(allowed)
        values["max_size_mb"] = float(
            check.number(where, raw, "max_size_mb", DEFAULT_MAX_SIZE_MB, 0.001, MAX_SIZE_MB_LIMIT, whole=False)
        )
    return Question(**values)


# --- loading a folder of definitions ---------------------------------------------------------


def parse_file(path: str) -> FormDefinition:
    source = os.path.basename(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as problem:
        raise FormDefinitionError(f"{source}: cannot be read: {problem.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormDefinitionError(f"{source}: is not UTF-8 text") from None
    try:
        data = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise FormDefinitionError(f"{source}: is not valid TOML: {problem}") from None
    except json.JSONDecodeError as problem:
        raise FormDefinitionError(f"{source}: is not valid JSON: {problem}") from None
    return check_definition(data, source)


@dataclass
class Catalogue:
    """The authority's forms, in file-name order."""

    forms: list[FormDefinition]
    directory: str = ""

    def get(self, key: str) -> FormDefinition | None:
        return next((f for f in self.forms if f.key == key), None)

    def for_professional(self, professional_type: str | None, authenticated: bool) -> list[FormDefinition]:
        """The forms this type of professional may use; before the LA has
        authenticated the involvement, only those marked for that."""
        return [
            f for f in self.forms
            if f.for_type(professional_type) and (authenticated or f.before_authentication)
        ]

    @property
    def largest_upload_bytes(self) -> int:
        return max((page.upload_limit_bytes for f in self.forms for page in f.pages), default=0)


def load_catalogue(directory: str = DEFAULT_DIRECTORY) -> Catalogue:
    if not os.path.isdir(directory):
        raise FormDefinitionError(f"{directory}: the form definitions folder does not exist")
    forms, keys = [], {}
    for name in sorted(os.listdir(directory)):
        if name.startswith(".") or not name.endswith(SUFFIXES):
            continue
        definition = parse_file(os.path.join(directory, name))
        if definition.key in keys:
            raise FormDefinitionError(f"{name}: key {definition.key!r} is already used by {keys[definition.key]}")
        keys[definition.key] = name
        forms.append(definition)
    if not forms:
        raise FormDefinitionError(f"{directory}: holds no form definitions (*.toml or *.json)")
    return Catalogue(forms=forms, directory=directory)
