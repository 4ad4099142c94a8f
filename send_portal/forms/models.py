"""SEND forms a professional completes about a child, the files attached to
them, and the forms the LA asks for.

A form belongs to an involvement, not to a person: when the LA matches a
child a professional added to its own record, the involvement (and so the
form) moves onto that record. Who may see it is decided through the
involvement (see forms/queries.py)."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Involvement, User, utcnow


class FormStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"draft": "Draft", "submitted": "Submitted", "accepted": "Accepted", "rejected": "Rejected"}[self.value]


class FormRequest(db.Model):
    """The LA asks a professional to complete a form for a child, by a date.
    It arrives as a message (Message.form_request_id)."""

    __tablename__ = "form_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    involvement_id: Mapped[int] = mapped_column(ForeignKey("involvement.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    # Indexed (migration 0011): the statutory clock finds recent, outstanding advice by it.
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    involvement: Mapped[Involvement] = relationship()
    requested_by: Mapped[User] = relationship()


class FormResponse(db.Model):
    """One completion of a form: a draft, then (frozen) a submission."""

    __tablename__ = "form_response"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    involvement_id: Mapped[int] = mapped_column(ForeignKey("involvement.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(80))
    # The title when started, so lists read well even if the file changes.
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=FormStatus.DRAFT.value)
    # {question key: answer}; text, ISO date, choice, [choices] or a FormFile id.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # The definition as it was when submitted (FormDefinition.to_snapshot()).
    definition_snapshot: Mapped[dict | None] = mapped_column(JSON)
    reference: Mapped[str | None] = mapped_column(String(30), unique=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    form_request_id: Mapped[int | None] = mapped_column(ForeignKey("form_request.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("portal_user.id"))
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    involvement: Mapped[Involvement] = relationship()
    form_request: Mapped[FormRequest | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    files: Mapped[list["FormFile"]] = relationship(back_populates="response", order_by="FormFile.id")

    __table_args__ = (
        # One draft of a form per involvement: a double click on Start makes one.
        Index(
            "uq_form_response_one_draft",
            "involvement_id",
            "form_key",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
        Index("ix_form_response_inbox", "status", "submitted_at"),
    )

    @property
    def form_status(self) -> FormStatus:
        return FormStatus(self.status)

    @property
    def is_draft(self) -> bool:
        return self.status == FormStatus.DRAFT.value

    def file(self, file_id) -> "FormFile | None":
        return next((f for f in self.files if f.id == file_id), None)


class FormFile(db.Model):
    """A file uploaded in answer to a question; its bytes live under the
    instance folder (forms/uploads.py), named by storage_name."""

    __tablename__ = "form_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("form_response.id"), index=True)
    question_key: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(255))
    # The type read from the content, not the one the browser claimed.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    response: Mapped[FormResponse] = relationship(back_populates="files")
