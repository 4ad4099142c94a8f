"""SEND forms (SPEC section 4): the Forms page, completing a form a page at a
time, drafts, Check your answers, submission, files, and the LA's inbox."""
from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from send_portal import audit
from send_portal.caseload.queries import delete_people
from send_portal.extensions import db
from send_portal.forms.models import FormFile, FormResponse
from send_portal.models import Activity, AuditEntry, Involvement, InvolvementStatus

from .conftest import text

EHC = "ehc-needs-assessment-request"
REVIEW = "annual-review-contribution"

# --- files as a browser would send them ----------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", "MZ")
    return buffer.getvalue()


def upload(content: bytes, name: str):
    return (io.BytesIO(content), name)


# --- answers ------------------------------------------------------------------------------

EHC_PAGES = [
    {
        "parents_agree": "Yes",
        "consent_date-day": "1", "consent_date-month": "9", "consent_date-year": "2025",
        "child_views": "Amelia likes drawing.\n\nShe finds reading hard.",
        "parent_views": "Her parents want more help with reading.",
    },
    {
        "areas_of_need": ["Cognition and learning", "Communication and interaction"],
        "primary_need": "Moderate learning difficulty",
        "needs_description": "Reading age four years below her age.",
    },
    {
        "sen_support_since-day": "4", "sen_support_since-month": "9", "sen_support_since-year": "2024",
        "support_provided": "Daily phonics in a small group since September 2024.",
        "services_involved": ["Educational psychology"],
        "notional_budget_used": "Yes",
    },
    {"attendance": "94%"},
]


def forms_url(person) -> str:
    return f"/send/people/{person.id}/forms"


def start(client_request, person, form_key=EHC) -> str:
    """Start a form from the Forms page; returns the first page's address."""
    page = client_request.get(forms_url(person))
    action = page.select_one(f"form[action$='/forms/{form_key}/start']")["action"]
    response = client_request.post(action, expected_status=303)
    return response.headers["Location"]


def page_url(first_page: str, number: int) -> str:
    return re.sub(r"/pages/\d+", f"/pages/{number}", first_page)


def response_id(first_page: str) -> int:
    return int(re.search(r"/forms/(\d+)/pages", first_page).group(1))


def complete_ehc_request(client_request, person, plan=(PDF, "support-plan.pdf")) -> str:
    """Answer every page of the request; returns the Check your answers address."""
    first = start(client_request, person)
    for number, answers in enumerate(EHC_PAGES, start=1):
        data = dict(answers, action="continue")
        if number == 4:
            data["sen_support_plan"] = upload(*plan)
        response = client_request.post(page_url(first, number), data=data, expected_status=303)
    assert response.headers["Location"].endswith("/check")
    return response.headers["Location"]


def submit(client_request, check_url: str):
    return client_request.post(check_url.replace("/check", "/submit"), expected_status=303)


def submit_ehc_request(client_request, person) -> FormResponse:
    check = complete_ehc_request(client_request, person)
    submit(client_request, check)
    return db.session.get(FormResponse, int(re.search(r"/forms/(\d+)/check", check).group(1)))


def sign_out(client_request) -> None:
    client_request.client.post("/sign-out", data={"csrf_token": client_request.csrf_token()})


def error_summary(page) -> list[tuple[str, str]]:
    return [(a["href"], text(a)) for a in page.select(".govuk-error-summary a")]


def post_page(client_request, url, data, status):
    return client_request.parse(client_request.post(url, data=data, expected_status=status))


@pytest.fixture
def child(professional, make_person):
    return make_person("Amelia", "Jones", professional=professional)


@pytest.fixture
def signed_in(client_request, professional):
    client_request.sign_in(professional)
    return client_request


# --- the Forms page ------------------------------------------------------------------------


def test_the_forms_page_offers_the_forms_for_the_professional_type(signed_in, child):
    page = signed_in.get(forms_url(child))
    assert text(page.h1) == "Forms"
    assert page.title.string.startswith("Forms – Amelia Jones")
    starts = [text(b) for b in page.select("form[action$='/start'] button")]
    assert starts == ["Start Request for an EHC needs assessment", "Start Annual review contribution"]
    assert "Messages about Amelia Jones" in text(page.main)


def test_an_educational_psychologist_sees_psychological_advice(client_request, other_professional, make_person):
    person = make_person(professional=other_professional)
    client_request.sign_in(other_professional)
    page = client_request.get(forms_url(person))
    starts = [text(b) for b in page.select("form[action$='/start'] button")]
    assert starts == ["Start Educational psychology advice", "Start Annual review contribution"]


def test_a_form_not_for_this_professional_type_cannot_be_started(signed_in, child):
    signed_in.post(f"/send/people/{child.id}/forms/educational-psychology-advice/start", expected_status=404)
    signed_in.post(f"/send/people/{child.id}/forms/no-such-form/start", expected_status=404)
    assert db.session.scalar(select(func.count()).select_from(FormResponse)) == 0


def test_after_add_person_the_forms_page_says_the_child_was_added(signed_in, professional, make_person):
    person = make_person(professional=professional, status=InvolvementStatus.AWAITING.value)
    page = signed_in.get(forms_url(person) + "?added=1")
    assert "Amelia Jones has been added to your caseload" in text(page.select_one(".govuk-notification-banner"))


