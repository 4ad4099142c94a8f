"""The statutory clock (issue 15): deadline arithmetic, statuses, the
prediction and its words, and the /admin/clock page, its htmx partial, its
filters, paging and CSV, and who may see it."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text as sql

from send_portal.clock import deadlines as dl
from send_portal.clock import queries
from send_portal.clock.prediction import STATUTORY, Advice, Medians, assess
from send_portal.extensions import db
from send_portal.forms.models import FormRequest, FormResponse
from send_portal.models import Involvement, InvolvementStatus, Person

from .conftest import text

TODAY = date(2026, 3, 2)  # a Monday


# --- arithmetic -------------------------------------------------------------------

@pytest.mark.parametrize("start, months, expected", [
    (date(2024, 2, 29), 12, date(2025, 2, 28)),  # leap day, a year on
    (date(2023, 2, 28), 12, date(2024, 2, 28)),
    (date(2023, 8, 31), 6, date(2024, 2, 29)),  # month end into a leap February
    (date(2025, 8, 31), 6, date(2026, 2, 28)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
])
def test_add_months_keeps_to_the_month_end(start, months, expected):
    assert dl.add_months(start, months) == expected


def test_statutory_deadlines_are_calendar_weeks_across_month_ends_and_leap_years():
    assert dl.due("decision", date(2024, 1, 31)) == date(2024, 3, 13)  # through 29 February 2024
    assert dl.due("decision", date(2023, 1, 31)) == date(2023, 3, 14)
    assert dl.due("final", date(2024, 2, 29)) == date(2024, 7, 18)
    assert dl.due("final", date(2023, 10, 16)) == date(2024, 3, 4)
    assert dl.due("draft", date(2025, 12, 31)) == date(2026, 4, 22)
    assert dl.due("advice", date(2026, 1, 20)) == date(2026, 3, 3)
    assert dl.due("review", date(2024, 2, 29)) == date(2025, 2, 28)


@pytest.mark.parametrize("now, expected", [
    (datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc), date(2026, 7, 1)),  # BST: already tomorrow in London
    (datetime(2026, 6, 30, 22, 59, tzinfo=timezone.utc), date(2026, 6, 30)),
    (datetime(2026, 6, 30, 23, 0, tzinfo=timezone.utc), date(2026, 7, 1)),
    (datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), date(2026, 12, 31)),  # GMT: the same date
    (datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc), date(2026, 3, 29)),  # the clocks go forward at 01:00
    (datetime(2024, 2, 28, 23, 30), date(2024, 2, 28)),  # naive is UTC; GMT in February
    (datetime(2024, 5, 31, 23, 30), date(2024, 6, 1)),
])
def test_today_is_the_london_date(now, expected):
    assert dl.london_today(now) == expected


def test_week_of_the_twenty_counts_from_the_request():
    received = date(2026, 1, 1)
    assert dl.week_of_twenty(received, received) == 1
    assert dl.week_of_twenty(received, received + timedelta(days=6)) == 1
    assert dl.week_of_twenty(received, received + timedelta(days=7)) == 2
    assert dl.week_of_twenty(received, received + timedelta(days=139)) == 20
    assert dl.week_of_twenty(received, received + timedelta(days=140)) == 21
    assert dl.week_of_twenty(date(2024, 2, 29), date(2024, 3, 7)) == 2


def test_statuses_from_the_date():
    assert dl.date_status(TODAY - timedelta(days=1), TODAY) == dl.OVERDUE
    assert dl.date_status(TODAY, TODAY) == dl.DUE_THIS_WEEK
    assert dl.date_status(TODAY + timedelta(days=6), TODAY) == dl.DUE_THIS_WEEK
    assert dl.date_status(TODAY + timedelta(days=7), TODAY) == dl.ON_TRACK


# --- records ----------------------------------------------------------------------

def _case(make_person, name="Amelia Jones", received=None, decided=None, draft=None, final=None, review=None,
          status="Assessment in progress", professional=None, outcome=None, reason=None):
    given, family = name.split(" ", 1)
    person = make_person(given, family, professional=professional, case_status=status)
    person.request_received_on = received
    person.assessment_decision_on = decided
    person.draft_plan_on = draft
    person.final_plan_on = final
    person.next_review_on = review
    person.assessment_outcome = outcome
    person.twenty_week_exception_reason = reason
    db.session.commit()
    return person


def test_the_stored_clock_follows_every_write(app, make_person):
    person = _case(make_person, received=date(2026, 1, 5))
    assert (person.clock_stage, person.clock_due_on) == (dl.REQUEST, date(2026, 2, 16))
    person.assessment_decision_on = date(2026, 2, 10)
    db.session.commit()
    assert (person.clock_stage, person.clock_due_on) == (dl.ASSESSMENT, date(2026, 4, 27))
    person.draft_plan_on = date(2026, 4, 1)
    db.session.commit()
    assert (person.clock_stage, person.clock_due_on) == (dl.DRAFT, date(2026, 5, 25))
    person.final_plan_on = date(2024, 2, 29)
    db.session.commit()
    assert (person.clock_stage, person.clock_due_on) == (dl.REVIEW, date(2025, 2, 28))
    person.next_review_on = date(2026, 9, 1)
    db.session.commit()
    assert person.clock_due_on == date(2026, 9, 1)
    person.case_status = "Plan ceased"
    db.session.commit()
    row = db.session.execute(sql("SELECT clock_stage, clock_due_on FROM person WHERE id = :id"), {"id": person.id}).one()
    assert tuple(row) == (None, None)


def test_a_decision_not_to_assess_closes_the_case(app, make_person):
    person = _case(make_person, received=date(2026, 1, 5), decided=date(2026, 2, 1), outcome=dl.NOT_ASSESS)
    assert person.clock_due_on is None


# --- prediction -------------------------------------------------------------------

class Case:
    def __init__(self, stage, received, decided=None, draft=None):
        self.clock_stage, self.request_received_on = stage, received
        self.assessment_decision_on, self.draft_plan_on = decided, draft
        self.final_plan_on, self.next_review_on, self.case_status, self.assessment_outcome = None, None, "x", None
        self.clock_due_on = dl.next_deadline(self)[1]


def test_without_history_the_statutory_times_keep_a_fresh_case_on_track():
    case = Case(dl.REQUEST, TODAY - timedelta(days=7))
    result = assess(case, [], STATUTORY, TODAY)
    assert result.status == dl.ON_TRACK and result.why == ""
    assert STATUTORY.words("advice") == "advice is taken at the statutory 42 days (too little history here)"


def test_a_slow_authority_puts_a_request_at_risk_and_says_why():
    slow = Medians.from_samples({"decision": [50, 49, 51, 60, 40]})
    case = Case(dl.REQUEST, TODAY - timedelta(days=7))
    result = assess(case, [], slow, TODAY)
    assert result.status == dl.AT_RISK
    assert result.why == ("The decision whether to assess is due 6 April 2026; "
                          "the decision whether to assess has taken a median of 50 days here")


def test_outstanding_advice_at_the_median_puts_an_assessment_at_risk():
    m = Medians.from_samples({"advice": [38, 38, 30, 45, 40]})
    received = TODAY - timedelta(days=85)
    case = Case(dl.ASSESSMENT, received, decided=received + timedelta(days=20))
    asked_on = received + timedelta(days=80)
    advice = [Advice(1, asked_on, True), Advice(2, asked_on, False), Advice(3, asked_on, False)]
    result = assess(case, advice, m, TODAY)
    assert result.status == dl.AT_RISK
    assert result.why == "Advice from 2 of 3 professionals outstanding; advice has taken a median of 38 days here"
    # All answered: nothing waits, and the statutory times leave it on track.
    done = [Advice(1, asked_on, True), Advice(2, asked_on, True), Advice(3, asked_on, True)]
    assert assess(case, done, m, TODAY).status == dl.ON_TRACK


def test_too_little_history_falls_back_to_the_statutory_time():
    m = Medians.from_samples({"decision": [90, 90, 90, 90]})  # four: not enough
    assert m.days["decision"] == 42 and not m.from_history["decision"]


def test_the_medians_come_from_the_authoritys_history(app, make_person, professional, admin):
    for i in range(5):
        _case(make_person, f"Past Child{i}", received=date(2025, 1, 6), decided=date(2025, 1, 6) + timedelta(days=50 + i),
              status="EHC plan issued")
    person = make_person("Advice", "Giver", professional=professional)
    involvement = db.session.query(Involvement).filter_by(person_id=person.id).one()
    for i in range(5):
        request = FormRequest(involvement_id=involvement.id, form_key="advice", title="Advice", due_on=date(2025, 3, 1),
                              requested_by_id=admin.id, requested_at=datetime(2025, 1, 10, 23, 30))  # 10 January in London
        db.session.add(request)
        db.session.flush()
        db.session.add(FormResponse(involvement_id=involvement.id, form_key="advice", title="Advice", status="submitted",
                                    form_request_id=request.id, submitted_at=datetime(2025, 2, 17, 9, 0)))
    db.session.commit()
    m = queries.compute_medians()
    assert m.days["decision"] == 52 and m.from_history["decision"]
    assert m.days["advice"] == 38 and m.from_history["advice"]
    assert not m.from_history["final"]


# --- the page ---------------------------------------------------------------------

@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(dl, "london_today", lambda now=None: TODAY)
    return TODAY


@pytest.fixture
def cases(app, make_person, professional, other_professional, today):
    """Five open cases and two closed ones, around TODAY."""
    other_professional.organisation = "Educational Psychology Service"
    db.session.commit()
    made = {
        "overdue": _case(make_person, "Olly Overdue", received=TODAY - timedelta(days=50), professional=professional),
        "this_week": _case(make_person, "Wendy Week", received=TODAY - timedelta(days=40), professional=other_professional),
        "on_track": _case(make_person, "Tara Track", received=TODAY - timedelta(days=10)),
        "draft": _case(make_person, "Dan Draft", received=TODAY - timedelta(days=120), decided=TODAY - timedelta(days=90),
                       draft=TODAY - timedelta(days=20)),
        "review": _case(make_person, "Rhea Review", received=date(2024, 1, 1), decided=date(2024, 2, 1),
                        draft=date(2024, 4, 1), final=date(2024, 5, 1), review=TODAY + timedelta(days=100),
                        status="EHC plan issued", reason="B"),
        "closed": _case(make_person, "Cleo Closed", received=TODAY - timedelta(days=50), status="Plan ceased"),
        "none": _case(make_person, "Nina None", status="No open case"),
    }
    return made


def _rows(page):
    return [text(th.find("a")) for th in page.select("#clock-results tbody th[scope=row]") if th.find("a")]


def test_the_clock_lists_open_cases_next_deadline_first_with_counts(client_request, admin, cases):
    client_request.sign_in(admin)
    page = client_request.get("/admin/clock")
    assert text(page.h1) == "Statutory clock"
    assert _rows(page) == ["Olly Overdue", "Wendy Week", "Dan Draft", "Tara Track", "Rhea Review"]
    counts = [text(li) for li in page.select("#clock-counts li")]
    assert counts == ["5 open cases", "Overdue: 1", "Due this week: 1", "At risk: 0", "On track: 3"]
    first = [text(td) for td in page.select("#clock-results tbody tr")[0].find_all("td")]
    assert first[0] == "Deciding whether to assess"
    assert first[1] == "Week 8"
    assert first[2] == "Decision whether to assess: 22 February 2026"
    assert first[3] == "Overdue"  # as text, not colour alone
    review = [text(td) for td in page.select("#clock-results tbody tr")[4].find_all("td")]
    assert review[1] == "Plan issued" and review[2].startswith("Annual review: ")
    assert "20-week exception B" in review[4]
    assert text(page.select_one("#clock-count")) == "Showing 1 to 5 of 5 children, next deadline first"
    assert page.response.headers["Vary"] and "HX-Request" in page.response.headers["Vary"]


def test_filters_by_stage_status_professional_and_organisation(client_request, admin, cases, professional):
    client_request.sign_in(admin)
    assert _rows(client_request.get("/admin/clock?stage=draft")) == ["Dan Draft"]
    assert _rows(client_request.get("/admin/clock?status=overdue")) == ["Olly Overdue"]
    assert _rows(client_request.get("/admin/clock?status=due_this_week")) == ["Wendy Week"]
    assert _rows(client_request.get("/admin/clock?status=on_track")) == ["Dan Draft", "Tara Track", "Rhea Review"]
    assert _rows(client_request.get("/admin/clock?status=at_risk")) == []
    assert _rows(client_request.get(f"/admin/clock?professional={professional.email.upper()}")) == ["Olly Overdue"]
    assert _rows(client_request.get("/admin/clock?organisation=educational+psychology++service")) == ["Wendy Week"]
    page = client_request.get("/admin/clock?professional=nobody@example.com")
    assert _rows(page) == [] and text(page.select_one("#clock-count")) == "No children found. Try fewer filters."
    assert page.title.string.startswith("Statutory clock, filtered –")


@pytest.mark.parametrize("query", ["stage=nonsense", "status=late", "professional=" + "a" * 255, "page=two"])
def test_bad_filters_are_a_clear_400(client_request, admin, cases, query):
    client_request.sign_in(admin)
    response = client_request.get_response(f"/admin/clock?{query}")
    assert response.status_code == 400


def test_at_risk_is_counted_filtered_and_explained(client_request, admin, cases, make_person, app):
    # History: the decision has taken 60 days here.
    for i in range(5):
        _case(make_person, f"Past Child{i}", received=date(2025, 1, 6), decided=date(2025, 3, 7), status="EHC plan issued")
    queries.forget_medians()
    client_request.sign_in(admin)
    page = client_request.get("/admin/clock")
    assert "At risk: 1" in [text(li) for li in page.select("#clock-counts li")]
    risky = client_request.get("/admin/clock?status=at_risk")
    assert _rows(risky) == ["Tara Track"]
    why = text(risky.select("#clock-results tbody tr")[0].find_all("td")[4])
    assert why == ("The decision whether to assess is due 3 April 2026; "
                   "the decision whether to assess has taken a median of 60 days here.")
    assert _rows(client_request.get("/admin/clock?status=on_track")) == ["Dan Draft", "Rhea Review"]
    # With the professional filter too (its own join of the involvements).
    assert _rows(client_request.get("/admin/clock?status=at_risk&organisation=Riverside+Primary+School")) == []
    assert _rows(client_request.get("/admin/clock?status=overdue&organisation=Riverside+Primary+School")) == ["Olly Overdue"]


def test_paging(client_request, admin, cases, app):
    app.config["PAGE_SIZE"] = 2
    client_request.sign_in(admin)
    page = client_request.get("/admin/clock?page=2")
    assert _rows(page) == ["Dan Draft", "Tara Track"]
    assert page.title.string.startswith("Statutory clock, page 2 –")
    assert page.select_one("nav.govuk-pagination a[aria-current=page]").get_text() == "2"
    assert _rows(client_request.get("/admin/clock?page=99")) == ["Rhea Review"]  # past the end: the last page


def test_htmx_gets_the_results_partial_and_a_live_announcement(client_request, admin, cases):
    client_request.sign_in(admin)
    part = client_request.get("/admin/clock?stage=request", htmx=True)
    assert part.find("html") is None and part.find("h1") is None
    assert part.select_one("#clock-results") is not None
    status = part.select_one("#clock-status[hx-swap-oob]")
    assert text(status) == "3 children found"
    assert part.response.headers["Vary"] == "HX-Request" or "HX-Request" in part.response.headers["Vary"]
    full = client_request.get("/admin/clock?stage=request", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert full.find("h1") is not None
    form = client_request.get("/admin/clock").select_one("form[role=search]")
    assert form["method"] == "get" and form["hx-push-url"] == "true" and form["data-focus-after"] == "#clock-heading"
    assert form.find("button", type="submit")


def test_the_picture_is_an_svg_with_the_same_figures_in_a_table(client_request, admin, cases):
    client_request.sign_in(admin)
    page = client_request.get("/admin/clock")
    svg = page.select_one("svg#clock-weeks-chart")
    assert svg["role"] == "img" and svg.find("title") and svg.find("desc")
    week_rows = {text(tr.th): text(tr.td) for tr in page.select("#clock-weeks-caption")[0].find_parent("table").select("tbody tr")}
    assert week_rows["Week 2"] == "1" and week_rows["Week 6"] == "1" and week_rows["Week 8"] == "1"
    assert week_rows["Week 18"] == "1" and week_rows["Past week 20"] == "0"  # Dan Draft: 120 days in
    assert len(svg.find_all("rect")) == 21


def test_breaches_by_month(client_request, admin, make_person, today):
    late = _case(make_person, "Lara Late", received=date(2025, 9, 1), decided=date(2025, 10, 1), draft=date(2025, 12, 1),
                 final=date(2026, 2, 2), status="EHC plan issued", reason="A")
    _case(make_person, "Ivy Intime", received=date(2025, 9, 1), decided=date(2025, 10, 1), draft=date(2025, 12, 1),
          final=date(2026, 1, 19), status="EHC plan issued")
    assert late.final_plan_on > dl.due("final", late.request_received_on)
    client_request.sign_in(admin)
    page = client_request.get("/admin/clock")
    table = page.select_one("#clock-breaches-caption").find_parent("table")
    rows = {text(tr.th): [text(td) for td in tr.find_all("td")] for tr in table.select("tbody tr")}
    assert len(rows) == 12 and list(rows)[-1] == "March 2026"
    assert rows["February 2026"] == ["1"] and rows["January 2026"] == ["0"]


def test_csv_export_uses_the_filters_and_defuses_formulas(client_request, admin, cases, make_person):
    _case(make_person, "=HYPERLINK(1) Evil", received=TODAY - timedelta(days=3))
    client_request.sign_in(admin)
    response = client_request.get_response("/admin/clock/cases.csv?stage=request")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Person ID", "Name", "LA reference"]
    names = [r[1] for r in rows[1:]]
    assert names == ["Olly Overdue", "Wendy Week", "Tara Track", "'=HYPERLINK(1) Evil"]
    assert rows[1][7] == "Overdue"
    assert client_request.get_response("/admin/clock/cases.csv?status=nope").status_code == 400


def test_only_la_admins_see_the_clock(client, client_request, professional):
    for url in ("/admin/clock", "/admin/clock/cases.csv", "/admin/clock/sen2"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    client_request.sign_in(professional)
    for url in ("/admin/clock", "/admin/clock/cases.csv", "/admin/clock/sen2?census-day=1&census-month=1&census-year=2026"):
        assert client_request.get_response(url).status_code == 404


def test_the_admin_home_links_to_the_clock(client_request, admin):
    client_request.sign_in(admin)
    home = client_request.get("/home")
    assert home.find("a", string="Statutory clock")["href"] == "/admin/clock"


def test_the_open_cases_are_read_from_their_index(app, cases):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    plan = " ".join(str(r[-1]) for r in db.session.execute(sql(
        "EXPLAIN QUERY PLAN SELECT id FROM person WHERE clock_due_on IS NOT NULL ORDER BY clock_due_on, id LIMIT 50")))
    assert "ix_person_clock" in plan and "SCAN person" not in plan.replace("USING COVERING INDEX", "")


# --- recording the SEN2 fields on the timeline form -------------------------------

def _timeline_data(person, **extra):
    data = {}
    for attribute in ("request_received_on", "assessment_decision_on", "draft_plan_on", "final_plan_on", "next_review_on"):
        value = getattr(person, attribute)
        data.update({f"{attribute}_day": value.day if value else "", f"{attribute}_month": value.month if value else "",
                     f"{attribute}_year": value.year if value else ""})
    data.update(extra)
    return data


def test_the_admin_records_the_outcome_and_the_exception(client_request, admin, make_person):
    person = _case(make_person, received=date(2025, 6, 2), decided=date(2025, 7, 1))
    client_request.sign_in(admin)
    form = client_request.get(f"/admin/people/{person.id}/timeline")
    assert form.find("input", attrs={"name": "assessment_outcome", "value": "assess"})
    assert form.find("input", attrs={"name": "twenty_week_exception_reason", "value": "C"})
    response = client_request.post(f"/admin/people/{person.id}/timeline",
                                   _timeline_data(person, assessment_outcome="assess", twenty_week_exception_reason="C"))
    assert response.status_code == 303
    db.session.refresh(person)
    assert (person.assessment_outcome, person.twenty_week_exception_reason) == ("assess", "C")


@pytest.mark.parametrize("extra, message", [
    ({"assessment_outcome": "maybe"}, "Choose an outcome of the request from the list"),
    ({"twenty_week_exception_reason": "Z"}, "Choose a 20-week exception from the list"),
])
def test_bad_sen2_fields_are_refused_and_nothing_changes(client_request, admin, make_person, extra, message):
    person = _case(make_person, received=date(2025, 6, 2), decided=date(2025, 7, 1))
    client_request.sign_in(admin)
    data = _timeline_data(person, **extra)
    data["final_plan_on_day"], data["final_plan_on_month"], data["final_plan_on_year"] = "1", "10", "2025"
    response = client_request.post(f"/admin/people/{person.id}/timeline", data)
    assert response.status_code == 400
    page = client_request.parse(response)
    assert message in text(page.select_one(".govuk-error-summary"))
    db.session.refresh(person)
    assert person.final_plan_on is None and person.assessment_outcome is None


def test_an_outcome_needs_the_decision_date(client_request, admin, make_person):
    person = _case(make_person, received=date(2025, 6, 2))
    client_request.sign_in(admin)
    response = client_request.post(f"/admin/people/{person.id}/timeline", _timeline_data(person, assessment_outcome="not_assess"))
    assert response.status_code == 400
    db.session.refresh(person)
    assert person.assessment_outcome is None


def test_the_childs_timeline_takes_its_review_date_from_the_one_table(app, make_person):
    # Twelve months, not 365 days: a plan of 1 March 2023 is reviewed by 1 March 2024 (2024 is a leap year).
    from send_portal.people.timeline import ehc_timeline

    person = _case(make_person, received=date(2022, 10, 3), decided=date(2022, 11, 1), draft=date(2023, 1, 16),
                   final=date(2023, 3, 1), status="EHC plan issued")
    steps = {s.name: s for s in ehc_timeline(person, today=date(2023, 6, 1))}
    assert steps["Reviews"].due_on == date(2024, 3, 1)
    assert steps["Request"].due_on == date(2022, 11, 14)
    assert steps["Assessment"].due_on == date(2023, 1, 23)  # week 16: the draft
    assert steps["EHC plan"].due_on == date(2023, 2, 20)


def test_the_counting_rule_agrees_with_the_explained_one():
    # The counts and the status filter use assess(explain=False); each row assess() with its words.
    slow = Medians.from_samples({"decision": [45] * 5, "advice": [50] * 5, "draft": [80] * 5, "final": [30] * 5})
    for m in (STATUTORY, slow):
        for age in range(0, 160, 5):
            received = TODAY - timedelta(days=age)
            cases = [Case(dl.REQUEST, received)]
            for decided_after in (10, 40, 70):
                if decided_after <= age:
                    cases.append(Case(dl.ASSESSMENT, received, decided=received + timedelta(days=decided_after)))
                    for drafted_after in (90, 115):
                        if decided_after < drafted_after <= age:
                            cases.append(Case(dl.DRAFT, received, decided=received + timedelta(days=decided_after),
                                              draft=received + timedelta(days=drafted_after)))
            for case in cases:
                for asked_after in (None, 20, 60):
                    advice = [] if asked_after is None or asked_after > age else [
                        Advice(1, received + timedelta(days=asked_after), False), Advice(2, received, True)]
                    full = assess(case, advice, m, TODAY)
                    assert assess(case, advice, m, TODAY, explain=False).status == full.status, (case.__dict__, asked_after)
                    assert full.status != dl.AT_RISK or full.why  # At risk always says why


@pytest.mark.parametrize("medians", [
    STATUTORY,
    Medians.from_samples({"decision": [30] * 5, "advice": [50] * 5, "draft": [85] * 5, "final": [35] * 5}),
    Medians.from_samples({"decision": [45] * 5, "advice": [20] * 5, "draft": [40] * 5, "final": [20] * 5}),
], ids=["statutory", "slow-draft", "slow-decision"])
def test_the_database_finds_exactly_the_cases_the_rule_puts_at_risk(app, make_person, professional, admin, medians):
    """The counts and the At risk and On track filters read the database
    (prediction.Thresholds); each row's status comes from prediction.assess.
    On a grid of cases, with and without outstanding advice, they agree."""
    from flask import current_app

    current_app.extensions["clock_medians"] = {"value": medians, "until": float("inf")}
    people = []
    for age in range(0, 165, 4):
        received = TODAY - timedelta(days=age)
        people.append(_case(make_person, f"Req Age{age}", received=received, status="Request received"))
        for decided_after in (15, 45):
            if decided_after <= age:
                decided = received + timedelta(days=decided_after)
                people.append(_case(make_person, f"Ass Age{age}d{decided_after}", received=received, decided=decided,
                                    professional=professional))
                for drafted_after in (80, 120):
                    if decided_after < drafted_after <= age:
                        people.append(_case(make_person, f"Dra Age{age}d{drafted_after}", received=received, decided=decided,
                                            draft=received + timedelta(days=drafted_after)))
    # Advice asked of the professional for some assessments; half of it answered.
    for n, person in enumerate(p for p in people if p.clock_stage == dl.ASSESSMENT):
        involvement = db.session.query(Involvement).filter_by(person_id=person.id).one()
        asked = datetime.combine(person.assessment_decision_on + timedelta(days=n % 30), datetime.min.time()) + timedelta(hours=23, minutes=30)
        request = FormRequest(involvement_id=involvement.id, form_key="advice", title="Advice", due_on=asked.date(),
                              requested_by_id=admin.id, requested_at=asked)
        db.session.add(request)
        db.session.flush()
        if n % 2:
            db.session.add(FormResponse(involvement_id=involvement.id, form_key="advice", title="Advice", status="submitted",
                                        form_request_id=request.id, submitted_at=asked + timedelta(days=3)))
    db.session.commit()
    expected = {}
    advice = queries.advice_for(p.id for p in people)
    for person in people:
        if person.clock_stage:
            expected[person.id] = assess(person, advice.get(person.id, []), medians, TODAY).status
    at_risk = {i for i, s in expected.items() if s == dl.AT_RISK}
    on_track = {i for i, s in expected.items() if s == dl.ON_TRACK}
    assert at_risk and on_track  # the grid has both
    tally = queries.counts(queries.ClockFilters(), TODAY, medians)
    assert tally[dl.AT_RISK] == len(at_risk) and tally[dl.ON_TRACK] == len(on_track)
    for status, wanted in ((dl.AT_RISK, at_risk), (dl.ON_TRACK, on_track)):
        found = {row.id for row in queries.all_rows(queries.ClockFilters(status=status), TODAY)}
        assert found == wanted
        assert {row.id for row in queries.all_rows(queries.ClockFilters(status=status), TODAY) if row.status == status} == wanted


def test_the_newest_unanswered_advice_is_kept_on_the_person(app, make_person, professional, other_professional, admin):
    person = _case(make_person, received=date(2026, 1, 5), decided=date(2026, 2, 2), professional=professional)
    db.session.add(Involvement(professional_id=other_professional.id, person_id=person.id,
                               status=InvolvementStatus.AUTHENTICATED.value))
    db.session.commit()
    ours, theirs = db.session.query(Involvement).filter_by(person_id=person.id).order_by(Involvement.id).all()

    def ask(involvement, at):
        request = FormRequest(involvement_id=involvement.id, form_key="advice", title="Advice", due_on=at.date(),
                              requested_by_id=admin.id, requested_at=at)
        db.session.add(request)
        db.session.commit()
        return request

    def stored():
        return db.session.execute(sql("SELECT clock_advice_on FROM person WHERE id = :id"), {"id": person.id}).scalar()

    assert stored() is None
    ask(ours, datetime(2026, 2, 3, 10, 0))
    assert str(stored()) == "2026-02-03"
    later = ask(theirs, datetime(2026, 5, 31, 23, 30))  # 1 June in London (BST)
    assert str(stored()) == "2026-06-01"
    response = FormResponse(involvement_id=theirs.id, form_key="advice", title="Advice", status="draft",
                            form_request_id=later.id)
    db.session.add(response)
    db.session.commit()
    assert str(stored()) == "2026-06-01"  # a draft is not an answer
    response.submitted_at = datetime(2026, 6, 10, 9, 0)
    db.session.commit()
    assert str(stored()) == "2026-02-03"  # the newest still waiting


def test_migration_0011_fills_the_clock_from_existing_records(tmp_path):
    """Records made before 0011 get their stage, next deadline and newest
    unanswered advice from the same rule."""
    from flask_migrate import upgrade

    from send_portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}", "TESTING": True})
    with app.app_context():
        upgrade(revision="0010_kept_answers")
        with db.engine.begin() as conn:
            conn.execute(sql(
                "INSERT INTO portal_user (id, email, given_name, family_name, role, verification, is_deactivated, created_at)"
                " VALUES (2, 'pro@school.example', 'Pro', 'Fessional', 'professional', 'verified', 0, '2026-01-01')"))
            for pid, status, received, decided, final in (
                (1, "Assessment in progress", "2026-01-05", "2026-02-02", None),
                (2, "EHC plan issued", "2023-09-01", "2023-10-01", "2024-02-29"),
                (3, "No open case", None, None, None),
            ):
                conn.execute(sql(
                    "INSERT INTO person (id, given_name, family_name, sort_name, date_of_birth, gender, case_status,"
                    " request_received_on, assessment_decision_on, final_plan_on, added_by_professional, created_at)"
                    " VALUES (:id, 'A', 'B', 'b a', '2015-01-01', 'Not known', :status, :received, :decided, :final, 0,"
                    " '2026-01-01')"), {"id": pid, "status": status, "received": received, "decided": decided, "final": final})
            conn.execute(sql("INSERT INTO involvement (id, professional_id, person_id, status, started_on, created_at)"
                             " VALUES (1, 2, 1, 'authenticated', '2026-01-01', '2026-01-01')"))
            conn.execute(sql("INSERT INTO form_request (id, involvement_id, form_key, title, due_on, requested_by_id, requested_at)"
                             " VALUES (1, 1, 'advice', 'Advice', '2026-03-20', 2, '2026-02-05 23:30:00')"))
        upgrade(revision="0011_statutory_clock")
        rows = db.session.execute(sql("SELECT id, clock_stage, clock_due_on, clock_advice_on FROM person ORDER BY id")).all()
        assert [tuple(map(lambda v: None if v is None else str(v), r)) for r in rows] == [
            ("1", "assessment", "2026-04-27", "2026-02-05"),  # 23:30 UTC in February is still the 5th in London
            ("2", "review", "2025-02-28", None),
            ("3", None, None, None),
        ]
        db.session.remove()
        db.engine.dispose()
