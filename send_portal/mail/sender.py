"""Delivering the outbox: `flask --app app send-emails [--once] [--interval N]`.

A sender claims a batch of due emails in a short transaction (on PostgreSQL
with SELECT ... FOR UPDATE SKIP LOCKED, so several senders on several app
servers never take the same row; on SQLite every writing transaction holds
the database's write lock, which serialises the claims), then sends each one
and records the outcome in its own transaction. An email is marked sent only
after the SMTP server has accepted it. A failure leaves it in the outbox to
be tried again after 1, 2, 4 ... minutes (capped, MAIL_RETRY_MAX_MINUTES),
until MAIL_MAX_ATTEMPTS attempts have failed, when it is given up on and
logged. Delivery is at least once: a sender that dies between the server's
acceptance and its own commit leaves the row to be sent again once its claim
runs out; the Message-ID is the same each time, so mail clients show it once.

Without SMTP_HOST, development and testing write each email as a .eml file
under instance/mail/ (and log where); production refuses to start the
sender, and the emails wait in the outbox until SMTP is configured."""
from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from flask import current_app
from sqlalchemy import or_, select, update

from ..extensions import db
from ..models import utcnow
from .models import OutboxEmail

log = logging.getLogger(__name__)

_WAITING = (OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None))


class MailNotConfigured(RuntimeError):
    """Production without SMTP_HOST: the sender must not start."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    use_ssl: bool
    username: str | None
    password: str | None = field(repr=False)  # never in a log line
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config) -> SmtpSettings | None:
        host = (config.get("SMTP_HOST") or "").strip()
        if not host:
            return None
        port = str(config.get("SMTP_PORT") or (465 if config.get("SMTP_SSL") else 587)).strip()
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise MailNotConfigured(f"SMTP_PORT must be a port number such as 587, not {port!r}.")
        return cls(
            host=host,
            port=int(port),
            starttls=bool(config.get("SMTP_STARTTLS")),
            use_ssl=bool(config.get("SMTP_SSL")),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            timeout=float(config.get("SMTP_TIMEOUT") or 30),
        )


class SmtpTransport:
    """One SMTP connection for a batch: opened on entering, closed on leaving."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def __enter__(self):
        s = self.settings
        context = ssl.create_default_context()
        if s.use_ssl:
            connection = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            connection.ehlo()
            if s.starttls and not s.use_ssl:
                connection.starttls(context=context)
                connection.ehlo()
            if s.username:
                connection.login(s.username, s.password or "")
        except BaseException:
            connection.close()
            raise
        self.connection = connection
        return self

    def send(self, message: EmailMessage, email_id: int) -> None:  # noqa: ARG002
        # Raises unless the server accepted the message for its one recipient.
        self.connection.send_message(message)

    def __exit__(self, *exc):
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None
        return False


class FileTransport:
    """Development without SMTP: each email is a .eml file a developer can open."""

    def __init__(self, directory: str):
        self.directory = directory

    def __enter__(self):
        os.makedirs(self.directory, exist_ok=True)
        return self

    def send(self, message: EmailMessage, email_id: int) -> None:
        path = os.path.join(self.directory, f"{email_id:08d}.eml")
        with open(path, "wb") as file:
            file.write(bytes(message))
        log.info("email %s written to %s (no SMTP_HOST: development)", email_id, path)

    def __exit__(self, *exc):
        return False


def transport_for(app) -> SmtpTransport | FileTransport:
    settings = SmtpSettings.from_config(app.config)
    if settings is not None:
        return SmtpTransport(settings)
    if app.config.get("SEND_PORTAL_ENV") in ("development", "testing"):
        return FileTransport(os.path.join(app.instance_path, "mail"))
    raise MailNotConfigured(
        "SMTP_HOST is not set, so no email can be sent. Set SMTP_HOST (and SMTP_PORT, SMTP_STARTTLS or "
        "SMTP_SSL, SMTP_USERNAME, SMTP_PASSWORD, MAIL_FROM as needed) and start the sender again. "
        "Nothing is lost: the emails wait in the outbox until then."
    )


def build_message(row, config) -> EmailMessage:
    mail_from = config["MAIL_FROM"]
    domain = mail_from.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = formataddr((config.get("SERVICE_NAME") or "", mail_from))
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at.replace(tzinfo=timezone.utc))
    # The same on every attempt: a resend after a crash is the same email.
    message["Message-ID"] = f"<outbox-{row.id}-{int(row.created_at.timestamp())}@{domain}>"
    message.set_content(row.body)
    return message


