"""A real SMTP server on 127.0.0.1 for the email tests (aiosmtpd), and
helpers to point the app at it and run the sender."""
from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """Accepts every message, or refuses the first `refuse` of them with a
    temporary error (451), as a busy or greylisting server does."""

    def __init__(self, refuse: int = 0):
        self.messages: list[EmailMessage] = []
        self.refuse = refuse
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            if self.refused < self.refuse:
                self.refused += 1
                return "451 4.3.0 Try again later"
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self, port: int, mailbox: Mailbox, controller: Controller):
        self.port, self.mailbox, self.controller = port, mailbox, controller

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages


@contextmanager
def smtp_server(port: int | None = None, refuse: int = 0, password: str | None = None):
    """A running SMTP server; with password, it asks for AUTH LOGIN/PLAIN
    (without TLS: it is on 127.0.0.1) and accepts only that password."""
    mailbox = Mailbox(refuse=refuse)
    port = port or free_port()
    options = {}
    if password is not None:
        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

        options = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True,
                   "auth_exclude_mechanism": ["LOGIN"]}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(port, mailbox, controller)
    finally:
        controller.stop()


def use_smtp(app, port: int, **settings) -> None:
    app.config.update({
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": False, "SMTP_SSL": False,
        "SMTP_USERNAME": "", "SMTP_PASSWORD": "", "SMTP_TIMEOUT": 5, "MAIL_FROM": "send.portal@la.example",
        **settings,
    })


def deliver(app, now=None):
    """One pass of the sender, as `send-emails --once` makes."""
    from send_portal.mail.sender import send_due, transport_for

    return send_due(transport_for(app), now=now)


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()
