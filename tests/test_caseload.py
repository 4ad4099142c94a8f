"""The Select Person page (SPEC section 2), as a professional sees it."""
from datetime import date, datetime, timedelta

from sqlalchemy import select

from send_portal.audit import DELETE_BY_PROFESSIONAL
from send_portal.extensions import db
from send_portal.models import SYSTEM_USER_ID, AuditEntry, Involvement, Person

from .conftest import row_names, text


def test_home_page_has_the_send_tile(client_request, professional):
    client_request.sign_in(professional)
    page = client_request.get("/home")
    link = page.find("a", string="Special Educational Needs and Disabilities")
    assert link["href"] == "/send/select-person"


def test_active_view_lists_the_professionals_children_with_case_status(client_request, professional, other_professional, make_person):
    make_person("Amelia", "Jones", professional, case_status="EHC plan issued")
    make_person("Oliver", "Brown", professional, status="awaiting")
    make_person("Not", "Mine", other_professional)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person")
    assert row_names(page) == ["Oliver Brown", "Amelia Jones"]
    headings = [text(th) for th in page.select("thead th")]
    assert "Case status" in headings
    rows = {text(tr.find("th")): text(tr) for tr in page.select("tbody tr")}
    assert "EHC plan issued" in rows["Amelia Jones"]
    assert "Awaiting authentication" in rows["Oliver Brown"]
    assert "14 March 2015" in rows["Amelia Jones"]
    assert text(page.find(id="caseload-count")) == "Showing 1 to 2 of 2 people"
    link = page.find("a", string="Amelia Jones")
    assert link["href"].startswith("/send/people/")


