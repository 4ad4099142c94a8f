"""The daily reminders job (issue 15, part 5): `flask --app app send-reminders`
reminds a professional of a form the LA asked for a week before it is due, on
the day and once overdue, each once ever, in words that name no child; two
runs at once send each reminder once."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from send_portal.caseload.queries import View, delete_people, selected_involvements
from send_portal.extensions import db
from send_portal.forms.models import FormRequest, FormResponse, FormStatus
from send_portal.models import Involvement
from send_portal.notifications import due, reminders
from send_portal.notifications.models import Notification, ReminderSent

DUE = date(2026, 3, 20)
ASKED = datetime(2026, 3, 1, 9, 0)  # UTC, as stored


@pytest.fixture
def child(professional, make_person):
    return make_person("Amelia", "Jones", professional=professional)


def ask(person, professional, due_on=DUE, requested_at=ASKED) -> FormRequest:
    involvement = db.session.scalar(
        select(Involvement).where(Involvement.person_id == person.id, Involvement.professional_id == professional.id)
    )
    request = FormRequest(
        involvement_id=involvement.id, form_key="annual-review-contribution", title="Annual review contribution",
        due_on=due_on, requested_by_id=professional.id, requested_at=requested_at,
    )
    db.session.add(request)
    db.session.commit()
    return request


def run(runner, day: date | None = None):
    args = ["send-reminders"] + (["--today", day.isoformat()] if day else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def reminders_of(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(Notification).where(Notification.recipient_id == user.id).order_by(Notification.id)
    ))


def test_a_week_before_on_the_day_and_overdue_each_once(runner, child, professional):
    request = ask(child, professional)
    assert run(runner, DUE - timedelta(days=8)) == "No reminders to send for 2026-03-12.\n"
    output = run(runner, DUE - timedelta(days=7))
    assert output == (
        f"Form request {request.id}: reminder (due in a week, due 2026-03-20) to user {professional.id}\n"
        "1 reminder sent for 2026-03-13.\n"
    )
    assert run(runner, DUE - timedelta(days=7)) == "No reminders to send for 2026-03-13.\n"  # twice a day
    assert run(runner, DUE - timedelta(days=3)) == "No reminders to send for 2026-03-17.\n"
    assert "1 reminder sent for 2026-03-20." in run(runner, DUE)
    assert "No reminders" in run(runner, DUE)
    assert "1 reminder sent for 2026-03-21." in run(runner, DUE + timedelta(days=1))
    for later in (2, 10, 100):
        assert "No reminders" in run(runner, DUE + timedelta(days=later))
    notes = reminders_of(professional)
    assert [(n.kind, n.text) for n in notes] == [
        ("reminder_week", "A form Demo Borough Council asked you for is due on 20 March 2026"),
        ("reminder_today", "A form Demo Borough Council asked you for is due today"),
        ("reminder_overdue", "A form Demo Borough Council asked you for is overdue. It was due on 20 March 2026"),
    ]
    for note in notes:
        assert note.link == f"/send/people/{child.id}/forms"
        assert "Amelia" not in note.text and "Jones" not in note.text
    assert db.session.scalars(select(ReminderSent.kind).order_by(ReminderSent.sent_at)).all() == ["week", "today", "overdue"]


def test_the_output_names_no_child(runner, child, professional):
    ask(child, professional)
    for day in (DUE - timedelta(days=7), DUE, DUE + timedelta(days=1)):
        output = run(runner, day)
        assert "Amelia" not in output and "Jones" not in output


def test_a_missed_day_is_caught_up_but_a_late_request_gets_no_week_reminder(runner, child, professional, make_person):
    early = ask(child, professional)
    noah = make_person("Noah", "Brown", professional=professional)
    late = ask(noah, professional, requested_at=datetime(2026, 3, 16, 10, 0))  # four days before it is due
    run(runner, DUE - timedelta(days=4))  # the timer did not run on the 13th
    assert [r for r in db.session.scalars(select(ReminderSent.form_request_id))] == [early.id]
    run(runner, DUE - timedelta(days=1))
    assert db.session.scalars(select(ReminderSent.form_request_id).where(ReminderSent.form_request_id == late.id)).all() == []
    run(runner, DUE)
    assert sorted(db.session.execute(select(ReminderSent.form_request_id, ReminderSent.kind)).tuples()) == sorted(
        [(early.id, "week"), (early.id, "today"), (late.id, "today")]
    )


def test_a_request_made_just_before_london_midnight_counts_in_london(runner, child, professional):
    """23:30 UTC on 12 March is 12 March in London (GMT): more than a week
    before the 20th, so the week's reminder is owed."""
    ask(child, professional, requested_at=datetime(2026, 3, 12, 23, 30))
    assert "1 reminder sent" in run(runner, DUE - timedelta(days=7))


