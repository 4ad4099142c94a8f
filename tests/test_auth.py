"""Signing in and out, and the security every page carries."""
from sqlalchemy import select

from send_portal.auth.passwords import hash_password
from send_portal.extensions import db
from send_portal.models import SYSTEM_USER_ID, AuditEntry, User

from .conftest import PASSWORD, text


def test_sign_in_page_has_the_contract_labels(client_request):
    page = client_request.get("/sign-in")
    assert page.find("label", string="Email address")["for"] == "email"
    assert page.find("label", string="Password")["for"] == "password"
    assert page.find("button", string="Sign in")


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/").headers["Location"] == "/sign-in"
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_sign_in_and_out(client_request, professional):
    response = client_request.sign_in(professional)
    assert response.headers["Location"] == "/home"
    home = client_request.get("/home")
    assert home.find("a", string="Sign out")
    page = client_request.get("/sign-out")  # no GET changes state
    assert page.find("button", string="Sign out")
    client_request.get("/home")
    response = client_request.post("/sign-out", expected_status=303)
    assert response.headers["Location"] == "/sign-in"
    assert client_request.client.get("/home").status_code == 302
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "Signed in" in actions and "Signed out" in actions


def test_wrong_password_gets_an_error_summary_and_an_audit_entry(client_request, professional):
    token = client_request.csrf_token("/sign-in")
    response = client_request.client.post("/sign-in", data={"email": professional.email, "password": "wrong", "csrf_token": token})
    assert response.status_code == 400
    page = client_request.parse(response)
    summary = page.find(class_="govuk-error-summary")
    assert "Enter a correct email address and password" in text(summary)
    assert summary.find("a")["href"] == "#email"
    assert page.title.string.startswith("Error:")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "Sign-in failed")) is not None


def test_empty_fields_are_named(client_request):
    token = client_request.csrf_token("/sign-in")
    page = client_request.parse(client_request.client.post("/sign-in", data={"csrf_token": token}))
    assert "Enter your email address" in text(page.find(class_="govuk-error-summary"))
    assert "Enter your password" in text(page.find(class_="govuk-error-summary"))


