"""Reading the audit log: its filters, a page of entries, and every entry
for the CSV export."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import joinedload

from .. import audit
from ..display import local_to_utc
from ..extensions import db
from ..models import SYSTEM_USER_ID, SYSTEM_USER_NAME, AuditEntry, Person, User
from ..names import query_terms
from ..pagination import Page
from .common_queries import contains, name_filter_condition, paged


@dataclass
class AuditFilters:
    person: str = ""
    user: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def any(self) -> bool:
        return bool(self.person or self.user or self.action or self.date_from or self.date_to)


def _audit_condition(filters: AuditFilters):
    conditions = []
    if filters.person:
        # The name as it was when the entry was written, or the record's name now.
        person = [contains(func.coalesce(AuditEntry.person_name, ""), filters.person)]
        if query_terms(filters.person):
            person.append(AuditEntry.person_id.in_(select(Person.id).where(name_filter_condition(filters.person))))
        conditions.append(or_(*person))
    if filters.user:
        users = select(User.id).where(
            or_(
                contains(User.email, filters.user),
                contains(User.given_name + " " + User.family_name, filters.user),
            )
        )
        conditions.append(
            or_(
                AuditEntry.changed_by_id.in_(users),
                AuditEntry.professional_id.in_(users),
                contains(func.coalesce(AuditEntry.professional_portal_name, ""), filters.user),
                contains(func.coalesce(AuditEntry.professional_given_name, ""), filters.user),
            )
        )
    if filters.action:
        conditions.append(AuditEntry.action == filters.action)
    if filters.date_from:
        conditions.append(AuditEntry.occurred_at >= local_to_utc(datetime.combine(filters.date_from, time.min)))
    if filters.date_to:
        conditions.append(AuditEntry.occurred_at < local_to_utc(datetime.combine(filters.date_to + timedelta(days=1), time.min)))
    return and_(true(), *conditions)


def _audit_select(filters: AuditFilters):
    return (
        select(AuditEntry)
        .where(_audit_condition(filters))
        .options(joinedload(AuditEntry.changed_by))
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    )


def audit_page(filters: AuditFilters, page: int, page_size: int) -> Page:
    return paged(
        _audit_select(filters),
        select(func.count()).select_from(AuditEntry).where(_audit_condition(filters)),
        page,
        page_size,
        scalars=True,
    )


def audit_entries(filters: AuditFilters, batch: int = 1000):
    """Every filtered entry, newest first, read in batches for the export."""
    last = None
    while True:
        statement = _audit_select(filters)
        if last is not None:
            occurred_at, entry_id = last
            statement = statement.where(
                or_(AuditEntry.occurred_at < occurred_at, and_(AuditEntry.occurred_at == occurred_at, AuditEntry.id < entry_id))
            )
        entries = db.session.scalars(statement.limit(batch)).all()
        yield from entries
        if len(entries) < batch:
            return
        # Keyset paging: memory stays flat however long the log is (the
        # session's identity map holds entries only weakly).
        last = (entries[-1].occurred_at, entries[-1].id)


def audit_actions() -> list[str]:
    """Every action the service writes, and any older ones in the log."""
    known = {value for name, value in vars(audit).items() if name.isupper() and isinstance(value, str)}
    used = set(db.session.scalars(select(AuditEntry.action).distinct()))
    return sorted(known | used)


def changed_by_name(entry: AuditEntry) -> str:
    if entry.changed_by_id == SYSTEM_USER_ID:
        return SYSTEM_USER_NAME
    return entry.changed_by.email if entry.changed_by is not None else ""
