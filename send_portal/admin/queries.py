"""What the authority's own staff see and change (SPEC section 5).

LA administrators see every record, so nothing here is scoped to a caseload;
what a *professional* may see is still decided only by
caseload.queries.involvement_for_person, and the changes made here (verify,
authenticate, decline, unauthenticate) are what that function reads.

Every change joins the caller's transaction together with its audit entries;
the view commits once, so a change and its audit entries land together or
not at all."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from difflib import SequenceMatcher

from blinker import Namespace
from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.orm import joinedload

from .. import audit
from ..caseload.queries import LIVE_STATUSES, record_activity
from ..display import local_to_utc
from ..extensions import db
from ..models import (
    SYSTEM_USER_ID,
    SYSTEM_USER_NAME,
    Activity,
    AuditEntry,
    Involvement,
    InvolvementStatus,
    Person,
    PersonNameToken,
    Role,
    User,
    Verification,
    utcnow,
)
from ..names import fold, name_tokens, query_terms, sort_key
from ..pagination import Page
from ..notifications import link_to, notify

def name_filter_condition(query: str):
    """The Person filter's matching (caseload.queries), on a query of people:
    each word typed starts some word of the given or family name, ignoring
    case and accents; a range scan of the name-token index per word."""
    conditions = []
    for term in query_terms(query):
        upper = term[:-1] + chr(ord(term[-1]) + 1)
        conditions.append(
            exists().where(
                PersonNameToken.person_id == Person.id,
                PersonNameToken.token >= term,
                PersonNameToken.token < upper,
            )
        )
    return and_(true(), *conditions)


class Conflict(Exception):
    """The change cannot be made as things stand; the message says why, and
    field names the answer to change, if one would help."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


_signals = Namespace()
# Sent inside the transaction when Authenticate moves an involvement from the
# record a professional added onto the authority's own record (sender: the
# involvement; from_person, to_person). A feature that keeps things against
# the added record (a first form sent before authentication, say) listens and
# moves them in the same transaction.
involvement_moved = _signals.signal("involvement-moved")


# --- paging -------------------------------------------------------------------


def _paged(statement, count_statement, page: int, page_size: int, scalars: bool = False) -> Page:
    total = db.session.scalar(count_statement) or 0
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    result = db.session.execute(statement.limit(page_size).offset((page - 1) * page_size))
    rows = list(result.unique().scalars()) if scalars else [tuple(r) for r in result.unique()]
    return Page(rows=rows, total=total, page=page, page_size=page_size)


def _contains(column, text: str):
    """Case-insensitive 'contains', with LIKE's wildcards taken literally."""
    return func.lower(column).contains(text.lower(), autoescape=True)


# --- professionals ------------------------------------------------------------


class ProfessionalView(str, enum.Enum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    DEACTIVATED = "deactivated"

    @property
    def label(self) -> str:
        return {
            "pending": "Awaiting verification",
            "verified": "Verified",
            "rejected": "Rejected",
            "deactivated": "Deactivated",
        }[self.value]


def _professional_view_condition(view: ProfessionalView):
    if view is ProfessionalView.DEACTIVATED:
        return User.is_deactivated.is_(True)
    return and_(User.is_deactivated.is_(False), User.verification == view.value)


def _user_text_condition(query: str):
    """Each word typed appears in the name, email address or organisation."""
    conditions = []
    for word in query.split()[:5]:
        word = word[:50]
        conditions.append(
            or_(
                _contains(User.given_name, word),
                _contains(User.family_name, word),
                _contains(User.email, word),
                _contains(func.coalesce(User.organisation, ""), word),
            )
        )
    return and_(true(), *conditions)


def professionals_page(view: ProfessionalView, query: str, page: int, page_size: int) -> Page:
    where = and_(User.role == Role.PROFESSIONAL.value, _professional_view_condition(view), _user_text_condition(query))
    # Awaiting verification is a queue: the longest waiting first.
    order = (User.created_at, User.id) if view is ProfessionalView.PENDING else (User.family_name, User.given_name, User.id)
    return _paged(
        select(User).where(where).order_by(*order),
        select(func.count()).select_from(User).where(where),
        page,
        page_size,
        scalars=True,
    )


def professional_or_none(user_id: int, for_update: bool = False) -> User | None:
    """for_update: a change follows, so the row is locked until the commit
    (two admins acting at once are served one after the other)."""
    user = db.session.get(User, user_id, with_for_update=for_update)
    if user is None or not user.is_professional:
        return None
    return user


def pending_professionals_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(
            User.role == Role.PROFESSIONAL.value, _professional_view_condition(ProfessionalView.PENDING)
        )
    ) or 0