def test_starting_twice_continues_the_same_draft(signed_in, child):
    first = start(signed_in, child)
    again = signed_in.post(f"/send/people/{child.id}/forms/{EHC}/start", expected_status=303)
    assert response_id(again.headers["Location"]) == response_id(first)
    assert db.session.scalar(select(func.count()).select_from(FormResponse)) == 1


# --- one page at a time, with GOV.UK validation -----------------------------------------------


def test_save_and_continue_checks_every_question_and_links_errors_to_fields(signed_in, child):
    first = start(signed_in, child)
    page = post_page(signed_in, first, {"action": "continue"}, 400)
    assert page.title.string.startswith("Error: Consent and views")
    assert error_summary(page) == [
        ("#parents_agree-0", "Select yes if the parents or carers agree to this request"),
        ("#child_views", "Enter the child’s views, wishes and feelings"),
        ("#parent_views", "Enter the parents’ or carers’ views"),
    ]
    # Each error is shown at its field too, and the field points to it.
    assert "Enter the child’s views" in text(page.select_one("#child_views-error"))
    assert "child_views-error" in page.select_one("#child_views")["aria-describedby"]
    # Radios are a fieldset with a legend.
    assert text(page.select_one("#parents_agree-0").find_parent("fieldset").legend).startswith("Do the child’s parents")


def test_text_answers_keep_what_was_typed_and_have_a_length_limit(signed_in, child):
    first = start(signed_in, child)
    data = dict(EHC_PAGES[0], action="continue", child_views="x" * 3001)
    page = post_page(signed_in, first, data, 400)
    assert error_summary(page) == [("#child_views", "The child’s views, wishes and feelings must be 3,000 characters or fewer")]
    assert page.select_one("#parent_views").get_text() == EHC_PAGES[0]["parent_views"]


@pytest.mark.parametrize(
    "parts, message, target",
    [
        (("", "9", "2025"), "The date they agreed must include a day", "#consent_date-day"),
        (("1", "", ""), "The date they agreed must include a month and year", "#consent_date-month"),
        (("31", "2", "2025"), "The date they agreed must be a real date", "#consent_date-day"),
        (("1", "9", "25"), "The date they agreed must be a real date", "#consent_date-year"),
        (("one", "9", "2025"), "The date they agreed must be a real date", "#consent_date-day"),
        (("²", "9", "2025"), "The date they agreed must be a real date", "#consent_date-day"),
        (("1", "1", str(date.today().year + 1)), "The date they agreed must be today or in the past", "#consent_date-day"),
    ],
)
def test_a_date_must_be_real_and_complete(signed_in, child, parts, message, target):
    first = start(signed_in, child)
    data = dict(EHC_PAGES[0], action="continue")
    data["consent_date-day"], data["consent_date-month"], data["consent_date-year"] = parts
    page = post_page(signed_in, first, data, 400)
    assert error_summary(page) == [(target, message)]
    # The date input keeps what was typed, and marks the wrong parts.
    assert page.select_one("#consent_date-day")["value"] == parts[0]
    assert page.select_one(target).find_parent("fieldset")["role"] == "group"
    assert "govuk-input--error" in page.select_one(target)["class"]


def test_an_optional_date_may_be_left_empty(signed_in, child):
    first = start(signed_in, child)
    data = dict(EHC_PAGES[0], action="continue")
    for part in ("day", "month", "year"):
        data[f"consent_date-{part}"] = ""
    signed_in.post(first, data=data, expected_status=303)


def test_choices_must_come_from_the_list(signed_in, child):
    first = start(signed_in, child)
    signed_in.post(first, data=dict(EHC_PAGES[0], action="continue"), expected_status=303)
    data = dict(EHC_PAGES[1], action="continue", primary_need="Something else", areas_of_need=["Cognition and learning", "Made up"])
    page = post_page(signed_in, page_url(first, 2), data, 400)
    assert error_summary(page) == [
        ("#areas_of_need-0", "Select at least one area of need from the list"),
        ("#primary_need-0", "Select the child’s primary type of need from the list"),
    ]
    page = post_page(signed_in, page_url(first, 2), {"action": "continue", "needs_description": "x"}, 400)
    assert error_summary(page)[:2] == [
        ("#areas_of_need-0", "Select at least one area of need"),
        ("#primary_need-0", "Select the child’s primary type of need"),
    ]
    checkboxes = page.select("input[name=areas_of_need]")
    assert [c["type"] for c in checkboxes] == ["checkbox"] * 4
    assert text(checkboxes[0].find_parent("fieldset").legend) == "Which areas of need apply?"


def test_yes_or_no_refuses_anything_else(signed_in, child):
    first = start(signed_in, child)
    page = post_page(signed_in, first, dict(EHC_PAGES[0], action="continue", parents_agree="Maybe"), 400)
    assert error_summary(page) == [("#parents_agree-0", "Select yes or no")]


def test_the_answers_are_kept_between_pages(signed_in, child):
    first = start(signed_in, child)
    signed_in.post(first, data=dict(EHC_PAGES[0], action="continue"), expected_status=303)
    page = signed_in.get(first)
    assert page.select_one("#parents_agree-0").has_attr("checked")
    assert page.select_one("#consent_date-year")["value"] == "2025"
    assert page.select_one("#child_views").get_text() == EHC_PAGES[0]["child_views"]
    # Page 2 has a Back link to page 1.
    page2 = signed_in.get(page_url(first, 2))
    assert page2.select_one(".govuk-back-link")["href"] == first


