"""Real-browser fixtures: the app on a live server, Debian's Chromium driven
by Playwright, signing in through the real form, and axe-core checks.

The app, its fresh migrated database and the data-making fixtures (`app`,
`make_user`, `make_person`, `professional`) come from tests/conftest.py; the
server runs that same app in a background thread, so the test can add people
before the page loads and read the database after a click."""
from __future__ import annotations

import os
import re
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask import got_request_exception
from werkzeug.serving import make_server

from send_portal.extensions import db

from ..conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP = {"width": 1280, "height": 900}
SELECT_PERSON = "/send/select-person"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: tests that drive Debian's Chromium with Playwright")


def _skipping() -> bool:
    return os.environ.get("SKIP_BROWSER_TESTS") == "1"


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    if not _skipping():
        return
    skip = pytest.mark.skip(reason="SKIP_BROWSER_TESTS=1")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# --- the server ------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: object
    errors: list = field(default_factory=list)
    # (predicate on the WSGI environ, seconds): answer matching requests late
    slow_requests: list = field(default_factory=list)


@pytest.fixture
def live_server(app):
    """The test's app, served over real HTTP on 127.0.0.1 and a free port."""
    def wsgi(environ, start_response):
        for predicate, seconds in list(live.slow_requests):
            if predicate(environ):
                time.sleep(seconds)
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)

    def record(sender, exception, **extra):  # noqa: ARG001
        live.errors.append(repr(exception))

    got_request_exception.connect(record, app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        got_request_exception.disconnect(record, app)
    assert not live.errors, f"the server raised while the browser used it: {live.errors}"


# --- the browser -----------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if _skipping():
        pytest.skip("SKIP_BROWSER_TESTS=1")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}, and it is not there. "
            "Install it with `apt-get install chromium` (scripts/test.sh does this), "
            "or set SKIP_BROWSER_TESTS=1 to skip the browser tests on purpose.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class PageProblems:
    """Uncaught script errors and Content-Security-Policy refusals: either
    means an enhancement silently stopped working."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.messages.append(f"CSP: {message.text}")


def _new_page(browser, live_server, javascript: bool):
    from playwright.sync_api import expect

    expect.set_options(timeout=5_000)
    context = browser.new_context(
        base_url=live_server.url,
        viewport=DESKTOP,
        locale="en-GB",
        java_script_enabled=javascript,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PageProblems(page)
    return context, page, problems


@pytest.fixture
def page(browser, live_server):
    context, page, problems = _new_page(browser, live_server, javascript=True)
    yield page
    context.close()
    assert not problems.messages, "\n".join(problems.messages)


# Pages whose context runs no scripts. Timers never fire there, so axe-core
# (which needs them) checks a script-free copy of such a page instead.
_SCRIPTLESS_PAGES: "weakref.WeakSet" = weakref.WeakSet()


@pytest.fixture
def page_nojs(browser, live_server):
    context, page, problems = _new_page(browser, live_server, javascript=False)
    _SCRIPTLESS_PAGES.add(page)
    yield page
    context.close()
    assert not problems.messages, "\n".join(problems.messages)


# --- a caseload to work with -----------------------------------------------------


@dataclass
class Caseload:
    active: list[str]
    hidden: list[str]
    recent: list[str]
    people: dict[str, int]  # full name: person id


@pytest.fixture
def caseload(professional, make_person):
    """A small, varied caseload. Active is sorted by family name; Recent is
    most recent activity first and includes an ended involvement."""
    now = datetime.now()
    people = {
        "Amelia Jones": make_person("Amelia", "Jones", professional, case_status="EHC plan issued", last_activity=now - timedelta(days=3)),
        "Oliver Brown": make_person("Oliver", "Brown", professional, status="awaiting", case_status="Awaiting authentication"),
        "Zoë Smith-Jones": make_person("Zoë", "Smith-Jones", professional, case_status="Assessment in progress", last_activity=now - timedelta(days=40)),
        "Mary-Jane O'Brien": make_person("Mary-Jane", "O'Brien", professional, date_of_birth=date(2012, 9, 1)),
        "Hannah Green": make_person("Hannah", "Green", professional, hidden=True, last_activity=now - timedelta(days=1)),
        "Ravi Shah": make_person("Ravi", "Shah", professional, ended_on=date.today() - timedelta(days=30), last_activity=now - timedelta(days=20)),
    }
    ids = {name: person.id for name, person in people.items()}
    release_database()
    return Caseload(
        active=["Oliver Brown", "Amelia Jones", "Mary-Jane O'Brien", "Zoë Smith-Jones"],
        hidden=["Hannah Green"],
        recent=["Amelia Jones", "Ravi Shah", "Zoë Smith-Jones"],
        people=ids,
    )


# --- helpers a test calls --------------------------------------------------------


def release_database() -> None:
    """End the test thread's own transaction, so that it holds no SQLite lock
    while the server (another thread) answers the browser."""
    db.session.commit()


def sign_in(page, user, password: str = PASSWORD) -> None:
    """Sign in as a person would: through the sign-in form."""
    from playwright.sync_api import expect

    email = user.email
    release_database()
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def open_select_person(page, path: str = SELECT_PERSON, javascript: bool = True) -> None:
    from playwright.sync_api import expect

    page.goto(path)
    expect(page.get_by_role("heading", level=1, name="Select Person")).to_be_visible()
    if javascript:
        wait_for_scripts(page)


def wait_for_scripts(page) -> None:
    """htmx and portal.js are deferred: wait until both have run."""
    page.wait_for_function("() => window.htmx && document.body.classList.contains('js-enabled')")
    wait_for_htmx_idle(page)


# htmx marks what it is working on: the requesting element (.htmx-request),
# the target while swapping and settling, and new content until it is wired
# up (.htmx-added). Before that, a click on a new hx-post button would be a
# plain form submit and keys typed into a new filter box would be missed.
HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def wait_for_htmx_idle(page, timeout: float = 5_000) -> None:
    """Wait until htmx has no request in flight and has finished settling."""
    page.wait_for_function("selector => !document.querySelector(selector)", arg=HTMX_BUSY, timeout=timeout)


def wait_for_text(page, selector: str, text: str, timeout: float = 5_000) -> None:
    """Wait, checking every animation frame, until the element says `text`
    (whitespace normalised) and htmx is idle, then assert it with
    Playwright's own message. Quicker than expect's back-off polling after
    each htmx swap, and safe to act on straight away."""
    from playwright.sync_api import Error, expect

    try:
        page.wait_for_function(
            """([selector, text, busy]) => { const e = document.querySelector(selector);
                   return e && e.textContent.replace(/\\s+/g, ' ').trim() === text && !document.querySelector(busy) }""",
            arg=[selector, text, HTMX_BUSY],
            timeout=timeout,
        )
    except Error:
        pass  # the expect below says what was there instead
    expect(page.locator(selector)).to_have_text(text, timeout=1)


def expect_status(page, text: str) -> None:
    """The polite live region says `text`."""
    wait_for_text(page, "#caseload-status", text)


def expect_message(page, text: str) -> None:
    """The outcome message (success or error) says `text`."""
    wait_for_text(page, "#caseload-message", text)


def mark_page(page) -> None:
    """Put a marker on window: it survives swaps and dies with a full load."""
    page.evaluate("() => { window.__sameDocument = 'still here' }")


def page_was_not_reloaded(page) -> bool:
    return page.evaluate("() => window.__sameDocument === 'still here'")


def focused_element(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return e ? {tag: e.tagName.toLowerCase(), id: e.id, text: (e.textContent || '').trim(),
                               name: e.getAttribute('aria-label') || e.labels?.[0]?.textContent?.trim() || ''} : null }"""
    )


def assert_no_axe_violations(page, label: str) -> None:
    """axe-core, in the real browser, against WCAG 2.2 A and AA."""
    if page in _SCRIPTLESS_PAGES:
        with _script_free_copy(page) as copy:
            return assert_no_axe_violations(copy, f"{label} (without JavaScript)")
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    violations = results.response["violations"]
    if violations:
        summary = "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} -> "
            + "; ".join(", ".join(map(str, n["target"])) for n in v["nodes"])
            for v in violations
        )
        pytest.fail(f"axe found {len(violations)} WCAG 2.2 AA violation(s) on {label}:\n{summary}\n\n{results.generate_report()}", pytrace=False)


SCRIPT_RE = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)


@contextmanager
def _script_free_copy(page):
    """The page's HTML, scripts removed, served at the same origin (so its
    styles load) to a context where axe's own script can run."""
    html = SCRIPT_RE.sub("", page.content())
    origin = re.match(r"https?://[^/]+", page.url).group(0)
    context = page.context.browser.new_context(viewport=page.viewport_size, locale="en-GB")
    try:
        copy = context.new_page()
        copy.route(f"{origin}/__axe-copy__", lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
        copy.goto(f"{origin}/__axe-copy__")
        yield copy
    finally:
        context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
