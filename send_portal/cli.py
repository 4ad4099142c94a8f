"""The command-line contract of SPEC section 7 (`flask --app app ...`)."""
from __future__ import annotations

import csv
import os
from contextlib import closing
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from . import audit
from .addresses.postcodes import format_postcode, normalise_postcode
from .auth.passwords import hash_password
from .caseload.queries import LIVE_STATUSES
from .extensions import db
from .models import (
    CASE_STATUSES,
    GENDERS,
    PROFESSIONAL_TYPES,
    Activity,
    Involvement,
    InvolvementStatus,
    Person,
    Role,
    User,
    Verification,
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
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX = 100  # User and Person given_name and family_name
ORGANISATION_MAX = 200
# Control characters (C0, DEL, C1) and the line and paragraph separators:
# every field read here is a single line of text, and PostgreSQL refuses NUL.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_MESSAGE = "contains a control character (such as NUL, a tab or a line break); remove it"
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def register_cli(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(import_people)
    app.cli.add_command(demo_data)
    app.cli.add_command(import_addresses)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(reset_two_factor)
    from .mail.cli import send_emails  # the email outbox's sender (send_portal/mail)

    app.cli.add_command(send_emails)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema. Safe to run again."""
    upgrade()
    click.echo("The database schema is up to date.")


def _split_name(name: str) -> tuple[str, str]:
    if CONTROL_RE.search(name):
        raise click.BadParameter("the name " + CONTROL_MESSAGE, param_hint="--name")
    parts = name.strip().split()
    if len(parts) < 2:
        raise click.BadParameter('give the name as "Given Family"', param_hint="--name")
    given, family = " ".join(parts[:-1]), parts[-1]
    for part, what in ((given, "given name"), (family, "family name")):
        if len(part) > NAME_MAX:
            raise click.BadParameter(f"the {what} must be {NAME_MAX} characters or fewer", param_hint="--name")
    return given, family


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True, help="Work email address; also the sign-in name (PortalName).")
@click.option("--name", required=True, help='Full name, "Given Family".')
@click.option("--role", type=click.Choice(["professional", "admin"]), required=True)
@click.option("--professional-type", type=click.Choice(sorted(PROFESSIONAL_TYPES)), default=None)
@click.option("--organisation", default=None)
def create_user(email, name, role, professional_type, organisation):
    """Create a user. The password comes from SEND_PORTAL_PASSWORD or a hidden prompt."""
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254 or CONTROL_RE.search(email):
        raise click.BadParameter("enter an email address like name@example.org", param_hint="--email")
    given, family = _split_name(name)
    if organisation is not None:
        organisation = organisation.strip() or None
    if organisation and CONTROL_RE.search(organisation):
        raise click.BadParameter("the organisation " + CONTROL_MESSAGE, param_hint="--organisation")
    if organisation and len(organisation) > ORGANISATION_MAX:
        raise click.BadParameter(f"the organisation must be {ORGANISATION_MAX} characters or fewer", param_hint="--organisation")
    if role == "professional" and not professional_type:
        raise click.BadParameter("a professional needs a professional type", param_hint="--professional-type")
    if db.session.scalar(select(User).where(func.lower(User.email) == email)):
        raise click.ClickException(f"A user with the email address {email} already exists.")
    password = os.environ.get("SEND_PORTAL_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    if len(password) < 12:
        raise click.ClickException("The password must be at least 12 characters long.")
    user = User(
        email=email,
        given_name=given,
        family_name=family,
        role=role,
        professional_type=professional_type if role == "professional" else None,
        organisation=organisation,
        password_hash=hash_password(password),
        verification=Verification.VERIFIED.value,  # made by someone with the server: trusted
    )
    if organisation and role == "professional":
        # A member of the organisation of that name (any case), made if new.
        from .organisations.service import find_or_create

        user.organisation_id = find_or_create(organisation).id
    db.session.add(user)
    db.session.flush()
    audit.record(audit.USER_CREATED, details=f"{role} {email} created from the command line")
    db.session.commit()
    click.echo(f"Created {role} {given} {family} <{email}>.")


# --- import-people -----------------------------------------------------------


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
    area's Re-authenticate does it (admin.queries.reauthenticate: one audit
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
                live = [i for i in earlier if i.deleted_at is None and i.status in LIVE_STATUSES]
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
    from .admin.queries import Conflict, reauthenticate as reauthenticate_involvement

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


@click.command("import-people")
@with_appcontext
@click.argument("csv_file", type=click.Path(dir_okay=False))
@click.option(
    "--reauthenticate",
    is_flag=True,
    help="Re-authenticate a row's professional for the child where they had been deleted, unauthenticated "
    "or declined (one audit entry per child). Without it those rows are listed and skipped, and the rest imported.",
)
def import_people(csv_file, reauthenticate):
    """Import the authority's people and involvements from CSV.

    All or nothing: a bad row stops the whole import, and every bad row is
    listed. A row whose professional had the child taken away (they deleted
    the child, or the LA unauthenticated or declined them) is not a bad row:
    without --reauthenticate it is skipped, listed with its line and why,
    and the rest of the file is imported (exit status 0)."""
    professionals = professional_emails()
    report = read_people_csv(csv_file, professionals)
    if report.errors:
        for error in report.errors[:200]:
            click.echo(error, err=True)
        if len(report.errors) > 200:
            click.echo(f"... and {len(report.errors) - 200} more problems", err=True)
        click.echo("Nothing was imported. Correct the file and run the import again.", err=True)
        sys.exit(1)
    name = os.path.basename(csv_file)
    try:
        with click.progressbar(length=len(report.rows), label="Importing people", file=sys.stderr) as bar:
            outcome = apply_people(report.rows, professionals, bar, reauthenticate=reauthenticate, source=f"import-people from {name}")
        details = f"{name}: {outcome.created} created, {outcome.updated} updated"
        if outcome.reauthenticated:
            details += f", {outcome.reauthenticated} re-authenticated"
        if outcome.skipped:
            details += f", {len(outcome.skipped)} skipped"
        audit.record(audit.IMPORT_PEOPLE, details=details)
        db.session.commit()
    except Exception:
        db.session.rollback()
        click.echo("The import failed and nothing was imported.", err=True)
        raise
    for line in outcome.skipped:
        click.echo(line, err=True)
    summary = f"Imported {outcome.imported} {'person' if outcome.imported == 1 else 'people'}: {outcome.created} created, {outcome.updated} updated."
    if outcome.reauthenticated:
        summary += f" {outcome.reauthenticated} re-authenticated."
    if outcome.skipped:
        n = len(outcome.skipped)
        summary += f" {n} {'row' if n == 1 else 'rows'} skipped (listed above)."
    click.echo(summary)


@click.command("demo-data")
@with_appcontext
def demo_data():
    """Load an idempotent demo authority and print its sign-ins."""
    from .demo import load_demo

    for line in load_demo():
        click.echo(line)


@click.command("reset-two-factor")
@click.option("--email", required=True, help="The account's email address.")
@with_appcontext
def reset_two_factor(email):
    """Remove an account's second factor (for an LA admin, who has no admin
    page of their own) and end its sessions. Audited."""
    from .auth import two_factor

    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or user.is_system:
        raise click.ClickException(f"No account has the email address {email}.")
    if not two_factor.is_set_up(user):
        raise click.ClickException(f"{user.email} has not set up two-factor sign-in: there is nothing to reset.")
    ended = two_factor.reset(user, None)
    db.session.commit()
    click.echo(
        f"Two-factor sign-in reset for {user.email}; {ended} active session{'' if ended == 1 else 's'} ended. "
        "They sign in with their password and set it up again."
    )


# --- import-addresses -----------------------------------------------------------

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


@click.command("import-addresses")
@with_appcontext
@click.argument("csv_file", type=click.Path(dir_okay=False))
def import_addresses(csv_file):
    """Load the authority's address gazetteer (LLPG or AddressBase extract) from CSV."""
    from .models import Address

    rows, errors = read_addresses_csv(csv_file)
    if errors:
        for error in errors[:200]:
            click.echo(error, err=True)
        if len(errors) > 200:
            click.echo(f"... and {len(errors) - 200} more problems", err=True)
        click.echo("Nothing was imported. Correct the file and run the import again.", err=True)
        sys.exit(1)
    created = updated = 0
    try:
        with click.progressbar(length=len(rows), label="Importing addresses", file=sys.stderr) as bar:
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
                bar.update(len(batch))
        audit.record(audit.ADDRESSES_IMPORTED, details=f"{os.path.basename(csv_file)}: {created} created, {updated} updated")
        db.session.commit()
    except Exception:
        db.session.rollback()
        click.echo("The import failed and nothing was imported.", err=True)
        raise
    click.echo(f"Imported {len(rows)} addresses: {created} created, {updated} updated.")


# --- backup and restore (SQLite; PostgreSQL uses pg_dump, see DEPLOY.md) ---------------


def _sqlite_path() -> str:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise click.ClickException(
            "backup and restore handle the SQLite database. For PostgreSQL use "
            "pg_dump --format=custom and pg_restore (see DEPLOY.md)."
        )
    return url.database


def _check_sqlite_file(path: str) -> None:
    import sqlite3

    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise click.ClickException(f"{path} failed SQLite's integrity check.")
            conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"{path} is not a SEND Portal database: {error}") from error