def test_a_page_that_does_not_exist_is_not_found(signed_in, child):
    first = start(signed_in, child)
    signed_in.get(page_url(first, 5), expected_status=404)
    signed_in.get(page_url(first, 0), expected_status=404)


# --- files ---------------------------------------------------------------------------------


def _to_file_page(signed_in, child) -> str:
    first = start(signed_in, child)
    for number in (1, 2, 3):
        signed_in.post(page_url(first, number), data=dict(EHC_PAGES[number - 1], action="continue"), expected_status=303)
    return page_url(first, 4)


def test_a_required_file_must_be_chosen(signed_in, child):
    url = _to_file_page(signed_in, child)
    page = post_page(signed_in, url, {"action": "continue"}, 400)
    assert error_summary(page) == [("#sen_support_plan", "Select the child’s latest SEN support plan")]
    field = page.select_one("#sen_support_plan")
    assert field["type"] == "file" and ".pdf" in field["accept"]
    assert page.select_one("form")["enctype"] == "multipart/form-data"


def test_a_short_text_answer_has_a_length_limit_and_is_one_line(signed_in, child):
    url = _to_file_page(signed_in, child)
    page = post_page(signed_in, url, {"action": "continue", "sen_support_plan": upload(PDF, "plan.pdf"), "attendance": "9" * 21}, 400)
    assert error_summary(page) == [("#attendance", "The child’s attendance must be 20 characters or fewer")]
    assert page.select_one("#attendance")["value"] == "9" * 21
    # A NUL byte is refused everywhere (nobody types one; PostgreSQL cannot store it).
    signed_in.post(url, data={"action": "continue", "sen_support_plan": upload(PDF, "plan.pdf"), "attendance": "94%\x00"}, expected_status=400)
    signed_in.post(url, data={"action": "continue", "sen_support_plan": upload(PDF, "plan.pdf"), "attendance": " 94%\r\n "}, expected_status=303)
    assert db.session.scalar(select(FormResponse)).answers["attendance"] == "94%"


@pytest.mark.parametrize(
    "content, name, message",
    [
        (EXE, "support-plan.pdf", "The selected file must be a PDF, DOCX, DOC or ODT"),
        (EXE, "setup.exe", "The selected file must be a PDF, DOCX, DOC or ODT"),
        (plain_zip(), "support-plan.docx", "The selected file must be a PDF, DOCX, DOC or ODT"),
        (PNG, "support-plan.png", "The selected file must be a PDF, DOCX, DOC or ODT"),
        (PDF, "support-plan.docx", "The file’s name must end .pdf, like its contents"),
        (b"", "empty.pdf", "The selected file is empty"),
        (b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024), "huge.pdf", "The selected file must be smaller than 10 MB"),
    ],
)
def test_a_file_is_checked_by_its_content_not_its_name(signed_in, child, content, name, message):
    url = _to_file_page(signed_in, child)
    page = post_page(signed_in, url, {"action": "continue", "sen_support_plan": upload(content, name)}, 400)
    assert len(error_summary(page)) == 1
    assert message in error_summary(page)[0][1]
    assert db.session.scalar(select(func.count()).select_from(FormFile)) == 0


