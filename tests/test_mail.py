"""Email as a component: the outbox is written in the caller's transaction,
and the sender delivers it to a real SMTP server (aiosmtpd on 127.0.0.1),
trying again with backoff while the server is down, giving up after the
last attempt, and never sending an email twice when two senders run."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from send_portal.extensions import db
from send_portal.mail import queue_email
from send_portal.mail.models import OutboxEmail
from send_portal.mail.sender import retry_delay, send_batch, send_due, transport_for
from send_portal.models import User, utcnow

from .conftest import ClientRequest
from .mail_support import body, deliver, free_port, smtp_server, use_smtp


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def test_an_email_is_written_only_if_the_change_that_causes_it_is_committed(app, professional):
    professional.organisation = "Changed and then rolled back"
    queue_email(professional.email, "About your change", "Your details changed.")
    db.session.rollback()
    assert outbox() == []
    assert db.session.get(User, professional.id).organisation == "Riverside Primary School"

    professional.organisation = "Hillside Academy"
    queue_email(professional.email, "About your change", "Your details changed.")
    db.session.commit()
    [email] = outbox()
    assert (email.to_address, email.subject, email.sent_at, email.attempts) == (
        professional.email, "About your change", None, 0,
    )


@pytest.mark.parametrize("to, subject", [
    ("someone@example.org", "Line one\r\nBcc: everyone@example.org"),
    ("someone@example.org, other@example.org", "Two recipients"),
    ("not an address", "Hello"),
    ("someone@example.org", ""),
])
def test_an_email_with_a_header_that_could_be_abused_is_refused(app, to, subject):
    with pytest.raises(ValueError):
        queue_email(to, subject, "Body")
    db.session.rollback()
    assert outbox() == []


def test_the_sender_delivers_each_email_to_the_smtp_server(app):
    queue_email("sam@school.example", "First", "The first body.")
    queue_email("jo@school.example", "Second", "The second body.")
    db.session.commit()
    with smtp_server() as server:
        use_smtp(app, server.port)
        report = deliver(app)
    assert (report.sent, report.retrying, report.given_up) == (2, 0, 0)
    first, second = sorted(server.messages, key=lambda m: m["Subject"])
    assert (first["To"], first["Subject"], body(first).strip()) == ("sam@school.example", "First", "The first body.")
    assert "send.portal@la.example" in first["From"]
    assert first["Message-ID"] and first["Date"]
    assert second["To"] == "jo@school.example"
    assert all(email.sent_at is not None and email.attempts == 0 for email in outbox())


def test_the_send_emails_command_runs_once(app, runner):
    queue_email("sam@school.example", "From the command", "Body.")
    db.session.commit()
    with smtp_server() as server:
        use_smtp(app, server.port)
        result = runner.invoke(args=["send-emails", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert [m["Subject"] for m in server.messages] == ["From the command"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_sender_signs_in_to_the_server_and_keeps_the_password_out_of_errors(app):
    queue_email("sam@school.example", "Needs a login", "Body.")
    db.session.commit()
    with smtp_server(password="the-right-password") as server:
        use_smtp(app, server.port, SMTP_USERNAME="portal", SMTP_PASSWORD="a-wrong-password-123")
        report = deliver(app)
        assert report.sent == 0 and server.messages == []
        [email] = outbox()
        assert email.sent_at is None and email.attempts == 1
        assert "535" in email.last_error
        assert "a-wrong-password-123" not in email.last_error

        app.config["SMTP_PASSWORD"] = "the-right-password"
        report = deliver(app, now=email.next_attempt_at)
    assert report.sent == 1
    assert [m["Subject"] for m in server.messages] == ["Needs a login"]


def test_while_the_server_is_down_nothing_is_lost_and_each_retry_waits_longer(app, caplog):
    port = free_port()  # nothing listens here yet
    use_smtp(app, port)
    queue_email("sam@school.example", "Waits for the server", "Body.")
    db.session.commit()
    start = (utcnow() + timedelta(seconds=1)).replace(microsecond=0)

    report = deliver(app, now=start)
    assert (report.sent, report.retrying, report.connection_failed) == (0, 1, True)
    [email] = outbox()
    assert email.attempts == 1 and email.sent_at is None and email.failed_at is None
    assert email.next_attempt_at == start + timedelta(minutes=1)
    assert "ConnectionRefusedError" in email.last_error
    assert email.claimed_by is None

    # Not due yet: not tried, not counted.
    assert deliver(app, now=start + timedelta(seconds=30)).retrying == 0
    assert outbox()[0].attempts == 1

    deliver(app, now=start + timedelta(minutes=1))
    [email] = outbox()
    assert email.attempts == 2
    assert email.next_attempt_at == start + timedelta(minutes=1 + 2)

    with smtp_server(port=port) as server:
        report = deliver(app, now=start + timedelta(minutes=3))
    assert report.sent == 1
    assert [m["Subject"] for m in server.messages] == ["Waits for the server"]
    [email] = outbox()
    assert email.sent_at is not None and email.last_error is None
    assert any("trying again" in record.getMessage() for record in caplog.records)


def test_a_temporary_refusal_is_tried_again_later(app):
    queue_email("sam@school.example", "Greylisted", "Body.")
    db.session.commit()
    start = utcnow()
    with smtp_server(refuse=1) as server:
        use_smtp(app, server.port)
        first = deliver(app, now=start)
        assert (first.sent, first.retrying) == (0, 1)
        assert "451" in outbox()[0].last_error
        second = deliver(app, now=start + timedelta(minutes=1))
    assert second.sent == 1
    assert [m["Subject"] for m in server.messages] == ["Greylisted"]


def test_retries_back_off_exponentially_up_to_an_hour():
    assert [retry_delay(n, 60) for n in range(1, 10)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60, 60)
    ]


def test_the_sender_gives_up_after_the_last_attempt_and_logs_it(app, caplog):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    use_smtp(app, free_port())
    queue_email("sam@school.example", "Never delivered", "Body.")
    db.session.commit()
    now = utcnow()
    for _ in range(3):
        deliver(app, now=now)
        now += timedelta(hours=2)
    [email] = outbox()
    assert email.attempts == 3 and email.failed_at is not None and email.sent_at is None
    assert any(record.levelno == logging.ERROR and "given up" in record.getMessage() for record in caplog.records)
    # Given up: never tried again.
    assert deliver(app, now=now + timedelta(days=1)).retrying == 0
    assert outbox()[0].attempts == 3


def test_an_address_the_server_refuses_for_good_is_given_up_at_once(app):
    queue_email("nobody@school.example", "Bounces", "Body.")
    queue_email("sam@school.example", "Arrives", "Body.")
    db.session.commit()

    class RefusesNobody:
        messages = []

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            if address.startswith("nobody@"):
                return "550 5.1.1 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    from aiosmtpd.controller import Controller

    handler = RefusesNobody()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        use_smtp(app, controller.port)
        report = deliver(app)
    finally:
        controller.stop()
    assert (report.sent, report.given_up) == (1, 1)
    bounced, arrived = outbox()
    assert bounced.failed_at is not None and "550" in bounced.last_error
    assert arrived.sent_at is not None
    assert [m["Subject"] for m in handler.messages] == ["Arrives"]


def test_an_email_claimed_by_one_sender_waits_for_its_claim_to_run_out(app):
    """A sender that dies mid-batch holds its rows only until its claim
    runs out; then another sender delivers them."""
    queue_email("sam@school.example", "Claimed", "Body.")
    db.session.commit()
    from send_portal.mail.sender import claim

    now = utcnow()
    assert len(claim("sender-that-dies", now, 10)) == 1
    with smtp_server() as server:
        use_smtp(app, server.port)
        report, claimed = send_batch(transport_for(app), "another-sender", now=now + timedelta(seconds=10))
        assert claimed == 0 and server.messages == []
        later = now + timedelta(seconds=app.config["MAIL_CLAIM_SECONDS"] + 1)
        report, claimed = send_batch(transport_for(app), "another-sender", now=later)
    assert report.sent == 1
    assert [m["Subject"] for m in server.messages] == ["Claimed"]


def test_two_senders_at_once_deliver_each_email_exactly_once(app):
    app.config["MAIL_BATCH_SIZE"] = 5
    for n in range(60):
        queue_email(f"person{n}@school.example", f"Email {n}", "Body.")
    db.session.commit()
    errors, reports = [], []

    with smtp_server() as server:
        use_smtp(app, server.port)
        start = threading.Barrier(2)

        def sender():
            try:
                with app.app_context():
                    start.wait()
                    reports.append(send_due(transport_for(app)))
                    db.session.remove()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    assert sum(report.sent for report in reports) == 60
    subjects = sorted(m["Subject"] for m in server.messages)
    assert subjects == sorted(f"Email {n}" for n in range(60))  # each once, none missing
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None))) == 0


def test_development_without_smtp_writes_each_email_where_the_developer_can_read_it(app, runner, caplog):
    caplog.set_level(logging.INFO, logger="send_portal.mail.sender")
    app.config.update(SMTP_HOST="", SEND_PORTAL_ENV="development")
    queue_email("sam@school.example", "Read me in a file", "Hello from development.")
    db.session.commit()
    result = runner.invoke(args=["send-emails", "--once"])
    assert result.exit_code == 0, result.output
    directory = f"{app.instance_path}/mail"
    assert directory in result.output
    import os

    [name] = os.listdir(directory)
    with open(os.path.join(directory, name), "rb") as file:
        message = message_from_bytes(file.read(), policy=policy.default)
    assert message["Subject"] == "Read me in a file"
    assert body(message).strip() == "Hello from development."
    assert outbox()[0].sent_at is not None
    assert any(os.path.join(directory, name) in record.getMessage() for record in caplog.records)


def test_production_without_smtp_refuses_to_start_and_the_emails_wait(app, runner):
    app.config.update(SMTP_HOST="", SEND_PORTAL_ENV="production")
    queue_email("sam@school.example", "Waits for configuration", "Body.")
    db.session.commit()
    result = runner.invoke(args=["send-emails", "--once"])
    assert result.exit_code == 1
    assert "SMTP_HOST is not set" in result.output
    [email] = outbox()
    assert email.sent_at is None and email.attempts == 0


def test_a_bad_smtp_port_is_a_clear_message(app, runner):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT="twenty-five")
    result = runner.invoke(args=["send-emails", "--once"])
    assert result.exit_code == 1
    assert "SMTP_PORT must be a port number" in result.output


def test_the_sender_keeps_going_between_passes_until_stopped(app):
    """Without --once: a pass, a wait, another pass: an email queued while
    it runs is delivered on the next pass."""
    from send_portal.mail.sender import run

    stop = threading.Event()
    with smtp_server() as server:
        use_smtp(app, server.port)
        app.config["MAIL_CLAIM_SECONDS"] = 300
        thread = threading.Thread(target=lambda: _run_in_context(app, run, stop))
        thread.start()
        queue_email("sam@school.example", "While running", "Body.")
        db.session.commit()
        deadline = datetime.now() + timedelta(seconds=20)
        while not server.messages and datetime.now() < deadline:
            stop.wait(0.1)
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
    assert [m["Subject"] for m in server.messages] == ["While running"]


def _run_in_context(app, run, stop):
    with app.app_context():
        run(app, once=False, interval=0.2, stop=stop, echo=lambda _: None)


def test_a_server_that_drops_the_connection_loses_nothing(app):
    """A listener that accepts and hangs up at once (a crashing or
    overloaded mail server): every email waits for the next attempt."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    stop = threading.Event()

    def hang_up():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            connection.close()

    thread = threading.Thread(target=hang_up)
    thread.start()
    try:
        for n in range(3):
            queue_email(f"person{n}@school.example", f"Dropped {n}", "Body.")
        db.session.commit()
        use_smtp(app, port)
        start = utcnow() + timedelta(seconds=1)
        report = deliver(app, now=start)
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    assert (report.sent, report.retrying, report.connection_failed) == (0, 3, True)
    assert all(e.attempts == 1 and e.sent_at is None and "SMTPServerDisconnected" in e.last_error for e in outbox())

    with smtp_server() as server:  # the server is back (here on another port)
        use_smtp(app, server.port)
        assert deliver(app, now=start + timedelta(minutes=1)).sent == 3
    assert sorted(m["Subject"] for m in server.messages) == ["Dropped 0", "Dropped 1", "Dropped 2"]


