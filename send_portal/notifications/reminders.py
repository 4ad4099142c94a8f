"""The daily chase: for each form the LA asked for and has not received, a
reminder a week before it is due, one on the day and one once it is
overdue, each sent at most once ever.

Once is kept by reminder_sent's key (form request, kind), not by reading
first: the reminder and its notification are one transaction that inserts
the key with ON CONFLICT DO NOTHING, so of two runs at the same moment (two
timers, a retry over a slow run) only one sends each reminder."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..caseload.queries import DueForm, outstanding_form_requests
from ..display import utc_to_local
from ..extensions import db
from ..models import utcnow
from .due import days_left
from .events import link_to, notify
from .models import ReminderSent

WEEK = 7
KIND_LABELS = {"week": "due in a week", "today": "due today", "overdue": "overdue"}


@dataclass
class SentReminder:
    form_request_id: int
    kind: str
    professional_id: int
    due_on: date


def reminder_due(form: DueForm, today: date) -> str | None:
    """Which reminder this form is owed today, if any. The week's reminder
    is owed from seven days before until the day before (so a missed day is
    caught up), but not for a request made within that week: asking already
    told the professional the date."""
    left = days_left(form.due_on, today)
    if left < 0:
        return "overdue"
    if left == 0:
        return "today"
    if left <= WEEK and utc_to_local(form.requested_at).date() < form.due_on - timedelta(days=WEEK):
        return "week"
    return None


def _claim(form_request_id: int, kind: str) -> bool:
    """Insert the reminder's key; False when it was already there (sent by
    an earlier run, or by another run a moment ago)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ReminderSent.__table__)
        .values(form_request_id=form_request_id, kind=kind, sent_at=utcnow())
        .on_conflict_do_nothing()
        .returning(ReminderSent.__table__.c.form_request_id)
    )
    return db.session.execute(statement).first() is not None


def send_reminders(today: date) -> list[SentReminder]:
    """Send what is owed on this (London) date; returns what was sent."""
    forms, _total = outstanding_form_requests(today, due_by=today + timedelta(days=WEEK))
    owed = [(form, kind) for form in forms if (kind := reminder_due(form, today)) is not None]
    # Those already sent are skipped without a write; the key still decides.
    already = set()
    if owed:
        already = set(db.session.execute(
            select(ReminderSent.form_request_id, ReminderSent.kind)
            .where(ReminderSent.form_request_id.in_({form.request_id for form, _ in owed}))
        ).tuples())
    db.session.commit()  # end the reading transaction: each reminder is its own
    sent = []
    for form, kind in owed:
        if (form.request_id, kind) in already:
            continue
        try:
            if _claim(form.request_id, kind):
                notify(
                    form.professional_id, f"reminder_{kind}",
                    link_to("forms.child_forms", person_id=form.person.id), due_on=form.due_on,
                )
                db.session.commit()
                sent.append(SentReminder(form.request_id, kind, form.professional_id, form.due_on))
            else:
                db.session.rollback()
        except Exception:
            db.session.rollback()
            raise
    return sent


def _parse_day(ctx, param, value):  # noqa: ARG001
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        import click

        raise click.BadParameter("give the date as YYYY-MM-DD, for example 2026-03-14") from None


def register(cli_group) -> None:
    import click

    @cli_group.command("send-reminders")
    @click.option("--today", "today", metavar="YYYY-MM-DD", callback=_parse_day,
                  help="Send what is owed on this date (for catching up, or testing); default: today in London.")
    def send_reminders_command(today: date | None):
        """Remind professionals of the forms the LA asked them for: a week
        before the due date, on the day and once overdue, each once (running
        it again sends nothing new). Run it daily (cron or a systemd timer)."""
        from .due import london_today

        day = today or london_today()
        sent = send_reminders(day)
        for reminder in sent:
            click.echo(
                f"Form request {reminder.form_request_id}: reminder ({KIND_LABELS[reminder.kind]}, due "
                f"{reminder.due_on.isoformat()}) to user {reminder.professional_id}"
            )
        count = len(sent)
        click.echo(f"{count} reminder{'' if count == 1 else 's'} sent for {day.isoformat()}." if count
                   else f"No reminders to send for {day.isoformat()}.")
