"""In-portal notifications, and the reminders already sent for each form the
LA asked for.

A notification names no child: its text is fixed by its kind (KINDS), and
it links to the thing it is about, whose own page checks access. So a
professional who loses access to a child keeps a notification that says
nothing about them, and its link answers 404."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow

_UNREAD = text("read_at IS NULL")


class Notification(db.Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(300))
    # A path inside the app (no script root): the notifications page adds it.
    link: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        # The notifications page, newest first.
        Index("ix_notification_recipient", "recipient_id", "created_at", "id"),
        # The header's unread count on every page: a range of this small
        # partial index, never a read of the recipient's older notifications.
        Index("ix_notification_unread", "recipient_id", sqlite_where=_UNREAD, postgresql_where=_UNREAD),
    )

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class ReminderSent(db.Model):
    """A reminder of one kind sent for one form request. The key is what makes
    each reminder go once: two runs of send-reminders at the same time (or
    twice in a day) cannot both insert it, whatever each read first."""

    __tablename__ = "reminder_sent"

    form_request_id: Mapped[int] = mapped_column(ForeignKey("form_request.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (PrimaryKeyConstraint("form_request_id", "kind"),)
