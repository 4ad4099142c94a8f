"""The sign-in rate limit (issue 12, defect 3): only failures count, per
account and per address, in the database that every worker shares; a
limited person is told how long to wait, and even the right password is
refused until then."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from send_portal import create_app
from send_portal.auth import limits
from send_portal.auth.models import SignInFailure
from send_portal.extensions import db, limiter
from send_portal.models import AuditEntry, utcnow

from .conftest import CSRF_RE, PASSWORD, IsolatedClient, text
from .test_revocable_sessions import browser


def token(client, url="/sign-in") -> str:
    return CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)


def attempt(client, email, password):
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token(client)})


def parse(response):
    from bs4 import BeautifulSoup

    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def clock(monkeypatch):
    """The limit's clock, moved by hand."""

    class Clock:
        now = utcnow()

        def advance(self, **kwargs):
            self.now += timedelta(**kwargs)

    clock = Clock()
    monkeypatch.setattr(limits, "utcnow", lambda: clock.now)
    return clock


def test_successful_sign_ins_do_not_count(app, make_user):
    """An office behind one address: many people sign in, none is turned away."""
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute;5 per hour"
    app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"] = "3 per minute"
    office = [make_user(email=f"teacher{n}@school.example") for n in range(8)]
    for user in office:
        client = browser(app, address="198.51.100.1")
        assert attempt(client, user.email, PASSWORD).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SignInFailure)) == 0


def test_failures_from_one_address_are_limited_whatever_the_account(app, professional):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"] = "100 per minute"
    guesser = browser(app, address="198.51.100.66")
    statuses = [attempt(guesser, f"someone{n}@school.example", "guess").status_code for n in range(3)]
    assert statuses == [400, 400, 400]
    response = attempt(guesser, professional.email, PASSWORD)
    assert response.status_code == 429, "the right password is refused too while limited"
    assert guesser.get("/home").status_code == 302
    # Another address is not limited.
    assert attempt(browser(app, address="192.0.2.7"), professional.email, PASSWORD).status_code == 302


def test_failures_at_one_account_are_limited_whatever_the_address(app, professional, other_professional):
    app.config["SIGN_IN_RATE_LIMIT"] = "100 per minute"
    app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"] = "3 per minute"
    for n in range(3):
        response = attempt(browser(app, address=f"203.0.113.{n + 1}"), professional.email.upper() + " ", f"guess {n}")
        assert response.status_code == 400
    # The email is normalised: case and spaces make no new account.
    assert attempt(browser(app, address="203.0.113.50"), professional.email, PASSWORD).status_code == 429
    # Other accounts are not limited.
    assert attempt(browser(app, address="203.0.113.50"), other_professional.email, PASSWORD).status_code == 302


def test_the_limited_page_says_how_long_to_wait(app, professional, clock):
    app.config["SIGN_IN_RATE_LIMIT"] = "10 per minute;3 per hour"
    client = browser(app)
    for minutes in (0, 1, 2):
        assert attempt(client, professional.email, "wrong").status_code == 400
        clock.advance(minutes=1)
    clock.advance(minutes=50)  # the first failure was 53 minutes ago
    response = attempt(client, professional.email, PASSWORD)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "420"
    page = parse(response)
    assert text(page.find("h1")) == "Too many attempts"
    assert page.title.string.startswith("Too many attempts")
    main = text(page.find("main"))
    assert "Wait 7 minutes, then try again." in main
    assert "even with the correct password" in main
    assert page.find("a", string="Go back to sign in")["href"] == "/sign-in"
    # Refusals are not failures: they do not push the wait back.
    assert db.session.scalar(select(func.count()).select_from(SignInFailure)) == 6  # 3 failures x (account, address)
    clock.advance(minutes=6, seconds=59)
    assert attempt(client, professional.email, PASSWORD).headers["Retry-After"] == "1"
    assert "Wait 1 minute, then try again." in text(parse(attempt(client, professional.email, PASSWORD)).find("main"))
    clock.advance(seconds=1)
    assert attempt(client, professional.email, PASSWORD).status_code == 302


