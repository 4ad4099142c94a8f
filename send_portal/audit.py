"""Writing the append-only audit log. Entries join the caller's transaction, so
an action and its audit entry are committed together or not at all."""
from collections.abc import Iterable

from sqlalchemy import insert

from .extensions import db
from .models import SYSTEM_USER_ID, AuditEntry, Person, User, utcnow

DELETE_BY_PROFESSIONAL = "Unauthenticated as professional deleted student on Professional Portal"
HIDE = "Person hidden by professional"
UNHIDE = "Person unhidden by professional"
SIGN_IN = "Signed in"
SIGN_IN_FAILED = "Sign-in failed"
SIGN_OUT = "Signed out"
SIGNED_OUT_OTHER_DEVICES = "Signed out of other devices"
SESSIONS_ENDED_BY_ADMIN = "All sessions ended by LA"
IMPORT_PEOPLE = "People imported"
USER_CREATED = "User created"
PERSON_ADDED = "Person added by professional (awaiting authentication)"
PERSON_EDITED = "Person details changed by professional"
ADDRESSES_IMPORTED = "Addresses imported"
# Team caseloads and cover (send_portal/organisations): what a professional
# does through a colleague's involvement names both of them in details.
PERSON_OPENED_FOR_COLLEAGUE = "Child's record opened through a colleague's caseload"
MESSAGE_SENT_FOR_COLLEAGUE = "Message sent through a colleague's caseload"


def _changed_by_id(changed_by: User | int | None) -> int:
    if changed_by is None:
        return SYSTEM_USER_ID
    if isinstance(changed_by, int):
        return changed_by
    return changed_by.id


def record(
    action: str,
    *,
    changed_by: User | int | None = None,
    person: Person | None = None,
    professional: User | None = None,
    details: str | None = None,
) -> AuditEntry:
    """Add one audit entry to the current transaction. changed_by defaults to
    the built-in system account (user 1, "sysadmin")."""
    entry = AuditEntry(
        action=action,
        changed_by_id=_changed_by_id(changed_by),
        person_id=person.id if person is not None else None,
        person_name=person.full_name if person is not None else None,
        professional_id=professional.id if professional is not None else None,
        professional_given_name=professional.given_name if professional is not None else None,
        professional_portal_name=professional.portal_name if professional is not None else None,
        details=details,
    )
    db.session.add(entry)
    return entry


def record_for_people(
    action: str,
    people: Iterable[tuple[int, str]],
    *,
    changed_by: User | int | None = None,
    professional: User | None = None,
) -> int:
    """One entry per person, as record() writes them, sent as one INSERT for
    them all (a bulk Hide of 50 people is one statement, not 50 objects).
    people: (person id, full name) pairs. Returns how many were written."""
    # Read once: professional is often current_user, a proxy that costs a
    # lookup on every attribute.
    common = {
        "occurred_at": utcnow(),
        "action": action,
        "changed_by_id": _changed_by_id(changed_by),
        "professional_id": professional.id if professional is not None else None,
        "professional_given_name": professional.given_name if professional is not None else None,
        "professional_portal_name": professional.portal_name if professional is not None else None,
        "details": None,
    }
    rows = [{**common, "person_id": person_id, "person_name": person_name} for person_id, person_name in people]
    if rows:
        db.session.execute(insert(AuditEntry.__table__), rows)
    return len(rows)


# The LA admin area (SPEC section 5) and professional registration.
REGISTERED = "Professional registered"
VERIFIED = "Professional verified"
REJECTED = "Professional rejected"
DEACTIVATED = "Professional deactivated"
REACTIVATED = "Professional reactivated"
AUTHENTICATED_EXISTING = "Authenticated against an existing record"
AUTHENTICATED_NEW = "Authenticated as a new record"
DECLINED = "Authentication declined"
REAUTHENTICATED = "Re-authenticated by LA"
BULK_UNAUTHENTICATED = "Unauthenticated by LA: whole caseload of a professional who has left"
CASE_STATUS_CHANGED = "Case status changed"
TIMELINE_DATE_CHANGED = "EHC timeline date changed"

# SEND forms and messages (SPEC section 4).
FORM_SUBMITTED = "Form submitted"
FORM_ACCEPTED = "Form accepted by LA"
FORM_REJECTED = "Form rejected by LA"
FORM_REQUESTED = "Form requested by LA"

# Two-factor sign-in (send_portal/auth/two_factor.py). Entries name what
# happened, never a key or a code.
SECOND_FACTOR_FAILED = "Second factor failed"
RECOVERY_CODE_USED = "Recovery code used"
TWO_FACTOR_SET_UP = "Two-factor set up"
TWO_FACTOR_TURNED_OFF = "Two-factor turned off"
RECOVERY_CODES_REPLACED = "New recovery codes made"
TWO_FACTOR_RESET = "Two-factor reset by LA"

# Forgotten password (send_portal/auth/password_reset.py): never the token,
# never a password, never the address typed.
PASSWORD_RESET_REQUESTED = "Password reset requested"  # nosec B105 - an audit action's name, not a password
PASSWORD_RESET = "Password reset"  # nosec B105 - an audit action's name, not a password
