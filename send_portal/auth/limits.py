"""The sign-in rate limit: failed sign-ins only, per account and per address,
counted in the database.

Flask-Limiter counted every attempt (an office behind one address was locked
out after a morning's worth of successful sign-ins) and, with memory://,
counted each gunicorn worker apart. Here only a wrong password or an unknown
account counts, once against the account typed (SIGN_IN_ACCOUNT_RATE_LIMIT)
and once against the address it came from (SIGN_IN_RATE_LIMIT). The counts
are rows of sign_in_failure, which every worker and every app server shares.
While either key is over its limit, no password is checked at all: the right
one is refused too, or the limit would not slow a guesser down. Wrong
security codes for an account have a limit of their own with a day's window
(SECOND_FACTOR_RATE_LIMIT), so knowing the password gives a few dozen
guesses a day, not a thousand."""
from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from flask import current_app, request
from limits import parse_many
from sqlalchemy import bindparam, delete, insert, select

from ..extensions import db
from ..models import utcnow
from .models import SignInFailure

ACCOUNT = "account"
ADDRESS = "address"
# A wrong security code (two-factor sign-in, after a correct password) is
# counted the same way under kinds of its own, so that guessing codes and
# guessing passwords each have the whole limit, and a correct password does
# not clear the count of wrong codes.
CODE_ACCOUNT = "code-acct"
CODE_ADDRESS = "code-addr"
PASSWORD = "password"  # nosec B105 - a kind of attempt, not a password
SECOND_FACTOR = "second factor"
_KINDS = {PASSWORD: (ACCOUNT, ADDRESS), SECOND_FACTOR: (CODE_ACCOUNT, CODE_ADDRESS)}
# Forgotten password requests (send_portal/auth/password_reset.py): every
# request counts, since each can send an email, under limits of their own.
RESET_ACCOUNT = "reset-acct"
RESET_ADDRESS = "reset-addr"
PASSWORD_RESET = "password reset"  # nosec B105 - a kind of attempt counted, not a password
_KINDS[PASSWORD_RESET] = (RESET_ACCOUNT, RESET_ADDRESS)
_SETTINGS = {
    RESET_ACCOUNT: "PASSWORD_RESET_ACCOUNT_RATE_LIMIT", RESET_ADDRESS: "PASSWORD_RESET_RATE_LIMIT",
    # Wrong codes for one account have a limit of their own, with a day's
    # window: the address's count of them stays under SIGN_IN_RATE_LIMIT.
    CODE_ACCOUNT: "SECOND_FACTOR_RATE_LIMIT",
}
HOUR = timedelta(hours=1)

_RECENT_FAILURES = (
    select(SignInFailure.occurred_at)
    .where(
        SignInFailure.key_kind == bindparam("kind"),
        SignInFailure.key_hash == bindparam("key_hash"),
        SignInFailure.occurred_at > bindparam("since"),
    )
    .order_by(SignInFailure.occurred_at.desc())
    .limit(bindparam("most"))
)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()[:254]


def client_address() -> str:
    return request.remote_addr or "unknown"


def _limits(kind: str) -> list[tuple[int, timedelta]]:
    setting = _SETTINGS.get(kind) or (
        "SIGN_IN_ACCOUNT_RATE_LIMIT" if kind in (ACCOUNT, CODE_ACCOUNT) else "SIGN_IN_RATE_LIMIT"
    )
    return [(item.amount, timedelta(seconds=item.get_expiry())) for item in parse_many(current_app.config[setting])]


def _key_hash(kind: str, value: str) -> str:
    """Keyed, so the table holds neither email addresses nor IP addresses."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()


def _keys(email: str, address: str, attempt: str = PASSWORD) -> list[tuple[str, str]]:
    account, place = _KINDS[attempt]
    return [(account, _key_hash(account, email)), (place, _key_hash(place, address))]


def seconds_to_wait(email: str, address: str, now: datetime | None = None, attempt: str = PASSWORD) -> int:
    """0 if a sign-in may be tried; otherwise how long until the account and
    the address are both under every limit again."""
    now = now or utcnow()
    wait = timedelta(0)
    for kind, key_hash in _keys(email, address, attempt):
        rules = _limits(kind)
        longest = max(period for _, period in rules)
        times = db.session.scalars(
            _RECENT_FAILURES,
            {"kind": kind, "key_hash": key_hash, "since": now - longest, "most": max(n for n, _ in rules)},
        ).all()  # newest first
        for amount, period in rules:
            within = [t for t in times if t > now - period]
            if len(within) >= amount:
                # Free again once the amount-th newest failure leaves the window.
                wait = max(wait, within[amount - 1] + period - now)
    return math.ceil(wait.total_seconds()) if wait > timedelta(0) else 0


def record_failure(email: str, address: str, attempt: str = PASSWORD) -> None:
    """Count a failed sign-in against both keys, and forget failures too old
    to count against any limit. Joins the caller's transaction."""
    now = utcnow()
    db.session.execute(
        insert(SignInFailure),
        [{"key_kind": kind, "key_hash": key_hash, "occurred_at": now} for kind, key_hash in _keys(email, address, attempt)],
    )
    longest = max(period for kinds in _KINDS.values() for kind in kinds for _, period in _limits(kind))
    db.session.execute(delete(SignInFailure).where(SignInFailure.occurred_at <= now - longest))


def reached_hourly_limit(email: str, attempt: str = PASSWORD, now: datetime | None = None) -> bool:
    """Whether the failure just recorded brought the account's count to its
    hourly limit (the limit with an hour's window, else its longest): true
    once each time the count gets there, for the caller to tell the account
    holder."""
    kind = _KINDS[attempt][0]
    rules = _limits(kind)
    amount, period = next(((n, p) for n, p in rules if p == HOUR), max(rules, key=lambda rule: rule[1]))
    now = now or utcnow()
    times = db.session.scalars(
        _RECENT_FAILURES, {"kind": kind, "key_hash": _key_hash(kind, email), "since": now - period, "most": amount + 1},
    ).all()
    return len(times) == amount


def forget_account_failures(email: str, attempt: str = PASSWORD) -> None:
    """The account's own failures, once its owner has signed in. The
    address's stay: signing in to one account must not reset the count of
    guesses made at others from the same place."""
    kind = _KINDS[attempt][0]
    db.session.execute(
        delete(SignInFailure).where(SignInFailure.key_kind == kind, SignInFailure.key_hash == _key_hash(kind, email))
    )


def wait_in_words(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"
