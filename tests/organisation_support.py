"""Helpers for the organisation, team caseload, cover and leaver tests."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from send_portal.extensions import db
from send_portal.models import AuditEntry, Involvement
from send_portal.organisations.models import Cover, Organisation, name_key


def make_organisation(name="Riverside Primary School", shares=True, members=(), kind="school", urn="123456"):
    organisation = Organisation(name=name, name_key=name_key(name), kind=kind, urn=urn, shares_caseload=shares)
    db.session.add(organisation)
    db.session.flush()
    for member in members:
        member.organisation_id = organisation.id
    db.session.commit()
    return organisation


def make_cover(professional, colleague, starts=-1, ends=1, today=None):
    """Cover from today+starts to today+ends (days)."""
    today = today or date.today()
    cover = Cover(
        organisation_id=professional.organisation_id, professional_id=professional.id, colleague_id=colleague.id,
        starts_on=today + timedelta(days=starts), ends_on=today + timedelta(days=ends), created_by_id=professional.id,
    )
    db.session.add(cover)
    db.session.commit()
    return cover


def audit_entries(action):
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def involvement_of(person):
    return db.session.scalar(select(Involvement).where(Involvement.person_id == person.id).order_by(Involvement.id))


def demo_team_starts(email: str | None) -> list[str]:
    """For the crawls of the demo authority (tests/browser/test_every_page.py,
    tests/test_html_validity.py): the assistant SENCo's caseload covered by
    the demo SENCo from yesterday to next week, and the pages of issue 14
    that each kind of user starts from, so they are crawled with content."""
    from send_portal.demo import TEAM_LEAD, TEAM_SCHOOL
    from send_portal.models import User

    if email is None:
        return []
    senco = db.session.scalar(select(User).where(User.email == TEAM_LEAD))
    assistant = db.session.scalar(select(User).where(User.email == "assistant.senco@demo-la.example"))
    cover = db.session.scalar(select(Cover).where(Cover.professional_id == assistant.id, Cover.colleague_id == senco.id))
    if cover is None:
        cover = make_cover(assistant, senco, starts=-1, ends=7)
    school = db.session.scalar(select(Organisation).where(Organisation.name == TEAM_SCHOOL[0]))
    if email == TEAM_LEAD:
        return ["/send/team-caseload", "/send/team-caseload/hidden?q=a", "/send/cover", "/send/organisation",
                f"/send/covering/{cover.id}", f"/send/covering/{cover.id}/recent"]
    user = db.session.scalar(select(User).where(User.email == email))
    if user.is_admin:
        return ["/admin/organisations", f"/admin/organisations/{school.id}", "/admin/organisations/new", "/admin/cover",
                f"/admin/professionals/{assistant.id}/hand-over"]
    return ["/send/team-caseload", "/send/cover"]


def demo_team_posts(client, email: str | None, csrf_token: str) -> list[tuple[str, object]]:
    """Pages reached only by a POST, for the HTML validity crawl: an LA
    admin's confirmation of a hand-over (the assistant SENCo's children to
    the SENCo), which changes nothing until it is confirmed."""
    from send_portal.demo import TEAM_LEAD
    from send_portal.models import User

    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is None or not user.is_admin:
        return []
    senco = db.session.scalar(select(User).where(User.email == TEAM_LEAD))
    assistant = db.session.scalar(select(User).where(User.email == "assistant.senco@demo-la.example"))
    url = f"/admin/professionals/{assistant.id}/hand-over"
    response = client.post(url, data={"csrf_token": csrf_token, "mode": "one", "colleague": str(senco.id)})
    assert response.status_code == 200, response.status_code
    return [(f"POST {url} (to confirm)", response)]
