"""Hide, Unhide and Delete Person as every browser sends them (issue 12):
a text browser that ignores `formaction` and htmx, ids that do not fit the
database, the labels that tell children with the same name apart, and the
outcome and error of a full page (title, error summary, success banner)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from send_portal.audit import DELETE_BY_PROFESSIONAL
from send_portal.extensions import db
from send_portal.models import AuditEntry, Involvement

from .conftest import row_names, text

# --- as a text browser submits a form -------------------------------------------------


def text_browser_submission(form, pressed=None, ticked=()) -> tuple[str, MultiDict]:
    """What Lynx or w3m sends when `pressed` (a <button>) is activated: the
    form's own action, its hidden inputs, the ticked checkboxes and the
    pressed button's name and value. formaction and hx-* are ignored, as
    those browsers ignore them."""
    data = []
    for control in form.find_all("input"):
        kind = control.get("type", "text")
        if kind == "hidden":
            data.append((control["name"], control.get("value", "")))
        elif kind == "checkbox" and control.get("name") and control.get("value") in ticked:
            data.append((control["name"], control["value"]))
    if pressed is not None and pressed.get("name"):
        data.append((pressed["name"], pressed.get("value", "")))
    return form["action"], MultiDict(data)


def press(client_request, page, button_text: str, ticked=()):
    form = page.find("form", id="caseload-form")
    button = form.find("button", string=button_text)
    assert button is not None, f"no {button_text} button"
    action, data = text_browser_submission(form, button, [str(t) for t in ticked])
    return client_request.client.post(action, data=data)


def involvement_of(professional, person) -> Involvement:
    involvement = db.session.scalar(
        select(Involvement).where(Involvement.person_id == person.id, Involvement.professional_id == professional.id)
    )
    db.session.refresh(involvement)
    return involvement


def test_the_caseload_form_works_without_formaction_the_pressed_button_decides(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person")
    form = page.find("form", id="caseload-form")
    assert form["action"] == "/send/select-person" and form["method"] == "post"
    buttons = {text(b): (b.get("name"), b.get("value")) for b in form.find_all("button")}
    assert buttons == {"Hide Person": ("action", "hide"), "Delete Person": ("action", "delete")}
    assert not form.find_all(attrs={"formaction": True}), "text browsers ignore formaction"
    # htmx still posts to each action's own address, with its confirmation.
    assert {b["hx-post"] for b in form.find_all("button")} == {"/send/select-person/hide", "/send/select-person/delete"}
    assert all(b.get("hx-confirm") for b in form.find_all("button"))


def test_delete_from_a_text_browser_deletes_after_the_confirmation_page(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    oliver = make_person("Oliver", "Brown", professional)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person")
    response = press(client_request, page, "Delete Person", ticked=[amelia.id])
    assert response.status_code == 200
    confirm = client_request.parse(response)
    assert text(confirm.find("h1")) == "Are you sure you want to delete 1 person?"
    assert involvement_of(professional, amelia).deleted_at is None, "nothing changes before Yes"
    assert confirm.find("a", string="Cancel")["href"] == "/send/select-person"

    form = confirm.find("main").find("form", method="post")
    yes = form.find("button", string="Yes, delete 1 person")
    action, data = text_browser_submission(form, yes)
    response = client_request.client.post(action, data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/send/select-person"

    involvement = involvement_of(professional, amelia)
    assert involvement.deleted_at is not None and involvement.hidden_at is None, "deleted, not hidden"
    assert involvement.status == "unauthenticated"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == DELETE_BY_PROFESSIONAL)).person_id == amelia.id
    after = client_request.get("/send/select-person")
    assert row_names(after) == ["Oliver Brown"]
    assert text(after.find(id="caseload-message")) == "1 person deleted"
    assert row_names(client_request.get("/send/select-person/hidden")) == []
    assert involvement_of(professional, oliver).deleted_at is None


def test_unhide_from_a_text_browser_unhides_without_confirmation(client_request, professional, make_person):
    hannah = make_person("Hannah", "Green", professional, hidden=True)
    make_person("Ravi", "Shah", professional, hidden=True)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person/hidden")
    form = page.find("form", id="caseload-form")
    assert {text(b): (b.get("name"), b.get("value")) for b in form.find_all("button")} == {
        "Unhide Person": ("action", "unhide"), "Delete Person": ("action", "delete")}
    response = press(client_request, page, "Unhide Person", ticked=[hannah.id])
    assert response.status_code == 303 and response.headers["Location"] == "/send/select-person/hidden"
    involvement = involvement_of(professional, hannah)
    assert involvement.hidden_at is None and involvement.deleted_at is None
    assert row_names(client_request.get("/send/select-person/hidden")) == ["Ravi Shah"]
    assert row_names(client_request.get("/send/select-person")) == ["Hannah Green"]


def test_delete_from_the_hidden_view_of_a_text_browser_deletes(client_request, professional, make_person):
    hannah = make_person("Hannah", "Green", professional, hidden=True)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person/hidden")
    confirm = client_request.parse(press(client_request, page, "Delete Person", ticked=[hannah.id]))
    form = confirm.find("main").find("form", method="post")
    action, data = text_browser_submission(form, form.find("button"))
    assert client_request.client.post(action, data=data).status_code == 303
    involvement = involvement_of(professional, hannah)
    assert involvement.deleted_at is not None
    assert row_names(client_request.get("/send/select-person/hidden")) == []


def test_hide_from_a_text_browser_with_nobody_ticked_says_so(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person")
    response = press(client_request, page, "Hide Person")
    assert response.status_code == 303
    after = client_request.get(response.headers["Location"])
    assert text(after.find(id="caseload-message")) == "Select at least one person to hide"


@pytest.mark.parametrize("action", [None, "", "explode", "Hide", "hide-all"])
def test_an_action_that_is_not_hide_unhide_or_delete_is_a_clear_400(client_request, professional, make_person, action):
    amelia = make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    data = {"person_id": str(amelia.id), "view": "active", "confirmed": "yes"}
    if action is not None:
        data["action"] = action
    response = client_request.post("/send/select-person", data, expected_status=400)
    assert "Choose Hide Person, Unhide Person or Delete Person" in response.get_data(as_text=True)
    involvement = involvement_of(professional, amelia)
    assert involvement.hidden_at is None and involvement.deleted_at is None


def test_the_single_address_keeps_csrf(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    client_request.post("/send/select-person", {"person_id": str(amelia.id), "view": "active", "action": "hide",
                                                "confirmed": "yes"}, csrf=False, expected_status=400)
    assert involvement_of(professional, amelia).hidden_at is None


# --- ids the database cannot hold ---------------------------------------------------------

BAD_IDS = ["2147483648", "9223372036854775808", "999999999999", "-1", "0", "abc", "1e3", "0x10", "", " 1", "１２"]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("address,action,view", [
    ("/send/select-person/hide", None, "active"),
    ("/send/select-person/unhide", None, "hidden"),
    ("/send/select-person/delete", None, "active"),
    ("/send/select-person", "hide", "active"),
    ("/send/select-person", "delete", "hidden"),
])
def test_ids_the_database_cannot_hold_are_a_clear_400_and_change_nothing(client_request, professional, make_person,
                                                                            bad, address, action, view):
    amelia = make_person("Amelia", "Jones", professional, hidden=view == "hidden")
    client_request.sign_in(professional)
    data = {"person_id": [str(amelia.id), bad], "view": view, "confirmed": "yes"}
    if action:
        data["action"] = action
    for htmx in (False, True):
        response = client_request.post(address, data, htmx=htmx, expected_status=400)
        assert "The people selected could not be read" in response.get_data(as_text=True)
    involvement = involvement_of(professional, amelia)
    assert (involvement.hidden_at is None) == (view == "active") and involvement.deleted_at is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.person_id == amelia.id)) is None


def test_the_largest_id_the_database_holds_is_simply_not_found(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    response = client_request.post("/send/select-person/hide", {"person_id": "2147483647", "view": "active", "confirmed": "yes"},
                                   expected_status=303)
    page = client_request.get(response.headers["Location"])
    assert text(page.find(id="caseload-message")) == "No people were hidden: the people selected are no longer in this list"


# --- labels -------------------------------------------------------------------------------


def test_children_with_the_same_name_have_labels_that_tell_them_apart(client_request, professional, make_person):
    first = make_person("Grace", "O'Brien", professional, date_of_birth=date(2015, 3, 3))
    second = make_person("Grace", "O'Brien", professional, date_of_birth=date(2016, 5, 4))
    client_request.sign_in(professional)
    for htmx in (False, True):
        page = client_request.get("/send/select-person", htmx=htmx)
        labels = {box["value"]: text(page.find("label", attrs={"for": box["id"]}))
                  for box in page.find_all("input", attrs={"name": "person_id"})}
        assert labels == {
            str(first.id): "Select Grace O'Brien, born 3 March 2015",
            str(second.id): "Select Grace O'Brien, born 4 May 2016",
        }


# --- a full page's outcome and error ------------------------------------------------------


def test_a_full_page_error_is_a_gov_uk_error_summary_and_the_title_says_error(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    make_person("Oliver", "Brown", professional)
    client_request.sign_in(professional)
    response = client_request.post("/send/select-person/hide", {"view": "active"}, expected_status=303)
    page = client_request.get(response.headers["Location"])
    assert page.title.string.startswith("Error: Active – Select Person – ")
    summary = page.find(class_="govuk-error-summary")
    assert summary is not None
    assert summary["tabindex"] == "-1" and summary.has_attr("autofocus")
    assert summary.get("data-module") == "govuk-error-summary"
    alert = summary.find(attrs={"role": "alert"})
    assert alert is not None
    assert text(alert.find(class_="govuk-error-summary__title")) == "There is a problem"
    link = alert.select_one("ul.govuk-error-summary__list li a")
    assert text(link) == "Select at least one person to hide"
    # It links to the first checkbox of the list (Oliver Brown comes first).
    first_box = page.find("input", attrs={"name": "person_id"})
    assert link["href"] == f"#{first_box['id']}"
    assert first_box["value"] != str(amelia.id)
    # GOV.UK puts the summary before the page's heading.
    assert summary.find_next("h1") is not None
    # Only one message: the error is not said twice.
    assert len(page.find_all(class_=["govuk-error-summary", "govuk-notification-banner"])) == 1


def test_an_error_with_no_rows_left_links_to_the_list_heading(client_request, professional, make_person, other_professional):
    theirs = make_person("Secret", "Child", other_professional)
    client_request.sign_in(professional)
    response = client_request.post("/send/select-person/hide", {"person_id": str(theirs.id), "view": "active", "confirmed": "yes"},
                                   expected_status=303)
    page = client_request.get(response.headers["Location"])
    link = page.select_one(".govuk-error-summary__list a")
    assert link["href"] == "#caseload-heading" and page.find(id="caseload-heading")


def test_a_full_page_outcome_is_a_success_banner_that_is_announced(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    response = client_request.post("/send/select-person/hide", {"person_id": str(amelia.id), "view": "active", "confirmed": "yes"},
                                   expected_status=303)
    page = client_request.get(response.headers["Location"])
    assert not page.title.string.startswith("Error")
    banner = page.find(class_="govuk-notification-banner")
    assert "govuk-notification-banner--success" in banner["class"]
    assert banner["role"] == "alert" and banner["tabindex"] == "-1" and banner.has_attr("autofocus")
    assert text(page.find(id=banner["aria-labelledby"])) == "Success"
    assert text(banner.find(id="caseload-message")) == "1 person hidden"
    # Shown once: the next page load has no message.
    assert client_request.get("/send/select-person").find(class_="govuk-notification-banner") is None


def test_the_htmx_outcome_and_error_are_swapped_into_the_live_region(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    make_person("Oliver", "Brown", professional)
    client_request.sign_in(professional)
    partial = client_request.parse(client_request.post("/send/select-person/hide", {"view": "active"}, htmx=True,
                                                       expected_status=200), partial=True)
    status = partial.find(id="caseload-status")
    summary = status.find(class_="govuk-error-summary")
    assert summary["id"] == "caseload-feedback" and summary["tabindex"] == "-1" and not summary.has_attr("autofocus")
    assert text(summary.find(id="caseload-message")) == "Select at least one person to hide"
    assert partial.find(id="caseload-results")["data-page-title"].startswith("Error: Active – Select Person – ")

    partial = client_request.parse(client_request.post(
        "/send/select-person/hide", {"view": "active", "person_id": str(amelia.id), "confirmed": "yes"}, htmx=True,
        expected_status=200), partial=True)
    banner = partial.find(id="caseload-status").find(class_="govuk-notification-banner")
    assert banner["id"] == "caseload-feedback" and text(banner.find(id="caseload-message")) == "1 person hidden"
    assert partial.find(id="caseload-results")["data-page-title"].startswith("Active – Select Person – ")
    # The buttons move focus to the whole message, as GOV.UK's components do on load.
    for button in partial.find("form", id="caseload-form").find_all("button"):
        assert button["data-focus-after"] == "#caseload-feedback"


# --- the back link is inside a landmark ---------------------------------------------------


def test_the_back_link_is_inside_a_landmark_on_every_page_that_has_one(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    pages = [client_request.get(url) for url in ("/send/select-person", f"/send/people/{amelia.id}", "/send/add-person")]
    pages.append(client_request.parse(client_request.post(
        "/send/select-person/hide", {"person_id": str(amelia.id), "view": "active"}, expected_status=200)))
    for page in pages:
        back = page.find("a", class_="govuk-back-link")
        nav = back.find_parent("nav")
        assert nav is not None and nav["aria-label"] == "Back", page.title.string
    # No empty landmark where a page has no back link.
    home = client_request.get("/home")
    assert home.find("a", class_="govuk-back-link") is None
    assert home.find("nav", attrs={"aria-label": "Back"}) is None


def test_the_outcome_error_and_confirmation_pages_are_valid_html(client_request, professional, make_person, tmp_path):
    """The Nu Html Checker, as tests/test_html_validity.py runs it, on the
    states its crawl does not reach: the banner and the error summary after
    the redirect, their htmx partials, and the page without a back link."""
    from .test_html_validity import vnu_errors

    amelia = make_person("Amelia", "Jones", professional)
    make_person("Grace", "O'Brien", professional)
    client_request.sign_in(professional)
    bodies = {}
    error = client_request.post("/send/select-person/hide", {"view": "active"}, expected_status=303)
    bodies["full page error"] = client_request.client.get(error.headers["Location"]).get_data(as_text=True)
    bodies["confirmation"] = client_request.post(
        "/send/select-person", {"action": "delete", "person_id": str(amelia.id), "view": "active"}, expected_status=200
    ).get_data(as_text=True)
    done = client_request.post("/send/select-person", {"action": "hide", "person_id": str(amelia.id), "view": "active",
                                                       "confirmed": "yes"}, expected_status=303)
    bodies["full page outcome"] = client_request.client.get(done.headers["Location"]).get_data(as_text=True)
    bodies["home, no back link"] = client_request.client.get("/home").get_data(as_text=True)
    for name, data in [("htmx error", {"view": "active"}), ("htmx outcome", {"view": "hidden", "person_id": str(amelia.id)})]:
        address = "/send/select-person/hide" if data["view"] == "active" else "/send/select-person/unhide"
        body = client_request.post(address, data, htmx=True, expected_status=200).get_data(as_text=True)
        bodies[name] = f'<!DOCTYPE html><html lang="en-GB"><head><title>partial</title></head><body>{body}</body></html>'
    files = {}
    for n, (name, body) in enumerate(bodies.items()):
        path = tmp_path / f"state{n}.html"
        path.write_text(body, encoding="utf-8")
        files[str(path)] = name
    errors = vnu_errors([Path(p) for p in files])
    problems = [f"{files.get(str(e.get('url', '')).removeprefix('file:'), e.get('url'))}: line {e.get('lastLine')}: {e.get('message')}"
                for e in errors]
    assert not problems, "\n".join(problems)
