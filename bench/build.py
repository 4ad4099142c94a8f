"""Build a benchmark database with the app's own code: its migrations make the
schema (and the triggers that fill the filter's caseload_name_token as
involvements go in), `Person.set_names` folds every name (the filter's
tokens with their shared_prefix, and the sort key), `hash_password` makes
the sign-in, and rows go in as bulk inserts
(`session.execute(insert(Model), rows)`).

Everything is seeded, so a size always builds the same data. A finished build
records itself in the table `bench_meta`; a later run reuses it."""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import insert, text

BENCH_PASSWORD = "bench-password-2026"
# Bump when the data below changes, so old builds are rebuilt. 2: tokens carry
# shared_prefix, and the build fills caseload_name_token (migration 0005).
# 3: an organisation sharing a team caseload (issue 14, migration 0015).
BUILD_VERSION = 3

# Named caseloads: (email, given, family, involvements). Others are generated.
# "big" is the LA-wide practitioner of the issue; "senco" a school's SENCo;
# "team" the first member of an organisation that shares a team caseload.
CASELOAD_EMAIL = "bench.{name}@bench.example"
TEAM = "team"
TEAM_ORGANISATION = "Bench Academy Trust"


@dataclass(frozen=True)
class Size:
    name: str
    people: int
    professionals: int
    caseloads: dict[str, int] = field(default_factory=dict)  # name -> involvements
    # Involvements of all the other professionals, per person in the database.
    other_involvements_per_person: float = 1.5
    hide_pool: int = 400  # people of "big" that hide/unhide cycles through
    # An organisation sharing a team caseload: its members (the first is the
    # named caseload "team", who signs in) and their involvements in all.
    team_members: int = 0
    team_involvements: int = 0


SIZES = {
    "tiny": Size("tiny", people=2_000, professionals=20, caseloads={"big": 600, "senco": 60}, hide_pool=100,
                 team_members=4, team_involvements=1_800),
    "default": Size("default", people=100_000, professionals=1_000, caseloads={"big": 10_000, "senco": 300},
                    team_members=10, team_involvements=30_000),
    "large": Size(
        "large", people=1_000_000, professionals=1_000,
        caseloads={"huge": 100_000, "big": 10_000, "senco": 300}, team_members=10, team_involvements=30_000,
    ),
}

