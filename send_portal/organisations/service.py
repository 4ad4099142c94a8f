"""The writes of organisations, cover and leavers. Each joins the caller's
transaction with its audit entries; the view commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from .. import audit, rules
from ..extensions import db
from ..models import Involvement, InvolvementStatus, Person, User, Verification, utcnow
from .models import Cover, Organisation, name_key

COVER_MAX_DAYS = 366


class Refused(Exception):
    """A change that cannot be made: the message says why, for the person."""


# --- organisations -----------------------------------------------------------------------------


def find_by_name(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.name_key == name_key(name)))


def find_or_create(name: str) -> Organisation:
    """create-user --organisation: the organisation of that name, whatever
    its case and spacing, made if there is none."""
    organisation = find_by_name(name)
    if organisation is None:
        organisation = Organisation(name=" ".join(name.split()), name_key=name_key(name), kind="other", shares_caseload=False)
        db.session.add(organisation)
        db.session.flush()
    return organisation


def members(organisation: Organisation) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.organisation_id == organisation.id, User.role == "professional")
        .order_by(User.family_name, User.given_name, User.id)
    ))


def colleagues(professional: User) -> list[User]:
    """Who may cover for a professional or take over their children: the
    verified, active professionals of their organisation, not themselves."""
    if professional.organisation_id is None:
        return []
    return list(db.session.scalars(
        select(User).where(
            User.organisation_id == professional.organisation_id,
            User.role == "professional",
            User.id != professional.id,
            User.verification == Verification.VERIFIED.value,
            User.is_deactivated.is_(False),
        ).order_by(User.family_name, User.given_name, User.id)
    ))


ORGANISATION_CREATED = "Organisation created"
MEMBER_ADDED = "Professional added to organisation"
MEMBER_REMOVED = "Professional removed from organisation"
SHARING_CHANGED = "Organisation team caseload changed"
LEAD_CHANGED = "Organisation lead changed"
COVER_GIVEN = "Caseload cover given"
COVER_ENDED = "Caseload cover ended"
INVOLVEMENT_TRANSFERRED = "Involvement transferred"
LEAVER_HANDED_OVER = "Leaver's caseload handed over and account deactivated"


def add_member(admin: User, organisation: Organisation, professional: User) -> None:
    if professional.organisation_id == organisation.id:
        raise Refused(f"{professional.full_name} is already a member of {organisation.name}.")
    end_covers_of(professional, admin)
    professional.organisation_id = organisation.id
    professional.is_organisation_lead = False
    audit.record(MEMBER_ADDED, changed_by=admin, professional=professional, details=organisation.name)


def remove_member(admin: User, organisation: Organisation, professional: User) -> None:
    if professional.organisation_id != organisation.id:
        raise Refused(f"{professional.full_name} is not a member of {organisation.name}.")
    end_covers_of(professional, admin)
    professional.organisation_id = None
    professional.is_organisation_lead = False
    audit.record(MEMBER_REMOVED, changed_by=admin, professional=professional, details=organisation.name)


def end_covers_of(professional: User, by: User) -> None:
    """Leaving an organisation ends every cover given or held in it."""
    for cover in db.session.scalars(select(Cover).where(
        Cover.ended_at.is_(None), (Cover.professional_id == professional.id) | (Cover.colleague_id == professional.id),
    )):
        end_cover(by, cover)


# --- cover -------------------------------------------------------------------------------------


def give_cover(professional: User, colleague: User, starts_on: date, ends_on: date, today: date) -> Cover:
    if colleague.id not in {c.id for c in colleagues(professional)}:
        raise Refused("Choose a colleague from your organisation")
    if ends_on < starts_on:
        raise Refused("The end date must be the same as or after the start date")
    if ends_on < today:
        raise Refused("The end date must be today or in the future")
    if (ends_on - starts_on).days >= COVER_MAX_DAYS:
        raise Refused("Cover can last a year at most")
    cover = Cover(
        organisation_id=professional.organisation_id, professional_id=professional.id, colleague_id=colleague.id,
        starts_on=starts_on, ends_on=ends_on, created_by_id=professional.id,
    )
    db.session.add(cover)
    db.session.flush()
    audit.record(
        COVER_GIVEN, changed_by=professional, professional=professional,
        details=f"{colleague.full_name} ({colleague.email}) covers for {professional.full_name} ({professional.email}) "
                f"from {starts_on.isoformat()} to {ends_on.isoformat()}",
    )
    return cover


def end_cover(by: User, cover: Cover) -> None:
    if cover.ended_at is not None:
        raise Refused("That cover has already ended")
    cover.ended_at = utcnow()
    cover.ended_by_id = by.id
    audit.record(
        COVER_ENDED, changed_by=by, professional=cover.professional,
        details=f"{cover.colleague.full_name} ({cover.colleague.email}) no longer covers for "
                f"{cover.professional.full_name} ({cover.professional.email})",
    )


def covers_given(professional: User) -> list[Cover]:
    return list(db.session.scalars(
        select(Cover).where(Cover.professional_id == professional.id).order_by(Cover.starts_on.desc(), Cover.id.desc())
    ))


def covers_held(professional: User) -> list[Cover]:
    return list(db.session.scalars(
        select(Cover).where(Cover.colleague_id == professional.id).order_by(Cover.starts_on.desc(), Cover.id.desc())
    ))


def open_covers(today: date) -> list[Cover]:
    """The LA's list: every cover not ended and not past its end date."""
    return list(db.session.scalars(
        select(Cover).where(Cover.ended_at.is_(None), Cover.ends_on >= today).order_by(Cover.starts_on, Cover.id)
    ))