def test_a_sent_email_s_body_is_removed_from_the_outbox(app, professional):
    """A password reset link is a key to the account: once it has gone, the
    outbox keeps only a note of it, with the address and subject."""
    app.config["PORTAL_URL"] = "https://portal.la.example"
    client = ClientRequest(app.test_client())
    client.post("/forgot-password", {"email": professional.email}, expected_status=303)
    [waiting] = outbox()
    assert "/reset-password/" in waiting.body
    with smtp_server() as server:
        use_smtp(app, server.port)
        assert deliver(app).sent == 1
    assert "/reset-password/" in body(server.messages[0])
    [sent] = outbox()
    assert sent.sent_at is not None
    assert sent.body == "[sent: body removed]"
    assert (sent.to_address, sent.subject) == (professional.email, waiting.subject)


def test_a_given_up_email_s_body_is_removed_and_one_to_retry_keeps_it(app):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    use_smtp(app, free_port())
    queue_email("sam@school.example", "Never delivered", "A secret body.")
    db.session.commit()
    now = utcnow()
    deliver(app, now=now)
    [retrying] = outbox()
    assert retrying.failed_at is None and retrying.body == "A secret body."
    deliver(app, now=now + timedelta(hours=2))
    [given_up] = outbox()
    assert given_up.failed_at is not None and given_up.body == "[given up: body removed]"
    assert (given_up.to_address, given_up.subject) == ("sam@school.example", "Never delivered")
