"""Every page a user can reach, and each error state of its forms, is valid
HTML to a current Nu Html Checker (vnu), allowing only htmx's hx-* attributes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from send_portal.demo import DEMO_PASSWORD

from .conftest import ClientRequest
from .crawl import crawl, post_forms_empty
from .organisation_support import demo_team_posts, demo_team_starts
from .test_notifications import add_notifications_and_due_forms

ROOT = Path(__file__).resolve().parent.parent
VNU = Path(os.environ.get("VNU_JAR", ROOT / ".cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar"))
HX_ONLY = r".*Attribute “hx-[a-z-]+” not allowed on element.*"


def vnu_errors(files: list[Path]) -> list[dict]:
    if not VNU.exists() or not shutil.which("java"):
        if os.environ.get("SKIP_VNU") == "1":
            pytest.skip("vnu not installed and SKIP_VNU=1")
        pytest.fail(f"The Nu Html Checker is needed at {VNU} (scripts/test.sh installs it) with Java")
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", "--filterpattern", HX_ONLY, *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )
    return json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("email", [None, "senco@demo-la.example", "new.starter@demo-la.example", "admin@demo-la.example"])
def test_every_reachable_page_is_valid_html(demo, client, email, tmp_path):
    request = ClientRequest(client)
    starts = ["/sign-in", "/accessibility", "/register", "/no-such-page",
              "/forgot-password/sent", "/reset-password/done", "/reset-password/expired-link"]
    if email:
        request.client.get("/sign-in")
        token = request.csrf_token("/sign-in")
        assert client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token}).status_code == 302
        starts = ["/home", "/send/select-person", "/send/select-person/hidden", "/send/select-person/recent",
                  "/send/select-person?q=zzzz", "/send/add-person", "/admin/", "/admin/clock?status=overdue",
                  "/admin/clock/sen2?census-day=31&census-month=2&census-year=2026", "/notifications"] + starts
        add_notifications_and_due_forms(email)  # the Due list and notifications, not empty
        starts = demo_team_starts(email) + starts  # team caseload, cover, organisations, hand-over (issue 14)
    pages = crawl(client, starts)
    assert len(pages) >= 3
    if email:
        pages += demo_team_posts(client, email, request.csrf_token())  # the hand-over's confirmation
        pages += post_forms_empty(client, pages, request.csrf_token())
        # htmx partials, wrapped in a document so vnu can read them.
        for url in ("/send/select-person?q=a", "/send/select-person/hidden", "/admin/clock?stage=request",
                    "/send/team-caseload?q=a", "/send/team-caseload/recent"):
            response = client.get(url, headers={"HX-Request": "true"})
            if response.status_code == 200:
                pages.append((f"partial {url}", response))
    files = {}
    for n, (url, response) in enumerate(pages):
        if response.mimetype != "text/html" or response.status_code >= 500:
            assert response.status_code < 500, (url, response.status_code)
            continue
        body = response.get_data(as_text=True)
        if url.startswith("partial "):
            body = f'<!DOCTYPE html><html lang="en-GB"><head><title>partial</title></head><body>{body}</body></html>'
        path = tmp_path / f"page{n:03d}.html"
        path.write_text(body, encoding="utf-8")
        files[str(path)] = url
    errors = vnu_errors([Path(p) for p in files])
    problems = [f"{files.get(str(e.get('url', '')).removeprefix('file:'), e.get('url'))}: line {e.get('lastLine')}: {e.get('message')}" for e in errors]
    assert not problems, "\n".join(problems[:40])


def test_two_factor_pages_are_valid_html(app, client, make_user, tmp_path):
    """Set-up (its inline SVG QR code), the recovery codes, the security and
    recovery code pages, with their error states, and the admin's reset."""
    import time

    import pyotp

    from .conftest import PASSWORD
    from .test_two_factor import key_on

    app.config["TWO_FACTOR_REQUIRED"] = "admins"
    person = make_user("Sam", "Patel", email="sam.patel@school.example")
    admin = make_user("Alex", "Morgan", role="admin", email="alex.morgan@la.example")
    request = ClientRequest(client)
    pages = []

    def keep(url, response):
        pages.append((url, response))
        return response

    request.sign_in(person)
    setup = keep("/account/two-factor", client.get("/account/two-factor"))
    key = key_on(request.parse(setup))
    keep("set-up error", request.post("/account/two-factor", {"code": "12"}))
    keep("recovery codes", request.post("/account/two-factor", {"code": pyotp.TOTP(key).now()}))
    for url in ("/account", "/account/two-factor/recovery-codes", "/account/two-factor/turn-off"):
        keep(url, client.get(url))
    keep("new codes error", request.post("/account/two-factor/recovery-codes", {"code": "000000"}))
    keep("turn off error", request.post("/account/two-factor/turn-off", {"password": "wrong"}))
    request.post("/sign-out")
    client.post("/sign-in", data={"email": person.email, "password": PASSWORD, "csrf_token": request.csrf_token("/sign-in")})
    keep("/sign-in/security-code", client.get("/sign-in/security-code"))
    keep("security code error", request.post("/sign-in/security-code", {"code": "abc"}))
    keep("/sign-in/recovery-code", client.get("/sign-in/recovery-code"))
    keep("recovery code error", request.post("/sign-in/recovery-code", {"code": "nope"}))
    request.post("/sign-in/security-code", {"code": pyotp.TOTP(key).at(int(time.time()) + 30)})
    request.post("/sign-out")
    # Admins must set it up: the set-up page with its notice.
    client.post("/sign-in", data={"email": admin.email, "password": PASSWORD, "csrf_token": request.csrf_token("/sign-in")})
    keep("required set-up", client.get(client.get("/home").headers["Location"]))
    app.config["TWO_FACTOR_REQUIRED"] = "nobody"
    keep("admin's page for the professional", client.get(f"/admin/professionals/{person.id}"))
    keep("confirm reset", client.get(f"/admin/professionals/{person.id}/reset-two-factor"))

    files = {}
    for n, (url, response) in enumerate(pages):
        assert response.mimetype == "text/html" and response.status_code < 500, (url, response.status_code)
        path = tmp_path / f"two-factor{n:02d}.html"
        path.write_text(response.get_data(as_text=True), encoding="utf-8")
        files[str(path)] = url
    errors = vnu_errors([Path(p) for p in files])
    problems = [f"{files.get(str(e.get('url', '')).removeprefix('file:'), e.get('url'))}: line {e.get('lastLine')}: {e.get('message')}" for e in errors]
    assert not problems, "\n".join(problems[:40])