# Common names in England and Wales, with weights that make some prefixes
# (s, j, m...) far commoner than others, and the accents and marks the filter
# must fold (Zoë, Chloé, Łukasz, Müller, O'Brien, Smith-Jones).
GIVEN = (
    "Oliver:30 Amelia:30 George:25 Isla:25 Noah:25 Ava:22 Arthur:22 Mia:22 Harry:20 Ivy:20 Leo:20 Lily:20 "
    "Muhammad:25 Isabella:18 Jack:18 Sophia:18 Charlie:17 Grace:17 Oscar:17 Freya:17 Jacob:15 Florence:15 "
    "Henry:15 Willow:15 Thomas:15 Evie:15 Alfie:14 Ella:14 Archie:14 Poppy:14 Theo:14 Emily:14 Joshua:13 "
    "Sienna:13 James:13 Elsie:13 William:13 Rosie:13 Edward:12 Daisy:12 Max:12 Phoebe:12 Lucas:12 Matilda:12 "
    "Jude:11 Harper:11 Samuel:11 Sophie:11 Ethan:11 Evelyn:11 Finley:10 Alice:10 Mason:10 Ruby:10 Daniel:10 "
    "Hannah:10 Joseph:10 Zoë:9 Adam:9 Chloé:6 Mohammed:9 Aisha:8 Ibrahim:8 Maryam:8 Yusuf:8 Fatima:8 Ayaan:6 "
    "Zara:7 Aarav:5 Priya:5 Kofi:4 Amara:5 Chidi:3 Ngozi:3 Kwame:3 Abena:3 Łukasz:3 Zofia:3 Jakub:4 Maja:3 "
    "Mateusz:3 Julia:5 José:3 Lucía:3 Élodie:2 Siân:3 Dafydd:3 Ffion:3 Rhys:4 Cerys:3 Aoife:3 Niamh:3 "
    "Ruairí:2 Seán:3 Órla:2 Mary-Jane:2 Anna-Marie:2 Jean-Luc:1 Björn:1 Søren:1 Ümit:1 Çağla:1 Nguyễn:1 "
    "Mei:2 Wei:2 Hiroshi:1 Yuki:1 Dylan:8 Rory:7 Nia:4 Kai:6 Reggie:6 Albie:6 Ronnie:6 Tommy:6 Frankie:5 "
    "Bella:6 Luna:8 Aria:8 Millie:8 Maisie:6 Esme:6 Orla:5 Layla:6 Nancy:4 Margot:4 Connie:4 Penelope:3"
)
FAMILY = (
    "Smith:60 Jones:45 Taylor:30 Brown:30 Williams:30 Wilson:22 Johnson:22 Davies:22 Robinson:18 Wright:18 "
    "Thompson:18 Evans:18 Walker:17 White:17 Roberts:16 Green:16 Hall:16 Wood:15 Jackson:15 Clarke:15 "
    "Patel:20 Khan:18 Lewis:14 James:14 Phillips:12 Mason:12 Mitchell:12 Rose:11 Davis:11 Rodríguez:3 "
    "Cox:10 Alexander:8 Morgan:12 Moore:12 Hughes:12 Edwards:12 Hill:12 Harris:12 Martin:12 Cooper:11 "
    "Ward:11 Turner:11 Parker:10 Morris:10 King:10 Baker:10 Harrison:10 Carter:10 Allen:9 Young:9 Scott:9 "
    "Ahmed:12 Ali:12 Hussain:10 Begum:10 Akhtar:6 Iqbal:5 Rahman:6 Mahmood:5 Singh:9 Kaur:8 Sharma:5 "
    "Okafor:4 Okonkwo:3 Adeyemi:4 Mensah:4 Boateng:3 Nwosu:3 Nowak:5 Kowalski:4 Wiśniewska:2 Łęcka:2 "
    "Wójcik:2 Müller:3 Schäfer:2 García:4 Martínez:3 Fernández:2 O'Brien:6 O'Connor:5 O'Neill:5 "
    "MacDonald:5 McLean:4 Murphy:8 Kelly:8 Byrne:4 Ní Bhriain:1 Smith-Jones:3 Taylor-Brown:2 Nguyen:4 "
    "Chen:4 Wang:4 Li:4 Kim:3 Tanaka:1 Öztürk:2 Yılmaz:2 Dubois:2 Lefèvre:1 Bianchi:1 Rossi:2 Silva:3 "
    "Santos:3 Costa:2 Pereira:2 Novák:1 Andersson:1 Nielsen:1 Jansen:1 De Souza:2 Van Dijk:1 Bell:8 "
    "Price:8 Bennett:8 Gray:8 Watson:8 Shaw:8 Fisher:7 Stevens:7 Holmes:7 Lloyd:7 Griffiths:7 Owen:7 "
    "Powell:7 Jenkins:7 Cole:6 Dixon:6 Ellis:6 Knight:6 Marshall:6 Chapman:6 Webb:6 Simpson:6 Ryan:5"
)
CASE_STATUS_WEIGHTS = {
    "No open case": 40, "Request received": 6, "Deciding whether to assess": 6, "Assessment in progress": 8,
    "Not assessing": 4, "Draft plan issued": 4, "EHC plan issued": 22, "Annual review due": 7, "Plan ceased": 3,
}
GENDERS = ["Female", "Male", "Not known", "Not specified"]


def _weighted(spec: str) -> tuple[list[str], list[int]]:
    names, weights = [], []
    for item in spec.split():
        name, weight = item.rsplit(":", 1)
        names.append(name)
        weights.append(int(weight))
    return names, weights