@click.command("backup")
@with_appcontext
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Where to write the backup.")
def backup(output):
    """Back up the SQLite database while the service runs (SQLite's online backup API)."""
    import sqlite3
    from flask import current_app

    source = _sqlite_path()
    if output is None:
        folder = os.path.join(current_app.instance_path, "backups")
        os.makedirs(folder, exist_ok=True)
        output = os.path.join(folder, f"send_portal-{datetime.now():%Y%m%d-%H%M%S}.sqlite3")
    if os.path.exists(output):
        raise click.ClickException(f"{output} already exists; choose another file.")
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(output)) as copy:
        live.backup(copy)
    os.chmod(output, 0o600)  # children's data: readable by the service account only
    _check_sqlite_file(output)
    click.echo(f"Backed up to {output}")


@click.command("restore")
@with_appcontext
@click.argument("backup_file", type=click.Path(dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(backup_file, yes):
    """Replace the SQLite database with a backup. Stop the service first."""
    import sqlite3

    target = _sqlite_path()
    _check_sqlite_file(backup_file)
    if not yes:
        click.confirm(f"Replace everything in {target} with {backup_file}?", abort=True)
    db.session.remove()
    db.engine.dispose()
    with closing(sqlite3.connect(backup_file)) as source, closing(sqlite3.connect(target)) as live:
        source.backup(live)
    click.echo(f"Restored {target} from {backup_file}. Run init-db to upgrade it if the backup is older.")
