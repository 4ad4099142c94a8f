"""A demo authority: an admin, verified professionals and a varied caseload.
Running it again changes nothing that is already there."""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from .auth.passwords import hash_password
from .imports import PersonRow, apply_people, professional_emails
from .extensions import db
from .models import CASE_STATUSES, PROFESSIONAL_TYPES, Involvement, Person, User, Verification, utcnow

# The demo authority is for trying the service locally; its password is printed on purpose.
DEMO_PASSWORD = "demo-password-2026"  # nosec B105
DEMO_USERS = [
    # email, given, family, role, professional type, organisation, verified
    ("admin@demo-la.example", "Alex", "Morgan", "admin", None, "Demo Borough Council", True),
    ("senco@demo-la.example", "Sam", "Patel", "professional", "senco", "Riverside Primary School", True),
    ("assistant.senco@demo-la.example", "Priya", "Shah", "professional", "senco", "Riverside Primary School", True),
    ("ep@demo-la.example", "Jordan", "Okafor", "professional", "educational_psychologist", "Demo Educational Psychology Service", True),
    ("new.starter@demo-la.example", "Casey", "Lewis", "professional", "health", "Demo Community Health Trust", False),
]
GIVEN = ["Amelia", "Oliver", "Zoë", "Muhammad", "Isla", "Noah", "Chloé", "José", "Siân", "Aoife", "Łukasz", "Freya",
         "Theo", "Ava", "Leo", "Mia", "Arlo", "Ivy", "Oscar", "Grace", "Mary-Jane", "Ruairí", "Priya", "Kofi", "Élodie",
         "Harry", "Sophia", "Jack", "Lily", "Yusuf", "Ffion", "Dylan", "Ella", "Rory", "Nia", "Aarav"]
FAMILY = ["Jones", "Smith", "O'Brien", "Smith-Jones", "Nowak", "Williams", "Brown", "Taylor", "Davies", "Evans",
          "Thomas", "Khan", "Ahmed", "Müller", "Łęcka", "Roberts", "Walker", "Wright", "Robinson", "Thompson",
          "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke", "Jackson", "Okonkwo", "García",
          "MacDonald", "Nguyen", "Begum", "Patel", "Lewis"]
POSTCODES = ["DM1 2AB", "DM1 3EF", "DM2 4GH", "DM3 5JL", "DM4 6NP"]
# LA admins sign in with two-factor sign-in by default (TWO_FACTOR_REQUIRED),
# so the demo admin has it set up with this published key (README): add it
# to an authenticator app, or compute a code with pyotp.
DEMO_TWO_FACTOR_KEY = "SENDPORTALDEMOADMINKEYTWOFACTORA"  # nosec B105
DEMO_ADMIN = "admin@demo-la.example"


def _ensure_demo_admin_two_factor(admin: User) -> bool:
    """The demo key, (re-)encrypted with this SECRET_KEY if it cannot be
    read with it (a new key since the last run). Only where admins must use
    two-factor sign-in (TWO_FACTOR_REQUIRED is not "nobody"); returns
    whether the demo admin has it."""
    from flask import current_app

    from .auth import two_factor

    if current_app.config.get("TWO_FACTOR_REQUIRED") == "nobody":
        return two_factor.is_set_up(admin)
    if two_factor.decrypt_key(admin.two_factor_secret) != DEMO_TWO_FACTOR_KEY:
        admin.two_factor_secret = two_factor.encrypt_key(DEMO_TWO_FACTOR_KEY)
        admin.two_factor_last_step = None
    if admin.two_factor_enabled_at is None:
        admin.two_factor_enabled_at = utcnow()
    return True


def _ensure_users() -> dict[str, User]:
    users = {}
    for email, given, family, role, ptype, org, verified in DEMO_USERS:
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is None:
            user = User(
                email=email, given_name=given, family_name=family, role=role, professional_type=ptype,
                organisation=org, password_hash=hash_password(DEMO_PASSWORD),
                verification=(Verification.VERIFIED if verified else Verification.PENDING).value,
            )
            db.session.add(user)
        users[email] = user
    db.session.flush()
    return users


def demo_rows(today: date) -> list[PersonRow]:
    # Repeatable demo data, not security.
    rng = random.Random(2026)  # nosec B311
    rows = []
    # The SENCo's Active list holds over 100 children (README): 120 people
    # of theirs, less those ended and the 4 hidden below.
    for n in range(1, 151):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        dob = today - timedelta(days=rng.randint(3 * 365, 18 * 365))
        gender = rng.choice(["Female", "Male", "Not known", "Not specified"])
        status = rng.choice(CASE_STATUSES)
        email = "senco@demo-la.example" if n <= 130 else "ep@demo-la.example"
        if 100 < n <= 110:
            email = "ep@demo-la.example"
        start = today - timedelta(days=rng.randint(30, 6 * 365))
        end = None
        if n % 15 == 0:
            end = today - timedelta(days=rng.randint(10, 800))  # ended involvements
        # Mostly recent activity, some old, some none.
        if n % 7 == 0:
            last = None
        elif n % 5 == 0:
            last = today - timedelta(days=rng.randint(600, 1500))
        else:
            last = today - timedelta(days=rng.randint(0, 500))
        rows.append(PersonRow(n + 1, f"DEMO-{n:05d}", given, family, dob, gender, rng.choice(POSTCODES), status,
                              email, start, end, last))
    # The assistant SENCo's own children: with the SENCo's, Riverside's team caseload.
    for n in range(151, 171):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        dob = today - timedelta(days=rng.randint(4 * 365, 11 * 365))
        last = today - timedelta(days=rng.randint(0, 400))
        rows.append(PersonRow(n + 1, f"DEMO-{n:05d}", given, family, dob, rng.choice(["Female", "Male"]),
                              rng.choice(POSTCODES), rng.choice(CASE_STATUSES), "assistant.senco@demo-la.example",
                              today - timedelta(days=rng.randint(30, 900)), None, last))
    return rows


