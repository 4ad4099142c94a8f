"""caseload_name_token, the Person filter's table, is kept by the database's
triggers in step with involvements, names and tokens: after each round of
random changes made through the app's own code (hide, unhide and delete
through send_portal.caseload.queries, renames through Person.set_names,
status changes, new involvements, a person's tokens deleted), it holds
exactly the rows a brute-force reading of the ORM's rows says it should, and
every token's shared_prefix is right. Seeded: a failure is the same on every
run. Runs on SQLite and, with TEST_POSTGRES_URL, on PostgreSQL."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from send_portal.caseload import queries
from send_portal.caseload.queries import View
from send_portal.extensions import db
from send_portal.models import (
    CaseloadNameToken,
    Involvement,
    InvolvementStatus,
    Person,
    PersonNameToken,
    User,
)
from send_portal.names import shared_prefixes

SEED = 20261129
LIVE = {InvolvementStatus.AWAITING.value, InvolvementStatus.AUTHENTICATED.value}
STATUSES = [s.value for s in InvolvementStatus]
# Repeated initials (Sam Smith, Anna-Ann Annan), accents, hyphens, apostrophes,
# names that fold to the same words (Zoë / Zoe, Müller / Muller).
GIVEN = [
    "Sam", "Samuel", "Sami", "Samantha", "Anna", "Anna-Ann", "Ann", "Annabel", "Zoë", "Zoe", "Chloé",
    "Łukasz", "Mary-Jane", "Seán", "Siân", "Jo", "José", "Jon", "Jonas", "Oliver", "Ólafur", "Ava",
    "Smith", "Ngozi", "Björn", "Aoife", "Jean-Luc", "Ümit", "Ffion", "Sam-Sam",
]
FAMILY = [
    "Smith", "Smythe", "Smith-Jones", "Annan", "Ann", "O'Brien", "O'Neill", "Ní Bhriain", "Müller", "Muller",
    "Jones", "Sams", "Sampson", "De Souza", "D'Arcy", "Anderson", "Oliver", "Øvergaard", "Łęcka", "Zoë",
    "Smith Smith", "Jonas-Jones", "Ó Súilleabháin", "Sam",
]


# --- what the table should be, from the ORM in plain Python --------------------


def expected_index() -> set[tuple]:
    """caseload_name_token as it should be: each token of the person of each
    live involvement, with shared_prefix worked out from the person's tokens."""
    tokens = defaultdict(list)
    for person_id, token in db.session.execute(select(PersonNameToken.person_id, PersonNameToken.token)):
        tokens[person_id].append(token)
    people = {p.id: p for p in db.session.execute(select(Person.id, Person.sort_name, Person.last_activity_at))}
    rows = set()
    for involvement in db.session.scalars(select(Involvement)):
        if involvement.deleted_at is not None or involvement.status not in LIVE:
            continue
        words = sorted(tokens[involvement.person_id])
        for word, shared in zip(words, shared_prefixes(words)):
            rows.add((
                involvement.professional_id, involvement.hidden_at is not None, word, involvement.id,
                involvement.person_id, shared, involvement.ended_on, people[involvement.person_id].sort_name,
                people[involvement.person_id].last_activity_at,
            ))
    return rows


def actual_index() -> set[tuple]:
    c = CaseloadNameToken
    return set(db.session.execute(select(
        c.professional_id, c.hidden, c.token, c.involvement_id, c.person_id, c.shared_prefix, c.ended_on, c.sort_name,
        c.last_activity_at,
    )).all())


def check_shared_prefixes() -> None:
    tokens = defaultdict(list)
    for person_id, token, shared in db.session.execute(
        select(PersonNameToken.person_id, PersonNameToken.token, PersonNameToken.shared_prefix)
    ):
        tokens[person_id].append((token, shared))
    for person_id, pairs in tokens.items():
        pairs.sort()
        assert [n for _, n in pairs] == shared_prefixes([t for t, _ in pairs]), (person_id, pairs)


# --- the data and the changes ----------------------------------------------------


def random_involvement(rng: random.Random, professional_id: int, person_id: int, today: date) -> Involvement:
    status = rng.choices(STATUSES, [3, 10, 2, 2])[0]
    now = datetime(2026, 11, 1, 9, 30)
    return Involvement(
        professional_id=professional_id,
        person_id=person_id,
        status=status,
        hidden_at=now - timedelta(days=rng.randint(1, 90)) if rng.random() < 0.2 else None,
        deleted_at=now if (status == InvolvementStatus.UNAUTHENTICATED.value and rng.random() < 0.7) or rng.random() < 0.05 else None,
        ended_on=rng.choice([None, None, None, today - timedelta(days=rng.randint(1, 400)), today,
                             today + timedelta(days=rng.randint(1, 400))]),
    )