def verify_professional(admin: User, professional: User) -> None:
    if professional.is_deactivated:
        raise Conflict(f"{professional.full_name}'s account is deactivated. Reactivate it before verifying it.")
    if professional.is_verified:
        raise Conflict(f"{professional.full_name} is already verified.")
    previous = professional.verification
    professional.verification = Verification.VERIFIED.value
    professional.rejection_reason = None
    audit.record(
        audit.VERIFIED, changed_by=admin, professional=professional,
        details="Previously rejected" if previous == Verification.REJECTED.value else None,
    )
    notify(professional, "account_verified", link_to("caseload.select_person"))


def reject_professional(admin: User, professional: User, reason: str) -> None:
    if professional.is_deactivated:
        raise Conflict(f"{professional.full_name}'s account is deactivated.")
    if professional.verification != Verification.PENDING.value:
        raise Conflict(f"{professional.full_name} is not awaiting verification.")
    professional.verification = Verification.REJECTED.value
    professional.rejection_reason = reason
    audit.record(audit.REJECTED, changed_by=admin, professional=professional, details=f"Reason: {reason}")


def deactivate_professional(admin: User, professional: User) -> None:
    """They can no longer sign in (Flask-Login refuses inactive users, and an
    open session ends at its next request); nothing of theirs is removed."""
    if professional.is_deactivated:
        raise Conflict(f"{professional.full_name}'s account is already deactivated.")
    from ..organisations.service import end_covers_of  # imported here, as caseload.queries does for Cover

    professional.is_deactivated = True
    end_covers_of(professional, admin)
    audit.record(audit.DEACTIVATED, changed_by=admin, professional=professional)


def reactivate_professional(admin: User, professional: User) -> None:
    if not professional.is_deactivated:
        raise Conflict(f"{professional.full_name}'s account is not deactivated.")
    professional.is_deactivated = False
    audit.record(audit.REACTIVATED, changed_by=admin, professional=professional)


def _live_caseload_condition(professional: User):
    return and_(
        Involvement.professional_id == professional.id,
        Involvement.deleted_at.is_(None),
        Involvement.status.in_(LIVE_STATUSES),
    )


def live_caseload_count(professional: User) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(Involvement.person_id))).where(_live_caseload_condition(professional))
    ) or 0


def unauthenticate_caseload(admin: User, professional: User) -> int:
    """A member of staff has left: every live involvement of theirs (awaiting
    or authenticated, ended or not) is unauthenticated, one audit entry per
    child. The authority's records, forms and messages stay."""
    involvements = db.session.scalars(
        select(Involvement)
        .where(_live_caseload_condition(professional))
        .options(joinedload(Involvement.person))
        .order_by(Involvement.id)
        .with_for_update(of=Involvement)
    ).all()
    children = set()
    for involvement in involvements:
        involvement.status = InvolvementStatus.UNAUTHENTICATED.value
        if involvement.person_id not in children:
            children.add(involvement.person_id)
            audit.record(audit.BULK_UNAUTHENTICATED, changed_by=admin, person=involvement.person, professional=professional)
    return len(children)


# --- authentication requests ----------------------------------------------------


class QueueView(str, enum.Enum):
    AWAITING = "awaiting"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return {"awaiting": "Awaiting authentication", "deleted": "Deleted by professional"}[self.value]


def _has_other_live_involvement():
    other = Involvement.__table__.alias("other")
    return exists().where(
        other.c.professional_id == Involvement.professional_id,
        other.c.person_id == Involvement.person_id,
        other.c.id != Involvement.id,
        other.c.deleted_at.is_(None),
        other.c.status.in_(LIVE_STATUSES),
    )


def _queue_condition(view: QueueView):
    if view is QueueView.AWAITING:
        return and_(Involvement.status == InvolvementStatus.AWAITING.value, Involvement.deleted_at.is_(None))
    # Deleted by the professional and not since given back to them.
    return and_(
        Involvement.status == InvolvementStatus.UNAUTHENTICATED.value,
        Involvement.deleted_at.is_not(None),
        ~_has_other_live_involvement(),
    )