def test_signing_in_forgets_the_accounts_failures_but_not_the_addresses(app, professional, other_professional):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"] = "3 per minute"
    client = browser(app)
    for _ in range(2):
        assert attempt(client, professional.email, "wrong").status_code == 400
    assert attempt(client, professional.email, PASSWORD).status_code == 302
    kinds = db.session.scalars(select(SignInFailure.key_kind)).all()
    assert sorted(kinds) == ["address", "address"]
    # The address's count goes on: one more failure there and it is limited.
    other = browser(app)
    assert attempt(other, other_professional.email, "wrong").status_code == 400
    assert attempt(other, other_professional.email, PASSWORD).status_code == 429


def test_the_table_holds_no_email_or_address(app, professional):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    attempt(browser(app, address="198.51.100.23"), "typed.secret@school.example", "wrong")
    rows = db.session.execute(select(SignInFailure.key_kind, SignInFailure.key_hash)).all()
    assert sorted(kind for kind, _ in rows) == ["account", "address"]
    for _, key_hash in rows:
        assert len(key_hash) == 64 and "typed" not in key_hash and "198.51" not in key_hash


def test_old_failures_are_pruned(app, professional, clock):
    app.config["SIGN_IN_RATE_LIMIT"] = "10 per minute;50 per hour"
    app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"] = "10 per minute"
    client = browser(app)
    for _ in range(3):
        attempt(client, professional.email, "wrong")
    assert db.session.scalar(select(func.count()).select_from(SignInFailure)) == 6
    clock.advance(hours=1, seconds=1)
    attempt(client, professional.email, "wrong")
    assert db.session.scalar(select(func.count()).select_from(SignInFailure)) == 2


def test_the_limit_holds_across_workers(app, database_url, professional):
    """Two app processes (gunicorn workers, or app servers) on one database
    share the count. Each process has its own memory: clearing this one's
    (Flask-Limiter's memory:// storage) stands for asking another."""
    app.config["SIGN_IN_RATE_LIMIT"] = "4 per minute"
    second = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    second.test_client_class = IsolatedClient
    second.config["SIGN_IN_RATE_LIMIT"] = "4 per minute"
    first_worker, second_worker = browser(app), browser(second)
    email = professional.email  # read here, not from inside the second app's context
    statuses = []
    for n in range(2):
        statuses.append(attempt(first_worker, email, f"guess {n}").status_code)
        limiter.reset()
        with second.app_context():
            statuses.append(attempt(second_worker, email, f"guess {n}b").status_code)
        limiter.reset()
    assert statuses == [400, 400, 400, 400]
    assert attempt(first_worker, email, PASSWORD).status_code == 429
    limiter.reset()
    with second.app_context():
        assert attempt(second_worker, email, PASSWORD).status_code == 429
        db.engine.dispose()


def test_a_bad_form_is_not_a_failure(app, professional):
    app.config["SIGN_IN_RATE_LIMIT"] = "1 per minute"
    client = browser(app)
    for _ in range(3):
        assert client.post("/sign-in", data={"email": professional.email, "csrf_token": token(client)}).status_code == 400
    assert attempt(client, professional.email, PASSWORD).status_code == 302


def test_registration_is_limited_by_address_and_says_how_long_to_wait(app):
    app.config["SIGN_IN_RATE_LIMIT"] = "2 per minute"
    client = browser(app)
    csrf = token(client, "/register")
    statuses = [client.post("/register", data={"csrf_token": csrf}).status_code for _ in range(2)]
    assert statuses == [400, 400]
    response = client.post("/register", data={"csrf_token": csrf})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    main = text(parse(response).find("main"))
    assert "Wait 1 minute, then try again." in main


def test_failed_sign_ins_are_still_audited(app, professional):
    attempt(browser(app), professional.email, "wrong")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "Sign-in failed")) == 1
