"""What a professional has typed on Add Person before Save Child.

Kept on the server, never in the session cookie: the cookie is only signed,
so a child's name and date of birth in it could be read by anyone who sees
the cookie (a shared computer, a proxy log)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Date, DateTime, ForeignKey, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow

# An Add Person left half done is forgotten after this long.
DRAFT_LIFETIME = timedelta(hours=24)


class PersonDraft(db.Model):
    """One Add Person in progress for each professional (a second start
    replaces the first, as the session's single draft did)."""

    __tablename__ = "person_draft"

    professional_id: Mapped[int] = mapped_column(
        ForeignKey("portal_user.id", ondelete="CASCADE"), primary_key=True
    )
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(20))
    upn: Mapped[str | None] = mapped_column(String(13))
    postcode_key: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


def current_draft(professional_id: int) -> PersonDraft | None:
    draft = db.session.get(PersonDraft, professional_id)
    if draft is not None and utcnow() - draft.updated_at > DRAFT_LIFETIME:
        return None
    return draft


def save_draft(professional_id: int, **fields) -> None:
    """Replace this professional's draft, and forget everyone's stale ones."""
    db.session.execute(delete(PersonDraft).where(PersonDraft.updated_at < utcnow() - DRAFT_LIFETIME))
    draft = db.session.get(PersonDraft, professional_id)
    if draft is None:
        draft = PersonDraft(professional_id=professional_id)
        db.session.add(draft)
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.updated_at = utcnow()


def discard_draft(professional_id: int) -> None:
    db.session.execute(delete(PersonDraft).where(PersonDraft.professional_id == professional_id))



