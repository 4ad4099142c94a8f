"""Professionals' accounts, as the LA sees them: the lists by verification,
verifying and rejecting a registration, deactivating and reactivating an
account, and unauthenticating a leaver's whole caseload."""
from __future__ import annotations

import enum

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from .. import audit, rules
from ..auth import user_sessions
from ..extensions import db
from ..models import Involvement, InvolvementStatus, Role, User, Verification
from ..notifications import link_to, notify
from ..pagination import Page
from .common_queries import Conflict, paged, user_text_condition


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


def professionals_page(view: ProfessionalView, query: str, page: int, page_size: int) -> Page:
    where = and_(User.role == Role.PROFESSIONAL.value, _professional_view_condition(view), user_text_condition(query))
    # Awaiting verification is a queue: the longest waiting first.
    order = (User.created_at, User.id) if view is ProfessionalView.PENDING else (User.family_name, User.given_name, User.id)
    return paged(
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
    """They can no longer sign in (Flask-Login refuses inactive users, and
    their sessions are ended); nothing of theirs is removed."""
    if professional.is_deactivated:
        raise Conflict(f"{professional.full_name}'s account is already deactivated.")
    from ..organisations.service import end_covers_of  # imported here, as caseload.queries does for Cover

    professional.is_deactivated = True
    end_covers_of(professional, admin)
    audit.record(audit.DEACTIVATED, changed_by=admin, professional=professional)
    # Ended, so reactivating the account does not bring old sessions back.
    user_sessions.end_all(professional, user_sessions.DEACTIVATED)


def reactivate_professional(admin: User, professional: User) -> None:
    if not professional.is_deactivated:
        raise Conflict(f"{professional.full_name}'s account is not deactivated.")
    professional.is_deactivated = False
    audit.record(audit.REACTIVATED, changed_by=admin, professional=professional)


def _live_caseload_condition(professional: User):
    return and_(Involvement.professional_id == professional.id, rules.live())


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
