"""Select Person in the text browsers some professionals use (Lynx and w3m),
against the live test server: they ignore `formaction`, `hidden`, CSS and
scripts, so each button must do what it says through the form alone, and
Select all (which needs a script) must not be shown at all.

Lynx is driven by a keystroke script (-cmd_script), the way a person would
use it: sign in through the form, go to a numbered field, tick it, press a
button, confirm. Its cookie jar carries the session from one run to the
next. w3m is used for what it shows (-dump)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from send_portal.extensions import db
from send_portal.models import Involvement

from ..conftest import PASSWORD
from .conftest import release_database

LYNX = shutil.which("lynx")
W3M = shutil.which("w3m")
LYNX_SYSTEM_CFG = Path("/etc/lynx/lynx.cfg")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(LYNX is None or W3M is None,
                       reason="Lynx and w3m are not installed (apt-get install lynx w3m; scripts/test.sh installs them)"),
]


def typed(text: str) -> list[str]:
    """Keystrokes that type `text` into the current text field."""
    return [f"key {'0x20' if c == ' ' else c}" for c in text]


def go_to(number: int) -> list[str]:
    """Make numbered link or field `number` current (without activating it)."""
    return [f"key {digit}" for digit in str(number)] + ["key ^J"]


ENTER = ["key ^J"]
QUIT = ["key q", "key y"]


class Lynx:
    """Lynx with its own configuration, home and cookie jar. Links and form
    fields are numbered, so a script can go to "field 17" as a person would."""

    def __init__(self, directory: Path, base_url: str):
        self.directory, self.base_url = directory, base_url
        directory.mkdir(parents=True, exist_ok=True)
        self.jar = directory / "cookies.txt"
        self.jar.write_text("")
        self.cfg = directory / "lynx.cfg"
        self.cfg.write_text(
            (f"INCLUDE:{LYNX_SYSTEM_CFG}\n" if LYNX_SYSTEM_CFG.exists() else "")
            + "PERSISTENT_COOKIES:TRUE\nACCEPT_ALL_COOKIES:TRUE\n"
            + "DEFAULT_KEYPAD_MODE:LINKS_AND_FORM_FIELDS_ARE_NUMBERED\n"
        )
        self.env = dict(os.environ, HOME=str(directory), TERM="vt100", LANG="C.UTF-8", LC_ALL="C.UTF-8")

    def _args(self) -> list[str]:
        return [LYNX, f"-cfg={self.cfg}", f"-cookie_file={self.jar}", f"-cookie_save_file={self.jar}",
                "-accept_all_cookies", "-display_charset=utf-8", "-width=200"]

    def dump(self, path: str, numbered: bool = False) -> str:
        release_database()
        args = self._args() + ["-dump"] + (["-number_fields"] if numbered else []) + [self.base_url + path]
        result = subprocess.run(args, env=self.env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        return result.stdout.decode("utf-8", "replace")

    def run(self, path: str, keys: list[str]) -> str:
        """Open `path` and press `keys`; returns what was drawn on the screen."""
        release_database()
        script = self.directory / "keys.txt"
        script.write_text("\n".join(keys + QUIT) + "\n")
        result = subprocess.run(self._args() + ["-nopause", f"-cmd_script={script}", self.base_url + path],
                                env=self.env, capture_output=True, timeout=90, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        screen = result.stdout.decode("utf-8", "replace")
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x0e\x0f]", "", screen)

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        """Through the sign-in form, typed, as a Lynx user signs in."""
        form = self.dump("/sign-in", numbered=True)
        email_field = field_number(form, r"Email address \[(\d+)\]")
        password_field = field_number(form, r"Password \[(\d+)\]")
        button = field_number(form, r"\(\[(\d+)\]BUTTON\) Sign in")
        assert password_field == email_field + 1 and button == password_field + 1, form
        self.run("/sign-in", go_to(email_field) + typed(email) + ["key Down Arrow"] + typed(password)
                 + ["key Down Arrow"] + ENTER)
        assert "Sign out" in self.dump("/home"), "Lynx did not stay signed in"

    def session_cookie_header(self) -> str:
        """The jar's cookies as a Cookie header (for w3m)."""
        pairs = []
        for line in self.jar.read_text().splitlines():
            fields = line.split("\t")
            if len(fields) == 7 and not line.startswith("#"):
                pairs.append(f"{fields[5]}={fields[6]}")
        assert pairs, "Lynx saved no session cookie"
        return "; ".join(pairs)


def field_number(page: str, pattern: str) -> int:
    match = re.search(pattern, page)
    assert match, f"{pattern!r} is not on the page:\n{page}"
    return int(match.group(1))


