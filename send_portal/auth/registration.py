"""What registering writes: a professional's own, unverified account (SPEC
section 1). The view checks the form, signs the new account in and commits."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..models import Role, User, Verification
from .passwords import hash_password


def email_taken(email: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None


def add_professional(
    *, email: str, given_name: str, family_name: str, professional_type: str, organisation: str, password: str,
) -> User | None:
    """A new professional awaiting verification, audited, in the current
    transaction; None (and the transaction rolled back) where another
    request registered the same email address a moment ago."""
    user = User(
        email=email,  # lower-case: unique regardless of case
        given_name=given_name,
        family_name=family_name,
        role=Role.PROFESSIONAL.value,
        professional_type=professional_type,
        organisation=organisation,
        password_hash=hash_password(password),
        verification=Verification.PENDING.value,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    audit.record(
        audit.REGISTERED, changed_by=user, professional=user,
        details=f"{user.professional_type_label}, {user.organisation}",
    )
    return user
