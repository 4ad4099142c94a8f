"""The command-line contract of SPEC section 7 (`flask --app app ...`): the
click commands only. What an import reads and writes is send_portal.imports;
the demo authority is send_portal.demo."""
from __future__ import annotations

import os
import re
import sys
from contextlib import closing
from datetime import datetime

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from . import audit
from .auth.passwords import hash_password
from .extensions import db
from .imports import CONTROL_MESSAGE, CONTROL_RE, apply_addresses, apply_people, professional_emails, read_addresses_csv, read_people_csv
from .models import PROFESSIONAL_TYPES, User, Verification

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX = 100  # User and Person given_name and family_name
ORGANISATION_MAX = 200


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


@click.command("import-addresses")
@with_appcontext
@click.argument("csv_file", type=click.Path(dir_okay=False))
def import_addresses(csv_file):
    """Load the authority's address gazetteer (LLPG or AddressBase extract) from CSV."""
    rows, errors = read_addresses_csv(csv_file)
    if errors:
        for error in errors[:200]:
            click.echo(error, err=True)
        if len(errors) > 200:
            click.echo(f"... and {len(errors) - 200} more problems", err=True)
        click.echo("Nothing was imported. Correct the file and run the import again.", err=True)
        sys.exit(1)
    try:
        with click.progressbar(length=len(rows), label="Importing addresses", file=sys.stderr) as bar:
            created, updated = apply_addresses(rows, bar)
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