def w3m_dump(base_url: str, path: str, cookie: str, directory: Path) -> str:
    release_database()
    env = dict(os.environ, HOME=str(directory), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    result = subprocess.run(
        [W3M, "-dump", "-cols", "200", "-O", "UTF-8", "-o", "accept_cookie=0", "-header", f"Cookie: {cookie}", base_url + path],
        env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8", "replace")


def involvement(professional_id: int, person_id: int) -> Involvement:
    db.session.expire_all()
    found = db.session.scalar(select(Involvement).where(Involvement.professional_id == professional_id,
                                                        Involvement.person_id == person_id))
    release_database()
    return found


@pytest.fixture
def lynx(live_server, tmp_path):
    return Lynx(tmp_path / "lynx", live_server.url)


# --- Delete Person and Unhide Person do what they say (issue 12, defect 11) --------------


def test_delete_person_in_lynx_deletes_after_the_confirmation_page(lynx, caseload, professional):
    professional_id, amelia = professional.id, caseload.people["Amelia Jones"]
    lynx.sign_in(professional.email)

    page = lynx.dump("/send/select-person", numbered=True)
    tick = field_number(page, r"\[(\d+)\]\[ \] Select Amelia Jones(?![,\w])")
    delete = field_number(page, r"\(\[(\d+)\]delete\) Delete Person")
    screen = lynx.run("/send/select-person", go_to(tick) + ENTER + go_to(delete) + ENTER
                      # The confirmation page: find its "Yes, ..." button and press it.
                      + ["key /"] + typed("Yes,") + ENTER + ENTER)
    assert "Are you sure you want to delete 1 person?" in screen, screen[-3000:]
    assert "1 person deleted" in screen, "the list after the redirect says what happened"

    after = involvement(professional_id, amelia)
    assert after.deleted_at is not None, "Delete Person did not delete"
    assert after.hidden_at is None, "Delete Person hid the person instead"
    assert after.status == "unauthenticated"
    for path in ("/send/select-person", "/send/select-person/hidden", "/send/select-person/recent"):
        assert "Amelia Jones" not in lynx.dump(path), path
    assert "Oliver Brown" in lynx.dump("/send/select-person")


def test_unhide_person_in_lynx_unhides_without_a_confirmation(lynx, caseload, professional):
    professional_id, hannah = professional.id, caseload.people["Hannah Green"]
    lynx.sign_in(professional.email)

    page = lynx.dump("/send/select-person/hidden", numbered=True)
    tick = field_number(page, r"\[(\d+)\]\[ \] Select Hannah Green(?![,\w])")
    unhide = field_number(page, r"\(\[(\d+)\]unhide\) Unhide Person")
    screen = lynx.run("/send/select-person/hidden", go_to(tick) + ENTER + go_to(unhide) + ENTER)
    assert "1 person unhidden" in screen, screen[-3000:]

    after = involvement(professional_id, hannah)
    assert after.hidden_at is None and after.deleted_at is None, "Unhide Person did not unhide"
    assert "Hannah Green" not in lynx.dump("/send/select-person/hidden")
    assert "Hannah Green" in lynx.dump("/send/select-person")


def test_hide_person_in_lynx_hides_after_the_confirmation_page(lynx, caseload, professional):
    professional_id, oliver = professional.id, caseload.people["Oliver Brown"]
    lynx.sign_in(professional.email)
    page = lynx.dump("/send/select-person", numbered=True)
    tick = field_number(page, r"\[(\d+)\]\[ \] Select Oliver Brown(?![,\w])")
    hide = field_number(page, r"\(\[(\d+)\]hide\) Hide Person")
    lynx.run("/send/select-person", go_to(tick) + ENTER + go_to(hide) + ENTER + ["key /"] + typed("Yes,") + ENTER + ENTER)
    after = involvement(professional_id, oliver)
    assert after.hidden_at is not None and after.deleted_at is None
    outcome = lynx.dump("/send/select-person/hidden")
    assert "Oliver Brown" in outcome


# --- Select all is not shown where it cannot work (defect 12) ------------------------------


def test_select_all_and_the_time_out_warning_are_not_shown_in_lynx_or_w3m(lynx, caseload, professional, live_server, tmp_path):
    lynx.sign_in(professional.email)
    pages = {
        "lynx": lynx.dump("/send/select-person"),
        "w3m": w3m_dump(live_server.url, "/send/select-person", lynx.session_cookie_header(), tmp_path),
    }
    for browser, page in pages.items():
        assert "Select Person" in page and "Amelia Jones" in page, f"{browser} is not signed in:\n{page}"
        assert "Select all" not in page, f"{browser} shows a Select all that does nothing:\n{page}"
        # Nor the time-out warning, which only a script can open.
        assert "signed out soon" not in page and "Stay signed in" not in page, f"{browser} shows the time-out warning:\n{page}"
        # Each row's own checkbox is there, named "Select" and the full name
        # (SPEC section 7): no name repeats here, so no date of birth follows.
        assert re.search(r"\[ \] ?Select Amelia Jones(?![,\w])", page), page
        assert re.search(r"\[ \] ?Select Oliver Brown(?![,\w])", page), page
        # The column is still named (by its visually hidden text) in the heading row.
        assert re.search(r"^\s*Select\s+Name\s+Date of", page, re.MULTILINE), page