def test_contract_labels_are_present(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person")
    assert page.find("label", string="Person filter")["for"] == "person-filter"
    nav = page.find("nav", attrs={"aria-label": "Views"})
    assert [text(a) for a in nav.find_all("a")] == ["Active", "Hidden", "Recent (18 months)"]
    assert nav.find("a", attrs={"aria-current": "page"}).get_text() == "Active"
    buttons = [text(b) for b in page.find_all("button")]
    for name in ("Add Person", "Hide Person", "Delete Person"):
        assert name in buttons
    assert "Unhide Person" not in buttons
    label = page.find("label", attrs={"for": page.find("input", attrs={"name": "person_id"})["id"]})
    # SPEC section 7: "Select" and the full name (a name that repeats on the
    # page adds the date of birth: tests/test_accessibility_review.py).
    assert text(label) == "Select Amelia Jones"
    # Select all is made by portal.js (tests/browser/test_actions.py); without
    # scripts its cell names the column, and offers no box that would do nothing.
    select_cell = page.find(attrs={"data-select-all": True})
    assert select_cell.name == "td" and text(select_cell) == "Select"
    assert page.find(id="select-all") is None
    live = page.find(id="caseload-status")
    assert live["role"] == "status" and live["aria-live"] == "polite"


def test_paging_fifty_a_page_with_count(client_request, professional, make_person):
    for n in range(120):
        make_person(f"Child{n:03d}", "Test", professional)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person")
    assert len(row_names(page)) == 50
    assert text(page.find(id="caseload-count")) == "Showing 1 to 50 of 120 people"
    page3 = client_request.get("/send/select-person?page=3")
    assert text(page3.find(id="caseload-count")) == "Showing 101 to 120 of 120 people"
    assert len(row_names(page3)) == 20
    # Past the last page shows the last page, not an error.
    assert text(client_request.get("/send/select-person?page=99").find(id="caseload-count")) == "Showing 101 to 120 of 120 people"


def test_large_counts_are_written_with_commas(app):
    from send_portal.pagination import Page

    page = Page(rows=[], total=1240, page=1, page_size=50)
    assert (page.first, page.last, page.page_count) == (1, 50, 25)


def test_filter_matches_start_of_any_name_word_either_order_ignoring_case_and_accents(client_request, professional, make_person):
    make_person("Zoë", "Smith-Jones", professional)
    make_person("Mary-Jane", "O'Brien", professional)
    make_person("Amelia", "Jones", professional)
    make_person("Jonah", "Brown", professional)
    client_request.sign_in(professional)

    def names(q):
        return sorted(row_names(client_request.get(f"/send/select-person?q={q}")))

    assert names("zoe") == ["Zoë Smith-Jones"]
    assert names("ZOË") == ["Zoë Smith-Jones"]
    assert names("jon") == ["Amelia Jones", "Jonah Brown", "Zoë Smith-Jones"]
    assert names("jones amelia") == ["Amelia Jones"]
    assert names("amelia jones") == ["Amelia Jones"]
    assert names("brien") == ["Mary-Jane O'Brien"]
    assert names("jane") == ["Mary-Jane O'Brien"]
    assert names("melia") == []  # the start of a word, not the middle
    assert names("") == ["Amelia Jones", "Jonah Brown", "Mary-Jane O'Brien", "Zoë Smith-Jones"]


def test_filter_partial_is_the_same_markup_as_the_page(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    make_person("Oliver", "Brown", professional)
    client_request.sign_in(professional)
    full = client_request.get("/send/select-person?q=ame")
    partial = client_request.get("/send/select-person?q=ame", htmx=True)
    assert partial.response.headers["Vary"].startswith("HX-Request") or "HX-Request" in partial.response.headers["Vary"]
    assert full.response.headers.get("Vary") and "HX-Request" in full.response.headers["Vary"]
    assert partial.find("h1") is None
    assert str(partial.select_one("#caseload-results table")) == str(full.select_one("#caseload-results table"))
    status = partial.find(id="caseload-status")
    assert status["hx-swap-oob"] == "innerHTML"
    assert text(status) == "1 person found"


def test_no_results_is_said_plainly(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    partial = client_request.get("/send/select-person?q=xyz", htmx=True)
    assert text(partial.find(id="caseload-status")) == "No people found"
    assert "No people found" in text(partial.find(id="caseload-count"))
    assert partial.find("table") is None


def test_history_restore_gets_the_full_page(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    page = client_request.get(
        "/send/select-person/hidden", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert page.find("h1")


def test_filter_applies_within_every_view_and_is_kept_in_view_links(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional, hidden=True)
    make_person("Amelia", "Brown", professional)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person/hidden?q=ame")
    assert row_names(page) == ["Amelia Jones"]
    nav = page.find("nav", attrs={"aria-label": "Views"})
    assert nav.find("a", string="Active")["href"] == "/send/select-person?q=ame"
    assert nav.find("a", attrs={"aria-current": "page"}).get_text() == "Hidden"
    assert page.find("input", attrs={"name": "q"})["value"] == "ame"


def test_views_active_hidden_recent(client_request, professional, make_person):
    now = datetime.now()
    make_person("Active", "Recent", professional, last_activity=now - timedelta(days=3))
    make_person("Active", "Old", professional, last_activity=now - timedelta(days=600))
    make_person("Active", "Never", professional)
    make_person("Hidden", "Recent", professional, hidden=True, last_activity=now - timedelta(days=1))
    make_person("Ended", "Recent", professional, ended_on=date.today() - timedelta(days=30), last_activity=now - timedelta(days=10))
    make_person("Ended", "Old", professional, ended_on=date.today() - timedelta(days=30), last_activity=now - timedelta(days=700))
    make_person("Awaiting", "Recent", professional, status="awaiting", last_activity=now - timedelta(days=5))
    deleted = make_person("Deleted", "Recent", professional, last_activity=now)
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == deleted.id))
    involvement.deleted_at = now
    involvement.status = "unauthenticated"
    db.session.commit()
    client_request.sign_in(professional)

    active = row_names(client_request.get("/send/select-person"))
    assert sorted(active) == ["Active Never", "Active Old", "Active Recent", "Awaiting Recent"]
    assert row_names(client_request.get("/send/select-person/hidden")) == ["Hidden Recent"]
    # Most recent first; never hidden or deleted; ended involvements count.
    recent = client_request.get("/send/select-person/recent")
    assert row_names(recent) == ["Active Recent", "Awaiting Recent", "Ended Recent"]
    assert recent.find("nav", attrs={"aria-label": "Views"}).find("a", attrs={"aria-current": "page"}).get_text() == "Recent (18 months)"


def test_unknown_view_and_bad_page_are_clear_4xx(client_request, professional):
    client_request.sign_in(professional)
    client_request.get("/send/select-person/everyone", expected_status=404)
    page = client_request.get("/send/select-person?page=abc", expected_status=400)
    assert "whole number" in text(page)
    client_request.get("/send/select-person?q=" + "a" * 500, expected_status=400)


def _ids(*people):
    return [str(p.id) for p in people]


def test_hide_without_javascript_asks_for_confirmation_then_hides(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    oliver = make_person("Oliver", "Brown", professional)
    client_request.sign_in(professional)
    response = client_request.post(
        "/send/select-person/hide", {"person_id": _ids(amelia, oliver), "view": "active", "q": "", "page": "1"}, expected_status=200
    )
    confirm = client_request.parse(response)
    assert "Amelia Jones" in text(confirm) and "Oliver Brown" in text(confirm)
    assert confirm.find("button", string="Yes, hide 2 people")
    assert confirm.find("a", string="Cancel")["href"] == "/send/select-person"
    # Nothing changed yet.
    assert db.session.scalar(select(Involvement).where(Involvement.person_id == amelia.id)).hidden_at is None

    response = client_request.post(
        "/send/select-person/hide",
        {"person_id": _ids(amelia, oliver), "view": "active", "q": "", "page": "1", "confirmed": "yes"},
        expected_status=303,
    )
    assert response.headers["Location"] == "/send/select-person"
    page = client_request.get("/send/select-person")
    assert row_names(page) == []
    assert "2 people hidden" in text(page.find(id="caseload-status"))
    assert sorted(row_names(client_request.get("/send/select-person/hidden"))) == ["Amelia Jones", "Oliver Brown"]


def test_hide_with_htmx_rerenders_rows_in_place_keeping_filter_and_view(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    make_person("Amanda", "Brown", professional)
    make_person("Oliver", "Smith", professional)
    client_request.sign_in(professional)
    response = client_request.post(
        "/send/select-person/hide",
        {"person_id": _ids(amelia), "view": "active", "q": "am", "page": "1", "confirmed": "yes"},
        htmx=True,
        expected_status=200,
    )
    partial = client_request.parse(response, partial=True)
    assert row_names(partial) == ["Amanda Brown"]
    assert text(partial.find(id="caseload-status")) == "Success 1 person hidden"
    assert partial.find(id="caseload-message")
    assert partial.find("input", attrs={"name": "q"})["value"] == "am"


def test_unhide_needs_no_confirmation(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional, hidden=True)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person/hidden")
    assert page.find("button", string="Unhide Person")
    assert page.find("button", string="Hide Person") is None
    response = client_request.post(
        "/send/select-person/unhide", {"person_id": _ids(amelia), "view": "hidden"}, expected_status=303
    )
    # Back to the hidden list, which says what was done (the flashed message
    # is shown once: on the page the redirect leads to).
    assert response.headers["Location"] == "/send/select-person/hidden"
    hidden = client_request.get(response.headers["Location"])
    assert text(hidden.find(id="caseload-status")) == "Success 1 person unhidden"
    assert row_names(hidden) == []
    assert row_names(client_request.get("/send/select-person")) == ["Amelia Jones"]


def test_hide_changes_nothing_else(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional, case_status="EHC plan issued")
    client_request.sign_in(professional)
    client_request.post("/send/select-person/hide", {"person_id": _ids(amelia), "view": "active", "confirmed": "yes"}, expected_status=303)
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == amelia.id))
    db.session.refresh(involvement)
    assert involvement.status == "authenticated" and involvement.deleted_at is None
    client_request.get(f"/send/people/{amelia.id}")  # still their child


def test_selecting_nobody_gets_a_clear_message(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    response = client_request.post("/send/select-person/hide", {"view": "active"}, expected_status=303)
    page = client_request.get(response.headers["Location"])
    assert "Select at least one person to hide" in text(page.find(id="caseload-status"))
    response = client_request.post("/send/select-person/delete", {"view": "active"}, htmx=True, expected_status=200)
    partial = client_request.parse(response, partial=True)
    assert "Select at least one person to delete" in text(partial.find(id="caseload-status"))


def test_delete_unauthenticates_removes_everywhere_and_audits(client_request, professional, make_person, other_professional):
    amelia = make_person("Amelia", "Jones", professional, last_activity=datetime.now())
    make_person("Amelia", "Jones", other_professional)
    client_request.sign_in(professional)
    confirm = client_request.parse(
        client_request.post("/send/select-person/delete", {"person_id": _ids(amelia), "view": "active"}, expected_status=200)
    )
    assert confirm.find("button", string="Yes, delete 1 person")
    assert "unauthenticated" in text(confirm)
    client_request.post(
        "/send/select-person/delete", {"person_id": _ids(amelia), "view": "active", "confirmed": "yes"}, expected_status=303
    )
    for url in ("/send/select-person", "/send/select-person/hidden", "/send/select-person/recent"):
        assert row_names(client_request.get(url)) == []
    client_request.get(f"/send/people/{amelia.id}", expected_status=404)
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == amelia.id, Involvement.professional_id == professional.id))
    assert involvement.status == "unauthenticated" and involvement.deleted_at is not None
    assert db.session.get(Person, amelia.id) is not None  # the authority keeps its record
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == DELETE_BY_PROFESSIONAL)).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.action == "Unauthenticated as professional deleted student on Professional Portal"
    assert entry.changed_by_id == SYSTEM_USER_ID == 1
    assert entry.changed_by.email == "sysadmin"
    assert entry.professional_given_name == "Sam"
    assert entry.professional_portal_name == "sam.patel@school.example"
    assert entry.person_id == amelia.id and entry.person_name == "Amelia Jones"


