"""Helpers for the organisation, team caseload, cover and leaver tests."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from send_portal.extensions import db
from send_portal.models import AuditEntry, Involvement
from send_portal.organisations.models import Cover, Organisation, name_key


def make_organisation(name="Riverside Primary School", shares=True, members=(), kind="school", urn="123456"):
    organisation = Organisation(name=name, name_key=name_key(name), kind=kind, urn=urn, shares_caseload=shares)
    db.session.add(organisation)
    db.session.flush()
    for member in members:
        member.organisation_id = organisation.id
    db.session.commit()
    return organisation


def make_cover(professional, colleague, starts=-1, ends=1, today=None):
    """Cover from today+starts to today+ends (days)."""
    today = today or date.today()
    cover = Cover(
        organisation_id=professional.organisation_id, professional_id=professional.id, colleague_id=colleague.id,
        starts_on=today + timedelta(days=starts), ends_on=today + timedelta(days=ends), created_by_id=professional.id,
    )
    db.session.add(cover)
    db.session.commit()
    return cover


def audit_entries(action):
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def involvement_of(person):
    return db.session.scalar(select(Involvement).where(Involvement.person_id == person.id).order_by(Involvement.id))
