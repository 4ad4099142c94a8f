"""The service's data: users, people, involvements, activity and the audit log."""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .names import name_tokens, shared_prefixes, sort_key

SYSTEM_USER_ID = 1
SYSTEM_USER_NAME = "sysadmin"


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Role(str, enum.Enum):
    SYSTEM = "system"
    PROFESSIONAL = "professional"
    ADMIN = "admin"


class Verification(str, enum.Enum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


PROFESSIONAL_TYPES = {
    "senco": "SENCo",
    "educational_psychologist": "Educational psychologist",
    "health": "Health practitioner",
    "social_care": "Social care practitioner",
    "early_years": "Early years practitioner",
}

# SPEC section 6. "Awaiting authentication" belongs to an involvement the LA has
# not confirmed; the rest are the authority's record of the child.
CASE_STATUSES = [
    "No open case",
    "Request received",
    "Deciding whether to assess",
    "Assessment in progress",
    "Not assessing",
    "Draft plan issued",
    "EHC plan issued",
    "Annual review due",
    "Plan ceased",
]
AWAITING_AUTHENTICATION = "Awaiting authentication"
GENDERS = ["Female", "Male", "Not known", "Not specified"]


class User(UserMixin, db.Model):
    __tablename__ = "portal_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-case: addresses are unique regardless of case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    professional_type: Mapped[str | None] = mapped_column(String(40))
    # As the professional wrote it at registration (kept: the LA reads it
    # when it adds them to an organisation).
    organisation: Mapped[str | None] = mapped_column(String(200))
    # The organisation the LA (or create-user) made them a member of
    # (send_portal/organisations, migration 0015), and whether they lead it
    # (hands over its leavers' children).
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    is_organisation_lead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    verification: Mapped[str] = mapped_column(String(20), default=Verification.PENDING.value)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    is_deactivated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # "Send me an email when something needs my attention" (Your account).
    wants_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Two-factor sign-in (send_portal/auth/two_factor.py): the authenticator
    # app's key, encrypted; when it was set up; the last time step whose code
    # was accepted (a code is refused a second time).
    two_factor_secret: Mapped[str | None] = mapped_column(String(255))
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    two_factor_last_step: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def portal_name(self) -> str:
        """The PortalName of SPEC section 7: the sign-in email address."""
        return self.email

    @property
    def is_system(self) -> bool:
        return self.role == Role.SYSTEM.value

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_professional(self) -> bool:
        return self.role == Role.PROFESSIONAL.value

    @property
    def is_verified(self) -> bool:
        return self.verification == Verification.VERIFIED.value

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        return not self.is_deactivated and not self.is_system

    @property
    def professional_type_label(self) -> str:
        return PROFESSIONAL_TYPES.get(self.professional_type or "", "")


# The statutory clock's open cases (migration 0011).
_CLOCK_OPEN = text("clock_due_on IS NOT NULL")


class Person(db.Model):
    """The authority's record of a child or young person."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    la_reference: Mapped[str | None] = mapped_column(String(50), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    # Case- and accent-folded "family given", for ordering the caseload.
    sort_name: Mapped[str] = mapped_column(String(210), index=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(20), default="Not known")
    # Not unique here: a professional may type the UPN of a record the LA holds,
    # and the LA matches the two when it authenticates.
    upn: Mapped[str | None] = mapped_column(String(13), index=True)
    address_line_1: Mapped[str | None] = mapped_column(String(200))
    address_line_2: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(10))
    uprn: Mapped[str | None] = mapped_column(String(20))
    case_status: Mapped[str] = mapped_column(String(40), default="No open case")
    # EHC timeline dates, set by the LA.
    request_received_on: Mapped[date | None] = mapped_column(Date)
    assessment_decision_on: Mapped[date | None] = mapped_column(Date)
    draft_plan_on: Mapped[date | None] = mapped_column(Date)
    final_plan_on: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    # SEN2 (migration 0011): the outcome of the request, 'assess' or
    # 'not_assess' (its date is assessment_decision_on), and the 20-week
    # exception code (send_portal/clock/deadlines.py EXCEPTION_REASONS).
    assessment_outcome: Mapped[str | None] = mapped_column(String(20))
    twenty_week_exception_reason: Mapped[str | None] = mapped_column(String(20))
    # The statutory clock's stage and next deadline, worked out from the dates
    # above on every write (send_portal/clock/__init__.py); NULL unless open.
    clock_stage: Mapped[str | None] = mapped_column(String(20))
    clock_due_on: Mapped[date | None] = mapped_column(Date)
    # London date of the newest advice request not yet answered (kept by
    # send_portal/clock/__init__.py whenever a request or response is written).
    clock_advice_on: Mapped[date | None] = mapped_column(Date)
    # Latest recorded activity (what "Recent (18 months)" reads); kept in step
    # with the Activity rows so Recent needs no aggregate per request.
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # True for a record a professional added that the LA has not yet matched.
    added_by_professional: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    name_tokens: Mapped[list["PersonNameToken"]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )

    # The statutory clock's partial indexes (migration 0011).
    __table_args__ = (
        Index("ix_person_clock", "clock_due_on", "id",
              sqlite_where=_CLOCK_OPEN, postgresql_where=_CLOCK_OPEN),
        Index("ix_person_clock_stage", "clock_stage", "clock_due_on", "id", "request_received_on",
              "assessment_decision_on", "draft_plan_on", "clock_advice_on",
              sqlite_where=_CLOCK_OPEN, postgresql_where=_CLOCK_OPEN),
        Index("ix_person_final_plan_on", "final_plan_on", "request_received_on",
              sqlite_where=text("final_plan_on IS NOT NULL"), postgresql_where=text("final_plan_on IS NOT NULL")),
        Index("ix_person_request_received_on", "request_received_on",
              sqlite_where=text("request_received_on IS NOT NULL"), postgresql_where=text("request_received_on IS NOT NULL")),
    )

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def set_names(self, given_name: str, family_name: str) -> None:
        """Set the names and the folded forms the filter and ordering use."""
        self.given_name = given_name
        self.family_name = family_name
        self.sort_name = sort_key(given_name, family_name)
        wanted = sorted(set(name_tokens(given_name) + name_tokens(family_name)))
        shared = dict(zip(wanted, shared_prefixes(wanted)))
        have = {t.token: t for t in self.name_tokens}
        for token in set(have) - set(wanted):
            self.name_tokens.remove(have[token])
        for token in wanted:
            if token not in have:
                self.name_tokens.append(PersonNameToken(token=token, shared_prefix=shared[token]))
            elif have[token].shared_prefix != shared[token]:  # its neighbour changed
                have[token].shared_prefix = shared[token]


class PersonNameToken(db.Model):
    """One folded word of a person's name: the name filters match prefixes of
    these with an index range scan, on SQLite and PostgreSQL alike (the
    caseload's filter reads their copies in caseload_name_token)."""

    __tablename__ = "person_name_token"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    # Byte order on PostgreSQL too, so a prefix is an index range.
    token: Mapped[str] = mapped_column(
        String(100).with_variant(String(100, collation="C"), "postgresql"), primary_key=True
    )
    # Characters this token shares with the person's previous token in sorted
    # order (names.shared_prefixes): the filter counts a person once by it.
    # No default: whatever writes a token must work it out (bench/build.py
    # does, for its raw inserts).
    shared_prefix: Mapped[int] = mapped_column(Integer)
    person: Mapped[Person] = relationship(back_populates="name_tokens")

    __table_args__ = (Index("ix_person_name_token_token", "token", "person_id"),)


class InvolvementStatus(str, enum.Enum):
    AWAITING = "awaiting"  # added by the professional; the LA has not confirmed
    AUTHENTICATED = "authenticated"
    UNAUTHENTICATED = "unauthenticated"  # by the professional's Delete or by the LA
    DECLINED = "declined"


# ix_involvement_recent's WHERE, the same on both engines (migration 0007).
_LIVE_UNHIDDEN = text("deleted_at IS NULL AND hidden_at IS NULL")


class Involvement(db.Model):
    """A professional's involvement with a child."""

    __tablename__ = "involvement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    professional_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    status: Mapped[str] = mapped_column(String(20), default=InvolvementStatus.AWAITING.value)
    started_on: Mapped[date] = mapped_column(Date, default=date.today)
    ended_on: Mapped[date | None] = mapped_column(Date)
    authenticated_at: Mapped[datetime | None] = mapped_column(DateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The person's last_activity_at, copied by triggers (migration 0006) so
    # that Recent is a range of ix_involvement_recent. Never written here:
    # write Person.last_activity_at (caseload.queries.record_activity).
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime)

    professional: Mapped[User] = relationship(foreign_keys=[professional_id])
    person: Mapped[Person] = relationship()

    __table_args__ = (
        # status and ended_on last: the Active and Hidden counts read this index alone.
        Index("ix_involvement_caseload", "professional_id", "deleted_at", "hidden_at", "person_id", "status", "ended_on"),
        Index("ix_involvement_person", "person_id"),
        # Recent, newest first: read backwards, stopped after a page; counted
        # from the index alone. Partial (migration 0007): PostgreSQL does not
        # take "IS NULL" as fixing a column, so a leading deleted_at and
        # hidden_at kept it from reading the index in last_activity_at order.
        # The last two columns let SQLite count from the index alone.
        Index(
            "ix_involvement_recent", "professional_id", "last_activity_at", "person_id", "id", "status",
            "deleted_at", "hidden_at",
            sqlite_where=_LIVE_UNHIDDEN, postgresql_where=_LIVE_UNHIDDEN,
        ),
    )

    @property
    def case_status(self) -> str:
        if self.status == InvolvementStatus.AWAITING.value:
            return AWAITING_AUTHENTICATION
        return self.person.case_status


class CaseloadNameToken(db.Model):
    """The Person filter's index of each professional's caseload: one row for
    each name token of the person of each live involvement (not deleted,
    awaiting or authenticated), with what the filter sorts and tests by.

    Written only by database triggers (migration 0005_caseload_name_token) on
    involvement, person_name_token and person, so every writer, the ORM, raw
    SQL or the bench's bulk inserts, keeps it right. A keystroke reads the
    range of its term within one professional's list (the primary key) and
    so costs what its matches cost, whatever the size of the caseload. The
    professional's own check (verified, active) stays in the query."""

    __tablename__ = "caseload_name_token"

    professional_id: Mapped[int] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(Boolean)  # involvement.hidden_at IS NOT NULL
    token: Mapped[str] = mapped_column(String(100).with_variant(String(100, collation="C"), "postgresql"))
    involvement_id: Mapped[int] = mapped_column(ForeignKey("involvement.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(Integer)
    shared_prefix: Mapped[int] = mapped_column(Integer)  # person_name_token's
    ended_on: Mapped[date | None] = mapped_column(Date)  # involvement's
    sort_name: Mapped[str] = mapped_column(String(210))  # person's
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime)  # person's

    __table_args__ = (
        # On PostgreSQL the key's index carries the other columns, so a range
        # of it is all a keystroke reads (an index-only scan).
        PrimaryKeyConstraint(
            "professional_id", "hidden", "token", "involvement_id",
            postgresql_include=["person_id", "shared_prefix", "ended_on", "sort_name", "last_activity_at"],
        ),
        Index("ix_caseload_name_token_involvement_id", "involvement_id"),
        Index("ix_caseload_name_token_person_id", "person_id", "token"),
        # SQLite: the table is its primary key's b-tree, so the same.
        {"sqlite_with_rowid": False},
    )


class Activity(db.Model):
    """Something that happened to a person's record (added, status changed,
    form saved or submitted, message)."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    description: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("portal_user.id"))


class AuditEntry(db.Model):
    """Append-only record of every sensitive action."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(200), index=True)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("portal_user.id"))
    # Snapshots: the log reads the same after a name or email changes.
    person_name: Mapped[str | None] = mapped_column(String(210))
    professional_given_name: Mapped[str | None] = mapped_column(String(100))
    professional_portal_name: Mapped[str | None] = mapped_column(String(254))
    details: Mapped[str | None] = mapped_column(Text)

    changed_by: Mapped[User] = relationship(foreign_keys=[changed_by_id])
    person: Mapped[Person | None] = relationship()


class AuditLogIsAppendOnly(Exception):
    pass


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_change(mapper, connection, target):  # noqa: ARG001
    raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted")


class Address(db.Model):
    """One address of the authority's gazetteer (LLPG or AddressBase extract)."""

    __tablename__ = "address"

    uprn: Mapped[str] = mapped_column(String(20), primary_key=True)
    address_line_1: Mapped[str] = mapped_column(String(200))
    address_line_2: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10))
    # Upper case without spaces: look-ups are by this, whatever the typing.
    postcode_key: Mapped[str] = mapped_column(String(8), index=True)
