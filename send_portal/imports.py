"""Importing the authority's records from CSV: its people and
involvements (`import-people`, and the demo authority, which imports its
children the same way) and its address gazetteer (`import-addresses`).

Reading a file checks every row and returns the rows or every problem (all
or nothing); applying writes validated rows in the caller's transaction,
with the rule that an import never gives a child back to a professional who
lost them (see apply_people). The click commands in send_portal.cli print
and commit; nothing here prints."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from . import rules
from .addresses.postcodes import format_postcode, normalise_postcode
from .extensions import db
from .models import (
    CASE_STATUSES,
    GENDERS,
    Activity,
    Address,
    Involvement,
    InvolvementStatus,
    Person,
    Role,
    User,
    utcnow,
)

PEOPLE_HEADER = [
    "la_reference",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "postcode",
    "case_status",
    "professional_email",
    "involvement_start",
    "involvement_end",
    "last_activity",
]
GENDER_CODES = {"f": "Female", "m": "Male", "u": "Not known"}
# Control characters (C0, DEL, C1) and the line and paragraph separators:
# every field read here is a single line of text, and PostgreSQL refuses NUL.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_MESSAGE = "contains a control character (such as NUL, a tab or a line break); remove it"


# --- people -------------------------------------------------------------------


@dataclass
class PersonRow:
    line: int
    la_reference: str
    given_name: str
    family_name: str
    date_of_birth: date
    gender: str
    postcode: str | None
    case_status: str
    professional_email: str | None
    involvement_start: date | None
    involvement_end: date | None
    last_activity: date | None


@dataclass
class ImportReport:
    rows: list[PersonRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _parse_date(value: str, column: str, line: int, errors: list[str], required: bool = False) -> date | None:
    value = value.strip()
    if not value:
        if required:
            errors.append(f"line {line}: {column} is empty; give a date as YYYY-MM-DD")
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"line {line}: {column} '{value[:40]}' is not a date as YYYY-MM-DD")
        return None


def _records(reader):
    """(line, values) for each record after the header: the line is the
    file's line the record starts on (a quoted field may hold a line break,
    which the checks then refuse, so the number points at it)."""
    end = reader.line_num
    for values in reader:
        yield end + 1, values
        end = reader.line_num


def _control_character_errors(header: list[str], values: list[str], line: int) -> list[str]:
    return [f"line {line}: {column} {CONTROL_MESSAGE}" for column, value in zip(header, values) if CONTROL_RE.search(value)]


def _canonical(value: str, allowed: list[str]) -> str | None:
    folded = value.strip().casefold()
    for option in allowed:
        if option.casefold() == folded:
            return option
    return None


def read_people_csv(path: str, professionals: dict[str, int]) -> ImportReport:
    report = ImportReport()
    seen: dict[str, int] = {}
    today = date.today()
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as error:
        report.errors.append(f"cannot open {path}: {error.strerror}")
        return report
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as error:
            report.errors.append(f"line 1: cannot read the header ({error})")
            return report
        if header is None or [h.strip() for h in header] != PEOPLE_HEADER:
            report.errors.append("line 1: the header must be exactly " + ",".join(PEOPLE_HEADER))
            return report
        try:
            for line, values in _records(reader):
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(PEOPLE_HEADER):
                    report.errors.append(f"line {line}: expected {len(PEOPLE_HEADER)} columns, found {len(values)}")
                    continue
                control = _control_character_errors(PEOPLE_HEADER, values, line)
                if control:
                    report.errors.extend(control)
                    continue
                raw = dict(zip(PEOPLE_HEADER, (v.strip() for v in values)))
                errors: list[str] = []
                ref = raw["la_reference"]
                if not ref or len(ref) > 50:
                    errors.append(f"line {line}: la_reference must be 1 to 50 characters")
                elif ref in seen:
                    errors.append(f"line {line}: la_reference {ref} is also on line {seen[ref]}")
                else:
                    seen[ref] = line
                for column in ("given_name", "family_name"):
                    if not raw[column] or len(raw[column]) > 100:
                        errors.append(f"line {line}: {column} must be 1 to 100 characters")
                dob = _parse_date(raw["date_of_birth"], "date_of_birth", line, errors, required=True)
                if dob and dob > today:
                    errors.append(f"line {line}: date_of_birth {dob.isoformat()} is in the future")
                gender = GENDER_CODES.get(raw["gender"].casefold()) or _canonical(raw["gender"], GENDERS)
                if gender is None:
                    errors.append(f"line {line}: gender '{raw['gender'][:40]}' is not one of " + ", ".join(GENDERS) + " (or F, M, U)")
                postcode_key = normalise_postcode(raw["postcode"]) if raw["postcode"] else None
                postcode = format_postcode(postcode_key) if postcode_key else None
                if raw["postcode"] and postcode_key is None:
                    errors.append(f"line {line}: postcode '{raw['postcode'][:20]}' is not a UK postcode")
                status = _canonical(raw["case_status"], CASE_STATUSES) if raw["case_status"] else "No open case"
                if status is None:
                    errors.append(f"line {line}: case_status '{raw['case_status'][:60]}' is not one of the case statuses")
                email = raw["professional_email"].lower() or None
                if email and email not in professionals:
                    errors.append(f"line {line}: no professional has the email address {email}")
                start = _parse_date(raw["involvement_start"], "involvement_start", line, errors)
                end = _parse_date(raw["involvement_end"], "involvement_end", line, errors)
                if start and end and end < start:
                    errors.append(f"line {line}: involvement_end is before involvement_start")
                if not email and (start or end):
                    errors.append(f"line {line}: involvement dates need a professional_email")
                last = _parse_date(raw["last_activity"], "last_activity", line, errors)
                if last and last > today:
                    errors.append(f"line {line}: last_activity {last.isoformat()} is in the future")
                if errors:
                    report.errors.extend(errors)
                    continue
                report.rows.append(
                    PersonRow(line, ref, raw["given_name"], raw["family_name"], dob, gender, postcode,
                              status, email, start, end, last)
                )
        except (csv.Error, UnicodeDecodeError) as error:
            report.errors.append(f"line {reader.line_num}: cannot read the file ({error})")
    return report


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    reauthenticated: int = 0
    # "line N: skipped: why", for each row not imported (see apply_people).
    skipped: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def apply_people(
    rows: list[PersonRow], professionals: dict[str, int], progress=None,
    reauthenticate: bool = False, source: str = "import-people",
) -> ImportOutcome:
    """Write validated rows in the current transaction.

    An import never gives a child back to a professional who lost them: where
    the row's professional has no live involvement with the child but had one
    that was deleted (their Delete Person), unauthenticated by the LA or
    declined, the row is skipped (nothing of it is written) and reported. With
    reauthenticate, that involvement is re-authenticated as the LA admin
    area's Re-authenticate does it (admin.queue_queries.reauthenticate: one audit
    entry per child, by the system account) and the row imported."""
    outcome = ImportOutcome()
    chunk = 500
    for start in range(0, len(rows), chunk):
        batch = rows[start:start + chunk]
        existing = {
            p.la_reference: p
            for p in db.session.scalars(select(Person).where(Person.la_reference.in_([r.la_reference for r in batch])))
        }
        involvements: dict[tuple[int, int], list[Involvement]] = {}
        if existing:
            for involvement in db.session.scalars(
                select(Involvement)
                .where(Involvement.person_id.in_([p.id for p in existing.values()]))
                .order_by(Involvement.id)
            ):
                involvements.setdefault((involvement.person_id, involvement.professional_id), []).append(involvement)
        for row in batch:
            person = existing.get(row.la_reference)
            involvement = None
            if person is not None and row.professional_email:
                professional_id = professionals[row.professional_email]
                earlier = involvements.get((person.id, professional_id), [])
                live = [i for i in earlier if rules.is_live(i)]
                if live:
                    involvement = live[-1]
                elif earlier:
                    involvement = earlier[-1]  # the latest: deleted, unauthenticated or declined
                    problem = _give_back(involvement, row, reauthenticate, source)
                    if problem:
                        outcome.skipped.append(f"line {row.line}: skipped: {problem}")
                        continue
                    outcome.reauthenticated += 1
            if person is None:
                person = Person(la_reference=row.la_reference)
                db.session.add(person)
                outcome.created += 1
            else:
                outcome.updated += 1
            person.set_names(row.given_name, row.family_name)
            person.date_of_birth = row.date_of_birth
            person.gender = row.gender
            person.postcode = row.postcode
            person.case_status = row.case_status
            if row.last_activity:
                when = datetime.combine(row.last_activity, datetime.min.time())
                person.last_activity_at = when
            db.session.flush()
            if row.last_activity and not db.session.scalar(
                select(Activity.id).where(Activity.person_id == person.id, Activity.occurred_at == person.last_activity_at)
            ):
                db.session.add(Activity(person_id=person.id, occurred_at=person.last_activity_at, description="Activity recorded before import"))
            if row.professional_email:
                _import_involvement(person, professionals[row.professional_email], row, involvement)
        db.session.flush()
        if progress is not None:
            progress.update(len(batch))
    return outcome


def _give_back(involvement: Involvement, row: PersonRow, reauthenticate: bool, source: str) -> str | None:
    """Re-authenticate an involvement the professional lost, if asked to;
    otherwise, or if it cannot be, say why the row is skipped."""
    from .admin.common_queries import Conflict
    from .admin.queue_queries import reauthenticate as reauthenticate_involvement

    if not reauthenticate:
        professional, person = involvement.professional, involvement.person
        who = f"{professional.full_name} <{professional.email}>"
        child = f"{person.full_name} ({person.la_reference})"
        if involvement.deleted_at is not None:
            why = f"{who} deleted {child} from their caseload on {involvement.deleted_at:%-d %B %Y}"
        elif involvement.status == InvolvementStatus.DECLINED.value:
            why = f"the LA declined the request of {who} for {child}"
        else:
            why = f"the LA unauthenticated {who} from {child}"
        return f"{why}. An import does not give a child back; run import-people with --reauthenticate to re-authenticate them"
    try:
        reauthenticate_involvement(None, involvement, declined_too=True, note=f"by {source} (line {row.line})")
    except Conflict as problem:
        return str(problem)
    return None


def _import_involvement(person: Person, professional_id: int, row: PersonRow, involvement: Involvement | None) -> None:
    """The row's professional's involvement with the child: the live one (or
    the one just re-authenticated), else a new one; authenticated, with the
    row's dates."""
    if involvement is None:
        involvement = Involvement(person_id=person.id, professional_id=professional_id)
        db.session.add(involvement)
    involvement.status = InvolvementStatus.AUTHENTICATED.value
    involvement.authenticated_at = involvement.authenticated_at or utcnow()
    involvement.started_on = row.involvement_start or involvement.started_on or date.today()
    involvement.ended_on = row.involvement_end


