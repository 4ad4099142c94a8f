"""`flask --app app send-emails [--once] [--interval SECONDS]`."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from .sender import MailNotConfigured, run


@click.command("send-emails")
@click.option("--once", is_flag=True, help="Send what is due now, then stop (for cron or a systemd timer).")
@click.option("--interval", type=click.FloatRange(min=1, max=3600), default=30, show_default=True,
              help="Without --once: seconds between passes over the outbox.")
@with_appcontext
def send_emails(once: bool, interval: float):
    """Deliver the email outbox over SMTP. Failed emails are tried again later
    (1, 2, 4 ... minutes apart); several senders can run at once."""
    app = current_app._get_current_object()
    stop = threading.Event()
    if not once and threading.current_thread() is threading.main_thread():
        # systemd stops a service with SIGTERM: finish the email in hand, then stop.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    try:
        total = run(app, once=once, interval=interval, stop=stop, echo=click.echo)
    except MailNotConfigured as error:
        raise click.ClickException(str(error)) from None
    if not once:
        click.echo(f"Stopped. Emails: {total}.")