# Riverside Primary School shares a team caseload: the SENCo (its lead) and
# the assistant SENCo each see the other's children in Team caseload.
TEAM_SCHOOL = ("Riverside Primary School", "100234")
TEAM_LEAD = "senco@demo-la.example"


def _ensure_organisations(users: dict[str, User]) -> None:
    """Each demo professional a member of the organisation they registered
    with (as migration 0015 made them), and the SENCo's school sharing a team
    caseload, led by the SENCo. Changes nothing the LA has changed since,
    except to keep the school sharing."""
    from .organisations.service import find_or_create

    for email, user in users.items():
        if user.is_professional and user.organisation_id is None and user.organisation:
            user.organisation_id = find_or_create(user.organisation).id
    school = find_or_create(TEAM_SCHOOL[0])
    if not school.shares_caseload:
        school.kind, school.urn, school.shares_caseload = "school", TEAM_SCHOOL[1], True
    lead = users[TEAM_LEAD]
    if lead.organisation_id == school.id:
        lead.is_organisation_lead = True


STREETS = ["High Street", "Church Road", "Station Road", "Mill Lane", "Park Avenue"]


def _ensure_addresses() -> None:
    """A small gazetteer, so Find Address works in the demo."""
    from .addresses import normalise_postcode
    from .models import Address

    for i, postcode in enumerate(POSTCODES):
        for number in range(1, 9):
            uprn = f"{100000000 + i * 100 + number}"
            if db.session.get(Address, uprn) is None:
                db.session.add(Address(uprn=uprn, address_line_1=f"{number} {STREETS[i]}", address_line_2=None,
                                       town="Demoton", postcode=postcode, postcode_key=normalise_postcode(postcode)))


def _timeline_dates(person: Person, today: date) -> None:
    """EHC timeline dates that fit each demo child's case status."""
    # Repeatable demo data.
    rng = random.Random(person.la_reference)  # nosec B311
    stage = {"Request received": 1, "Deciding whether to assess": 1, "Assessment in progress": 2, "Not assessing": 2,
             "Draft plan issued": 3, "EHC plan issued": 4, "Annual review due": 5, "Plan ceased": 5}.get(person.case_status)
    if stage is None:
        return
    weeks_ago = {1: rng.randint(1, 7), 2: rng.randint(7, 17), 3: rng.randint(15, 21), 4: rng.randint(21, 60), 5: rng.randint(50, 70)}[stage]
    received = today - timedelta(weeks=weeks_ago)
    person.request_received_on = received
    person.assessment_decision_on = received + timedelta(weeks=5) if stage >= 2 else None
    person.draft_plan_on = received + timedelta(weeks=14) if stage >= 3 else None
    person.final_plan_on = received + timedelta(weeks=19) if stage >= 4 else None
    person.next_review_on = person.final_plan_on + timedelta(days=365) if person.final_plan_on else None


def load_demo() -> list[str]:
    today = date.today()
    users = _ensure_users()
    admin_two_factor = _ensure_demo_admin_two_factor(users[DEMO_ADMIN])
    _ensure_organisations(users)
    _ensure_addresses()
    apply_people(demo_rows(today), professional_emails())
    db.session.flush()
    for person in db.session.scalars(select(Person).where(Person.la_reference.like("DEMO-%"))):
        if person.request_received_on is None:
            _timeline_dates(person, today)
    # A few hidden people for the SENCo, so the Hidden view is not empty.
    senco = users["senco@demo-la.example"]
    hidden_refs = [f"DEMO-{n:05d}" for n in (3, 11, 19, 27)]
    for involvement in db.session.scalars(
        select(Involvement).join(Person).where(Involvement.professional_id == senco.id, Person.la_reference.in_(hidden_refs))
    ):
        if involvement.hidden_at is None:
            involvement.hidden_at = utcnow()
    db.session.commit()
    lines = [f"Demo authority ready. Every demo account's password is: {DEMO_PASSWORD}"]
    for email, given, family, role, ptype, _org, verified in DEMO_USERS:
        kind = "LA admin" if role == "admin" else PROFESSIONAL_TYPES[ptype]
        note = "" if verified else " (awaiting verification)"
        lines.append(f"  {email:32} {given} {family}, {kind}{note}")
    lines.append(f"{TEAM_SCHOOL[0]} shares a team caseload: {TEAM_LEAD} (its lead) and "
                 "assistant.senco@demo-la.example see it under Team caseload on Select Person.")
    if admin_two_factor:
        lines.append(
            f"The LA admin also needs a security code (two-factor sign-in). Its authenticator app key is "
            f"{DEMO_TWO_FACTOR_KEY}; or compute a code with: "
            f"python -c \"import pyotp; print(pyotp.TOTP('{DEMO_TWO_FACTOR_KEY}').now())\""
        )
    return lines