def test_delete_from_hidden_view_with_htmx(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional, hidden=True)
    client_request.sign_in(professional)
    response = client_request.post(
        "/send/select-person/delete", {"person_id": _ids(amelia), "view": "hidden", "confirmed": "yes"}, htmx=True, expected_status=200
    )
    partial = client_request.parse(response, partial=True)
    assert "1 person deleted" in text(partial.find(id="caseload-status"))
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == DELETE_BY_PROFESSIONAL)) is not None


def test_ids_that_are_not_theirs_change_nothing_and_reveal_nothing(client_request, professional, other_professional, make_person):
    theirs = make_person("Secret", "Child", other_professional)
    client_request.sign_in(professional)
    for action in ("hide", "delete"):
        response = client_request.post(
            f"/send/select-person/{action}", {"person_id": _ids(theirs), "view": "active", "confirmed": "yes"}, expected_status=303
        )
        page = client_request.get(response.headers["Location"])
        assert "Secret" not in text(page)
    involvement = db.session.scalar(select(Involvement).where(Involvement.person_id == theirs.id))
    db.session.refresh(involvement)
    assert involvement.hidden_at is None and involvement.deleted_at is None and involvement.status == "authenticated"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == DELETE_BY_PROFESSIONAL)) is None
    client_request.get(f"/send/people/{theirs.id}", expected_status=404)
    client_request.get("/send/people/999999", expected_status=404)