def _queue_text_condition(query: str):
    if not query.strip():
        return true()
    professional_ids = select(User.id).where(User.role == Role.PROFESSIONAL.value, _user_text_condition(query))
    child = name_filter_condition(query) if query_terms(query) else false()
    return or_(child, Involvement.professional_id.in_(professional_ids))


def authentication_queue(view: QueueView, query: str, page: int, page_size: int) -> Page:
    where = and_(_queue_condition(view), _queue_text_condition(query))
    order = (Involvement.created_at, Involvement.id) if view is QueueView.AWAITING else (Involvement.deleted_at.desc(), Involvement.id)
    base = (
        select(Involvement, Person, User)
        .join(Person, Person.id == Involvement.person_id)
        .join(User, User.id == Involvement.professional_id)
    )
    return _paged(
        base.where(where).order_by(*order),
        select(func.count()).select_from(Involvement).join(Person, Person.id == Involvement.person_id).where(where),
        page,
        page_size,
    )


def awaiting_authentication_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Involvement).where(_queue_condition(QueueView.AWAITING))
    ) or 0


def involvement_or_none(involvement_id: int, for_update: bool = False) -> Involvement | None:
    statement = (
        select(Involvement)
        .where(Involvement.id == involvement_id)
        .options(joinedload(Involvement.person), joinedload(Involvement.professional))
    )
    if for_update:
        statement = statement.with_for_update(of=Involvement)
    return db.session.scalar(statement)


def person_or_none(person_id: int, for_update: bool = False) -> Person | None:
    return db.session.get(Person, person_id, with_for_update=for_update)


def _postcode_key(postcode: str | None) -> str:
    return "".join((postcode or "").split()).upper()


@dataclass
class Match:
    person: Person
    reasons: list[str] = field(default_factory=list)
    score: int = 0


def _name_similarity(a: Person, b: Person) -> tuple[bool, bool]:
    """(same name, similar name), ignoring case, accents and the order of the
    given and family names (a professional may have swapped them)."""
    a_given, a_family = fold(a.given_name).strip(), fold(a.family_name).strip()
    b_given, b_family = fold(b.given_name).strip(), fold(b.family_name).strip()
    if (a_given, a_family) in ((b_given, b_family), (b_family, b_given)):
        return True, True
    ratio = max(
        SequenceMatcher(None, sort_key(a.given_name, a.family_name), sort_key(b.given_name, b.family_name)).ratio(),
        SequenceMatcher(None, sort_key(a.family_name, a.given_name), sort_key(b.given_name, b.family_name)).ratio(),
    )
    shared = set(name_tokens(a.given_name + " " + a.family_name)) & set(name_tokens(b.given_name + " " + b.family_name))
    return False, ratio >= 0.7 or bool(shared)


def likely_matches(person: Person, limit: int = 10) -> list[Match]:
    """The authority's records that are likely the same child as one a
    professional added: the same date of birth and a similar name or the
    same postcode, or the same unique pupil number."""
    same_child = Person.date_of_birth == person.date_of_birth
    if person.upn:
        same_child = or_(same_child, Person.upn == person.upn)
    candidates = db.session.scalars(
        select(Person)
        .where(same_child, Person.id != person.id, Person.added_by_professional.is_(False))
        .order_by(Person.sort_name, Person.id)
        .limit(500)
    ).all()
    matches = []
    for candidate in candidates:
        match = Match(candidate)
        same_upn = bool(person.upn) and candidate.upn == person.upn
        same_dob = candidate.date_of_birth == person.date_of_birth
        same_name, similar_name = _name_similarity(person, candidate)
        same_postcode = bool(person.postcode) and _postcode_key(candidate.postcode) == _postcode_key(person.postcode)
        if same_upn:
            match.reasons.append("same unique pupil number")
            match.score += 8
        if same_dob:
            match.reasons.append("same date of birth")
            match.score += 2
        if same_name:
            match.reasons.append("same name")
            match.score += 4
        elif similar_name:
            match.reasons.append("similar name")
            match.score += 2
        if same_postcode:
            match.reasons.append("same postcode")
            match.score += 3
        if same_upn or (same_dob and (similar_name or same_postcode)):
            matches.append(match)
    matches.sort(key=lambda m: (-m.score, m.person.sort_name, m.person.id))
    return matches[:limit]


def authority_record_or_none(person_id: int) -> Person | None:
    person = db.session.get(Person, person_id)
    if person is None or person.added_by_professional:
        return None
    return person


