"""Helpers for the whole-service browser tests: a link-following crawl in the
browser, axe checks that collect every problem before failing, keyboard-only
walking with a record of the focus order, and data for the journeys.

Built on the fixtures and helpers of tests/browser/conftest.py."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from send_portal.addresses import normalise_postcode
from send_portal.extensions import db
from send_portal.forms import queries as form_queries
from send_portal.models import Address, Involvement, InvolvementStatus, Person, User

from ..crawl import SKIP, pattern
from .conftest import _SCRIPTLESS_PAGES, DESKTOP, _script_free_copy, assert_no_axe_violations, release_database, wait_for_scripts

NARROW = {"width": 320, "height": 640}


# --- data ------------------------------------------------------------------------


def seed_demo(app) -> None:
    """The demo authority, through its own command (SPEC section 7)."""
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    release_database()


@dataclass
class DemoUser:
    """A demo sign-in, for conftest's sign_in(page, user, DEMO_PASSWORD)."""

    email: str


DEMO_SENCO = DemoUser("senco@demo-la.example")
DEMO_UNVERIFIED = DemoUser("new.starter@demo-la.example")
DEMO_ADMIN = DemoUser("admin@demo-la.example")


def add_awaiting_child(email: str, given: str, family: str, born: date) -> int:
    """A child the professional added themselves, awaiting the LA's
    authentication (as Save Child leaves it); returns the involvement id."""
    professional = db.session.scalar(select(User).where(User.email == email))
    person = Person(date_of_birth=born, gender="Male", case_status="No open case", added_by_professional=True)
    person.set_names(given, family)
    db.session.add(person)
    db.session.flush()
    involvement = Involvement(professional_id=professional.id, person_id=person.id, status=InvolvementStatus.AWAITING.value,
                              started_on=date.today())
    db.session.add(involvement)
    db.session.commit()
    return involvement.id


def forms_page_with_a_draft(email: str, form_key: str = "ehc-needs-assessment-request") -> str:
    """A draft form for the professional's first authenticated child, so the
    Forms page links to Continue and Delete draft; returns that Forms page."""
    professional = db.session.scalar(select(User).where(User.email == email))
    involvement = db.session.scalars(
        select(Involvement).where(Involvement.professional_id == professional.id,
                                  Involvement.status == InvolvementStatus.AUTHENTICATED.value,
                                  Involvement.ended_on.is_(None), Involvement.hidden_at.is_(None))
        .order_by(Involvement.id)
    ).first()
    form_queries.start_draft(professional, involvement, form_queries.catalogue().get(form_key))
    db.session.commit()
    return f"/send/people/{involvement.person_id}/forms"


def add_addresses(postcode: str = "DM1 2AB", count: int = 3) -> list[str]:
    """Gazetteer rows at one postcode (as import-addresses makes them); returns
    their first lines."""
    lines = []
    for n in range(1, count + 1):
        line = f"{n} Lime Grove"
        db.session.add(Address(uprn=f"9000000{n:02d}", address_line_1=line, address_line_2=None, town="Demoton",
                               postcode=postcode, postcode_key=normalise_postcode(postcode)))
        lines.append(line)
    db.session.commit()
    return lines


def set_timeline(person, state: str, today: date | None = None) -> None:
    """EHC timeline dates that put the person's current step in `state`
    (people/timeline.py: due soon is within 14 days)."""
    today = today or date.today()
    if state == "Done":  # every step done, next review comfortably ahead
        received = today - timedelta(weeks=30)
        person.case_status = "EHC plan issued"
        person.request_received_on = received
        person.assessment_decision_on = received + timedelta(weeks=5)
        person.draft_plan_on = received + timedelta(weeks=14)
        person.final_plan_on = received + timedelta(weeks=19)
        person.next_review_on = today + timedelta(days=200)
    elif state == "Current":  # request received, decision due in 5 weeks
        person.case_status = "Request received"
        person.request_received_on = today - timedelta(weeks=1)
    elif state == "Due soon":  # decision due in 7 days
        person.case_status = "Deciding whether to assess"
        person.request_received_on = today - timedelta(weeks=6) + timedelta(days=7)
    elif state == "Overdue":  # decision was due a week ago
        person.case_status = "Deciding whether to assess"
        person.request_received_on = today - timedelta(weeks=7)
    elif state == "Not needed":
        person.case_status = "Not assessing"
        person.request_received_on = today - timedelta(weeks=8)
        person.assessment_decision_on = today - timedelta(weeks=3)
    else:
        raise ValueError(state)
    db.session.commit()