@pytest.mark.parametrize(
    "question, content, name, mimetype",
    [
        ("sen_support_plan", PDF, "plan.pdf", "application/pdf"),
        ("sen_support_plan", docx(), "plan.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("other_evidence", PNG, "drawing.png", "image/png"),
        ("other_evidence", JPEG, "drawing.JPG", "image/jpeg"),
    ],
)
def test_allowed_files_are_stored_outside_static_and_served_to_the_owner(signed_in, child, app, question, content, name, mimetype):
    url = _to_file_page(signed_in, child)
    data = {"action": "continue", "sen_support_plan": upload(PDF, "plan.pdf")}
    data[question] = upload(content, name)
    signed_in.post(url, data=data, expected_status=303)
    stored = db.session.scalar(select(FormFile).where(FormFile.question_key == question))
    assert stored.filename == name and stored.content_type == mimetype and stored.size == len(content)
    path = os.path.join(app.instance_path, "uploads", stored.storage_name)
    with open(path, "rb") as handle:
        assert handle.read() == content
    assert "static" not in os.path.relpath(path, app.root_path).split(os.sep)
    page = signed_in.get(url)
    link = page.select_one(f"#{question}-current a")
    assert text(link) == name
    download = signed_in.get_response(link["href"])
    assert download.status_code == 200
    assert download.data == content
    assert download.mimetype == mimetype
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_can_be_replaced_and_removed_while_a_draft(signed_in, child, app):
    url = _to_file_page(signed_in, child)
    signed_in.post(url, data={"action": "draft", "sen_support_plan": upload(PDF, "first.pdf")}, expected_status=303)
    first = db.session.scalar(select(FormFile.storage_name))
    signed_in.post(url, data={"action": "draft", "sen_support_plan": upload(docx(), "second.docx")}, expected_status=303)
    files = db.session.scalars(select(FormFile)).all()
    assert [f.filename for f in files] == ["second.docx"]
    assert not os.path.exists(os.path.join(app.instance_path, "uploads", first))
    page = signed_in.get(url)
    remove = page.select_one("#sen_support_plan-current button")
    assert text(remove) == "Remove second.docx"
    response = signed_in.post(remove["formaction"], expected_status=303)
    assert response.headers["Location"].endswith("/pages/4")
    assert db.session.scalar(select(func.count()).select_from(FormFile)) == 0
    assert os.listdir(os.path.join(app.instance_path, "uploads")) == []


def test_an_oversized_request_is_refused_clearly(signed_in, child, app):
    url = _to_file_page(signed_in, child)
    limit = app.extensions["send_forms"].largest_upload_bytes
    big = b"%PDF-1.7\n" + b"0" * (limit + 3 * 1024 * 1024)
    response = signed_in.post(url, data={"action": "continue", "sen_support_plan": upload(big, "huge.pdf")})
    assert response.status_code == 413
    page = signed_in.parse(response)
    assert "The selected file is too big" in text(page.select_one(".govuk-error-summary"))


# --- drafts --------------------------------------------------------------------------------


def test_save_as_draft_keeps_partial_answers_and_returns_to_the_forms_page(signed_in, child):
    first = start(signed_in, child)
    response = signed_in.post(first, data={"action": "draft", "child_views": "Likes drawing."}, expected_status=303)
    assert response.headers["Location"] == forms_url(child)
    page = signed_in.get(forms_url(child))
    assert "Your draft of “Request for an EHC needs assessment” has been saved" in text(page.select_one(".govuk-notification-banner"))
    row = page.select_one("#your-forms ~ div tbody tr")
    assert "Draft" in text(row)
    # Continue goes back to the first page still to answer.
    continue_link = row.select_one("th a")["href"]
    assert signed_in.get_response(continue_link).headers["Location"] == first
    assert signed_in.get(first).select_one("#child_views").get_text() == "Likes drawing."
    assert signed_in.get(forms_url(child)).select_one(f"form[action$='/forms/{EHC}/start']") is None


def test_save_as_draft_still_refuses_a_wrong_answer(signed_in, child):
    first = start(signed_in, child)
    page = post_page(signed_in, first, {"action": "draft", "consent_date-day": "40", "consent_date-month": "1", "consent_date-year": "2025"}, 400)
    assert error_summary(page) == [("#consent_date-day", "The date they agreed must be a real date")]


def test_save_as_draft_with_htmx_answers_the_form_area_only(signed_in, child):
    first = start(signed_in, child)
    page = signed_in.get(first)
    button = page.select_one("#save-draft")
    assert button["hx-post"] == first and button["hx-target"] == "#form-area"
    assert page.select_one("#draft-status")["aria-live"] == "polite"
    response = signed_in.post(first, data={"action": "draft", "child_views": "Likes drawing."}, htmx=True, expected_status=200)
    assert response.vary and "HX-Request" in response.headers["Vary"]
    partial = signed_in.parse(response, partial=True)
    assert partial.find("html") is None
    assert "Draft saved at" in text(partial.select_one("#draft-status[hx-swap-oob]"))
    assert partial.select_one("#child_views").get_text() == "Likes drawing."
    # Errors come back in the same partial (a 2xx, so htmx swaps it in).
    response = signed_in.post(first, data={"action": "draft", "consent_date-day": "40", "consent_date-month": "1", "consent_date-year": "2025"}, htmx=True, expected_status=200)
    assert error_summary(signed_in.parse(response, partial=True)) == [("#consent_date-day", "The date they agreed must be a real date")]


def test_a_draft_can_be_deleted_after_confirming(signed_in, child, app):
    url = _to_file_page(signed_in, child)
    signed_in.post(url, data={"action": "draft", "sen_support_plan": upload(PDF, "plan.pdf")}, expected_status=303)
    page = signed_in.get(forms_url(child))
    confirm = signed_in.get(page.select_one("a[href$='/delete']")["href"])
    assert text(confirm.h1).startswith("Are you sure you want to delete your draft")
    response = signed_in.post(confirm.select_one("main form")["action"], expected_status=303)
    assert response.headers["Location"] == forms_url(child)
    assert db.session.scalar(select(func.count()).select_from(FormResponse)) == 0
    assert os.listdir(os.path.join(app.instance_path, "uploads")) == []


def test_saving_a_draft_counts_as_activity_for_recent(signed_in, child):
    first = start(signed_in, child)
    signed_in.post(first, data={"action": "draft", "child_views": "x"}, expected_status=303)
    descriptions = db.session.scalars(select(Activity.description).where(Activity.person_id == child.id)).all()
    assert "Request for an EHC needs assessment started" in descriptions
    assert "Request for an EHC needs assessment saved as a draft" in descriptions
    assert db.session.get(type(child), child.id).last_activity_at is not None


# --- check your answers and submit -------------------------------------------------------------


def test_check_your_answers_lists_every_answer_with_change_links(signed_in, child):
    check = complete_ehc_request(signed_in, child)
    page = signed_in.get(check)
    assert text(page.h1) == "Check your answers before sending the form"
    rows = {text(row.dt): row for row in page.select(".govuk-summary-list__row")}
    assert text(rows["When did they agree?"].select_one(".govuk-summary-list__value")) == "1 September 2025"
    assert text(rows["Which areas of need apply?"].select_one(".govuk-summary-list__value")) == "Communication and interaction Cognition and learning"
    assert text(rows["Upload the child’s latest SEN support plan"].select_one(".govuk-summary-list__value")).startswith("support-plan.pdf")
    assert [text(p) for p in rows["What are the child’s views, wishes and feelings?"].select("dd p")] == ["Amelia likes drawing.", "She finds reading hard."]
    change = rows["What is the child’s primary type of need?"].select_one(".govuk-summary-list__actions a")
    assert text(change) == "Change What is the child’s primary type of need?"
    assert change["href"].endswith("/pages/2?change=1#primary_need-0")
    # Changing an answer goes back to Check your answers.
    changed = dict(EHC_PAGES[1], action="continue", change="1", primary_need="Severe learning difficulty")
    response = signed_in.post(change["href"].split("#")[0], data=changed, expected_status=303)
    assert response.headers["Location"] == check
    page = signed_in.get(check)
    assert "Severe learning difficulty" in text(page.main)


def test_submitting_gives_a_reference_and_sends_the_form_to_the_la(signed_in, child, professional):
    check = complete_ehc_request(signed_in, child)
    response = submit(signed_in, check)
    assert response.headers["Location"].endswith("/confirmation")
    page = signed_in.get(response.headers["Location"])
    panel = page.select_one(".govuk-panel--confirmation")
    assert text(panel.h1) == "Form sent"
    form = db.session.scalar(select(FormResponse))
    assert form.status == "submitted"
    assert re.fullmatch(r"SEND-\d{4}-\d{6}", form.reference)
    assert form.reference in text(panel)
    assert form.definition_snapshot["title"] == "Request for an EHC needs assessment"
    # Activity for Recent, and the audit log, in the same transaction.
    assert db.session.scalar(select(Activity).where(Activity.description.like("%submitted%"))).person_id == child.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == audit.FORM_SUBMITTED))
    assert entry.person_id == child.id and entry.changed_by_id == professional.id and form.reference in entry.details
    # The Forms page shows it as submitted.
    row = signed_in.get(forms_url(child)).select_one("#your-forms ~ div tbody tr")
    assert "Submitted" in text(row) and form.reference in text(row)


