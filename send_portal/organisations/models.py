"""Organisations (a school, an EP service, a health or social care team) and
the cover one member gives another for their caseload (migration 0015).

Who sees what through them is decided in caseload/queries.py, nowhere else."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import User, utcnow


class OrganisationKind(str, enum.Enum):
    SCHOOL = "school"
    EP_SERVICE = "ep_service"
    HEALTH = "health"
    SOCIAL_CARE = "social_care"
    EARLY_YEARS = "early_years"
    OTHER = "other"

    @property
    def label(self) -> str:
        return ORGANISATION_KINDS[self.value]


ORGANISATION_KINDS = {
    "school": "School",
    "ep_service": "Educational psychology service",
    "health": "Health team",
    "social_care": "Social care team",
    "early_years": "Early years setting",
    "other": "Other",
}


def name_key(name: str) -> str:
    """Names are the same whatever their case and spacing."""
    return " ".join(name.split()).casefold()


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=OrganisationKind.OTHER.value)
    # A school's unique reference number (6 digits).
    urn: Mapped[str | None] = mapped_column(String(8))
    # Members see one another's children in a Team caseload.
    shares_caseload: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def kind_label(self) -> str:
        return ORGANISATION_KINDS.get(self.kind, "Other")


class Cover(db.Model):
    """professional's caseload is open to colleague from starts_on to ends_on
    (both included), unless ended sooner (ended_at)."""

    __tablename__ = "caseload_cover"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    professional_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    colleague_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("portal_user.id"))

    professional: Mapped[User] = relationship(foreign_keys=[professional_id])
    colleague: Mapped[User] = relationship(foreign_keys=[colleague_id])
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        Index("ix_caseload_cover_colleague", "colleague_id", "ends_on"),
        Index("ix_caseload_cover_professional", "professional_id", "ends_on"),
    )

    def is_current(self, today: date) -> bool:
        return self.ended_at is None and self.starts_on <= today <= self.ends_on

    def state(self, today: date) -> str:
        if self.ended_at is not None:
            return "Ended"
        if today < self.starts_on:
            return "Planned"
        if today > self.ends_on:
            return "Finished"
        return "Current"