# --- axe, collecting ---------------------------------------------------------------


# axe's best-practice rules that must hold too: all content inside a landmark
# (so the back link, before <main>, is in one: templates/base.html).
BEST_PRACTICE_RULES = ("region",)


def best_practice_violations(page, rules=BEST_PRACTICE_RULES) -> list[str]:
    """What axe's chosen best-practice rules find on the page (a script-free
    copy of a page that runs no scripts, as assert_no_axe_violations does)."""
    if page in _SCRIPTLESS_PAGES:
        with _script_free_copy(page) as copy:
            return best_practice_violations(copy, rules)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "rule", "values": list(rules)}, "resultTypes": ["violations"]})
    return [
        f"- {v['id']} ({v['impact']}): {v['help']} -> " + "; ".join(", ".join(map(str, n["target"])) for n in v["nodes"])
        for v in results.response["violations"]
    ]


@dataclass
class AxeLog:
    """Runs axe on many pages and states and fails once, listing them all.
    With best_practice, the BEST_PRACTICE_RULES are checked on each too."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    best_practice: bool = False

    def check(self, page, label: str) -> None:
        self.checked.append(label)
        try:
            assert_no_axe_violations(page, label)
        except pytest.fail.Exception as failure:
            # Keep the summary; the full HTML report is long.
            self.problems.append(str(failure).split("\n\n")[0])
        if self.best_practice:
            found = best_practice_violations(page)
            if found:
                self.problems.append(f"axe best practice ({', '.join(BEST_PRACTICE_RULES)}) on {label}:\n" + "\n".join(found))

    def assert_clean(self) -> None:
        assert self.checked, "no page was checked"
        assert not self.problems, f"{len(self.problems)} of {len(self.checked)} pages or states fail axe:\n\n" + "\n\n".join(self.problems)


# --- the crawl ---------------------------------------------------------------------

LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]'))
    .filter(a => !a.hasAttribute('download'))
    .map(a => a.getAttribute('href'))"""


def same_site(href: str) -> str | None:
    href = href.split("#")[0]
    if not href.startswith("/") or href.startswith("//"):
        return None
    if href.startswith(SKIP) or href.endswith(".csv") or ".csv?" in href:
        return None
    return href


def crawl(page, starts, visit, limit: int = 60, per_pattern: int = 2) -> list[str]:
    """Breadth-first over same-site links, as tests/crawl.py does with the
    test client, but in the browser. `visit(page, url, status)` runs on each
    page reached. Returns the URLs visited."""
    seen, counts, visited = set(), Counter(), []
    queue = deque(starts)
    while queue and len(visited) < limit:
        url = queue.popleft()
        if url in seen or counts[pattern(url)] >= per_pattern:
            continue
        seen.add(url)
        try:
            response = page.goto(url)
        except PlaywrightError as error:  # a download, not a page
            if "Download is starting" in str(error):
                continue
            raise
        final = urlsplit(page.url)
        final_url = final.path + (f"?{final.query}" if final.query else "")
        if final_url != url:  # a redirect: count the page it lands on
            if final_url in seen or counts[pattern(final_url)] >= per_pattern:
                continue
            seen.add(final_url)
        counts[pattern(final_url)] += 1
        if response is not None and "text/html" not in (response.headers.get("content-type") or ""):
            continue
        visited.append(final_url)
        visit(page, final_url, response.status if response else 0)
        for href in page.evaluate(LINKS_JS):
            link = same_site(href)
            if link and link not in seen:
                queue.append(link)
    return visited


FORMS_JS = """() => Array.from(document.querySelectorAll('form')).filter(f => f.method === 'post')
    .flatMap((f, n) => {
        const buttons = Array.from(f.querySelectorAll('button[type=submit], button:not([type]), input[type=submit]'));
        return (buttons.length ? buttons : [null]).map((b, m) => ({
            form: n, button: m,
            action: new URL((b && b.getAttribute('formaction')) || f.getAttribute('action') || location.href, location.href).pathname,
        }));
    })"""