def make_data(rng: random.Random, make_user, today: date) -> list[User]:
    professionals = [make_user("Pro", f"Number{n}", email=f"pro{n}@school.example") for n in range(4)]
    professionals.append(make_user("Unverified", "Pro", verified=False, email="unverified@school.example"))
    deactivated = make_user("Gone", "Pro", email="gone@school.example")
    deactivated.is_deactivated = True
    professionals.append(deactivated)
    people = []
    for n in range(240):
        person = Person(
            la_reference=f"S{n:05d}", date_of_birth=date(2012, 1, 1) + timedelta(days=rng.randint(0, 3000)),
            gender="Not known", case_status=rng.choice(["No open case", "EHC plan issued"]),
            last_activity_at=rng.choice([None, datetime(2020, 5, 1, 12), datetime(2026, 10, 1, 12)])
            if rng.random() < 0.5 else datetime(2024, 1, 1) + timedelta(minutes=rng.randint(0, 1_500_000)),
        )
        person.set_names(rng.choice(GIVEN), rng.choice(FAMILY))
        people.append(person)
    db.session.add_all(people)
    db.session.flush()
    for professional in professionals:
        for person in rng.sample(people, 70):
            db.session.add(random_involvement(rng, professional.id, person.id, today))
            if rng.random() < 0.1:  # two involvements of one professional with one person
                db.session.add(random_involvement(rng, professional.id, person.id, today))
    db.session.commit()
    return professionals


def random_change(rng: random.Random, professionals: list[User], today: date) -> str:
    kind = rng.choice([
        "hide", "unhide", "delete", "rename", "status", "add", "end", "drop tokens", "restore tokens",
        "move", "remove involvement", "activity",
    ])
    people = db.session.scalars(select(Person.id)).all()
    involvements = db.session.scalars(select(Involvement)).all()
    if kind in ("hide", "unhide", "delete"):
        professional = rng.choice(professionals[:4])
        view = {"hide": View.ACTIVE, "unhide": View.HIDDEN, "delete": rng.choice(list(View))}[kind]
        mine = {i.person_id for i in involvements if i.professional_id == professional.id}
        chosen = queries.selected_involvements(professional, rng.sample(sorted(mine), min(len(mine), 5)), view)
        {"hide": queries.hide_people, "unhide": queries.unhide_people, "delete": queries.delete_people}[kind](
            professional, chosen)
    elif kind == "rename":
        for person in db.session.scalars(select(Person).where(Person.id.in_(rng.sample(people, 4)))):
            person.set_names(rng.choice(GIVEN), rng.choice(FAMILY))
    elif kind == "status":
        for involvement in rng.sample(involvements, 4):
            involvement.status = rng.choice(STATUSES)
    elif kind == "add":
        for _ in range(4):
            db.session.add(random_involvement(rng, rng.choice(professionals).id, rng.choice(people), today))
    elif kind == "end":
        for involvement in rng.sample(involvements, 4):
            involvement.ended_on = rng.choice([None, today - timedelta(days=3), today, today + timedelta(days=3)])
    elif kind == "drop tokens":  # a raw delete: no ORM in the way
        db.session.execute(delete(PersonNameToken).where(PersonNameToken.person_id == rng.choice(people)))
        db.session.expire_all()
    elif kind == "restore tokens":
        for person in db.session.scalars(select(Person).where(~Person.name_tokens.any()).limit(2)):
            person.set_names(person.given_name, person.family_name)
    elif kind == "move":
        involvement = rng.choice(involvements)
        involvement.person_id = rng.choice(people)
        if rng.random() < 0.5:
            involvement.professional_id = rng.choice(professionals).id
    elif kind == "remove involvement":
        db.session.delete(rng.choice(involvements))
    elif kind == "activity":
        for person in db.session.scalars(select(Person).where(Person.id.in_(rng.sample(people, 4)))):
            queries.record_activity(person, "Test activity", when=rng.choice([datetime(2019, 1, 1), datetime(2026, 11, 2)]))
    db.session.commit()
    return kind


# --- the tests ---------------------------------------------------------------------


def test_random_changes_keep_the_table_right(app, make_user):
    rng = random.Random(SEED)
    today = date.today()
    professionals = make_data(rng, make_user, today)
    done = []
    for round_number in range(6):
        assert actual_index() == expected_index(), (round_number, done)
        check_shared_prefixes()
        done = [random_change(rng, professionals, today) for _ in range(12)]
    assert actual_index() == expected_index(), done
    assert set(STATUSES) <= {i.status for i in db.session.scalars(select(Involvement))}