def test_a_submitted_form_can_be_read_but_not_changed(signed_in, child):
    form = submit_ehc_request(signed_in, child)
    base = f"/send/people/{child.id}/forms/{form.id}"
    page = signed_in.get(base)
    assert text(page.h1) == "Request for an EHC needs assessment"
    assert page.select(".govuk-summary-list__actions") == []
    assert "Her parents want more help with reading." in text(page.main)
    # Every way of changing it leads back to reading it.
    for url in (f"{base}/pages/1", f"{base}/check"):
        assert signed_in.get_response(url).headers["Location"] == base
    response = signed_in.post(f"{base}/pages/1", data=dict(EHC_PAGES[0], action="continue", child_views="Changed"), expected_status=303)
    assert response.headers["Location"] == base
    file_id = db.session.scalar(select(FormFile.id))
    signed_in.post(f"{base}/files/{file_id}/remove", expected_status=303)
    signed_in.post(f"{base}/delete", expected_status=303)
    db.session.refresh(form)
    assert form.answers["child_views"] == EHC_PAGES[0]["child_views"]
    assert db.session.scalar(select(func.count()).select_from(FormFile)) == 1


def test_submitting_twice_makes_one_submission(signed_in, child):
    check = complete_ehc_request(signed_in, child)
    first = submit(signed_in, check)
    reference = db.session.scalar(select(FormResponse.reference))
    # A double click, or the back button and Submit again.
    second = submit(signed_in, check)
    assert second.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(FormResponse)) == 1
    assert db.session.scalar(select(FormResponse.reference)) == reference
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == audit.FORM_SUBMITTED)) == 1
    assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.description.like("%submitted%"))) == 1


def test_a_form_with_unanswered_questions_cannot_be_submitted(signed_in, child):
    first = start(signed_in, child)
    signed_in.post(first, data=dict(EHC_PAGES[0], action="continue"), expected_status=303)
    check = first.replace("/pages/1", "/check")
    page = signed_in.get(check)
    rows = {text(row.dt): row for row in page.select(".govuk-summary-list__row")}
    assert text(rows["What is the child’s primary type of need?"].dd) == "Not answered"
    page = signed_in.parse(signed_in.post(check.replace("/check", "/submit"), expected_status=400))
    summary = error_summary(page)
    assert summary[0] == ("#change-areas_of_need", "Select at least one area of need. Use the Change link to answer it")
    assert page.select_one("#change-areas_of_need") is not None
    assert db.session.scalar(select(FormResponse.status)) == "draft"


# --- the LA's inbox ------------------------------------------------------------------------------


def test_the_inbox_is_for_la_admins_only(signed_in, child):
    form = submit_ehc_request(signed_in, child)
    signed_in.get("/admin/inbox", expected_status=404)
    signed_in.get(f"/admin/inbox/{form.id}", expected_status=404)
    signed_in.post(f"/admin/inbox/{form.id}/accept", expected_status=404)