def _check_awaiting(involvement: Involvement) -> None:
    if involvement.status != InvolvementStatus.AWAITING.value or involvement.deleted_at is not None:
        raise Conflict("This request has already been dealt with. Nothing was changed.")


def _live_involvement_of(professional_id: int, person_id: int, other_than: int) -> Involvement | None:
    return db.session.scalar(
        select(Involvement).where(
            Involvement.professional_id == professional_id,
            Involvement.person_id == person_id,
            Involvement.id != other_than,
            Involvement.deleted_at.is_(None),
            Involvement.status.in_(LIVE_STATUSES),
        ).limit(1)
    )


def _authenticate(involvement: Involvement) -> None:
    involvement.status = InvolvementStatus.AUTHENTICATED.value
    involvement.authenticated_at = utcnow()
    involvement.decline_reason = None
    notify(involvement.professional_id, "involvement_authenticated", link_to("people.child", person_id=involvement.person_id))


def _describe(person: Person) -> str:
    parts = [f"{person.full_name}, born {person.date_of_birth:%-d %B %Y}"]
    if person.upn:
        parts.append(f"UPN {person.upn}")
    if person.postcode:
        parts.append(person.postcode)
    return ", ".join(parts)


def authenticate_against(admin: User, involvement: Involvement, record: Person) -> None:
    """The child a professional added is one the authority already holds: the
    involvement moves onto that record and is authenticated. The added record
    stays, unmatched, as the professional entered it."""
    _check_awaiting(involvement)
    added = involvement.person
    if record.id == added.id or record.added_by_professional:
        raise Conflict("Choose one of the authority's records.", field="record")
    if _live_involvement_of(involvement.professional_id, record.id, involvement.id) is not None:
        raise Conflict(
            f"{involvement.professional.full_name} already has {record.full_name} in their caseload. "
            "Decline this request as a duplicate, or choose another record.",
            field="record",
        )
    involvement.person_id = record.id
    involvement.person = record
    _authenticate(involvement)
    involvement_moved.send(involvement, from_person=added, to_person=record)
    record_activity(record, "Added by a professional and matched to this record", admin)
    audit.record(
        audit.AUTHENTICATED_EXISTING,
        changed_by=admin,
        person=record,
        professional=involvement.professional,
        details=f"Added as {_describe(added)}; matched to LA reference {record.la_reference or '(none)'}",
    )


def authenticate_as_new(admin: User, involvement: Involvement, la_reference: str | None) -> None:
    """The child is new to the authority: the record the professional added
    becomes the authority's record."""
    _check_awaiting(involvement)
    person = involvement.person
    if la_reference:
        holder = db.session.scalar(
            select(Person).where(func.lower(Person.la_reference) == la_reference.lower(), Person.id != person.id)
        )
        if holder is not None:
            raise Conflict(
                f"LA reference {la_reference} already belongs to {holder.full_name}. Enter another, or leave it empty.",
                field="la_reference",
            )
        person.la_reference = la_reference
    was_added = person.added_by_professional
    person.added_by_professional = False
    _authenticate(involvement)
    audit.record(
        audit.AUTHENTICATED_NEW if was_added else audit.AUTHENTICATED_EXISTING,
        changed_by=admin,
        person=person,
        professional=involvement.professional,
        details=f"LA reference {person.la_reference}" if person.la_reference else None,
    )


def decline(admin: User, involvement: Involvement, reason: str) -> None:
    _check_awaiting(involvement)
    involvement.status = InvolvementStatus.DECLINED.value
    involvement.decline_reason = reason
    audit.record(audit.DECLINED, changed_by=admin, person=involvement.person, professional=involvement.professional, details=f"Reason: {reason}")
    notify(involvement.professional_id, "involvement_declined", link_to("caseload.select_person"))


