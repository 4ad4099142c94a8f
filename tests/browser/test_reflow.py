"""Reflow, zoom, target size and visible focus (WCAG 2.2 AA: 1.4.10, 1.4.4,
2.5.8, 2.4.7 and 2.4.11) on the main pages, and their screenshots at desktop
and 320 CSS px wide (test-artifacts/screenshots/).

Zoom is emulated as a browser does it: 200% of a 1280 px window is a 640 CSS px
viewport at device scale 2, and 400% is 320 CSS px at device scale 4."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from send_portal.extensions import db
from send_portal.models import Person

from .conftest import DESKTOP, release_database, screenshot, sign_in
from .support import FOCUS_JS, NARROW, TARGETS_JS, Keyboard, assert_reflows, set_timeline

pytestmark = pytest.mark.browser

ZOOMS = [
    ("320px", {"width": 320, "height": 640}, 1),
    ("200% zoom", {"width": 640, "height": 450}, 2),
    ("400% zoom", {"width": 320, "height": 225}, 4),
]


@pytest.fixture
def pages(caseload):
    """The main pages, by who sees them: the caseload's Amelia Jones has an
    EHC timeline with a step due soon."""
    amelia = db.session.get(Person, caseload.people["Amelia Jones"])
    set_timeline(amelia, "Due soon")
    release_database()
    return {
        "professional": {
            "select-person": "/send/select-person",
            "child-page": f"/send/people/{amelia.id}",
            "add-person": "/send/add-person",
        },
        "admin": {
            "admin-home": "/home",
            "audit-log": "/admin/audit",
        },
    }


def signed_in_state(page, user) -> dict:
    sign_in(page, user)
    return page.context.storage_state()


@pytest.fixture
def states(browser, live_server, page, professional, admin, pages) -> dict:
    """Signed-in cookies of the professional and the admin, for new contexts
    at other sizes and scales."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-GB")
    try:
        return {"professional": signed_in_state(page, professional), "admin": signed_in_state(context.new_page(), admin)}
    finally:
        context.close()


def new_page(browser, live_server, state, viewport, scale=1):
    context = browser.new_context(base_url=live_server.url, viewport=viewport, device_scale_factor=scale,
                                  locale="en-GB", storage_state=state)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def test_main_pages_reflow_at_320px_and_at_200_and_400_percent_zoom(browser, live_server, pages, states):
    for who, paths in pages.items():
        for zoom, viewport, scale in ZOOMS:
            context, zoomed = new_page(browser, live_server, states[who], viewport, scale)
            try:
                for name, path in paths.items():
                    zoomed.goto(path)
                    expect(zoomed.get_by_role("heading", level=1)).to_be_visible()
                    assert_reflows(zoomed, f"{name} at {zoom}", viewport["width"])
                if who == "professional":
                    # The caseload table scrolls inside its own labelled region, if at all.
                    zoomed.goto(paths["select-person"])
                    region = zoomed.get_by_role("region", name="Active people")
                    expect(region).to_be_visible()
                    expect(zoomed.get_by_label("Select Amelia Jones")).to_be_attached()
            finally:
                context.close()


def test_screenshots_of_the_main_pages_at_desktop_and_320px(browser, live_server, pages, states):
    saved = []
    for who, paths in pages.items():
        context, shot = new_page(browser, live_server, states[who], DESKTOP)
        try:
            for name, path in paths.items():
                shot.goto(path)
                for width, viewport in (("1280", DESKTOP), ("320", NARROW)):
                    shot.set_viewport_size(viewport)
                    saved.append(screenshot(shot, f"main-page-{name}-{width}"))
                shot.set_viewport_size(DESKTOP)
        finally:
            context.close()
    assert len(saved) == 10 and all(path.stat().st_size > 0 for path in saved)


def test_targets_are_at_least_24_by_24_px(browser, live_server, pages, states):
    problems = []
    for who, paths in pages.items():
        context, checked = new_page(browser, live_server, states[who], DESKTOP)
        try:
            for name, path in paths.items():
                checked.goto(path)
                for width, viewport in (("1280", DESKTOP), ("320", NARROW)):
                    checked.set_viewport_size(viewport)
                    problems += [f"{name} at {width} px: {p}" for p in checked.evaluate(TARGETS_JS)]
                checked.set_viewport_size(DESKTOP)
        finally:
            context.close()
    assert not problems, "targets smaller than 24 by 24 CSS px:\n" + "\n".join(problems)


@pytest.mark.parametrize("zoom,viewport,scale", [("1280px", DESKTOP, 1), *ZOOMS], ids=["desktop", "320px", "200-percent", "400-percent"])
def test_focus_is_always_visible_on_select_person(browser, live_server, page, professional, pages, zoom, viewport, scale):
    context, tabbed = new_page(browser, live_server, signed_in_state(page, professional), viewport, scale)
    try:
        tabbed.goto(pages["professional"]["select-person"])
        tabbed.wait_for_function("() => document.body.classList.contains('js-enabled')")
        keys = Keyboard(tabbed)
        problems, seen = [], []
        for _ in range(60):
            stop = keys.press("Tab")
            if stop["tag"] == "body":
                break  # past the end of the page
            result = tabbed.evaluate(FOCUS_JS)
            seen.append(result.get("name"))
            if result["problem"]:
                problems.append(result["problem"])
            if stop["name"] == "Accessibility statement":
                break
        assert len(seen) >= 15, seen
        assert not problems, f"at {zoom}:\n" + "\n".join(problems)
    finally:
        context.close()