def test_the_whole_journey_to_acceptance(client_request, child, admin, professional):
    client_request.sign_in(professional)
    form = submit_ehc_request(client_request, child)
    sign_out(client_request)
    client_request.sign_in(admin)
    inbox = client_request.get("/admin/inbox")
    row = inbox.select_one("tbody tr")
    assert form.reference in text(row) and "Amelia Jones" in text(row) and "Sam Patel" in text(row)
    opened = client_request.get(row.select_one("a")["href"])
    assert "Her parents want more help with reading." in text(opened.main)
    file_link = opened.select_one("a[download]")
    download = client_request.get_response(file_link["href"])
    assert download.status_code == 200 and download.data == PDF
    client_request.post(opened.select_one("form[action$='/accept']")["action"], expected_status=303)
    page = client_request.get(f"/admin/inbox/{form.id}")
    assert "accepted" in text(page.select_one(".govuk-notification-banner"))
    assert page.select_one("form[action$='/accept']") is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == audit.FORM_ACCEPTED)).person_id == child.id
    # Accepting again changes nothing.
    client_request.post(f"/admin/inbox/{form.id}/accept", expected_status=303)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == audit.FORM_ACCEPTED)) == 1
    sign_out(client_request)
    client_request.sign_in(professional)
    row = client_request.get(forms_url(child)).select_one("#your-forms ~ div tbody tr")
    assert "Accepted" in text(row)


def test_rejecting_needs_a_reason_the_professional_then_sees(client_request, child, admin, professional):
    client_request.sign_in(professional)
    form = submit_ehc_request(client_request, child)
    sign_out(client_request)
    client_request.sign_in(admin)
    page = client_request.get(f"/admin/inbox/{form.id}/reject")
    assert text(page.select_one("label[for=reason]")) == "Reason for rejecting the form"
    page = client_request.parse(client_request.post(f"/admin/inbox/{form.id}/reject", data={"reason": "  "}, expected_status=400))
    assert error_summary(page) == [("#reason", "Enter the reason for rejecting the form")]
    reason = "The SEN support plan is from 2023. Send the current plan."
    client_request.post(f"/admin/inbox/{form.id}/reject", data={"reason": reason}, expected_status=303)
    db.session.refresh(form)
    assert form.status == "rejected" and form.rejection_reason == reason
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == audit.FORM_REJECTED))
    assert reason in entry.details
    # The reject page now refuses: it is decided.
    client_request.post(f"/admin/inbox/{form.id}/reject", data={"reason": "again"}, expected_status=303)
    db.session.refresh(form)
    assert form.rejection_reason == reason
    sign_out(client_request)
    client_request.sign_in(professional)
    row = client_request.get(forms_url(child)).select_one("#your-forms ~ div tbody tr")
    assert "Rejected" in text(row) and f"Reason: {reason}" in text(row)
    thread = client_request.get(f"/send/people/{child.id}/messages")
    assert reason in text(thread.select_one(".app-messages"))
    assert "New" in text(thread.select_one(".app-messages"))
    # The rejected form can be started again.
    assert client_request.get(forms_url(child)).select_one(f"form[action$='/forms/{EHC}/start']") is not None


def test_the_inbox_filters_by_status_and_form(client_request, child, admin, professional, make_person):
    client_request.sign_in(professional)
    accepted = submit_ehc_request(client_request, child)
    other = make_person("Ben", "Smith", professional=professional)
    waiting = submit_ehc_request(client_request, other)
    first = start(client_request, other, REVIEW)
    client_request.post(first, data={
        "action": "continue", "review_date-day": "1", "review_date-month": "6", "review_date-year": "2026",
        "progress": "Good progress.", "changes_recommended": "No",
    }, expected_status=303)
    submit(client_request, first.replace("/pages/1", "/check"))
    sign_out(client_request)
    client_request.sign_in(admin)
    client_request.post(f"/admin/inbox/{accepted.id}/accept", expected_status=303)

    def references(url):
        page = client_request.get(url)
        return sorted(text(a) for a in page.select("tbody th a"))

    review = db.session.scalar(select(FormResponse).where(FormResponse.form_key == REVIEW))
    assert references("/admin/inbox") == sorted([waiting.reference, review.reference])
    assert references("/admin/inbox?status=accepted") == [accepted.reference]
    assert references("/admin/inbox?status=all") == sorted([accepted.reference, waiting.reference, review.reference])
    assert references(f"/admin/inbox?status=all&form={REVIEW}") == [review.reference]
    page = client_request.get("/admin/inbox?status=rejected")
    assert text(page.select_one("#inbox-count")) == "No forms found."
    client_request.get("/admin/inbox?status=bogus", expected_status=400)
    client_request.get("/admin/inbox?form=bogus", expected_status=400)
    client_request.get("/admin/inbox?page=²", expected_status=400)


def test_the_la_never_sees_a_draft(client_request, child, admin, professional):
    client_request.sign_in(professional)
    url = _to_file_page(client_request, child)
    client_request.post(url, data={"action": "draft", "sen_support_plan": upload(PDF, "plan.pdf")}, expected_status=303)
    draft = db.session.scalar(select(FormResponse))
    file_id = db.session.scalar(select(FormFile.id))
    sign_out(client_request)
    client_request.sign_in(admin)
    assert client_request.get("/admin/inbox?status=all").select_one("tbody") is None
    client_request.get(f"/admin/inbox/{draft.id}", expected_status=404)
    client_request.get(f"/admin/inbox/{draft.id}/files/{file_id}", expected_status=404)
    # Nor do the LA's staff reach the professional's pages.
    client_request.get(forms_url(child), expected_status=404)


