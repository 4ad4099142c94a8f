"""Forgotten password: a link on Sign in, the same answer whether or not the
address has an account, an emailed link (read from a real SMTP server) that
works once for an hour, the rules of registration for the new password,
every session ended, audited without secrets, and rate limited."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, update

from send_portal.auth.password_reset import PasswordResetToken
from send_portal.extensions import db
from send_portal.mail.models import OutboxEmail
from send_portal.models import AuditEntry, utcnow

from .conftest import PASSWORD, check_page, text
from .mail_support import body, deliver, smtp_server, use_smtp

NEW_PASSWORD = "plum orchard lantern seventy"
LINK_RE = re.compile(r"https?://\S+/reset-password/[A-Za-z0-9_-]+")


@pytest.fixture(autouse=True)
def portal_url(app):
    app.config["PORTAL_URL"] = "https://portal.la.example"


def page(response) -> BeautifulSoup:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    if response.mimetype == "text/html":
        check_page(soup)
    return soup


def csrf(client, url="/forgot-password") -> str:
    return page(client.get(url)).find("input", attrs={"name": "csrf_token"})["value"]


def ask_for_link(client, email):
    return client.post("/forgot-password", data={"email": email, "csrf_token": csrf(client)})


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def link_path(email_body: str) -> str:
    match = LINK_RE.search(email_body)
    assert match, email_body
    url = urlsplit(match.group(0))
    assert (url.scheme, url.netloc) == ("https", "portal.la.example")
    return url.path


def latest_link(to: str) -> str:
    return link_path([e for e in outbox() if e.to_address == to][-1].body)


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={
        "password": password, "password_confirm": password if confirm is None else confirm,
        "csrf_token": csrf(client),
    })


def can_sign_in(app, email, password) -> bool:
    fresh = app.test_client()
    token = csrf(fresh, "/sign-in")
    return fresh.post("/sign-in", data={"email": email, "password": password, "csrf_token": token}).status_code == 302


def test_sign_in_links_to_forgot_password(client):
    link = page(client.get("/sign-in")).find("a", string="Forgot your password?")
    assert link["href"] == "/forgot-password"
    soup = page(client.get("/forgot-password"))
    assert text(soup.h1) == "Reset your password"
    assert soup.find("label", attrs={"for": "email"}).get_text(strip=True) == "Email address"


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(app, client, professional):
    known = ask_for_link(client, professional.email)
    unknown = ask_for_link(client, "nobody.here@school.example")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/forgot-password/sent"
    sent = page(client.get("/forgot-password/sent"))
    assert text(sent.h1) == "Check your email"
    assert "If there is an account for that address, we have sent a link to it" in text(sent.main)
    # Only the account's owner is emailed.
    assert [e.to_address for e in outbox()] == [professional.email]


def test_a_deactivated_account_gets_the_same_answer_and_no_email(app, client, professional):
    professional.is_deactivated = True
    db.session.commit()
    response = ask_for_link(client, professional.email)
    assert (response.status_code, response.headers["Location"]) == (303, "/forgot-password/sent")
    assert outbox() == []


@pytest.mark.parametrize("typed, message", [
    ("", "Enter your email address"),
    ("not-an-address", "Enter an email address in the correct format, like name@school.example"),
    ("x" * 250 + "@a.example", "Email address must be 254 characters or fewer"),
])
def test_a_bad_email_address_is_explained(client, typed, message):
    response = ask_for_link(client, typed)
    assert response.status_code == 400
    soup = page(response)
    assert soup.title.string.startswith("Error: ")
    summary = soup.select_one(".govuk-error-summary a")
    assert (text(summary), summary["href"]) == (message, "#email")
    assert outbox() == []


def test_the_emailed_link_sets_a_new_password_and_does_not_sign_in(app, client, professional):
    ask_for_link(client, professional.email)
    with smtp_server() as server:
        use_smtp(app, server.port)
        deliver(app)
    [message] = server.mailbox.to(professional.email)
    assert message["Subject"] == "Reset your password for the SEND Professional Portal"
    path = link_path(body(message))

    form_page = client.get(path)
    assert form_page.status_code == 200
    assert form_page.headers["Cache-Control"] == "no-store"
    assert form_page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    soup = page(form_page)
    assert text(soup.h1) == "Create a new password"
    assert text(soup.find("label", attrs={"for": "password"})) == "Create a new password"
    assert text(soup.find("label", attrs={"for": "password_confirm"})) == "Confirm your new password"

    done = set_password(client, path)
    assert (done.status_code, done.headers["Location"]) == (303, "/reset-password/done")
    confirmation = page(client.get("/reset-password/done"))
    assert text(confirmation.h1) == "Your password has been changed"
    assert confirmation.find("a", string="Sign in with your new password")["href"] == "/sign-in"
    # Not signed in: two-factor sign-in may apply.
    assert client.get("/account").status_code == 302

    assert can_sign_in(app, professional.email, NEW_PASSWORD)
    assert not can_sign_in(app, professional.email, PASSWORD)
    # The owner is told, without the link.
    changed = outbox()[-1]
    assert (changed.to_address, changed.subject) == (
        professional.email, "Your password for the SEND Professional Portal has been changed",
    )
    assert path not in changed.body


def test_a_link_works_once(app, client, professional):
    ask_for_link(client, professional.email)
    path = latest_link(professional.email)
    assert set_password(client, path).status_code == 303

    again = client.get(path)
    assert again.status_code == 404
    assert text(page(again).h1) == "This link has expired or has been used"
    assert set_password(client, path, password="another good long password").status_code == 404
    assert can_sign_in(app, professional.email, NEW_PASSWORD)


def test_a_link_expires_after_an_hour(app, client, professional):
    ask_for_link(client, professional.email)
    path = latest_link(professional.email)
    token = db.session.scalars(select(PasswordResetToken)).one()
    assert token.expires_at - token.created_at == timedelta(hours=1)

    db.session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 404
    assert text(page(response).h1) == "This link has expired or has been used"
    assert set_password(client, path).status_code == 404
    assert can_sign_in(app, professional.email, PASSWORD)


def test_asking_again_makes_older_links_useless(app, client, professional):
    ask_for_link(client, professional.email)
    first = latest_link(professional.email)
    ask_for_link(client, professional.email)
    second = latest_link(professional.email)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


@pytest.mark.parametrize("token", [
    "not-a-token", "A" * 43, "A" * 500, "%C3%A9" * 10, "token.with.dots",
])
def test_an_unknown_link_is_a_clear_page(client, token):
    response = client.get(f"/reset-password/{token}")
    assert response.status_code == 404
    assert text(page(response).h1) == "This link has expired or has been used"


@pytest.mark.parametrize("password, confirm, message", [
    ("", "", "Enter a password"),
    ("short words", None, "Password must be 12 characters or more"),
    ("password1234", None, "Password is too easy to guess. Try three or four random words"),
    ("sam.patel@school.example", None, "Password must not be your email address"),
    (NEW_PASSWORD, "a different long password", "Passwords do not match"),
])
def test_the_new_password_follows_the_rules_of_registration(app, client, professional, password, confirm, message):
    ask_for_link(client, professional.email)
    path = latest_link(professional.email)
    response = set_password(client, path, password=password, confirm=confirm)
    assert response.status_code == 400
    soup = page(response)
    assert message in [text(a) for a in soup.select(".govuk-error-summary a")]
    # Nothing changed, and the link still works.
    assert can_sign_in(app, professional.email, PASSWORD)
    assert set_password(client, path).status_code == 303


def test_a_reset_ends_every_session_of_the_account(app, client_request, professional):
    client_request.sign_in(professional)
    other_browser = app.test_client()
    token = csrf(other_browser, "/sign-in")
    other_browser.post("/sign-in", data={"email": professional.email, "password": PASSWORD, "csrf_token": token})
    assert client_request.client.get("/account").status_code == 200
    assert other_browser.get("/account").status_code == 200

    stranger = app.test_client()
    ask_for_link(stranger, professional.email)
    assert set_password(stranger, latest_link(professional.email)).status_code == 303

    assert client_request.client.get("/account").status_code == 302
    assert other_browser.get("/account").status_code == 302


def test_requests_and_resets_are_audited_without_secrets(app, client, professional):
    ask_for_link(client, "nobody.here@school.example")
    ask_for_link(client, professional.email)
    path = latest_link(professional.email)
    token = path.rsplit("/", 1)[1]
    set_password(client, path)

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    reset = [e for e in entries if e.action in ("Password reset requested", "Password reset")]
    assert [(e.action, e.professional_portal_name) for e in reset] == [
        ("Password reset requested", None),
        ("Password reset requested", professional.email),
        ("Password reset", professional.email),
    ]
    assert reset[-1].changed_by_id == professional.id
    assert "sessions ended" in reset[-1].details or "session ended" in reset[-1].details
    for entry in entries:
        written = " ".join(str(value) for value in (
            entry.action, entry.details, entry.person_name, entry.professional_given_name, entry.professional_portal_name,
        ))
        assert token not in written
        assert NEW_PASSWORD not in written
        assert "nobody.here" not in written


def test_requests_are_rate_limited_per_email_address_whether_or_not_it_has_an_account(app, client, professional):
    app.config["PASSWORD_RESET_ACCOUNT_RATE_LIMIT"] = "2 per hour"
    for email in (professional.email, "nobody.here@school.example"):
        assert ask_for_link(client, email).status_code == 303
        assert ask_for_link(client, email).status_code == 303
        refused = ask_for_link(client, email)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert text(page(refused).h1) == "Too many requests"
    assert [e.to_address for e in outbox()] == [professional.email] * 2
    # Another address is not held up.
    assert ask_for_link(client, "someone.else@school.example").status_code == 303


def test_requests_are_rate_limited_per_network_address(app, client, professional):
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "3 per hour"
    for n in range(3):
        assert ask_for_link(client, f"guess{n}@school.example").status_code == 303
    assert ask_for_link(client, professional.email).status_code == 429
    assert outbox() == []
    # From elsewhere it still works.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert ask_for_link(elsewhere, professional.email).status_code == 303
    assert [e.to_address for e in outbox()] == [professional.email]


def test_a_post_without_the_csrf_token_is_refused(client, professional):
    response = client.post("/forgot-password", data={"email": professional.email})
    assert response.status_code == 400
    assert outbox() == []


def test_without_portal_url_in_production_the_email_gives_the_path_not_the_requests_host(app, client, professional):
    """The Host header is the sender's choice: it must never build the link
    (a poisoned link would hand the token to whoever sent the request)."""
    app.config.update(PORTAL_URL="", SEND_PORTAL_ENV="production")
    evil = "http://evil.example"
    token = page(client.get("/forgot-password", base_url=evil)).find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post("/forgot-password", data={"email": professional.email, "csrf_token": token}, base_url=evil)
    assert response.status_code == 303
    [email] = outbox()
    assert "evil.example" not in email.body
    assert re.search(r"^/reset-password/[A-Za-z0-9_-]{43}$", email.body, re.MULTILINE)


def test_every_page_of_the_journey_is_valid_html(app, client, professional, tmp_path):
    from .test_html_validity import vnu_errors

    pages = {
        "forgot": client.get("/forgot-password"),
        "forgot error": client.post("/forgot-password", data={"email": "nope", "csrf_token": csrf(client)}),
        "sent": client.get("/forgot-password/sent"),
    }
    ask_for_link(client, professional.email)
    path = latest_link(professional.email)
    pages["reset"] = client.get(path)
    pages["reset errors"] = set_password(client, path, password="short", confirm="other")
    set_password(client, path)
    pages["done"] = client.get("/reset-password/done")
    pages["used link"] = client.get(path)
    app.config["PASSWORD_RESET_ACCOUNT_RATE_LIMIT"] = "1 per hour"
    pages["too many"] = ask_for_link(client, professional.email)
    assert [r.status_code for r in pages.values()] == [200, 400, 200, 200, 400, 200, 404, 429]
    files = []
    for n, (name, response) in enumerate(pages.items()):
        check_page(BeautifulSoup(response.get_data(as_text=True), "html.parser"))
        files.append(tmp_path / f"{n}.html")
        files[-1].write_text(response.get_data(as_text=True), encoding="utf-8")
    problems = [f"{e.get('url')}: {e.get('message')}" for e in vnu_errors(files)]
    assert not problems, "\n".join(problems)


def test_an_account_whose_address_cannot_be_emailed_gets_the_same_answer(app, client, make_user):
    odd = make_user("Odd", "Address", email="odd,name@school.example")
    response = ask_for_link(client, odd.email)
    assert (response.status_code, response.headers["Location"]) == (303, "/forgot-password/sent")
    assert outbox() == []


def test_an_account_made_from_the_command_line_can_reset_too(app, client, make_user):
    """create-user accepts addresses that registration's form would not
    (a@b..example): the reset form checks only the new password."""
    user = make_user("Cli", "Made", email="cli.made@la..example")
    ask_for_link(client, user.email)
    assert set_password(client, latest_link(user.email)).status_code == 303
    assert can_sign_in(app, user.email, NEW_PASSWORD)


def test_a_daily_limit_outlives_the_clean_up_of_old_sign_in_failures(app, client, professional):
    """Failed sign-ins clean out counts too old for any limit: a longer
    password reset limit keeps its own counts through that."""
    from send_portal.auth.models import SignInFailure

    app.config["PASSWORD_RESET_ACCOUNT_RATE_LIMIT"] = "2 per day"
    app.config["SIGN_IN_RATE_LIMIT"] = app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"] = "50 per hour"
    assert ask_for_link(client, professional.email).status_code == 303
    assert ask_for_link(client, professional.email).status_code == 303
    db.session.execute(update(SignInFailure).values(occurred_at=utcnow() - timedelta(hours=3)))
    db.session.commit()
    token = csrf(client, "/sign-in")
    assert client.post("/sign-in", data={"email": professional.email, "password": "wrong", "csrf_token": token}).status_code == 400
    assert ask_for_link(client, professional.email).status_code == 429
