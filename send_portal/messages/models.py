"""Messages between the LA and a professional about a child.

Each professional has their own thread with the LA about each child they work
with: the messages on that professional's involvements with the child. A
message belongs to an involvement (like a form), so it follows the
involvement and answers 404 to the professional when the involvement does."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..forms.models import FormRequest, FormResponse
from ..models import Involvement, User, utcnow


class Message(db.Model):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    involvement_id: Mapped[int] = mapped_column(ForeignKey("involvement.id"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    # True: from the LA to the professional; False: from the professional.
    from_la: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the other side first opened the thread after it arrived.
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The LA asking for a form, or writing about a submitted one.
    form_request_id: Mapped[int | None] = mapped_column(ForeignKey("form_request.id"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("form_response.id"))

    involvement: Mapped[Involvement] = relationship()
    sender: Mapped[User] = relationship()
    form_request: Mapped[FormRequest | None] = relationship()
    response: Mapped[FormResponse | None] = relationship()

    __table_args__ = (Index("ix_message_thread", "involvement_id", "sent_at"),)