def reauthenticate(
    admin: User | None, involvement: Involvement, *, declined_too: bool = False, note: str | None = None
) -> None:
    """Give a child back to a professional who deleted them (or whom the LA
    unauthenticated): the involvement is live, authenticated and unhidden.
    admin None is the system account (the command line). declined_too: the
    import's --reauthenticate also gives back a request the LA declined.
    note ends the audit entry's details."""
    reopenable = {InvolvementStatus.UNAUTHENTICATED.value}
    if declined_too:
        reopenable.add(InvolvementStatus.DECLINED.value)
    if involvement.status not in reopenable:
        raise Conflict("Only an unauthenticated involvement can be re-authenticated. Nothing was changed.")
    professional = involvement.professional
    if professional.is_deactivated:
        raise Conflict(f"{professional.full_name}'s account is deactivated. Reactivate it first.")
    if _live_involvement_of(involvement.professional_id, involvement.person_id, involvement.id) is not None:
        raise Conflict(f"{professional.full_name} already has {involvement.person.full_name} in their caseload. Nothing was changed.")
    if involvement.deleted_at is not None:
        after = "after a delete by the professional"
    elif involvement.status == InvolvementStatus.DECLINED.value:
        after = "after the LA declined the request"
    else:
        after = "after unauthentication by the LA"
    involvement.deleted_at = None
    involvement.hidden_at = None
    _authenticate(involvement)
    details = after.capitalize() + (f", {note}" if note else "")
    audit.record(audit.REAUTHENTICATED, changed_by=admin, person=involvement.person, professional=professional, details=details)


# --- people ---------------------------------------------------------------------


def _person_search_condition(query: str):
    raw = query.strip()
    if not raw:
        return true()
    conditions = [func.lower(Person.la_reference) == raw.lower()]
    upn = "".join(raw.split()).upper()
    if len(upn) == 13:
        conditions.append(Person.upn == upn)
    if query_terms(raw):
        conditions.append(name_filter_condition(raw))
    return or_(*conditions)


def people_page(query: str, page: int, page_size: int) -> Page:
    where = _person_search_condition(query)
    return _paged(
        select(Person).where(where).order_by(Person.sort_name, Person.id),
        select(func.count()).select_from(Person).where(where),
        page,
        page_size,
        scalars=True,
    )


def person_involvements(person: Person) -> list[Involvement]:
    return db.session.scalars(
        select(Involvement)
        .where(Involvement.person_id == person.id)
        .options(joinedload(Involvement.professional))
        .order_by(Involvement.created_at.desc(), Involvement.id.desc())
    ).all()


def recent_activity(person: Person, limit: int = 10) -> list[Activity]:
    return db.session.scalars(
        select(Activity).where(Activity.person_id == person.id).order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit)
    ).all()


def set_case_status(admin: User, person: Person, status: str) -> bool:
    if status == person.case_status:
        return False
    previous = person.case_status
    person.case_status = status
    record_activity(person, f"Case status changed to {status}", admin)
    audit.record(audit.CASE_STATUS_CHANGED, changed_by=admin, person=person, details=f"From {previous} to {status}")
    return True


# The EHC timeline dates the LA keeps (SPEC section 4), in the order of the process.
TIMELINE_DATES = [
    ("request_received_on", "Request received"),
    ("assessment_decision_on", "Decision whether to assess"),
    ("draft_plan_on", "Draft plan issued"),
    ("final_plan_on", "Final plan issued"),
    ("next_review_on", "Next review"),
]


def _show_date(value: date | None) -> str:
    return f"{value:%-d %B %Y}" if value else "not set"


def set_timeline_dates(admin: User, person: Person, dates: dict[str, date | None]) -> list[str]:
    """Each date that changes is recorded as activity and in the audit log."""
    changed = []
    when = utcnow()
    for attribute, label in TIMELINE_DATES:
        new = dates.get(attribute)
        old = getattr(person, attribute)
        if new == old:
            continue
        setattr(person, attribute, new)
        record_activity(person, f"{label} date {'set to ' + _show_date(new) if new else 'removed'}", admin, when)
        audit.record(
            audit.TIMELINE_DATE_CHANGED, changed_by=admin, person=person,
            details=f"{label}: from {_show_date(old)} to {_show_date(new)}",
        )
        changed.append(label)
    return changed


# --- the audit log -----------------------------------------------------------------


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
        person = [_contains(func.coalesce(AuditEntry.person_name, ""), filters.person)]
        if query_terms(filters.person):
            person.append(AuditEntry.person_id.in_(select(Person.id).where(name_filter_condition(filters.person))))
        conditions.append(or_(*person))
    if filters.user:
        users = select(User.id).where(
            or_(
                _contains(User.email, filters.user),
                _contains(User.given_name + " " + User.family_name, filters.user),
            )
        )
        conditions.append(
            or_(
                AuditEntry.changed_by_id.in_(users),
                AuditEntry.professional_id.in_(users),
                _contains(func.coalesce(AuditEntry.professional_portal_name, ""), filters.user),
                _contains(func.coalesce(AuditEntry.professional_given_name, ""), filters.user),
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
    return _paged(
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