# --- who sees what ------------------------------------------------------------------------------------


def test_before_authentication_only_the_allowed_forms_are_offered(signed_in, professional, make_person):
    person = make_person(professional=professional, status=InvolvementStatus.AWAITING.value)
    page = signed_in.get(forms_url(person))
    starts = [text(b) for b in page.select("form[action$='/start'] button")]
    assert starts == ["Start Request for an EHC needs assessment"]
    assert "has not yet confirmed that you work with Amelia" in text(page.select_one(".govuk-inset-text"))
    assert page.find("a", string=re.compile("Messages")) is None
    signed_in.post(f"/send/people/{person.id}/forms/{REVIEW}/start", expected_status=404)
    # The request itself can be completed and sent.
    form = submit_ehc_request(signed_in, person)
    assert form.status == "submitted"
    confirmation = signed_in.get(f"/send/people/{person.id}/forms/{form.id}/confirmation")
    assert "Form sent" in text(confirmation.h1)


def _delete(professional, person):
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == person.id, Involvement.professional_id == professional.id))
    delete_people(professional, [involvement])
    db.session.commit()
    return involvement


def _reauthenticate(involvement):
    involvement.deleted_at = None
    involvement.status = InvolvementStatus.AUTHENTICATED.value
    involvement.authenticated_at = datetime(2026, 1, 1)
    db.session.commit()


def test_after_delete_every_form_and_file_is_not_found_until_re_authenticated(client_request, child, professional, admin):
    client_request.sign_in(professional)
    submitted = submit_ehc_request(client_request, child)
    first = start(client_request, child, REVIEW)
    client_request.post(first, data={"action": "draft", "progress": "Some"}, expected_status=303)
    draft = db.session.scalar(select(FormResponse).where(FormResponse.status == "draft"))
    file_id = db.session.scalar(select(FormFile.id))
    base = f"/send/people/{child.id}/forms"
    urls = [
        base,
        f"{base}/{submitted.id}",
        f"{base}/{submitted.id}/confirmation",
        f"{base}/{submitted.id}/files/{file_id}",
        f"{base}/{draft.id}",
        f"{base}/{draft.id}/pages/1",
        f"{base}/{draft.id}/check",
        f"{base}/{draft.id}/delete",
    ]
    involvement = _delete(professional, child)
    for url in urls:
        client_request.get(url, expected_status=404)
    client_request.post(f"{base}/{draft.id}/pages/1", data={"action": "draft", "progress": "Changed"}, expected_status=404)
    client_request.post(f"{base}/{draft.id}/submit", expected_status=404)
    client_request.post(f"{base}/{REVIEW}/start", expected_status=404)
    db.session.refresh(draft)
    assert draft.answers["progress"] == "Some" and draft.status == "draft"
    # The LA still has the submitted form and its file.
    sign_out(client_request)
    client_request.sign_in(admin)
    client_request.get(f"/admin/inbox/{submitted.id}")
    assert client_request.get_response(f"/admin/inbox/{submitted.id}/files/{file_id}").status_code == 200
    sign_out(client_request)
    # Re-authenticated by the LA: everything is back.
    _reauthenticate(involvement)
    client_request.sign_in(professional)
    for url in urls:
        response = client_request.get_response(url)
        assert response.status_code in (200, 303), url


def test_professional_b_never_sees_professional_a_drafts(client_request, child, professional, make_user):
    colleague = make_user("Riley", "Evans", professional_type="senco", email="riley.evans@school.example")
    db.session.add(Involvement(professional_id=colleague.id, person_id=child.id, status=InvolvementStatus.AUTHENTICATED.value))
    db.session.commit()
    client_request.sign_in(professional)
    first = start(client_request, child)
    client_request.post(first, data={"action": "draft", "child_views": "Private notes of A"}, expected_status=303)
    draft_id = response_id(first)
    sign_out(client_request)
    client_request.sign_in(colleague)
    page = client_request.get(forms_url(child))
    assert "Private notes" not in str(page)
    assert page.select_one("#your-forms ~ div tbody") is None
    assert "You have not started any forms for Amelia." in text(page.main)
    base = f"/send/people/{child.id}/forms/{draft_id}"
    for url in (base, f"{base}/pages/1", f"{base}/check", f"{base}/confirmation", f"{base}/delete"):
        client_request.get(url, expected_status=404)
    client_request.post(f"{base}/pages/1", data={"action": "draft", "child_views": "B was here"}, expected_status=404)
    client_request.post(f"{base}/submit", expected_status=404)
    client_request.post(f"{base}/delete", expected_status=404)
    # B starting the same form makes B's own draft.
    own = start(client_request, child)
    assert response_id(own) != draft_id
    draft = db.session.get(FormResponse, draft_id)
    assert draft.answers["child_views"] == "Private notes of A"
    assert draft.status == "draft"


def test_someone_elses_child_is_not_found(signed_in, other_professional, make_person):
    theirs = make_person("Zed", "Other", professional=other_professional)
    signed_in.get(forms_url(theirs), expected_status=404)
    signed_in.post(f"/send/people/{theirs.id}/forms/{REVIEW}/start", expected_status=404)
    assert db.session.scalar(select(func.count()).select_from(FormResponse)) == 0