# Two-word family names are written with "_" in the spec above.
def _names(spec: str) -> tuple[list[str], list[int]]:
    names, weights = _weighted(spec.replace("Ní Bhriain", "Ní_Bhriain").replace("De Souza", "De_Souza").replace("Van Dijk", "Van_Dijk"))
    return [n.replace("_", " ") for n in names], weights


@lru_cache(maxsize=None)
def name_fields(given_name: str, family_name: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """The sort key and the filter's (token, shared_prefix) pairs, in token
    order, that the app stores for a name, from the app's own
    Person.set_names (on a transient Person that is never added)."""
    from send_portal.models import Person

    person = Person()
    person.set_names(given_name, family_name)
    return person.sort_name, tuple(sorted((t.token, t.shared_prefix) for t in person.name_tokens))


def caseload_email(name: str) -> str:
    return CASELOAD_EMAIL.format(name=name)


@dataclass
class BuildInfo:
    size: str
    people: int
    professionals: int
    involvements: int
    tokens: int
    caseloads: dict[str, int]  # name -> professional id
    hide_pool: list[int]  # person ids in "big"'s Active list, for hide/unhide
    seconds: float
    version: int = BUILD_VERSION
    today: str = ""
    names: str = ""  # names_fingerprint() of the code that built it
    team_members: list[int] = field(default_factory=list)  # professional ids, "team" first
    team_involvements: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> "BuildInfo":
        return cls(**json.loads(raw))


def read_build_info(session) -> BuildInfo | None:
    try:
        raw = session.execute(text("SELECT value FROM bench_meta WHERE key = 'build'")).scalar()
    except Exception:  # noqa: BLE001 - no such table: not a finished build
        session.rollback()
        return None
    session.rollback()
    if not raw:
        return None
    try:
        info = BuildInfo.from_json(raw)
    except TypeError:  # written by another version of this file
        return None
    # Rebuilt when the app folds names differently from the code that built it.
    return info if info.version == BUILD_VERSION and info.names == names_fingerprint() else None


def names_fingerprint() -> str:
    """What the app's Person.set_names makes of every name the builder uses."""
    import hashlib

    given, family = _names(GIVEN)[0], _names(FAMILY)[0]
    folded = [name_fields(g, f) for g, f in zip(given * 2, family)]
    return hashlib.sha256(repr(folded).encode()).hexdigest()[:16]


def _person_rows(size: Size, rng: random.Random, today: date):
    given, given_w = _names(GIVEN)
    family, family_w = _names(FAMILY)
    statuses, status_w = list(CASE_STATUS_WEIGHTS), list(CASE_STATUS_WEIGHTS.values())
    now = datetime.combine(today, datetime.min.time())
    created = now - timedelta(days=400)
    chunk = 20_000
    for start in range(1, size.people + 1, chunk):
        n = min(chunk, size.people + 1 - start)
        gs = rng.choices(given, given_w, k=n)
        fs = rng.choices(family, family_w, k=n)
        st = rng.choices(statuses, status_w, k=n)
        people, tokens = [], []
        for k in range(n):
            pid = start + k
            sort_name, person_tokens = name_fields(gs[k], fs[k])
            r = rng.random()
            if r < 0.55:  # something happened in the last 18 months
                last = now - timedelta(days=rng.randint(0, 540), minutes=rng.randint(0, 1439))
            elif r < 0.8:
                last = now - timedelta(days=rng.randint(560, 2500))
            else:
                last = None
            people.append({
                "id": pid,
                "la_reference": f"B{pid:08d}",
                "given_name": gs[k],
                "family_name": fs[k],
                "sort_name": sort_name,
                "date_of_birth": today - timedelta(days=rng.randint(365, 25 * 365)),
                "gender": GENDERS[pid % 4],
                "case_status": st[k],
                "last_activity_at": last,
                "added_by_professional": False,
                "created_at": created,
            })
            tokens.extend({"person_id": pid, "token": t, "shared_prefix": n} for t, n in person_tokens)
        yield people, tokens


def _involvement(iid: int, professional_id: int, person_id: int, rng: random.Random, today: date, now: datetime) -> dict:
    r = rng.random()
    row = {
        "id": iid,
        "professional_id": professional_id,
        "person_id": person_id,
        "status": "authenticated",
        "started_on": today - timedelta(days=rng.randint(30, 2000)),
        "ended_on": None,
        "authenticated_at": now - timedelta(days=20),
        "hidden_at": None,
        "deleted_at": None,
        "created_at": now - timedelta(days=30),
    }
    if r < 0.03:
        row.update(status="awaiting", authenticated_at=None)
    elif r < 0.08:
        row["ended_on"] = today - timedelta(days=rng.randint(1, 900))
    elif r < 0.10:
        row["hidden_at"] = now - timedelta(days=rng.randint(1, 300))
    elif r < 0.105:
        row.update(status="unauthenticated", deleted_at=now - timedelta(days=rng.randint(1, 300)))
    return row


def build(app, size: Size, log=print) -> BuildInfo:
    """Create the schema (the app's migrations) and fill it. The database
    must be empty."""
    from flask_migrate import upgrade

    from send_portal.auth.passwords import hash_password
    from send_portal.extensions import db
    from send_portal.models import Involvement, Person, PersonNameToken, User
    from send_portal.organisations.models import Organisation

    started = time.perf_counter()
    today = date.today()
    now = datetime.combine(today, datetime.min.time()) + timedelta(hours=8)
    rng = random.Random(f"send-portal-bench-{size.name}")
    with app.app_context():
        upgrade()
        engine = db.engine
        session = db.session
        if engine.dialect.name == "sqlite":
            # A build-only page cache of 256 MiB: the triggers write
            # caseload_name_token in an order far from its key's.
            session.execute(text("PRAGMA cache_size = -262144"))

        # Professionals: the named caseloads first, then the others.
        password_hash = hash_password(BENCH_PASSWORD)
        users, caseload_ids = [], {}
        uid = 2  # 1 is the built-in system account
        for name in size.caseloads:
            caseload_ids[name] = uid
            users.append(_user(uid, caseload_email(name), "Bench", name.title(), password_hash, now))
            uid += 1
        for n in range(size.professionals - len(size.caseloads)):
            users.append(_user(uid, f"bench.pro{n:05d}@bench.example", "Pro", f"Fessional{n}", password_hash, now))
            uid += 1
        other_ids = [u["id"] for u in users[len(size.caseloads):]]
        team_ids = []
        if size.team_members:
            session.execute(insert(Organisation.__table__), [{
                "id": 1, "name": TEAM_ORGANISATION, "name_key": TEAM_ORGANISATION.casefold(), "kind": "school",
                "urn": "100001", "shares_caseload": True, "created_at": now,
            }])
            for n in range(size.team_members):
                email = caseload_email(TEAM) if n == 0 else f"bench.team{n:03d}@bench.example"
                users.append(_user(uid, email, "Team", f"Member{n}", password_hash, now, organisation_id=1))
                team_ids.append(uid)
                uid += 1
            caseload_ids[TEAM] = team_ids[0]
        session.execute(insert(User.__table__), users)

        tokens_total = 0
        for people, tokens in _person_rows(size, rng, today):
            session.execute(insert(Person.__table__), people)
            session.execute(insert(PersonNameToken.__table__), tokens)
            tokens_total += len(tokens)
        log(f"  {size.people:,} people and {tokens_total:,} name tokens in {time.perf_counter() - started:.1f}s")

        iid = 0
        batch: list[dict] = []

        def flush(force=False):
            nonlocal batch
            if batch and (force or len(batch) >= 20_000):
                session.execute(insert(Involvement.__table__), batch)
                batch = []

        hide_pool = []
        for name, count in size.caseloads.items():
            pro = caseload_ids[name]
            for person_id in sorted(rng.sample(range(1, size.people + 1), count)):
                iid += 1
                row = _involvement(iid, pro, person_id, rng, today, now)
                batch.append(row)
                if name == "big" and row["status"] == "authenticated" and row["ended_on"] is None and row["hidden_at"] is None:
                    hide_pool.append(person_id)
                flush()
        # The team: each member's share of the organisation's involvements
        # (a child two members work with is in the team list twice, as in life).
        for n, pro in enumerate(team_ids):
            share = size.team_involvements // len(team_ids) + (1 if n < size.team_involvements % len(team_ids) else 0)
            for person_id in sorted(rng.sample(range(1, size.people + 1), share)):
                iid += 1
                batch.append(_involvement(iid, pro, person_id, rng, today, now))
                flush()
        others = int(size.people * size.other_involvements_per_person)
        for _ in range(others):
            iid += 1
            batch.append(_involvement(iid, rng.choice(other_ids), rng.randint(1, size.people), rng, today, now))
            flush()
        flush(force=True)
        log(f"  {iid:,} involvements (with the filter's caseload_name_token rows, made by triggers)"
            f" in {time.perf_counter() - started:.1f}s")

        pool = sorted(random.Random(7).sample(hide_pool, min(size.hide_pool, len(hide_pool))))
        info = BuildInfo(
            size=size.name, people=size.people, professionals=size.professionals, involvements=iid,
            tokens=tokens_total, caseloads=caseload_ids, hide_pool=pool, seconds=0.0, today=today.isoformat(),
            names=names_fingerprint(), team_members=team_ids, team_involvements=size.team_involvements if team_ids else 0,
        )
        if engine.dialect.name == "postgresql":
            for table in ("portal_user", "person", "involvement", "organisation"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        session.execute(text("CREATE TABLE IF NOT EXISTS bench_meta (key VARCHAR(40) PRIMARY KEY, value TEXT NOT NULL)"))
        session.commit()
        info.seconds = round(time.perf_counter() - started, 1)
        session.execute(text("INSERT INTO bench_meta (key, value) VALUES ('build', :v)"), {"v": info.to_json()})
        session.commit()
        analyse(session)
        log(f"  built in {info.seconds:.1f}s (analysed in {time.perf_counter() - started - info.seconds:.1f}s)")
        return info


def analyse(session) -> None:
    """Planner statistics, as a live database has them: PostgreSQL's
    autovacuum gathers them by itself. SQLite is left as the app leaves it
    (nothing runs ANALYZE there), so its planner works without statistics."""
    from send_portal.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def _user(uid: int, email: str, given: str, family: str, password_hash: str, now: datetime,
          organisation_id: int | None = None) -> dict:
    return {
        "id": uid, "email": email, "given_name": given, "family_name": family, "role": "professional",
        "professional_type": "educational_psychologist",
        "organisation": TEAM_ORGANISATION if organisation_id else "Bench Borough Council",
        "password_hash": password_hash, "verification": "verified", "is_deactivated": False, "created_at": now,
        "organisation_id": organisation_id, "is_organisation_lead": False,
    }


def reset_hide_pool(app, info: BuildInfo) -> int:
    """Undo any hide an interrupted run left behind in the hide pool."""
    from send_portal.extensions import db
    from send_portal.models import Involvement

    with app.app_context():
        changed = db.session.execute(
            Involvement.__table__.update()
            .where(Involvement.professional_id == info.caseloads["big"], Involvement.person_id.in_(info.hide_pool),
                   Involvement.hidden_at.is_not(None))
            .values(hidden_at=None)
        ).rowcount
        db.session.commit()
        return changed


__all__ = ["SIZES", "Size", "BuildInfo", "build", "read_build_info", "name_fields", "caseload_email", "BENCH_PASSWORD"]
