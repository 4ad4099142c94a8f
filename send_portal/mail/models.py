"""The outbox: one row per email, written by the request that caused it and
delivered later by the sender (send_portal/mail/sender.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow

# Waiting to be sent: neither delivered nor given up on.
_WAITING = text("sent_at IS NULL AND failed_at IS NULL")


class OutboxEmail(db.Model):
    """A plain-text email to one address. A row is sent (sent_at) only once the
    SMTP server has accepted it; until then each failed attempt counts
    (attempts), pushes next_attempt_at back, and records what went wrong
    (last_error: the error's kind and the server's reply, never a password).
    After the last attempt it is given up on (failed_at) and logged.

    claimed_by and claimed_until let several senders share the table: a
    sender claims a batch in a short transaction, and no other sender takes
    those rows until the claim runs out (a sender that died mid-batch)."""

    __tablename__ = "outbox_email"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        # The sender's question, "what is due?", reads only rows still waiting.
        Index("ix_outbox_email_due", "next_attempt_at", "id", sqlite_where=_WAITING, postgresql_where=_WAITING),
    )
