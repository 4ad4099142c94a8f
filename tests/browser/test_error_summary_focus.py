"""Every error summary takes focus when its page loads, as GOV.UK Frontend's
script would (this service does not load that script): with JavaScript by
the summary's autofocus and portal.js, without it by autofocus alone."""
import pytest

pytestmark = pytest.mark.browser


def focused_summary(page) -> bool:
    return page.evaluate(
        "() => !!document.activeElement && document.activeElement.classList.contains('govuk-error-summary')"
    )


@pytest.mark.parametrize("which", ["page", "page_nojs"])
def test_a_sign_in_error_summary_is_focused_on_load(request, which):
    page = request.getfixturevalue(which)
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.title().startswith("Error:")
    assert focused_summary(page)
    # Its first link leads to the field.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#email"


@pytest.mark.parametrize("which", ["page", "page_nojs"])
def test_a_registration_error_summary_is_focused_on_load(request, which):
    page = request.getfixturevalue(which)
    page.goto("/register")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    assert focused_summary(page)