def retry_delay(attempts: int, cap_minutes: int) -> timedelta:
    """After the n-th failed attempt: 1, 2, 4 ... minutes, at most cap_minutes."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), cap_minutes))


def describe_error(error: BaseException) -> str:
    """What went wrong, for last_error and the log: the error's kind and the
    server's reply code and text. Never the settings (the password)."""
    kind = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = "; ".join(f"{code} {_text(reply)}" for code, reply in error.recipients.values())
        detail = f"recipient refused: {replies}"
    elif isinstance(error, smtplib.SMTPResponseException):
        detail = f"{error.smtp_code} {_text(error.smtp_error)}"
    elif isinstance(error, OSError):
        detail = error.strerror or str(error)
    else:
        detail = str(error)
    return f"{kind}: {detail}"[:500]


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _permanent(error: BaseException) -> bool:
    """The server said the address will never work: trying again cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return False


def _connection_lost(error: BaseException) -> bool:
    # Every SMTPException is an OSError too: only a dropped connection or a
    # network error ends the batch.
    return isinstance(error, smtplib.SMTPServerDisconnected) or (
        isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)
    )


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    connection_failed: bool = False

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.given_up += other.given_up
        self.connection_failed = self.connection_failed or other.connection_failed

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to try again later, {self.given_up} given up"


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(worker: str, now: datetime, limit: int) -> list:
    """Due emails for this sender, in one short transaction. Rows another
    sender holds are skipped (SKIP LOCKED), and rows it claimed are left
    alone until its claim runs out."""
    lease = timedelta(seconds=current_app.config["MAIL_CLAIM_SECONDS"])
    try:
        ids = db.session.scalars(
            select(OutboxEmail.id)
            .where(
                *_WAITING,
                OutboxEmail.next_attempt_at <= now,
                or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now),
            )
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        rows = []
        if ids:
            db.session.execute(
                update(OutboxEmail).where(OutboxEmail.id.in_(ids))
                .values(claimed_by=worker, claimed_until=now + lease)
            )
            rows = db.session.execute(
                select(
                    OutboxEmail.id, OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.body,
                    OutboxEmail.created_at, OutboxEmail.attempts,
                ).where(OutboxEmail.id.in_(ids)).order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            ).all()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return rows


# Once an email has gone (or will never go) its text is no longer needed, and
# it can hold a password reset link: the outbox keeps only a note of it.
SENT_BODY = "[sent: body removed]"
GIVEN_UP_BODY = "[given up: body removed]"


def _ours(email_id: int, worker: str):
    return update(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.claimed_by == worker)


def _record_sent(email_id: int, worker: str, now: datetime) -> None:
    db.session.execute(
        _ours(email_id, worker).values(sent_at=now, claimed_by=None, claimed_until=None, last_error=None, body=SENT_BODY)
    )
    db.session.commit()


def _record_failure(row, worker: str, now: datetime, error: BaseException, report: SendReport) -> None:
    config = current_app.config
    attempts = row.attempts + 1
    problem = describe_error(error)
    values = {"attempts": attempts, "last_error": problem, "claimed_by": None, "claimed_until": None}
    if _permanent(error) or attempts >= config["MAIL_MAX_ATTEMPTS"]:
        values.update(failed_at=now, body=GIVEN_UP_BODY)
        report.given_up += 1
        log.error("email %s given up after %s attempt%s: %s", row.id, attempts, "" if attempts == 1 else "s", problem)
    else:
        values["next_attempt_at"] = now + retry_delay(attempts, config["MAIL_RETRY_MAX_MINUTES"])
        report.retrying += 1
        log.warning("email %s not sent (attempt %s), trying again at %s: %s",
                    row.id, attempts, values["next_attempt_at"].isoformat(timespec="seconds"), problem)
    db.session.execute(_ours(row.id, worker).values(**values))
    db.session.commit()


def _release(rows, worker: str) -> None:
    """Rows not tried this time go back at once, no attempt counted."""
    if rows:
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_([row.id for row in rows]), OutboxEmail.claimed_by == worker)
            .values(claimed_by=None, claimed_until=None)
        )
        db.session.commit()


def send_batch(transport, worker: str, now: datetime | None = None, limit: int | None = None) -> tuple[SendReport, int]:
    """Claim up to limit due emails and try each once. Returns the outcome and
    how many were claimed."""
    config = current_app.config
    now = now or utcnow()
    rows = claim(worker, now, limit or config["MAIL_BATCH_SIZE"])
    report = SendReport()
    if not rows:
        return report, 0
    try:
        opened = transport.__enter__()
    except Exception as error:  # noqa: BLE001 - the server is down or refused us: every row waits
        report.connection_failed = True
        log.warning("could not connect to the mail server: %s", describe_error(error))
        for row in rows:
            _record_failure(row, worker, now, error, report)
        return report, len(rows)
    try:
        for index, row in enumerate(rows):
            try:
                opened.send(build_message(row, config), row.id)
            except Exception as error:  # noqa: BLE001 - recorded on the row, tried again later
                _record_failure(row, worker, now, error, report)
                if _connection_lost(error):
                    report.connection_failed = True
                    _release(rows[index + 1:], worker)
                    break
            else:
                _record_sent(row.id, worker, now)
                report.sent += 1
    finally:
        transport.__exit__(None, None, None)
    return report, len(rows)


def send_due(transport, worker: str | None = None, now: datetime | None = None) -> SendReport:
    """One pass: every email due now, batch after batch, until none is left
    or the mail server stops answering."""
    worker = worker or new_worker_id()
    total = SendReport()
    limit = current_app.config["MAIL_BATCH_SIZE"]
    while True:
        report, claimed = send_batch(transport, worker, now=now, limit=limit)
        total.add(report)
        if claimed < limit or report.connection_failed:
            return total


def run(app, once: bool, interval: float, stop: threading.Event | None = None, echo=print) -> SendReport:
    """The send-emails command: one pass, or a pass every interval seconds
    until stopped (SIGTERM or Ctrl-C). A database or mail server that is
    briefly away is logged and tried again on the next pass."""
    transport = transport_for(app)  # MailNotConfigured in production without SMTP_HOST
    if isinstance(transport, FileTransport):
        echo(f"SMTP_HOST is not set: emails are written to {transport.directory}")
    stop = stop or threading.Event()
    worker = new_worker_id()
    total = SendReport()
    while True:
        try:
            report = send_due(transport, worker)
            total.add(report)
            if once or report.sent or report.retrying or report.given_up:
                echo(f"Emails: {report}.")
        except Exception:  # noqa: BLE001 - keep going: the next pass tries again
            db.session.rollback()
            if once:
                raise
            log.exception("sending emails failed; trying again in %s seconds", interval)
        finally:
            db.session.remove()
        if once or stop.wait(interval):
            return total