# Empties the form's visible fields; says whether it has no submit button.
CLEAR_FORM_JS = """(formIndex) => {
    const form = Array.from(document.querySelectorAll('form')).filter(f => f.method === 'post')[formIndex];
    for (const el of form.elements) {
        if (el.type === 'hidden' || el.type === 'submit' || el.tagName === 'BUTTON') continue;
        if (el.type === 'checkbox' || el.type === 'radio') el.checked = false;
        else if (el.tagName === 'SELECT') el.selectedIndex = -1;
        else el.value = '';
    }
    return !form.querySelector('button[type=submit], button:not([type]), input[type=submit]');
}"""


def submit_forms_empty(page, urls, check, skip=("/sign-out",), javascript: bool = True) -> list[str]:
    """Each POST form on `urls` (once per action pattern) submitted with its
    visible fields empty: the error states. `check(page, label)` runs on the
    page (or swapped state) that answers."""
    done, submitted = set(), []
    page.on("dialog", lambda dialog: dialog.accept())  # htmx's hx-confirm
    queue = list(urls)
    for url in queue:
        page.goto(url)
        fresh = True
        for action in [t["action"] for t in page.evaluate(FORMS_JS)]:
            if action.startswith(skip) or pattern(action) in done:
                continue
            if not fresh:
                page.goto(url)
            fresh = False
            # An earlier submission may have changed this page: find the form again.
            target = next((t for t in page.evaluate(FORMS_JS) if t["action"] == action), None)
            if target is None:
                continue
            done.add(pattern(action))
            if javascript:
                wait_for_scripts(page)
            no_button = page.evaluate(CLEAR_FORM_JS, target["form"])
            with page.expect_response(lambda r: r.request.method == "POST", timeout=10_000):
                if no_button:
                    page.evaluate("(n) => Array.from(document.querySelectorAll('form')).filter(f => f.method === 'post')[n].requestSubmit()", target["form"])
                else:
                    page.locator("form[method=post], form[method=POST]").nth(target["form"]).locator(
                        "button[type=submit], button:not([type]), input[type=submit]").nth(target["button"]).click()
            page.wait_for_load_state()
            settle(page)
            check(page, f"POST {action} (empty, from {url}) -> {page.url}")
            submitted.append(action)
            # A page reached only by a POST (such as a new draft's first page) has forms of its own.
            landed = urlsplit(page.url)
            landed_url = landed.path + (f"?{landed.query}" if landed.query else "")
            if landed_url not in queue and not landed_url.startswith(SKIP):
                queue.append(landed_url)
    return submitted


def settle(page) -> None:
    """Wait for any htmx request to finish and the settle to run."""
    try:
        page.wait_for_function(
            "() => !window.htmx || !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')", timeout=5_000
        )
    except PlaywrightError:
        pass


# --- the keyboard ------------------------------------------------------------------

DESCRIBE_FOCUS_JS = """() => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return {tag: 'body', name: ''};
    const label = e.labels && e.labels[0] ? e.labels[0].textContent : '';
    const name = (e.getAttribute('aria-label') || label || e.textContent || e.value || '').replace(/\\s+/g, ' ').trim();
    return {tag: e.tagName.toLowerCase(), id: e.id || '', type: e.getAttribute('type') || '', name: name};
}"""


