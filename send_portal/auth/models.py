"""What signing in keeps on the server: the sessions a person has open, and
recent failed sign-ins (the rate limit's counts, shared by every worker and
every app server through the database), and two-factor recovery codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow


class UserSession(db.Model):
    """One signed-in browser. The signed cookie carries a random token; only
    its SHA-256 is stored, so a copy of this table signs nobody in. A session
    ends (ended_at) when its person signs out, signs out of other devices,
    is deactivated, or an administrator ends all their sessions; one left
    idle simply stops working once last_seen_at is older than the time-out."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Written at most once a minute, as the cookie is re-signed.
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(40))


class SignInFailure(db.Model):
    """A wrong password (or unknown account), counted against the address it
    came from and the account typed. Keys are keyed hashes: neither an email
    address nor an IP address is stored."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_kind: Mapped[str] = mapped_column(String(10))  # "account" or "address"
    key_hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    __table_args__ = (Index("ix_sign_in_failure_key", "key_kind", "key_hash", "occurred_at"),)


class RecoveryCode(db.Model):
    """One of the ten single-use codes that stand in for the authenticator
    app. Only a hash is kept: the codes are shown once, when made."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
