"""The authentication requests: a professional's added child waits here
until the LA authenticates the involvement (against one of the authority's
records, or as a new record) or declines it; a child a professional deleted
can be given back (re-authenticated)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.orm import joinedload

from .. import audit, rules
from ..caseload.queries import record_activity
from ..extensions import db
from ..models import Involvement, InvolvementStatus, Person, Role, User, utcnow
from ..names import fold, name_tokens, query_terms, sort_key
from ..notifications import link_to, notify
from ..pagination import Page
from .common_queries import Conflict, name_filter_condition, paged, user_text_condition


class QueueView(str, enum.Enum):
    AWAITING = "awaiting"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return {"awaiting": "Awaiting authentication", "deleted": "Deleted by professional"}[self.value]


def is_awaiting(involvement: Involvement) -> bool:
    """A request still waiting for the LA: live, not yet authenticated."""
    return rules.is_live(involvement) and involvement.status == rules.AWAITING


def _awaiting(entity=Involvement):
    return and_(rules.live(entity), entity.status == rules.AWAITING)


def _has_other_live_involvement():
    other = Involvement.__table__.alias("other")
    return exists().where(
        other.c.professional_id == Involvement.professional_id,
        other.c.person_id == Involvement.person_id,
        other.c.id != Involvement.id,
        rules.live(other),
    )


def _queue_condition(view: QueueView):
    if view is QueueView.AWAITING:
        return _awaiting()
    # Deleted by the professional and not since given back to them.
    return and_(
        Involvement.status == InvolvementStatus.UNAUTHENTICATED.value,
        Involvement.deleted_at.is_not(None),
        ~_has_other_live_involvement(),
    )


def _queue_text_condition(query: str):
    if not query.strip():
        return true()
    professional_ids = select(User.id).where(User.role == Role.PROFESSIONAL.value, user_text_condition(query))
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
    return paged(
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
    if not is_awaiting(involvement):
        raise Conflict("This request has already been dealt with. Nothing was changed.")


def _live_involvement_of(professional_id: int, person_id: int, other_than: int) -> Involvement | None:
    return db.session.scalar(
        select(Involvement).where(
            Involvement.professional_id == professional_id,
            Involvement.person_id == person_id,
            Involvement.id != other_than,
            rules.live(),
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
    involvement, with its forms and messages, moves onto that record and is
    authenticated. The added record stays, unmatched, as the professional
    entered it."""
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
