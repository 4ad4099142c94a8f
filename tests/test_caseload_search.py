"""The Person filter of Select Person reads caseload_name_token, a table the
database's triggers keep in step with involvements, names and tokens. These
tests check it against a brute-force reading of the ORM's rows: after each
round of random changes made through the app's own code (hide, unhide and
delete through send_portal.caseload.queries, renames through
Person.set_names, status changes, new involvements, a person's tokens
deleted), every query, view and page of every professional's list has the
count, rows and order that plain Python says it should, and the table holds
exactly the rows it should. Seeded: a failure is the same on every run.
Runs on SQLite and, with TEST_POSTGRES_URL, on PostgreSQL."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from send_portal.caseload import queries
from send_portal.caseload.queries import View, caseload_page, months_ago
from send_portal.extensions import db
from send_portal.models import (
    CaseloadNameToken,
    Involvement,
    InvolvementStatus,
    Person,
    PersonNameToken,
    User,
    Verification,
)
from send_portal.names import query_terms, shared_prefixes

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
FIXED_QUERIES = [
    "s", "sa", "sam", "smit", "an", "ann", "anna", "annaann", "Zoë", "zoe", "o'b", "obri", "ni bh", "ł",
    "mü", "muller", "sam smith", "smith sam", "s s", "a sm", "anna-ann", "jon jones", "qqq", "", "sm sa an",
]
PAGE_SIZE = 6


# --- what the table and the lists should be, from the ORM in plain Python ----


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


def check_last_activity_copies() -> None:
    """involvement.last_activity_at is its person's (migration 0006's triggers)."""
    rows = db.session.execute(
        select(Involvement.id, Involvement.last_activity_at, Person.last_activity_at).join(Person, Person.id == Involvement.person_id)
    ).all()
    assert rows and [(i, mine) for i, mine, theirs in rows if mine != theirs] == []


def check_shared_prefixes() -> None:
    tokens = defaultdict(list)
    for person_id, token, shared in db.session.execute(
        select(PersonNameToken.person_id, PersonNameToken.token, PersonNameToken.shared_prefix)
    ):
        tokens[person_id].append((token, shared))
    for person_id, pairs in tokens.items():
        pairs.sort()
        assert [n for _, n in pairs] == shared_prefixes([t for t, _ in pairs]), (person_id, pairs)


class Snapshot:
    """The rows that decide the lists, read once as plain Python values."""

    def __init__(self, professionals: list[User]):
        self.may_see = {p.id: p.is_professional and p.is_verified and p.is_active for p in professionals}
        self.tokens = defaultdict(list)
        for person_id, token in db.session.execute(select(PersonNameToken.person_id, PersonNameToken.token)):
            self.tokens[person_id].append(token)
        self.people = {p.id: p for p in db.session.execute(select(
            Person.id, Person.given_name, Person.family_name, Person.date_of_birth, Person.case_status,
            Person.last_activity_at, Person.sort_name,
        ))}
        self.involvements = db.session.execute(select(
            Involvement.id, Involvement.status, Involvement.professional_id, Involvement.person_id,
            Involvement.hidden_at, Involvement.deleted_at, Involvement.ended_on,
        )).all()
        # Name order is the database's order of sort_name (its collation).
        self.rank = {name: n for n, name in enumerate(
            db.session.scalars(select(Person.sort_name).distinct().order_by(Person.sort_name)))}


def brute_force(snapshot: Snapshot, professional_id: int, view: View, query: str, today: date,
                recent_months: int = 18) -> list[tuple]:
    """The professional's list as plain Python reads the rules, in the list's
    order: rows as caseload_page gives them (involvement id and status, then
    the person's listed columns)."""
    if not snapshot.may_see[professional_id]:
        return []
    terms = query_terms(query)
    cutoff = datetime.combine(months_ago(today, recent_months), datetime.min.time())
    chosen = []
    for involvement in snapshot.involvements:
        person = snapshot.people[involvement.person_id]
        if involvement.professional_id != professional_id:
            continue
        if involvement.deleted_at is not None or involvement.status not in LIVE:
            continue
        if view is View.ACTIVE and not (
            involvement.hidden_at is None and (involvement.ended_on is None or involvement.ended_on > today)
        ):
            continue
        if view is View.HIDDEN and involvement.hidden_at is None:
            continue
        if view is View.RECENT and not (
            involvement.hidden_at is None and person.last_activity_at is not None and person.last_activity_at >= cutoff
        ):
            continue
        words = snapshot.tokens[person.id]
        if all(any(word.startswith(term) for word in words) for term in terms):
            chosen.append((involvement, person))
    if view is View.RECENT:
        # Newest first; at the same time, the person (then involvement) added last first.
        chosen.sort(key=lambda row: (row[1].last_activity_at, row[1].id, row[0].id), reverse=True)
    else:
        chosen.sort(key=lambda row: (row[1].id, row[0].id))
    if view is not View.RECENT:
        chosen.sort(key=lambda row: snapshot.rank[row[1].sort_name])  # stable: ties stay by id
    return [(i.id, i.status, *p[:6]) for i, p in chosen]


def check_lists(professionals: list[User], query_list: list[str], today: date) -> int:
    """Every view, query and a spread of pages of each professional's list,
    against brute_force. Returns how many pages were compared."""
    snapshot = Snapshot(professionals)
    compared = 0
    for professional in professionals:
        for view in View:
            for query in query_list:
                expected = brute_force(snapshot, professional.id, view, query, today)
                total = len(expected)
                last = max(1, -(-total // PAGE_SIZE))
                for page in sorted({1, last // 2 + 1, last, last + 3}):
                    result = caseload_page(professional, view, query, page, page_size=PAGE_SIZE, today=today)
                    where = (professional.email, view.value, query, page)
                    assert result.total == total, where
                    assert result.page == min(page, last), where
                    want = expected[(result.page - 1) * PAGE_SIZE:result.page * PAGE_SIZE]
                    got = [(involvement.id, involvement.status, *person) for involvement, person in result.rows]
                    if query_terms(query):
                        assert got == want, where
                    else:
                        # The unfiltered list orders a person's two involvements with one
                        # professional by neither: compare the people and their order.
                        assert [row[2] for row in got] == [row[2] for row in want], where
                    compared += 1
    db.session.rollback()
    return compared


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


def queries_for(rng: random.Random) -> list[str]:
    """The fixed queries and a few more from the words people have now: one to
    four letters of a word, and two words together."""
    words = sorted(set(db.session.scalars(select(PersonNameToken.token))))
    picked = [rng.choice(words)[:rng.randint(1, 4)] for _ in range(5)]
    picked += [f"{rng.choice(words)[:2]} {rng.choice(words)[:3]}" for _ in range(2)]
    return FIXED_QUERIES + picked


# --- the tests ---------------------------------------------------------------------


def test_random_changes_keep_the_filter_equal_to_brute_force(app, make_user):
    rng = random.Random(SEED)
    today = date.today()
    professionals = make_data(rng, make_user, today)
    done = []
    compared = 0
    for round_number in range(6):
        assert actual_index() == expected_index(), (round_number, done)
        check_last_activity_copies()
        check_shared_prefixes()
        compared += check_lists(professionals, queries_for(rng), today)
        done = [random_change(rng, professionals, today) for _ in range(12)]
    assert actual_index() == expected_index(), done
    assert set(STATUSES) <= {i.status for i in db.session.scalars(select(Involvement))}
    assert compared > 3000


def test_a_person_with_many_words_matching_is_listed_once(app, professional, make_person):
    sam = make_person("Sam", "Smith", professional=professional)
    anna = make_person("Anna-Ann", "Annan", professional=professional)
    zoe = make_person("Zoë", "O'Brien", professional=professional)
    assert sorted((t.token, t.shared_prefix) for t in anna.name_tokens) == [
        ("ann", 0), ("anna", 3), ("annaann", 4), ("annan", 4)]
    for query, people in [
        ("", [anna, zoe, sam]), ("s", [sam]), ("sam smith", [sam]), ("sm s", [sam]), ("an", [anna]),
        ("ann annan", [anna]), ("annaa", [anna]), ("Anna-Ann", [anna]), ("o", [zoe]), ("zo o", [zoe]),
        ("ZOE OB", [zoe]), ("a s", []), ("a", [anna]),
    ]:
        page = caseload_page(professional, View.ACTIVE, query)
        assert page.total == len(page.rows) == len(people), query
        assert [p.id for _, p in page.rows] == [p.id for p in people], query


def test_the_filter_shows_nothing_to_a_professional_who_may_not_see_children(app, professional, make_person):
    make_person("Sam", "Smith", professional=professional)
    assert caseload_page(professional, View.ACTIVE, "sam").total == 1
    professional.verification = Verification.PENDING.value
    db.session.commit()
    assert caseload_page(professional, View.ACTIVE, "sam").total == 0
    assert caseload_page(professional, View.ACTIVE, "sam").rows == []