def test_email_is_case_insensitive(client_request, professional):
    token = client_request.csrf_token("/sign-in")
    response = client_request.client.post("/sign-in", data={"email": professional.email.upper(), "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_nobody_can_sign_in_as_the_system_account(client_request):
    # The system account has no password, so an empty one would only meet the
    # required-field check: give it one, as a mistake in the database might,
    # and type it, so that the refusal can only come from the role rule.
    system = db.session.get(User, SYSTEM_USER_ID)
    system.password_hash = hash_password(PASSWORD)
    db.session.commit()
    token = client_request.csrf_token("/sign-in")
    response = client_request.client.post("/sign-in", data={"email": "sysadmin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400
    page = client_request.parse(response)
    assert "Enter a correct email address and password" in text(page.find(class_="govuk-error-summary"))
    assert client_request.client.get("/home").headers["Location"].startswith("/sign-in")
    assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "Sign-in failed")) == "Account: sysadmin"


def test_open_redirects_are_refused(client_request, professional):
    token = client_request.csrf_token("/sign-in")
    response = client_request.client.post(
        "/sign-in?next=//evil.example/x", data={"email": professional.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/home"


def test_next_returns_to_the_page_asked_for(client_request, professional):
    token = client_request.csrf_token("/sign-in")
    response = client_request.client.post(
        "/sign-in?next=/send/select-person/hidden", data={"email": professional.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/send/select-person/hidden"


def test_a_post_without_a_valid_csrf_token_gets_400(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    for token in (None, "forged"):
        data = {"person_id": str(amelia.id), "view": "active", "confirmed": "yes"}
        if token:
            data["csrf_token"] = token
        response = client_request.post("/send/select-person/hide", data, csrf=False)
        assert response.status_code == 400
    response = client_request.client.post("/sign-in", data={"email": "a@b.example", "password": "x"})
    assert response.status_code == 400
    from send_portal.models import Involvement

    assert db.session.scalar(select(Involvement).where(Involvement.person_id == amelia.id)).hidden_at is None


def test_security_headers(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer", "same-origin")
    assert response.headers["Cache-Control"] == "no-store"


def test_htmx_is_configured_for_the_csp(client_request):
    page = client_request.get("/sign-in")
    meta = page.find("meta", attrs={"name": "htmx-config"})
    assert '"includeIndicatorStyles":false' in meta["content"]
    scripts = [s.get("src") for s in page.find_all("script")]
    assert all(scripts), "no inline scripts"
    # The address may carry a version for caching (?v=...): the file is what counts.
    assert "/static/vendor/htmx-2.0.11.min.js" in [src.split("?")[0] for src in scripts]


def test_session_cookie_is_httponly_and_lax(client_request, professional):
    response = client_request.sign_in(professional)
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("send_portal_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(monkeypatch):
    from send_portal import create_app

    monkeypatch.setenv("SEND_PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    import pytest

    from send_portal import create_app

    monkeypatch.setenv("SEND_PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_sign_in_is_rate_limited(app, client_request, professional):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    token = client_request.csrf_token("/sign-in")
    statuses = [
        client_request.client.post("/sign-in", data={"email": professional.email, "password": "wrong", "csrf_token": token}).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [400, 400, 400]
    assert statuses[3:] == [429, 429]
    response = client_request.client.post("/sign-in", data={"email": professional.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429, "the right password is refused while limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    page = client_request.parse(response)
    assert "Too many attempts" in text(page.find("h1"))
    assert "Wait 1 minute, then try again." in text(page.find("main"))


def test_pages_for_errors_are_pages(client_request):
    page = client_request.get("/no-such-page", expected_status=404)
    assert text(page.find("h1")) == "Page not found"


def test_accessibility_statement_is_linked_from_every_page(client_request):
    page = client_request.get("/sign-in")
    link = page.find("a", string="Accessibility statement")
    statement = client_request.get(link["href"])
    assert "Accessibility statement" in text(statement.find("h1"))


def _all_audit_text() -> str:
    """Every value of every audit entry, as one string."""
    rows = db.session.execute(select(AuditEntry.__table__)).all()
    return " ".join(str(value) for row in rows for value in row)


def test_a_password_typed_into_the_email_box_is_not_recorded(client_request, professional):
    token = client_request.csrf_token("/sign-in")
    secret = "Tr0ub4dor&3 horse staple"
    response = client_request.client.post("/sign-in", data={"email": secret, "password": "whatever", "csrf_token": token})
    assert response.status_code == 400
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "Sign-in failed")).all()
    assert entry.details == "Unknown account"
    assert entry.professional_id is None and entry.professional_portal_name is None
    assert secret.lower() not in _all_audit_text().lower()
    assert "whatever" not in _all_audit_text()


def test_a_failed_sign_in_to_a_known_account_records_the_account_and_no_secret(client_request, professional):
    token = client_request.csrf_token("/sign-in")
    client_request.client.post(
        "/sign-in", data={"email": f"  {professional.email.upper()} ", "password": "my wrong guess", "csrf_token": token}
    )
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "Sign-in failed")).all()
    assert entry.details == f"Account: {professional.email}"
    assert (entry.professional_id, entry.professional_portal_name) == (professional.id, professional.email)
    assert "my wrong guess" not in _all_audit_text()


def test_the_audit_log_shows_failed_sign_ins_without_what_was_typed(client_request, professional, admin):
    token = client_request.csrf_token("/sign-in")
    client_request.client.post("/sign-in", data={"email": "hunter2 is my password", "password": "x", "csrf_token": token})
    client_request.sign_in(admin)
    page = client_request.get("/admin/audit?action=Sign-in+failed")
    main = text(page.find("main"))
    assert "Unknown account" in main
    assert "hunter2" not in main