def test_a_draft_is_due_by_the_form_due_period(signed_in, professional, make_person, other_professional):
    person = make_person(professional=professional)
    first = start(signed_in, person, REVIEW)
    draft = db.session.get(FormResponse, response_id(first))
    assert draft.due_on == date.today() + timedelta(days=14)
    row = signed_in.get(forms_url(person)).select_one("#your-forms ~ div tbody tr")
    assert f"Due {draft.due_on:%-d %B %Y}" in text(row)


# --- valid HTML in every state ---------------------------------------------------------------------


def test_every_forms_and_messages_page_is_valid_html(client_request, child, professional, admin, tmp_path):
    """The crawl of tests/test_html_validity.py cannot POST its way into a
    form; this walks the journey and checks each page and error state."""
    from . import test_html_validity as validity

    pages = []

    def keep(label, response):
        assert response.status_code < 500, label
        body = response.get_data(as_text=True)
        if label.startswith("partial"):
            body = f'<!DOCTYPE html><html lang="en-GB"><head><title>partial</title></head><body>{body}</body></html>'
        pages.append((label, body))

    client_request.sign_in(professional)
    get = client_request.client.get
    keep("forms page", get(forms_url(child) + "?added=1"))
    first = start(client_request, child)
    keep("page 1", get(first))
    keep("page 1 errors", client_request.post(first, data={"action": "continue", "consent_date-day": "40"}))
    keep("partial draft saved", client_request.post(first, data={"action": "draft", "child_views": "x"}, htmx=True))
    keep("partial draft errors", client_request.post(first, data={"action": "draft", "consent_date-day": "40"}, htmx=True))
    keep("page 2 errors", client_request.post(page_url(first, 2), data={"action": "continue"}))
    url = page_url(first, 4)
    keep("file errors", client_request.post(url, data={"action": "continue", "sen_support_plan": upload(EXE, "x.pdf")}))
    client_request.post(url, data={"action": "draft", "sen_support_plan": upload(PDF, "plan.pdf")})
    keep("file page with a file", get(url))
    check = first.replace("/pages/1", "/check")
    keep("check answers", get(check))
    keep("check answers errors", client_request.post(check.replace("/check", "/submit")))
    keep("forms page with draft", get(forms_url(child)))
    keep("delete draft", get(first.replace("/pages/1", "/delete")))
    for number, answers in enumerate(EHC_PAGES[:3], start=1):
        client_request.post(page_url(first, number), data=dict(answers, action="continue"))
    submitted = client_request.post(check.replace("/check", "/submit"))
    keep("confirmation", get(submitted.headers["Location"]))
    keep("view form", get(first.replace("/pages/1", "")))
    keep("thread empty", get(f"/send/people/{child.id}/messages"))
    keep("thread errors", client_request.post(f"/send/people/{child.id}/messages", data={"body": ""}))
    client_request.post(f"/send/people/{child.id}/messages", data={"body": "Hello"})
    sign_out(client_request)
    client_request.sign_in(admin)
    form_id = response_id(first)
    keep("inbox", get("/admin/inbox"))
    keep("inbox empty", get("/admin/inbox?status=rejected"))
    keep("inbox form", get(f"/admin/inbox/{form_id}"))
    keep("reject", get(f"/admin/inbox/{form_id}/reject"))
    keep("reject errors", client_request.post(f"/admin/inbox/{form_id}/reject", data={"reason": ""}))
    keep("messages overview", get("/admin/messages"))
    keep("child threads", get(f"/admin/people/{child.id}/messages"))
    thread = f"/admin/people/{child.id}/messages/{professional.id}"
    keep("admin thread", get(thread))
    keep("admin thread errors", client_request.post(thread, data={"body": "", "form_key": "bogus", "due-day": "x"}))
    client_request.post(thread, data={"body": "Please send a review", "form_key": REVIEW})
    client_request.post(f"/admin/inbox/{form_id}/reject", data={"reason": "Out of date"})
    keep("inbox form rejected", get(f"/admin/inbox/{form_id}"))
    sign_out(client_request)
    client_request.sign_in(professional)
    keep("thread with request", get(f"/send/people/{child.id}/messages"))
    keep("forms page with request", get(forms_url(child)))

    files = {}
    for n, (label, body) in enumerate(pages):
        path = tmp_path / f"page{n:03d}.html"
        path.write_text(body, encoding="utf-8")
        files[str(path)] = label
    errors = validity.vnu_errors([tmp_path / f"page{n:03d}.html" for n in range(len(pages))])
    problems = [
        f"{files.get(str(e.get('url', '')).removeprefix('file:'), e.get('url'))}: line {e.get('lastLine')}: {e.get('message')}"
        for e in errors
    ]
    assert not problems, "\n".join(problems[:40])


def test_a_stale_copy_of_a_draft_cannot_be_sent_twice(signed_in, child, professional):
    """Two requests that both read the draft before either sent it (a race
    the database, not the page, must settle): only one sends it."""
    from send_portal.forms import queries
    from send_portal.forms.definitions import load_catalogue

    check = complete_ehc_request(signed_in, child)
    stale = db.session.get(FormResponse, int(re.search(r"/forms/(\d+)/check", check).group(1)))
    assert stale.status == "draft"
    submit(signed_in, check)  # another request sends it meanwhile
    definition = load_catalogue().get(EHC)
    assert queries.submit(professional, stale, definition) is False
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == audit.FORM_SUBMITTED)) == 1