def professional_emails() -> dict[str, int]:
    return {
        email.lower(): uid
        for uid, email in db.session.execute(
            select(User.id, User.email).where(User.role == Role.PROFESSIONAL.value)
        )
    }



# --- addresses ----------------------------------------------------------------

ADDRESS_HEADER = ["uprn", "address_line_1", "address_line_2", "town", "postcode"]


def read_addresses_csv(path: str) -> tuple[list[dict], list[str]]:
    rows: list[dict] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as error:
        return [], [f"cannot open {path}: {error.strerror}"]
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None or [h.strip().lower() for h in header] != ADDRESS_HEADER:
                return [], ["line 1: the header must be exactly " + ",".join(ADDRESS_HEADER)]
            for line, values in _records(reader):
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(ADDRESS_HEADER):
                    errors.append(f"line {line}: expected {len(ADDRESS_HEADER)} columns, found {len(values)}")
                    continue
                control = _control_character_errors(ADDRESS_HEADER, values, line)
                if control:
                    errors.extend(control)
                    continue
                raw = dict(zip(ADDRESS_HEADER, (v.strip() for v in values)))
                row_errors = []
                if not re.fullmatch(r"\d{1,12}", raw["uprn"]):
                    row_errors.append(f"line {line}: uprn '{raw['uprn'][:20]}' must be a number of up to 12 digits")
                elif raw["uprn"] in seen:
                    row_errors.append(f"line {line}: uprn {raw['uprn']} is also on line {seen[raw['uprn']]}")
                else:
                    seen[raw["uprn"]] = line
                if not raw["address_line_1"] or len(raw["address_line_1"]) > 200:
                    row_errors.append(f"line {line}: address_line_1 must be 1 to 200 characters")
                if len(raw["address_line_2"]) > 200:
                    row_errors.append(f"line {line}: address_line_2 must be 200 characters or fewer")
                if not raw["town"] or len(raw["town"]) > 100:
                    row_errors.append(f"line {line}: town must be 1 to 100 characters")
                key = normalise_postcode(raw["postcode"])
                if key is None:
                    row_errors.append(f"line {line}: postcode '{raw['postcode'][:20]}' is not a UK postcode")
                if row_errors:
                    errors.extend(row_errors)
                    continue
                rows.append({**raw, "postcode": format_postcode(key), "postcode_key": key})
        except (csv.Error, UnicodeDecodeError) as error:
            errors.append(f"line {reader.line_num}: cannot read the file ({error})")
    return rows, errors


def apply_addresses(rows: list[dict], progress=None) -> tuple[int, int]:
    """Write rows read by read_addresses_csv in the current transaction:
    (created, updated). An address already held (by UPRN) is updated."""
    created = updated = 0
    for start in range(0, len(rows), 1000):
        batch = rows[start:start + 1000]
        existing = {a.uprn: a for a in db.session.scalars(select(Address).where(Address.uprn.in_([r["uprn"] for r in batch])))}
        for row in batch:
            address = existing.get(row["uprn"])
            if address is None:
                address = Address(uprn=row["uprn"])
                db.session.add(address)
                created += 1
            else:
                updated += 1
            address.address_line_1 = row["address_line_1"]
            address.address_line_2 = row["address_line_2"] or None
            address.town = row["town"]
            address.postcode = row["postcode"]
            address.postcode_key = row["postcode_key"]
        db.session.flush()
        if progress is not None:
            progress.update(len(batch))
    return created, updated
