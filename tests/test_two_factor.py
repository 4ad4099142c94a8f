"""Two-factor sign-in (issue 13, parts 1 and 5): setting it up from Your
account, signing in with a security code computed from the key on the page,
wrong and replayed codes, the rate limit, recovery codes, the required
modes, an administrator's reset, and audit entries that hold no secret."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from send_portal.auth import two_factor
from send_portal.auth.models import RecoveryCode, UserSession
from send_portal.extensions import db
from send_portal.models import AuditEntry, User

from .conftest import PASSWORD, text


def key_on(page) -> str:
    return text(page.select_one("#setup-key")).replace(" ", "")


def code_for(key: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(key)
    return totp.at(int(time.time()) + steps_ahead * 30)


def set_up(client_request, user) -> tuple[str, list[str]]:
    """Signs user in, sets up two-factor sign-in and signs out again.
    Returns the key read off the page and the recovery codes shown."""
    client_request.sign_in(user)
    page = client_request.get("/account/two-factor")
    key = key_on(page)
    response = client_request.post("/account/two-factor", {"code": code_for(key)}, expected_status=200)
    codes = [text(li) for li in client_request.parse(response).select(".app-recovery-codes li")]
    client_request.post("/sign-out", expected_status=303)
    return key, codes


def password_step(client_request, user, password=PASSWORD, next_url=None):
    client_request.client.get("/sign-in")
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    return client_request.client.post(
        url, data={"email": user.email, "password": password, "csrf_token": client_request.csrf_token("/sign-in")}
    )


def send_code(client_request, code, url="/sign-in/security-code"):
    return client_request.client.post(url, data={"code": code, "csrf_token": client_request.csrf_token()})


def actions(user) -> list[str]:
    return [entry.action for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.changed_by_id == user.id).order_by(AuditEntry.id)
    )]


def is_signed_in(client_request) -> bool:
    return client_request.client.get("/home").status_code == 200


# --- setting it up -------------------------------------------------------------------


def test_account_page_offers_two_factor_set_up(client_request, professional):
    client_request.sign_in(professional)
    page = client_request.get("/account")
    assert "You sign in with your password only" in text(page.select_one("#two-factor-status"))
    assert page.find("a", string="Set up two-factor sign-in")["href"] == "/account/two-factor"


def test_set_up_shows_a_qr_code_and_the_key_and_gives_ten_recovery_codes(client_request, professional):
    client_request.sign_in(professional)
    page = client_request.get("/account/two-factor")
    assert text(page.h1) == "Set up two-factor sign-in"
    svg = page.select_one(".app-qr-code svg")
    assert svg["role"] == "img" and svg["aria-label"] == "QR code for your authenticator app"
    grouped = text(page.select_one("#setup-key"))
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", grouped)
    code_field = page.select_one("#code")
    assert page.find("label", attrs={"for": "code"}).get_text(strip=True) == "Security code"
    assert code_field["autocomplete"] == "one-time-code" and code_field["inputmode"] == "numeric"
    # Reloading keeps the same key, so a code scanned before still works.
    assert key_on(client_request.get("/account/two-factor")) == key_on(page)

    response = client_request.post("/account/two-factor", {"code": code_for(key_on(page))}, expected_status=200)
    shown = client_request.parse(response)
    codes = [text(li) for li in shown.select(".app-recovery-codes li")]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    assert shown.find("a", string="I have saved my recovery codes")["href"] == "/account"
    user = db.session.get(User, professional.id)
    assert user.two_factor_enabled_at is not None
    assert key_on(page) not in (user.two_factor_secret or ""), "the key is encrypted at rest"
    assert two_factor.decrypt_key(user.two_factor_secret) == key_on(page)
    assert "Two-factor set up" in actions(professional)
    account = client_request.get("/account")
    assert "Two-factor sign-in is on" in text(account.select_one("#two-factor-status"))
    assert "10 unused recovery codes" in text(account.select_one("#recovery-codes-left"))
    # Set up already: the set-up page no longer shows a key.
    assert client_request.client.get("/account/two-factor").status_code == 303


def test_a_wrong_code_at_set_up_turns_nothing_on(client_request, professional):
    client_request.sign_in(professional)
    page = client_request.get("/account/two-factor")
    wrong = f"{(int(code_for(key_on(page))) + 1) % 1000000:06d}"
    for bad, message in [(wrong, "The security code is not correct"), ("", "Enter the security code"),
                         ("12ab56", "Security code must be 6 numbers")]:
        response = client_request.post("/account/two-factor", {"code": bad}, expected_status=400)
        again = client_request.parse(response)
        assert message in text(again.select_one(".govuk-error-summary"))
        assert again.select_one(".govuk-error-summary a")["href"] == "#code"
    assert db.session.get(User, professional.id).two_factor_enabled_at is None


# --- signing in ------------------------------------------------------------------------


def test_sign_in_needs_the_security_code_after_the_password(client_request, professional):
    key, _codes = set_up(client_request, professional)
    response = password_step(client_request, professional, next_url="/account")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in/security-code"
    assert not is_signed_in(client_request), "a correct password alone signs nobody in"
    page = client_request.get("/sign-in/security-code")
    assert text(page.h1) == "Enter your security code"
    assert page.find("a", string="Use a recovery code instead")["href"] == "/sign-in/recovery-code"

    # Computed from the key read off the page. Set-up used this time step's
    # code, so the app's next one (accepted a step early) signs in.
    response = send_code(client_request, code_for(key, steps_ahead=1))
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert is_signed_in(client_request)
    signed_in = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "Signed in", AuditEntry.changed_by_id == professional.id)
    ).all()
    assert "two-factor" in signed_in[-1].details


def test_a_wrong_code_is_refused_audited_and_counted(client_request, professional):
    key, _codes = set_up(client_request, professional)
    password_step(client_request, professional)
    wrong = f"{(int(code_for(key)) + 1) % 1000000:06d}"
    response = send_code(client_request, wrong)
    assert response.status_code == 400
    page = client_request.parse(response)
    assert "The security code is not correct" in text(page.select_one(".govuk-error-summary"))
    assert page.title.string.startswith("Error:")
    assert not is_signed_in(client_request)
    assert "Second factor failed" in actions(professional)


def test_a_code_cannot_be_used_twice(client_request, professional, client):
    key, _codes = set_up(client_request, professional)
    code = code_for(key)
    password_step(client_request, professional)
    # set_up used this step's code: it is refused even at sign-in.
    response = send_code(client_request, code)
    assert response.status_code == 400
    assert "already been used" in text(client_request.parse(response).select_one(".govuk-error-summary"))
    next_code = code_for(key, steps_ahead=1)
    assert send_code(client_request, next_code).status_code == 303
    client_request.post("/sign-out", expected_status=303)
    password_step(client_request, professional)
    assert send_code(client_request, next_code).status_code == 400
    assert not is_signed_in(client_request)


def test_wrong_codes_are_rate_limited_even_before_a_right_one(app, client_request, professional):
    key, _codes = set_up(client_request, professional)
    app.config["SECOND_FACTOR_RATE_LIMIT"] = "3 per minute"
    password_step(client_request, professional)
    wrong = f"{(int(code_for(key, 1)) + 1) % 1000000:06d}"
    for _ in range(3):
        assert send_code(client_request, wrong).status_code == 400
    response = send_code(client_request, code_for(key, steps_ahead=1))
    assert response.status_code == 429
    assert "Too many attempts" in text(client_request.parse(response).h1)
    assert not is_signed_in(client_request)


def test_the_password_step_expires_after_five_minutes(client_request, professional, monkeypatch):
    key, _codes = set_up(client_request, professional)
    password_step(client_request, professional)
    later = time.time() + two_factor.PENDING_SECONDS + 5
    monkeypatch.setattr(two_factor.time, "time", lambda: later)
    response = send_code(client_request, pyotp.TOTP(key).at(int(later)))
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    monkeypatch.undo()
    assert not is_signed_in(client_request)


def test_security_code_page_without_a_password_goes_to_sign_in(client_request):
    client = client_request.client
    # The POST carries a valid CSRF token, or the CSRF check would refuse it first.
    token = client_request.csrf_token("/sign-in")
    for response in (client.get("/sign-in/security-code"),
                     client.post("/sign-in/security-code", data={"code": "123456", "csrf_token": token})):
        assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    response = client.get("/sign-in/recovery-code")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"


# --- recovery codes ---------------------------------------------------------------------


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(client_request, professional):
    _key, codes = set_up(client_request, professional)
    password_step(client_request, professional)
    page = client_request.get("/sign-in/recovery-code")
    assert text(page.h1) == "Enter a recovery code"
    assert page.find("label", attrs={"for": "code"}).get_text(strip=True) == "Recovery code"
    response = send_code(client_request, codes[0].upper(), url="/sign-in/recovery-code")
    assert response.status_code == 303
    account = client_request.parse(client_request.client.get(response.headers["Location"]))
    assert "You have 9 recovery codes left" in text(account.select_one(".govuk-notification-banner"))
    assert "Recovery code used" in actions(professional)
    client_request.post("/sign-out", expected_status=303)

    password_step(client_request, professional)
    response = send_code(client_request, codes[0], url="/sign-in/recovery-code")
    assert response.status_code == 400
    assert "has been used" in text(client_request.parse(response).select_one(".govuk-error-summary"))
    assert not is_signed_in(client_request)
    assert len(db.session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()) == 1


def test_new_recovery_codes_need_a_current_code_and_replace_the_old(client_request, professional):
    key, codes = set_up(client_request, professional)
    password_step(client_request, professional)
    send_code(client_request, code_for(key, 1))
    response = client_request.post("/account/two-factor/recovery-codes", {"code": "000000"}, expected_status=400)
    assert "not correct" in text(client_request.parse(response).select_one(".govuk-error-summary"))
    response = client_request.post("/account/two-factor/recovery-codes", {"code": code_for(key, -1)}, expected_status=400)
    response = client_request.post("/account/two-factor/recovery-codes", {"code": code_for(key, 1)}, expected_status=400)
    assert "already been used" in text(client_request.parse(response).select_one(".govuk-error-summary"))
    # The next step's code is not out yet; wait for it rather than sleep 30s: use the
    # replay state directly is not what a user does, so turn the clock.
    later = time.time() + 60
    import send_portal.auth.two_factor as module

    real = module.time.time
    module.time.time = lambda: later
    try:
        response = client_request.post(
            "/account/two-factor/recovery-codes", {"code": pyotp.TOTP(key).at(int(later))}, expected_status=200
        )
    finally:
        module.time.time = real
    new_codes = [text(li) for li in client_request.parse(response).select(".app-recovery-codes li")]
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert "New recovery codes made" in actions(professional)
    client_request.post("/sign-out", expected_status=303)
    password_step(client_request, professional)
    assert send_code(client_request, codes[1], url="/sign-in/recovery-code").status_code == 400
    assert send_code(client_request, new_codes[1], url="/sign-in/recovery-code").status_code == 303


# --- turning it off ---------------------------------------------------------------------


def test_turning_it_off_needs_the_password(client_request, professional):
    key, _codes = set_up(client_request, professional)
    password_step(client_request, professional)
    send_code(client_request, code_for(key, 1))
    page = client_request.get("/account/two-factor/turn-off")
    assert text(page.h1) == "Are you sure you want to turn off two-factor sign-in?"
    response = client_request.post("/account/two-factor/turn-off", {"password": "not my password"}, expected_status=400)
    assert "Your password is not correct" in text(client_request.parse(response).select_one(".govuk-error-summary"))
    assert db.session.get(User, professional.id).two_factor_enabled_at is not None
    client_request.post("/account/two-factor/turn-off", {"password": PASSWORD}, expected_status=303)
    assert db.session.get(User, professional.id).two_factor_secret is None
    assert db.session.scalars(select(RecoveryCode)).all() == []
    assert "Two-factor turned off" in actions(professional)
    client_request.post("/sign-out", expected_status=303)
    assert password_step(client_request, professional).status_code == 302, "the password alone signs in again"


def test_it_cannot_be_turned_off_where_it_is_required(app, client_request, professional):
    key, _codes = set_up(client_request, professional)
    app.config["TWO_FACTOR_REQUIRED"] = "everyone"
    password_step(client_request, professional)
    send_code(client_request, code_for(key, 1))
    assert client_request.get("/account").find("a", string="Turn off two-factor sign-in") is None
    response = client_request.post("/account/two-factor/turn-off", {"password": PASSWORD})
    assert response.status_code == 303
    assert db.session.get(User, professional.id).two_factor_enabled_at is not None


# --- who must use it ---------------------------------------------------------------------


def test_admins_must_set_it_up_by_default_and_see_nothing_else_until_they_do(app, client_request, admin, professional):
    app.config["TWO_FACTOR_REQUIRED"] = "admins"
    response = password_step(client_request, admin)
    assert response.status_code == 303 and response.headers["Location"] == "/account/two-factor"
    for url in ("/home", "/admin/audit", "/account", f"/admin/professionals/{professional.id}", "/notifications"):
        response = client_request.client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/account/two-factor", url
    htmx = client_request.client.get("/admin/audit", headers={"HX-Request": "true"})
    assert htmx.status_code == 403 and htmx.headers["HX-Redirect"] == "/account/two-factor"
    # Nothing changes through a POST either.
    response = client_request.post(f"/admin/professionals/{professional.id}/end-sessions")
    assert response.status_code == 303 and response.headers["Location"] == "/account/two-factor"
    assert "All sessions ended by LA" not in actions(admin)
    page = client_request.get("/account/two-factor")
    assert f"{app.config['LA_NAME']} requires this for your account" in text(page)
    response = client_request.post("/account/two-factor", {"code": code_for(key_on(page))}, expected_status=200)
    assert client_request.parse(response).find("a", string="I have saved my recovery codes")["href"] == "/home"
    assert client_request.client.get("/admin/audit").status_code == 200
    # Sign out stays open while set-up is due; a professional is not asked.
    client_request.post("/sign-out", expected_status=303)
    assert password_step(client_request, professional).status_code == 302
    assert client_request.client.get("/home").status_code == 200


def test_everyone_mode_sends_professionals_to_set_up(app, client_request, professional):
    app.config["TWO_FACTOR_REQUIRED"] = "everyone"
    assert password_step(client_request, professional).headers["Location"] == "/account/two-factor"
    assert client_request.client.get("/send/select-person").headers.get("Location") == "/account/two-factor"
    response = client_request.client.get("/sign-out")
    assert response.status_code == 200


def test_nobody_mode_does_not_ask_admins(app, client_request, admin):
    app.config["TWO_FACTOR_REQUIRED"] = "nobody"
    assert password_step(client_request, admin).status_code == 302
    assert client_request.client.get("/admin/audit").status_code == 200


def test_an_unknown_mode_stops_the_app_starting(database_url):
    from send_portal import create_app

    with pytest.raises(RuntimeError, match="TWO_FACTOR_REQUIRED"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "TWO_FACTOR_REQUIRED": "sometimes"})


# --- an administrator's reset -------------------------------------------------------------


def test_an_admin_resets_a_professionals_two_factor_and_ends_their_sessions(app, client_request, admin, professional):
    key, _codes = set_up(client_request, professional)
    from flask.testing import FlaskClient  # noqa: F401  (a second browser for the professional)

    theirs = app.test_client()
    from .conftest import ClientRequest

    professional_browser = ClientRequest(theirs)
    password_step(professional_browser, professional)
    assert send_code(professional_browser, code_for(key, 1)).status_code == 303
    assert is_signed_in(professional_browser)

    client_request.sign_in(admin)
    page = client_request.get(f"/admin/professionals/{professional.id}")
    link = page.find("a", string="Reset two-factor sign-in")
    confirm = client_request.get(link["href"])
    assert text(confirm.h1).startswith("Are you sure you want to reset")
    assert confirm.find("button", string=re.compile("^Yes,"))
    response = client_request.post(link["href"], expected_status=303)
    assert response.headers["Location"] == f"/admin/professionals/{professional.id}"
    user = db.session.get(User, professional.id)
    assert user.two_factor_secret is None and user.two_factor_enabled_at is None
    assert not is_signed_in(professional_browser), "their sessions ended"
    assert db.session.scalars(select(UserSession).where(UserSession.user_id == professional.id, UserSession.ended_at.is_(None))).all() == []
    assert "Two-factor reset by LA" in actions(admin)
    # No second factor now: the password alone signs them in again.
    assert password_step(professional_browser, professional).status_code == 302


def test_reset_needs_a_post_with_csrf_and_an_admin(app, client_request, admin, professional, other_professional):
    set_up(client_request, professional)
    url = f"/admin/professionals/{professional.id}/reset-two-factor"
    client_request.sign_in(other_professional)
    assert client_request.client.get(url).status_code in (403, 404)
    assert client_request.post(url).status_code in (403, 404)
    client_request.post("/sign-out", expected_status=303)
    client_request.sign_in(admin)
    assert client_request.post(url, csrf=False).status_code == 400
    assert db.session.get(User, professional.id).two_factor_enabled_at is not None
    # A professional without two-factor: nothing to reset, said plainly.
    response = client_request.post(f"/admin/professionals/{other_professional.id}/reset-two-factor")
    assert response.status_code == 303
    assert "Two-factor reset by LA" not in actions(admin)


def test_reset_two_factor_command_for_an_admin(app, client_request, runner, admin):
    key, _codes = set_up(client_request, admin)
    result = runner.invoke(args=["reset-two-factor", "--email", admin.email.upper()])
    assert result.exit_code == 0, result.output
    assert "reset" in result.output
    assert db.session.get(User, admin.id).two_factor_secret is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "Two-factor reset by LA")) is not None
    result = runner.invoke(args=["reset-two-factor", "--email", "nobody@la.example"])
    assert result.exit_code != 0 and "No account" in result.output


# --- the audit log holds no secret ---------------------------------------------------------


def test_audit_entries_hold_no_key_and_no_code(client_request, professional):
    key, codes = set_up(client_request, professional)
    password_step(client_request, professional)
    wrong = f"{(int(code_for(key, 1)) + 1) % 1000000:06d}"
    send_code(client_request, wrong)
    right = code_for(key, 1)
    send_code(client_request, right)
    client_request.post("/sign-out", expected_status=303)
    password_step(client_request, professional)
    send_code(client_request, codes[3], url="/sign-in/recovery-code")
    rows = db.session.scalars(select(AuditEntry)).all()
    written = " ".join(" ".join(str(getattr(row, column.key)) for column in AuditEntry.__table__.columns) for row in rows)
    assert {"Two-factor set up", "Second factor failed", "Signed in", "Recovery code used"} <= {row.action for row in rows}
    for secret in [key, key.lower(), wrong, right, *codes, *(code.replace("-", "") for code in codes)]:
        assert secret not in written


# --- the demo authority ---------------------------------------------------------------------


def test_the_demo_admin_signs_in_with_the_printed_key(app, runner, client_request):
    app.config["TWO_FACTOR_REQUIRED"] = "admins"
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    password = re.search(r"password is: (\S+)", result.output).group(1)
    key = re.search(r"key is ([A-Z2-7]{32})", result.output).group(1)
    admin = db.session.scalar(select(User).where(User.email == "admin@demo-la.example"))
    response = password_step(client_request, admin, password=password)
    assert response.headers["Location"] == "/sign-in/security-code"
    assert send_code(client_request, pyotp.TOTP(key).now()).status_code == 303
    assert client_request.client.get("/admin/audit").status_code == 200
    # Running it again keeps the same key working.
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert two_factor.decrypt_key(db.session.get(User, admin.id).two_factor_secret) == key


# --- the daily cap and telling the account holder ----------------------------------


def _wrong(key: str) -> str:
    return f"{(int(code_for(key, 1)) + 1) % 1000000:06d}"


def _fail_at(monkeypatch, when):
    from send_portal.auth import limits

    monkeypatch.setattr(limits, "utcnow", lambda: when)


def test_the_default_second_factor_limit_has_a_daily_window(app):
    from send_portal.config import Config

    assert Config.SECOND_FACTOR_RATE_LIMIT == "5 per minute;20 per hour;40 per day"


def test_wrong_codes_are_capped_per_day_however_slowly_they_come(app, client_request, professional, monkeypatch):
    from datetime import timedelta

    from send_portal.models import utcnow

    key, _codes = set_up(client_request, professional)
    app.config["SECOND_FACTOR_RATE_LIMIT"] = "5 per minute;20 per hour;40 per day"
    wrong = _wrong(key)
    start = utcnow() - timedelta(hours=5)
    password_step(client_request, professional)
    # 10 an hour, under the minute and hour limits, for four hours: 40.
    for n in range(40):
        _fail_at(monkeypatch, start + timedelta(minutes=6 * n))
        assert send_code(client_request, wrong).status_code == 400, n
        if n % 9 == 8:  # the password step lasts five minutes: sign in again as a guesser would
            password_step(client_request, professional)
    _fail_at(monkeypatch, start + timedelta(hours=4, minutes=30))
    password_step(client_request, professional)
    response = send_code(client_request, code_for(key, steps_ahead=1))
    assert response.status_code == 429
    assert "Too many attempts" in text(client_request.parse(response).h1)
    assert not is_signed_in(client_request)


def test_the_account_holder_is_told_once_when_wrong_codes_reach_the_hourly_limit(app, client_request, professional):
    from send_portal.mail.models import OutboxEmail
    from send_portal.notifications.models import Notification

    key, _codes = set_up(client_request, professional)
    app.config["SECOND_FACTOR_RATE_LIMIT"] = "10 per minute;3 per hour;40 per day"
    app.config["LA_NAME"] = "Example Council"
    password_step(client_request, professional)
    wrong = _wrong(key)
    for _ in range(2):
        assert send_code(client_request, wrong).status_code == 400
    assert db.session.scalars(select(Notification).where(Notification.recipient_id == professional.id)).all() == []
    assert send_code(client_request, wrong).status_code == 400  # the third: the hourly limit
    assert send_code(client_request, wrong).status_code == 429  # refused, not counted, not told again
    (notification,) = db.session.scalars(select(Notification).where(Notification.recipient_id == professional.id))
    assert notification.kind == "second_factor_failures"
    assert notification.text == ("Someone has entered many wrong security codes when signing in to your account. "
                                 "If this was not you, change your password and tell Example Council")
    assert notification.link == "/account"
    (email,) = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == professional.email))
    assert email.subject == "Wrong security codes were entered for your account"
    assert wrong not in email.body and "Example Council" in email.body
    # The holder reads it once signed in.
    client_request.client.application.config["SECOND_FACTOR_RATE_LIMIT"] = "1000 per minute"
    password_step(client_request, professional)
    assert send_code(client_request, code_for(key, steps_ahead=1)).status_code == 303
    page = client_request.get("/notifications")
    assert "many wrong security codes" in text(page.find("main"))
