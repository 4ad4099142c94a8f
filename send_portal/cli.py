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
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def register_cli(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(import_people)
    app.cli.add_command(demo_data)
    app.cli.add_command(import_addresses)
    app.cli.add_command(backup)
    app.cli.add_command(restore)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema. Safe to run again."""
    upgrade()
    click.echo("The database schema is up to date.")


def _split_name(name: str) -> tuple[str, str]:
    parts = name.strip().split()
    if len(parts) < 2:
        raise click.BadParameter('give the name as "Given Family"', param_hint="--name")
    return " ".join(parts[:-1]), parts[-1]


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
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise click.BadParameter("enter an email address like name@example.org", param_hint="--email")
    given, family = _split_name(name)
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
            for line, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(PEOPLE_HEADER):
                    report.errors.append(f"line {line}: expected {len(PEOPLE_HEADER)} columns, found {len(values)}")
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


def apply_people(rows: list[PersonRow], professionals: dict[str, int], progress=None) -> tuple[int, int]:
    """Write validated rows in the current transaction. Returns (created, updated)."""
    created = updated = 0
    chunk = 500
    for start in range(0, len(rows), chunk):
        batch = rows[start:start + chunk]
        existing = {
            p.la_reference: p
            for p in db.session.scalars(select(Person).where(Person.la_reference.in_([r.la_reference for r in batch])))
        }
        for row in batch:
            person = existing.get(row.la_reference)
            if person is None:
                person = Person(la_reference=row.la_reference)
                db.session.add(person)
                created += 1
            else:
                updated += 1
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
                _import_involvement(person, professionals[row.professional_email], row)
        db.session.flush()
        if progress is not None:
            progress.update(len(batch))
    return created, updated


def _import_involvement(person: Person, professional_id: int, row: PersonRow) -> None:
    involvement = db.session.scalar(
        select(Involvement)
        .where(Involvement.person_id == person.id, Involvement.professional_id == professional_id, Involvement.deleted_at.is_(None))
        .order_by(Involvement.id.desc())
        .limit(1)
    )
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
def import_people(csv_file):
    """Import the authority's people and involvements from CSV (all or nothing)."""
    professionals = professional_emails()
    report = read_people_csv(csv_file, professionals)
    if report.errors:
        for error in report.errors[:200]:
            click.echo(error, err=True)
        if len(report.errors) > 200:
            click.echo(f"... and {len(report.errors) - 200} more problems", err=True)
        click.echo("Nothing was imported. Correct the file and run the import again.", err=True)
        sys.exit(1)
    try:
        with click.progressbar(length=len(report.rows), label="Importing people", file=sys.stderr) as bar:
            created, updated = apply_people(report.rows, professionals, bar)
        audit.record(audit.IMPORT_PEOPLE, details=f"{os.path.basename(csv_file)}: {created} created, {updated} updated")
        db.session.commit()
    except Exception:
        db.session.rollback()
        click.echo("The import failed and nothing was imported.", err=True)
        raise
    click.echo(f"Imported {len(report.rows)} people: {created} created, {updated} updated.")


@click.command("demo-data")
@with_appcontext
def demo_data():
    """Load an idempotent demo authority and print its sign-ins."""
    from .demo import load_demo

    for line in load_demo():
        click.echo(line)


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
            for line, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(ADDRESS_HEADER):
                    errors.append(f"line {line}: expected {len(ADDRESS_HEADER)} columns, found {len(values)}")
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