@dataclass
class Keyboard:
    """Tab, Shift+Tab, Enter and Space only; every focus stop is recorded and
    focus may never fall back to <body> while walking."""

    page: object
    stops: list[dict] = field(default_factory=list)

    def focused(self) -> dict:
        for _ in range(5):
            try:
                return self.page.evaluate(DESCRIBE_FOCUS_JS)
            except PlaywrightError as error:  # the key press started a navigation
                if "Execution context was destroyed" not in str(error):
                    raise
                self.page.wait_for_load_state()
        return self.page.evaluate(DESCRIBE_FOCUS_JS)

    def press(self, key: str) -> dict:
        assert key in ("Tab", "Shift+Tab", "Enter", "Space"), key
        self.page.keyboard.press(key)
        if key in ("Enter", "Space"):
            self.page.wait_for_load_state()
        now = self.focused()
        self.stops.append(now)
        return now

    def tab_to(self, matches, limit: int = 60, backwards: bool = False) -> dict:
        """Tab (or Shift+Tab) until `matches(focus)`; fails if focus is lost."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            now = self.press(key)
            assert now["tag"] != "body", f"focus fell back to the page body while tabbing; stops so far: {self.names()}"
            if matches(now):
                return now
        raise AssertionError(f"never reached the control by {key}; stops: {self.names()}")

    def tab_to_name(self, name: str, tag: str | None = None, exact: bool = False, **kwargs) -> dict:
        def matches(focus):
            ok = focus["name"] == name if exact else focus["name"].startswith(name)
            return ok and (tag is None or focus["tag"] == tag)
        return self.tab_to(matches, **kwargs)

    def type(self, text: str) -> None:
        """Typing characters into the focused field."""
        self.page.keyboard.type(text)

    def names(self) -> list[str]:
        return [f"{s['tag']}:{s['name'][:40]}" for s in self.stops]

    def assert_not_on_body(self, context: str) -> dict:
        now = self.focused()
        assert now["tag"] != "body", f"focus is lost to the page body {context}"
        return now


def focus_order(stops: list[dict], wanted: list[str]) -> list[str]:
    """The wanted names in the order they were first reached."""
    order = []
    for stop in stops:
        for name in wanted:
            if stop["name"].startswith(name) and name not in order:
                order.append(name)
    return order


# --- reflow, target size and focus (WCAG 1.4.10, 2.5.8, 2.4.7, 2.4.11) -----------------

# What is cut off: anything outside the viewport sideways, or clipped by an
# overflow-hidden box, that is not inside a region that scrolls by itself
# (the tables' labelled .app-table-scroll) and is not visually hidden on purpose.
CUT_OFF_JS = """() => {
    const width = document.documentElement.clientWidth;
    const problems = [];
    const hiddenOnPurpose = (el) => el.closest('.govuk-visually-hidden, .govuk-skip-link, [hidden]');
    const inScroller = (el) => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            const s = getComputedStyle(p);
            if (/(auto|scroll)/.test(s.overflowX)) return p;
        }
        return null;
    };
    for (const el of document.body.querySelectorAll('*')) {
        if (hiddenOnPurpose(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
        const text = (el.textContent || '').trim().slice(0, 40);
        const scroller = inScroller(el);
        if (!scroller && (r.right > width + 1 || r.left < -1)) {
            problems.push(`${name} ("${text}") spans ${Math.round(r.left)} to ${Math.round(r.right)} of ${width}`);
        }
        const s = getComputedStyle(el);
        if (/(hidden|clip)/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1 && !el.matches('input, textarea, select')) {
            problems.push(`${name} ("${text}") clips its content: ${el.scrollWidth} in ${el.clientWidth}`);
        }
    }
    // A region that scrolls sideways is labelled and can be reached by keyboard.
    for (const el of document.querySelectorAll('main *')) {
        const s = getComputedStyle(el);
        if (/(auto|scroll)/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1) {
            const label = el.getAttribute('aria-labelledby');
            if (!(el.matches('.app-table-scroll[role=region][tabindex="0"]') && label && document.getElementById(label))) {
                problems.push(`a sideways scrolling box with no label or no keyboard access: ${el.outerHTML.slice(0, 80)}`);
            }
        }
    }
    return {scrollWidth: document.documentElement.scrollWidth, problems: problems.slice(0, 20)};
}"""


def assert_reflows(page, label: str, width: int) -> None:
    result = page.evaluate(CUT_OFF_JS)
    assert result["scrollWidth"] <= width + 1, f"{label}: the page scrolls sideways ({result['scrollWidth']} CSS px in {width})"
    assert not result["problems"], f"{label}: cut off:\n" + "\n".join(result["problems"])


# WCAG 2.2 2.5.8: a target is at least 24 by 24 CSS px, unless it is a link in
# a sentence or block of text (links inline in p, li, td, th or dd). The
# target is what takes the click, so it is measured by hit-testing a 24 px
# cross around its centre: that counts GOV.UK's own ways of enlarging a
# target (the back link's transparent ::after, the label of a checkbox or
# radio, the transparent input stretched over the box it draws). Visually
# hidden controls (the skip link until focused) are not targets.
TARGETS_JS = """() => {
    const small = [];
    for (const el of document.querySelectorAll('a[href], button, input[type=checkbox], input[type=radio], summary')) {
        const s = getComputedStyle(el);
        if (s.visibility === 'hidden' || s.display === 'none' || el.closest('[hidden]')) continue;
        let r = el.getBoundingClientRect();
        if (r.width <= 1 || r.height <= 1) continue;
        if (el.tagName === 'A' && s.display === 'inline' && el.parentElement.closest('p, li, td, th, dd')) continue;
        if (r.width >= 23.5 && r.height >= 23.5) continue;
        el.scrollIntoView({block: 'center', inline: 'center'});
        r = el.getBoundingClientRect();
        const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
        const takes = (x, y) => {
            const hit = document.elementFromPoint(x, y);
            return hit && (hit === el || el.contains(hit) || Array.from(el.labels || []).some(l => l.contains(hit)));
        };
        if (!(takes(cx, cy - 11.5) && takes(cx, cy + 11.5) && takes(cx - 11.5, cy) && takes(cx + 11.5, cy))) {
            const name = (el.textContent || el.getAttribute('aria-label') || el.id).trim().replace(/\\s+/g, ' ').slice(0, 40);
            small.push(`${el.tagName.toLowerCase()} "${name}" is ${r.width.toFixed(1)} x ${r.height.toFixed(1)} and takes no 24 px square`);
        }
    }
    window.scrollTo(0, 0);
    return small;
}"""


# 2.4.7 and 2.4.11: the focused control has an indicator (an outline or a box
# shadow, on itself or, for GOV.UK checkboxes and radios, on its label's box)
# and is on screen, not covered by a sticky or fixed element.
FOCUS_JS = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return {problem: 'focus is on the page body'};
    const shows = (el, pseudo) => {
        const s = getComputedStyle(el, pseudo);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && !/rgba\\(.*, 0\\)$|transparent/.test(s.outlineColor);
        return outline || (s.boxShadow && s.boxShadow !== 'none');
    };
    let visible = shows(e);
    if (!visible && e.matches('input[type=checkbox], input[type=radio]') && e.labels && e.labels[0]) {
        visible = shows(e.labels[0], '::before') || shows(e.labels[0], '::after');
    }
    const r = e.getBoundingClientRect();
    const name = `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${(e.textContent || '').trim().slice(0, 30)}"`;
    if (!visible) return {problem: `${name} shows no focus indicator`};
    const vw = document.documentElement.clientWidth, vh = window.innerHeight;
    const onScreen = r.right > 0 && r.bottom > 0 && r.left < vw && r.top < vh &&
        (r.width > vw || (r.left >= -1 && r.right <= vw + 1)) && (r.height > vh || (r.top >= -1 && r.bottom <= vh + 1));
    if (!onScreen) return {problem: `${name} is outside the viewport (${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)} in ${vw}x${vh})`};
    for (const other of document.querySelectorAll('body *')) {
        const p = getComputedStyle(other).position;
        if ((p === 'sticky' || p === 'fixed') && !other.contains(e)) {
            const o = other.getBoundingClientRect();
            if (o.width && o.height && o.left < r.right && o.right > r.left && o.top < r.bottom && o.bottom > r.top) {
                return {problem: `${name} is hidden behind a ${p} element`};
            }
        }
    }
    const x = Math.min(Math.max(r.left + r.width / 2, 0), vw - 1), y = Math.min(Math.max(r.top + Math.min(r.height, vh) / 2, 0), vh - 1);
    const hit = document.elementFromPoint(x, y);
    const label = e.labels && e.labels[0];
    if (hit && !(e.contains(hit) || hit.contains(e) || (label && (label.contains(hit) || hit === label)))) {
        return {problem: `${name} is covered by ${hit.tagName.toLowerCase()}.${hit.className}`};
    }
    return {problem: null, name: name};
}"""


def layout_problems(page) -> list[str]:
    """Targets under 24 px at desktop width, and at 320 CSS px anything cut
    off, sideways page scrolling or small targets; the viewport is put back."""
    problems = [f"at 1280 px: {p}" for p in page.evaluate(TARGETS_JS)]
    page.set_viewport_size(NARROW)
    try:
        fit = page.evaluate(CUT_OFF_JS)
        if fit["scrollWidth"] > NARROW["width"] + 1:
            problems.append(f"at 320 px the page scrolls sideways (scrollWidth {fit['scrollWidth']})")
        problems += [f"at 320 px cut off: {p}" for p in fit["problems"]]
        problems += [f"at 320 px: {p}" for p in page.evaluate(TARGETS_JS)]
    finally:
        page.set_viewport_size(DESKTOP)
    return problems