def test_malformed_ids_are_a_clear_400_and_change_nothing(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    response = client_request.post(
        "/send/select-person/hide", {"person_id": [str(amelia.id), "1; DROP TABLE person"], "view": "active", "confirmed": "yes"}, expected_status=400
    )
    assert b"could not be read" in response.data
    assert db.session.scalar(select(Involvement).where(Involvement.person_id == amelia.id)).hidden_at is None
    client_request.post("/send/select-person/unhide", {"person_id": [str(amelia.id)], "view": "active"}, expected_status=400)
    client_request.post("/send/select-person/hide", {"person_id": [str(amelia.id)], "view": "sideways"}, expected_status=400)


def test_unverified_professional_sees_no_children(client_request, make_user, make_person):
    newcomer = make_user("New", "Starter", verified=False)
    child = make_person("Amelia", "Jones", newcomer)
    client_request.sign_in(newcomer)
    page = client_request.get("/send/select-person")
    assert row_names(page) == []
    assert "waiting for" in text(page)
    client_request.get(f"/send/people/{child.id}", expected_status=404)


def test_admin_cannot_use_the_caseload(client_request, admin):
    client_request.sign_in(admin)
    client_request.get("/send/select-person", expected_status=404)
    client_request.post("/send/select-person/hide", {"view": "active"}, expected_status=404)


def test_child_page_shows_details_and_status_only_once_authenticated(client_request, professional, make_person):
    amelia = make_person("Amelia", "Jones", professional, case_status="EHC plan issued")
    oliver = make_person("Oliver", "Brown", professional, status="awaiting", case_status="EHC plan issued")
    client_request.sign_in(professional)
    page = client_request.get(f"/send/people/{amelia.id}")
    assert text(page.find("h1")) == "Amelia Jones"
    assert "EHC plan issued" in text(page)
    page = client_request.get(f"/send/people/{oliver.id}")
    assert "Awaiting authentication" in text(page)
    assert "EHC plan issued" not in text(page)


def test_htmx_request_after_session_expiry_gets_hx_redirect(client):
    response = client.get("/send/select-person?q=am", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in")
    response = client.get("/send/select-person")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_names_typed_without_their_punctuation_are_found(client_request, professional, make_person):
    make_person("Mary-Jane", "O'Brien", professional)
    make_person("Mary", "Jane", professional)
    client_request.sign_in(professional)
    assert row_names(client_request.get("/send/select-person?q=obrien")) == ["Mary-Jane O'Brien"]
    assert row_names(client_request.get("/send/select-person?q=o'brien")) == ["Mary-Jane O'Brien"]
    assert row_names(client_request.get("/send/select-person?q=maryjane")) == ["Mary-Jane O'Brien"]
    assert sorted(row_names(client_request.get("/send/select-person?q=mary-jane"))) == ["Mary Jane", "Mary-Jane O'Brien"]


def test_the_partial_carries_the_page_title_and_the_views(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional)
    client_request.sign_in(professional)
    partial = client_request.get("/send/select-person/hidden?q=am", htmx=True)
    results = partial.find(id="caseload-results")
    assert results["data-page-title"].startswith("Hidden, filtered by “am” – Select Person – SEND Professional Portal")
    nav = results.find("nav", attrs={"aria-label": "Views"})
    assert nav.find("a", string="Active")["href"] == "/send/select-person?q=am"


def test_an_htmx_post_with_an_expired_session_is_sent_to_sign_in(client):
    response = client.post("/send/select-person/hide", data={"view": "active"},
                           headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/send/select-person?q=am"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/sign-in?next=/send/select-person?q%3Dam"


def test_huge_ids_and_odd_digits_are_not_found_or_refused(client_request, professional):
    client_request.sign_in(professional)
    assert client_request.client.get("/send/people/9223372036854775808").status_code == 404
    assert client_request.client.get("/send/select-person?page=²").status_code == 400
    assert client_request.client.get("/send/select-person?q=a%00b").status_code == 400


def test_rows_escape_what_names_hold_in_the_page_and_the_partial(client_request, professional, make_person):
    """The rows are written by caseload.rows, not by Jinja's autoescaping:
    whatever a name holds is text, in the link, the row heading and the
    Select label alike."""
    person = make_person('<b>Zoë</b>', 'O\'Brien & "Sons"', professional)
    client_request.sign_in(professional)
    for htmx in (False, True):
        page = client_request.get("/send/select-person", htmx=htmx)
        assert page.find("b") is None
        assert row_names(page) == ['<b>Zoë</b> O\'Brien & "Sons"']
        box = page.find("input", attrs={"name": "person_id"})
        assert box["value"] == str(person.id) and box["id"] == f"select-{person.id}"
        assert text(page.find("label", attrs={"for": box["id"]})) == 'Select <b>Zoë</b> O\'Brien & "Sons"'
        assert page.select_one("tbody th a")["href"] == f"/send/people/{person.id}"
        html = page.response.get_data(as_text=True)
        assert "&lt;b&gt;Zoë&lt;/b&gt; O&#39;Brien &amp; &#34;Sons&#34;" in html


def test_recent_rows_show_the_date_of_the_last_activity(client_request, professional, make_person):
    make_person("Amelia", "Jones", professional, last_activity=datetime.now() - timedelta(days=3))
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person/recent")
    headings = [text(th) for th in page.select("thead th")]
    assert headings[-1] == "Last activity"
    cells = [text(td) for td in page.select("tbody tr")[0].find_all("td")]
    assert cells[-1] == f"{(datetime.now() - timedelta(days=3)):%-d %B %Y}"
    assert len(page.select("tbody tr")[0].find_all(["td", "th"])) == len(page.select("thead th, thead td"))


def test_page_links_keep_the_filter_and_the_view(client_request, professional, make_person):
    for n in range(260):
        make_person(f"Amelia{n:03d}", "Jones & Co", professional, hidden=True)
    client_request.sign_in(professional)
    page = client_request.get("/send/select-person/hidden?q=am+jo&page=3", htmx=True)
    nav = page.find("nav", attrs={"aria-label": "Pages of people"})
    links = {text(a): a["href"] for a in nav.find_all("a")}
    assert links["1"] == "/send/select-person/hidden?q=am+jo"
    assert links["4"] == "/send/select-person/hidden?q=am+jo&page=4"
    assert links["6"] == "/send/select-person/hidden?q=am+jo&page=6"
    assert links["Previous page"] == "/send/select-person/hidden?q=am+jo&page=2"
    assert links["Next page"] == "/send/select-person/hidden?q=am+jo&page=4"
    assert set(links) == {"Previous page", "1", "2", "3", "4", "6", "Next page"}
    assert nav.find("a", attrs={"aria-current": "page"})["aria-label"] == "Page 3"
    assert [text(li) for li in nav.select("li.govuk-pagination__item--ellipses")] == ["⋯"]
    for a in nav.find_all("a"):
        assert a["hx-get"] == a["href"] and a["hx-target"] == "#caseload-results"