def test_a_sent_form_is_not_chased_and_a_rejected_one_is(runner, child, professional, make_person):
    sent = ask(child, professional)
    noah = make_person("Noah", "Brown", professional=professional)
    rejected = ask(noah, professional)
    for request, status in ((sent, FormStatus.SUBMITTED.value), (rejected, FormStatus.REJECTED.value)):
        db.session.add(FormResponse(
            involvement_id=request.involvement_id, form_key=request.form_key, title=request.title, status=status,
            answers={}, form_request_id=request.id, submitted_at=datetime(2026, 3, 5),
        ))
    db.session.commit()
    run(runner, DUE)
    assert db.session.scalars(select(ReminderSent.form_request_id)).all() == [rejected.id]


def test_no_reminder_for_a_child_the_professional_no_longer_sees(runner, professional, make_person, make_user):
    deleted = make_person("Dan", "Deleted", professional=professional)
    ended = make_person("Ed", "Ended", professional=professional, ended_on=DUE)
    gone = make_user("Gail", "Gone", email="gail.gone@school.example")
    gone_child = make_person("Gus", "Gone", professional=gone)
    for person, owner in ((deleted, professional), (ended, professional), (gone_child, gone)):
        ask(person, owner)
    delete_people(professional, selected_involvements(professional, [deleted.id], View.ACTIVE))
    gone.is_deactivated = True
    db.session.commit()
    assert "No reminders" in run(runner, DUE)
    assert db.session.scalars(select(ReminderSent)).all() == []


def test_a_bad_date_is_refused_clearly(runner):
    result = runner.invoke(args=["send-reminders", "--today", "2026-02-30"])
    assert result.exit_code == 2
    assert "give the date as YYYY-MM-DD" in result.output


def test_without_a_date_today_is_londons(runner, child, professional, monkeypatch):
    ask(child, professional, due_on=date(2026, 7, 1))
    monkeypatch.setattr(due, "utc_now", lambda: datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc))
    output = run(runner)
    assert "1 reminder sent for 2026-07-01." in output
    assert reminders_of(professional)[0].kind == "reminder_today"


def test_two_runs_at_once_send_each_reminder_once(app, child, professional, make_person, monkeypatch):
    """Both runs read the same forms as owed before either writes: only the
    key of reminder_sent can stop the second (no check-then-insert)."""
    noah = make_person("Noah", "Brown", professional=professional)
    requests = [ask(child, professional), ask(noah, professional), ask(child, professional, due_on=DUE + timedelta(days=7))]
    both_read = threading.Barrier(2, timeout=30)
    real_claim = reminders._claim
    first_claim = threading.local()

    def claim_after_both_have_read(form_request_id, kind):
        if not getattr(first_claim, "done", False):
            first_claim.done = True
            both_read.wait()
        return real_claim(form_request_id, kind)

    monkeypatch.setattr(reminders, "_claim", claim_after_both_have_read)
    db.session.commit()
    results, errors = [], []

    def one_run():
        try:
            with app.app_context():
                results.append(reminders.send_reminders(DUE))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
            both_read.abort()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    sent = [(r.form_request_id, r.kind) for result in results for r in result]
    assert sorted(sent) == sorted([(requests[0].id, "today"), (requests[1].id, "today"), (requests[2].id, "week")])
    assert len(reminders_of(professional)) == 3


def test_reminders_are_emailed_once_naming_no_child(runner, child, professional):
    """Issue 15 part 5: through the notifications and email of the accounts
    issue. The email says a form is due, and nothing of the child."""
    from send_portal.mail.models import OutboxEmail

    request = ask(child, professional)
    for day in (DUE - timedelta(days=7), DUE - timedelta(days=7), DUE, DUE + timedelta(days=1), DUE + timedelta(days=2)):
        run(runner, day)
    emails = list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == professional.email).order_by(OutboxEmail.id)))
    assert [e.subject for e in emails] == ["A form is due next week", "A form is due today", "A form is overdue"]
    for email in emails:
        for detail in ("Amelia", "Jones", "2015", "Annual review contribution", child.la_reference, str(request.id)):
            assert detail not in email.subject and detail not in email.body, (detail, email.body)


def test_a_professional_who_turned_emails_off_gets_the_reminder_in_the_portal_only(runner, child, professional):
    from send_portal.mail.models import OutboxEmail

    professional.wants_emails = False
    db.session.commit()
    ask(child, professional)
    run(runner, DUE)
    assert [n.kind for n in reminders_of(professional)] == ["reminder_today"]
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