# --- leavers -----------------------------------------------------------------------------------


@dataclass
class LeaverChild:
    involvement_id: int
    person_id: int
    full_name: str
    date_of_birth: date


def leaver_children(leaver: User, lock: bool = False) -> list[LeaverChild]:
    """The leaver's involvements that pass on: every one not deleted,
    unauthenticated or declined (ended ones too: their forms and messages
    pass with them). Locked for the change when lock."""
    query = (
        select(Involvement.id, Person.id, Person.given_name, Person.family_name, Person.date_of_birth)
        .join(Person, Person.id == Involvement.person_id)
        .where(
            Involvement.professional_id == leaver.id,
            rules.live(),
        )
        .order_by(Person.sort_name, Person.id, Involvement.id)
    )
    if lock:
        query = query.with_for_update(of=Involvement)
    return [LeaverChild(i, p, f"{g} {f}", dob) for i, p, g, f, dob in db.session.execute(query)]


def _colleague_standing(colleague: User, person_id: int) -> tuple[bool, bool]:
    """(works with the child now, was removed from them): a live
    involvement, or one deleted, unauthenticated or declined."""
    found = {bool(is_live) for is_live in db.session.scalars(select(rules.live()).where(
        Involvement.professional_id == colleague.id, Involvement.person_id == person_id,
    ))}
    return True in found, False in found


def needs_authenticating_again(plan: dict[int, User], children: list[LeaverChild]) -> list[tuple[User, int]]:
    """For the confirmation page: each colleague with the number of their
    children in the plan that they had been removed from (deleted by them,
    unauthenticated or declined by the LA), which arrive awaiting the LA's
    authentication again."""
    by_id = {c.involvement_id: c for c in children}
    counts: dict[int, list] = {}
    for involvement_id, colleague in plan.items():
        works_with, removed = _colleague_standing(colleague, by_id[involvement_id].person_id)
        if removed and not works_with:
            counts.setdefault(colleague.id, [colleague, 0])[1] += 1
    return [(colleague, n) for colleague, n in counts.values()]


def hand_over(by: User, leaver: User, plan: dict[int, User]) -> int:
    """Pass each of the leaver's involvements (id -> colleague) to its
    colleague, deactivate the leaver and end their sessions, with one audit
    entry for each transfer. The involvement itself moves, so its drafts,
    sent forms, requests and messages go with it and stay with the child.
    Where the colleague already works with the child, the leaver's
    involvement still moves to them (its forms and messages show in their
    thread with the child) but is closed, so the child is listed once.
    Where the colleague had been removed from the child (their own Delete,
    or the LA's unauthenticate or decline), it moves awaiting the LA's
    authentication, so a hand-over never undoes the LA's decision."""
    from ..auth import user_sessions

    children = leaver_children(leaver, lock=True)
    if {c.involvement_id for c in children} != set(plan):
        raise Refused("The children to hand over have changed since the page was shown. Check them and try again.")
    allowed = {c.id for c in colleagues(leaver)}
    if any(colleague.id not in allowed for colleague in plan.values()):
        raise Refused("Choose colleagues from the leaver's organisation")
    by_id = {c.involvement_id: c for c in children}
    for involvement_id, colleague in plan.items():
        child = by_id[involvement_id]
        already, removed = _colleague_standing(colleague, child.person_id)
        values = {"professional_id": colleague.id, "hidden_at": None}  # hiding was the leaver's
        note = ""
        if already:
            values.update(status=InvolvementStatus.UNAUTHENTICATED.value, ended_on=date.today())
            note = ", who already works with the child"
        elif removed:
            values.update(status=InvolvementStatus.AWAITING.value)
            note = ", who had been removed from the child's caseload: awaiting authentication again"
        db.session.execute(update(Involvement).where(Involvement.id == involvement_id).values(**values))
        audit.record(
            INVOLVEMENT_TRANSFERRED, changed_by=by, person=db.session.get(Person, child.person_id), professional=colleague,
            details=f"Involvement transferred from {leaver.full_name} ({leaver.email}) to {colleague.full_name} "
                    f"({colleague.email}){note}",
        )
    end_covers_of(leaver, by)
    leaver.is_deactivated = True
    leaver.is_organisation_lead = False
    audit.record(LEAVER_HANDED_OVER, changed_by=by, professional=leaver, details=f"{len(plan)} involvements handed over")
    user_sessions.end_all(leaver, user_sessions.DEACTIVATED)
    return len(plan)


def may_hand_over(user: User, leaver: User) -> bool:
    """LA admins, for any professional; an organisation's lead, for another
    member of it."""
    if user.is_admin:
        return leaver.is_professional
    return (
        rules.may_see_children(user) and user.is_organisation_lead
        and leaver.is_professional and leaver.id != user.id
        and user.organisation_id is not None and leaver.organisation_id == user.organisation_id
    )


def parse_day(source, prefix: str) -> date | None:
    """A GOV.UK date input's three fields, or None."""
    parts = [(source.get(f"{prefix}-{p}") or "").strip() for p in ("day", "month", "year")]
    if not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        return None
    try:
        day = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None
    return day if day.year >= 2000 else None
