"""Helpers for tests/test_hostile.py: the routes (read from the app's own URL
map, so a new route is covered without anyone listing it), a world of users
and children to attack, a snapshot of the database, a crawler that finds the
forms each route is posted from, and the hostile values the tests send."""
from __future__ import annotations

import itertools
import re
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import parse_qsl, urlsplit

from bs4 import BeautifulSoup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import (
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    RequestRedirect,
    UUIDConverter,
)

from send_portal.auth.passwords import hash_password
from send_portal.extensions import db
from send_portal.models import Involvement, InvolvementStatus, Person, User, Verification

from .conftest import CSRF_RE, PASSWORD

# --- routes ------------------------------------------------------------------------

SKIP_ENDPOINTS = {"static"}
# Reachable without signing in, and allowed to answer a signed-out visitor.
PUBLIC_ENDPOINTS = {"auth.sign_in", "auth.register", "portal.accessibility", "portal.favicon", "health"}
# Forgotten password (send_portal/auth/password_reset.py) is for the signed out.
PUBLIC_ENDPOINTS |= {"auth.forgot_password", "auth.forgot_password_sent", "auth.reset_password", "auth.password_reset_done"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}  # anything else is a state change


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    method: str
    arguments: tuple[tuple[str, str, tuple], ...]  # (name, converter kind, choices)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.rule)

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"

    @property
    def writes(self) -> bool:
        return self.method not in READ_METHODS

    @property
    def area(self) -> str:
        """admin: LA administrators only; send: professionals only; public:
        anyone; signed_in: anyone signed in (home, sign out)."""
        if self.endpoint in PUBLIC_ENDPOINTS:
            return "public"
        if self.rule == "/admin" or self.rule.startswith("/admin/"):
            return "admin"
        if self.rule == "/send" or self.rule.startswith("/send/"):
            return "send"
        return "signed_in"

    @property
    def int_arguments(self) -> list[str]:
        return [name for name, kind, _ in self.arguments if kind == "int"]


def _converter_kind(converter) -> tuple[str, tuple]:
    if isinstance(converter, AnyConverter):
        return "any", tuple(sorted(converter.items))
    if isinstance(converter, IntegerConverter):
        return "int", ()
    if isinstance(converter, FloatConverter):
        return "float", ()
    if isinstance(converter, UUIDConverter):
        return "uuid", ()
    if isinstance(converter, PathConverter):
        return "path", ()
    return "string", ()


def routes_of(app) -> list[Route]:
    """One Route per (rule, method) of the app, static files aside."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        arguments = tuple(
            (name, *_converter_kind(converter)) for name, converter in rule._converters.items()
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append(Route(rule.endpoint, rule.rule, method, arguments))
    return sorted(found, key=lambda r: (r.rule, r.method))


_PLACEHOLDER = re.compile(r"<(?:([a-zA-Z_][a-zA-Z0-9_]*)(?:\((.*?)\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def build_url(route: Route, values: dict) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(3)]), route.rule)


# --- the world ---------------------------------------------------------------------

MISSING_ID = 987_654


@dataclass(frozen=True)
class Someone:
    id: int
    email: str
    given_name: str
    family_name: str


@dataclass(frozen=True)
class Child:
    id: int
    given_name: str
    family_name: str


@dataclass
class World:
    """Plain ids and names (no database objects), so it outlives a session."""

    users: dict  # kind -> Someone (None for the signed-out visitor)
    people: dict  # key -> Child
    involvements: dict  # key -> involvement id
    # The family names a user kind must never see (children not theirs).
    secret_names: dict = field(default_factory=dict)
    live_people: dict = field(default_factory=dict)  # kind -> person ids they may see
    live_involvements: dict = field(default_factory=dict)  # kind -> involvement ids
    # Other things a professional owns through a child: {"response": {"A": [ids]}, ...}
    owned: dict = field(default_factory=dict)
    # Cover arrangements by when they run: {"before": id, "during": id, "after": id}
    covers: dict = field(default_factory=dict)

    def person_ids(self) -> list[int]:
        return [p.id for p in self.people.values()]

    def user_ids(self) -> list[int]:
        return [u.id for u in self.users.values() if u is not None] + [1]

    def involvement_ids(self) -> list[int]:
        return list(self.involvements.values())


# Issue 14's people: T2 shares the team caseload of Hostile Academy with T1
# (and leads it); the leaver was a member of it, signed in, and has been
# handed over to T1 (their session ended); in Hostile Clinic (no team
# caseload) C has given cover to three colleagues: one whose cover starts
# tomorrow, one covering today, one whose cover ended yesterday. B is in
# no organisation: the non-member.
TEAM_KINDS = ("T2", "cover_before", "cover_during", "cover_after", "leaver")
# The admin goes last: the admin area is theirs to change (and deactivating
# a professional signs them out).
USER_KINDS = ("anon", "unverified", "A", "B", *TEAM_KINDS, "admin")
# Professionals who make requests (the leaver is signed out by the hand-over).
PROFESSIONAL_KINDS = ("unverified", "A", "B", "T2", "cover_before", "cover_during", "cover_after")
SIGNED_OUT_KINDS = ("anon", "leaver")

USERS = {
    # kind: (given, family, email, role, professional type, verified)
    "unverified": ("Una", "Verity", "una.verity@nursery.example", "professional", "early_years", False),
    "A": ("Sam", "Patel", "sam.patel@school.example", "professional", "senco", True),
    "B": ("Jordan", "Okafor", "jordan.okafor@eps.example", "professional", "educational_psychologist", True),
    "admin": ("Alex", "Morgan", "alex.morgan@la.example", "admin", None, True),
    # Not one of the USER_KINDS that make requests: someone for the admin to reactivate.
    "deactivated": ("Dee", "Parted", "dee.parted@school.example", "professional", "health", True),
    # Owners of team and covered children (they make no requests).
    "T1": ("Tess", "Teamer", "tess.teamer@academy.example", "professional", "senco", True),
    "C": ("Cora", "Covered", "cora.covered@clinic.example", "professional", "health", True),
    "T2": ("Theo", "Twomate", "theo.twomate@academy.example", "professional", "senco", True),
    "leaver": ("Lena", "Leftearly", "lena.leftearly@academy.example", "professional", "senco", True),
    "cover_before": ("Bea", "Beforehand", "bea.beforehand@clinic.example", "professional", "health", True),
    "cover_during": ("Dev", "Duringly", "dev.duringly@clinic.example", "professional", "health", True),
    "cover_after": ("Aft", "Afterwards", "aft.afterwards@clinic.example", "professional", "health", True),
}
# organisation: (shares a team caseload, members, its lead)
ORGANISATIONS = {
    "Hostile Academy": (True, ("T1", "T2", "leaver"), "T2"),
    "Hostile Clinic": (False, ("C", "cover_before", "cover_during", "cover_after"), None),
}
# when: (colleague kind, first day, last day), in days from today
COVERS = {"before": ("cover_before", 1, 5), "during": ("cover_during", -1, 1), "after": ("cover_after", -5, -1)}

# Family names chosen so that a substring test cannot match anything else.
CHILDREN = {
    # key: (given, family, owner kind, involvement status, hidden, deleted)
    "a1": ("Aurelia", "Aardvarkson", "A", InvolvementStatus.AUTHENTICATED, False, False),
    "a_hidden": ("Hester", "Hollowhide", "A", InvolvementStatus.AUTHENTICATED, True, False),
    "a_awaiting": ("Wilma", "Waitington", "A", InvolvementStatus.AWAITING, False, False),
    "a_deleted": ("Delphine", "Deletorius", "A", InvolvementStatus.UNAUTHENTICATED, False, True),
    "a_declined": ("Declan", "Declinedsson", "A", InvolvementStatus.DECLINED, False, False),
    "b1": ("Bartholomew", "Bexleyworth", "B", InvolvementStatus.AUTHENTICATED, False, False),
    "b_awaiting": ("Brunhilde", "Brambleton", "B", InvolvementStatus.AWAITING, False, False),
    "u1": ("Ulrika", "Unseenova", "unverified", InvolvementStatus.AWAITING, False, False),
    "unrelated": ("Zebedee", "Zanzibarov", None, None, False, False),
    "t1": ("Tamsin", "Teamworthy", "T1", InvolvementStatus.AUTHENTICATED, False, False),
    "c1": ("Cosmo", "Coverdale", "C", InvolvementStatus.AUTHENTICATED, False, False),
    # The leaver's, handed over to T1 (signed_in_sessions).
    "l1": ("Lorcan", "Leaverington", "leaver", InvolvementStatus.AUTHENTICATED, False, False),
}
VISIBLE = {
    "anon": set(),
    "unverified": set(),  # sees no child until verified, not even their own
    "A": {"a1", "a_hidden", "a_awaiting"},
    "B": {"b1", "b_awaiting"},
    "admin": set(CHILDREN),
    "T2": {"t1", "l1"},  # through the team caseload
    "cover_before": set(),
    "cover_during": {"c1"},
    "cover_after": set(),
    "leaver": set(),
}


# Words only a child's thread holds: seen by that child's professional and the LA only.
SECRET_WORDS = {"a1": "Aardwolfish", "b1": "Quokkaberry"}


def build_world() -> World:
    """Users and children, written with the models (inside an app context)."""
    users = {"anon": None}
    for kind, (given, family, email, role, ptype, verified) in USERS.items():
        user = User(
            email=email, given_name=given, family_name=family, role=role, professional_type=ptype,
            organisation="Riverside Primary School", password_hash=hash_password(PASSWORD),
            verification=(Verification.VERIFIED if verified else Verification.PENDING).value,
            is_deactivated=kind == "deactivated",
        )
        db.session.add(user)
        db.session.flush()
        users[kind] = Someone(user.id, email, given, family)
    covers = _organisations_and_cover(users)
    people, involvements = {}, {}
    for n, (key, (given, family, owner, status, hidden, deleted)) in enumerate(CHILDREN.items()):
        person = Person(
            la_reference=f"HOSTILE{n:04d}", date_of_birth=date(2015, 3, 14), gender="Female",
            case_status="Assessment in progress", last_activity_at=datetime(2026, 1, 1),
            address_line_1="1 Test Street", town="Testville", postcode="DM1 2AB",
            request_received_on=date(2026, 1, 5), assessment_decision_on=date(2026, 2, 16),
        )
        person.set_names(given, family)
        db.session.add(person)
        db.session.flush()
        people[key] = Child(person.id, given, family)
        if owner:
            involvement = Involvement(
                professional_id=users[owner].id, person_id=person.id, status=status.value,
                hidden_at=datetime(2026, 1, 1) if hidden else None,
                deleted_at=datetime(2026, 1, 2) if deleted else None,
            )
            db.session.add(involvement)
            db.session.flush()
            involvements[key] = involvement.id
    db.session.commit()
    world = World(users=users, people=people, involvements=involvements, covers=covers)
    seeded = _seed_forms_and_messages(world)
    for kind in USER_KINDS:
        hidden = sorted(set(CHILDREN) - VISIBLE[kind])
        world.secret_names[kind] = [CHILDREN[key][1] for key in hidden] + [
            SECRET_WORDS[key] for key in hidden if key in seeded
        ]
        world.live_people[kind] = {people[key].id for key in VISIBLE[kind]}
        world.live_involvements[kind] = (
            {involvements[key] for key in VISIBLE[kind] if key in involvements}
            if kind != "admin" else set(involvements.values())
        )
    return world


def _organisations_and_cover(users: dict) -> dict:
    from datetime import timedelta

    from send_portal.organisations.models import Cover, Organisation, name_key

    for name, (shares, members, lead) in ORGANISATIONS.items():
        organisation = Organisation(name=name, name_key=name_key(name), kind="other", shares_caseload=shares)
        db.session.add(organisation)
        db.session.flush()
        for kind in members:
            user = db.session.get(User, users[kind].id)
            user.organisation_id = organisation.id
            user.is_organisation_lead = kind == lead
    today, covers = date.today(), {}
    for when, (kind, first, last) in COVERS.items():
        giver = db.session.get(User, users["C"].id)
        cover = Cover(
            organisation_id=giver.organisation_id, professional_id=giver.id, colleague_id=users[kind].id,
            starts_on=today + timedelta(days=first), ends_on=today + timedelta(days=last), created_by_id=giver.id,
        )
        db.session.add(cover)
        db.session.flush()
        covers[when] = cover.id
    return covers


def hand_over_the_leaver(world: World) -> None:
    """The leaver's children go to T1, by the LA: their account closes and
    their sessions end."""
    from send_portal.organisations.service import hand_over, leaver_children

    leaver = db.session.get(User, world.users["leaver"].id)
    t1 = db.session.get(User, world.users["T1"].id)
    admin = db.session.get(User, world.users["admin"].id)
    hand_over(admin, leaver, {child.involvement_id: t1 for child in leaver_children(leaver)})
    db.session.commit()


def _seed_forms_and_messages(world: World) -> set[str]:
    """For A's child a1 and B's child b1: a draft form, a submitted one, a
    form the LA asks for, and messages holding a secret word; the ids go in
    world.owned. Returns the children seeded (none in a build without the
    forms and messages features)."""
    try:
        from flask import current_app

        from send_portal.forms.models import FormFile, FormRequest, FormResponse
        from send_portal.forms.uploads import new_storage_name, store
        from send_portal.messages.models import Message

        catalogue = current_app.extensions["send_forms"]
    except (ImportError, KeyError):
        return set()
    seeded = set()
    sent_at = datetime(2026, 2, 1, 10, 0)
    admin_id = world.users["admin"].id
    for kind, child in (("A", "a1"), ("B", "b1")):
        definitions = catalogue.for_professional(USERS[kind][4], True)
        if not definitions:
            continue
        definition, involvement_id = definitions[0], world.involvements[child]
        draft = FormResponse(
            involvement_id=involvement_id, form_key=definition.key, title=definition.title, answers={}, status="draft",
        )
        submitted = FormResponse(
            involvement_id=involvement_id, form_key=definition.key, title=definition.title, answers={},
            status="submitted", reference=f"HOSTILE-{kind}", submitted_at=sent_at,
            definition_snapshot=definition.to_snapshot(),
        )
        request = FormRequest(
            involvement_id=involvement_id, form_key=definition.key, title=definition.title,
            due_on=date(2026, 12, 1), requested_by_id=admin_id,
        )
        db.session.add_all([draft, submitted, request])
        db.session.flush()
        secret = SECRET_WORDS[child]
        messages = [
            Message(involvement_id=involvement_id, sender_id=admin_id, from_la=True, body=f"A private note: {secret}", sent_at=sent_at),
            Message(involvement_id=involvement_id, sender_id=world.users[kind].id, from_la=False, body=f"Reply about {secret}", sent_at=sent_at),
        ]
        db.session.add_all(messages)
        db.session.flush()
        for response in (draft, submitted):
            content = f"%PDF-1.4\n% {secret}\n".encode()
            storage_name = new_storage_name()
            store(storage_name, content)
            attached = FormFile(
                response_id=response.id, question_key="evidence", filename=f"notes-{kind}.pdf",
                content_type="application/pdf", size=len(content), sha256="0" * 64, storage_name=storage_name,
                uploaded_by_id=world.users[kind].id,
            )
            db.session.add(attached)
            db.session.flush()
            world.owned.setdefault("file", {}).setdefault(kind, []).append(attached.id)
        world.owned.setdefault("response", {}).setdefault(kind, []).extend([draft.id, submitted.id])
        world.owned.setdefault("request", {}).setdefault(kind, []).append(request.id)
        world.owned.setdefault("message", {}).setdefault(kind, []).extend(m.id for m in messages)
        seeded.add(child)
    db.session.commit()
    return seeded


# --- signing in ----------------------------------------------------------------------


def csrf_token(client, url="/accessibility") -> str:
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, f"{url} carries no CSRF token"
    return match.group(1)


def sign_in(client, user) -> None:
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:500])


SESSION_COOKIE = "send_portal_session"


@dataclass
class Actor:
    kind: str
    user: Someone | None
    client: object
    token: str = ""


def signed_in_sessions(app, world: World) -> dict[str, tuple[str, str]]:
    """Sign each kind of user in once: kind -> (session cookie, CSRF token).
    The cookie is signed with the app's secret, so any app of this test run
    (same SECRET_KEY) accepts it."""
    sessions = {}
    for kind in USER_KINDS:
        client = app.test_client()
        if world.users[kind] is not None:
            sign_in(client, world.users[kind])
        token = csrf_token(client)
        sessions[kind] = (client.get_cookie(SESSION_COOKIE).value, token)
    # The leaver signed in before leaving: that session must be over.
    hand_over_the_leaver(world)
    return sessions


def fresh_visitor(actor: Actor) -> Actor:
    """A new signed-out visitor, for each attempt at a public form (one that
    succeeds signs the visitor in, and the next would be turned away)."""
    client = actor.client.application.test_client()
    return Actor("anon", None, client, csrf_token(client))


def actors_from(app, world: World, sessions: dict) -> dict[str, Actor]:
    actors = {}
    for kind, (cookie, token) in sessions.items():
        client = app.test_client()
        client.set_cookie(SESSION_COOKIE, cookie)
        actors[kind] = Actor(kind, world.users[kind], client, token)
    return actors


# --- requests that never raise ---------------------------------------------------------


@dataclass
class Result:
    method: str
    url: str
    status: int
    headers: dict
    mimetype: str
    body: str
    error: str | None = None  # the traceback of an exception the app let escape

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def describe(self) -> str:
        text = f"{self.method} {self.url} -> {self.status}"
        if self.error:
            text += "\n" + self.error
        return text


def send(client, method: str, url: str, data=None, headers=None, query=None) -> Result:
    """One request. An exception that escapes the app (TESTING propagates
    them) is a 500, with its traceback kept for the report."""
    try:
        response = client.open(url, method=method, data=data, headers=headers or {}, query_string=query)
    except Exception as error:  # noqa: BLE001 - anything escaping the app is a server error
        db.session.rollback()
        return Result(method, url, 500, {}, "", "", error=_app_traceback(error))
    body = response.get_data(as_text=True)
    return Result(method, url, response.status_code, dict(response.headers), response.mimetype, body)


def _app_traceback(error: BaseException) -> str:
    """The app's own frames (where to fix it) and the exception, without the
    dozens of library frames between them."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/send_portal/" in f.filename]
    lines = ["Traceback (the app's frames):\n", *traceback.format_list(frames)]
    return "".join(lines) + "".join(traceback.format_exception_only(error)).strip()


def htmx_headers(on: bool) -> dict:
    return {"HX-Request": "true"} if on else {}


# --- the database, before and after ----------------------------------------------------

SIGN_IN_ACTIONS = {"Signed in", "Sign-in failed", "Signed out", "Signed out of other devices"}
# Reads that are audited: opening a colleague's child (team caseload, cover).
AUDITED_READS = {"Child's record opened through a colleague's caseload"}
# What signing in and out keeps on the server: a person's own sessions, and
# the failed sign-ins the rate limit counts.
SIGN_IN_TABLES = {"user_session", "sign_in_failure"}
# A person's own Add Person in progress (kept on the server, not in the
# cookie): keyed by who sent it, so it cannot touch anyone else's data.
OWN_DRAFT_TABLES = {"person_draft"}
_VOLATILE_COLUMN = re.compile(r"^last_(sign|login|seen)")
# Opening a thread may note that its messages have been read.
READ_RECEIPT_COLUMN = re.compile(r"(^|_)(read|seen|opened)(_at|_on)?$")


def snapshot(read_receipts: bool = True) -> dict:
    """Every row of every table the models know, save the audit entries that
    signing in and out write (and any last-signed-in style column); without
    the read-receipt columns if read_receipts is False."""
    db.session.commit()
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name in SIGN_IN_TABLES | OWN_DRAFT_TABLES:
            continue
        columns = [
            c for c in table.columns
            if not _VOLATILE_COLUMN.match(c.name) and (read_receipts or not READ_RECEIPT_COLUMN.search(c.name))
        ]
        query = select(*columns)
        if table.name == "audit_entry":
            query = query.where(table.c.action.not_in(SIGN_IN_ACTIONS | AUDITED_READS))
        order = list(table.primary_key.columns) or columns
        rows = db.session.execute(query.order_by(*order)).all()
        state[table.name] = [tuple(repr(v) if isinstance(v, (dict, list)) else v for v in r) for r in rows]
    db.session.commit()
    return state


def describe_change(before: dict, after: dict) -> str:
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            lines.append(f"table {name}: removed {sorted(old - new, key=repr)[:3]} added {sorted(new - old, key=repr)[:3]}")
    return "\n".join(lines)


# --- what values to put in a URL ---------------------------------------------------------

PERSON_ARG = re.compile(r"^(person|child|cyp|student|pupil)(_id)?$")
INVOLVEMENT_ARG = re.compile(r"^involvement(_id)?$")
USER_ARG = re.compile(r"^(user|professional)(_id)?$")
COVER_ARG = re.compile(r"^cover(_id)?$")
# URL arguments naming something a professional owns through a child.
OWNED_ARGS = {
    "response": re.compile(r"^(form_)?(response|submission)(_id)?$"),
    "request": re.compile(r"^(form_)?request(_id)?$"),
    "message": re.compile(r"^message(_id)?$"),
    "file": re.compile(r"^(form_)?file(_id)?$"),
}
ID_FIELD = re.compile(r"(^|_)(person|child|cyp|involvement|user|professional|record)(_?ids?)?$|_ids?$|^ids?$")

# Values of non-int URL arguments seen in the app's own links and forms
# (filled by discover): (rule, argument) -> values.
PATH_VALUES: dict = {}


def owned_kind(name: str) -> str | None:
    return next((key for key, pattern in OWNED_ARGS.items() if pattern.match(name)), None)


def _other_values(route: Route, name: str, kind: str, choices: tuple) -> list:
    if kind == "any":
        return list(choices)
    if kind == "float":
        return ["1.5"]
    if kind == "uuid":
        return [str(uuid.UUID(int=1))]
    return PATH_VALUES.get((route.rule, name), [])[:3] or ["x"]


def int_values(name: str, world: World, scope: str) -> list[int]:
    """Values for an int URL argument. scope "all": every id of that kind in
    the world and one that does not exist; a user kind: ones they own."""
    if PERSON_ARG.match(name):
        if scope == "all":
            return world.person_ids() + [MISSING_ID]
        if scope == "admin":
            return [world.people["a1"].id, world.people["b_awaiting"].id]
        return sorted(world.live_people[scope])
    if INVOLVEMENT_ARG.match(name):
        if scope == "all":
            return world.involvement_ids() + [MISSING_ID]
        if scope == "admin":
            return [world.involvements["a_awaiting"], world.involvements["a_deleted"]]
        return sorted(world.live_involvements[scope])
    if USER_ARG.match(name):
        if scope == "all":
            return world.user_ids() + [MISSING_ID]
        if scope == "admin":
            return [world.users["unverified"].id, world.users["B"].id, world.users["deactivated"].id]
        if scope == "T2":  # the lead's own pages are about the members they lead
            return [world.users["T1"].id]
        return [world.users[scope].id]
    if COVER_ARG.match(name):
        if scope == "all":
            return sorted(world.covers.values()) + [MISSING_ID]
        if scope == "admin":
            return sorted(world.covers.values())
        return [world.covers["during"]] if scope == "cover_during" else [MISSING_ID]
    owned = world.owned.get(owned_kind(name) or "", {})
    if owned:
        everything = sorted({i for ids in owned.values() for i in ids})
        if scope == "all":
            return everything + [MISSING_ID]
        if scope == "admin":
            return everything
        return owned.get(scope, []) or [MISSING_ID]
    # A number this world makes nothing for (a page number, a file...).
    return [1, MISSING_ID] if scope == "all" else [1]


def urls_for(route: Route, world: World, scope: str, limit: int = 60) -> list[tuple[str, dict]]:
    """Concrete URLs of a route.

    scope "A", "B", "admin": that user's own values, combined (up to limit).
    scope "all": A's own URL with each argument in turn set to every value of
    its kind (other people's ids, ids that do not exist), the others kept;
    and B's own URL. Every kind of trespass (B's form under A's child, A's
    form under B's child...) without the size of a full product."""
    def values(name, kind, choices, of):
        return int_values(name, world, of) if kind == "int" else _other_values(route, name, kind, choices)

    if scope != "all":
        names = [a[0] for a in route.arguments]
        options = [values(name, kind, choices, scope) for name, kind, choices in route.arguments]
        combos = [dict(zip(names, combo)) for combo in itertools.islice(itertools.product(*options), limit)]
    else:
        combos = []
        base = {name: values(name, kind, choices, "A")[0] for name, kind, choices in route.arguments}
        combos.append(base)
        for name, kind, choices in route.arguments:
            for value in values(name, kind, choices, "all"):
                combos.append(dict(base, **{name: value}))
        combos.append({name: values(name, kind, choices, "B")[0] for name, kind, choices in route.arguments})
    unique = {}
    for args in combos:
        unique.setdefault(build_url(route, args), args)
    return list(unique.items())


# Professionals' routes that exist for someone other than A: a covering
# colleague's list, an organisation lead's hand-over of a leaver.
OWNERS = {"caseload.covering": "cover_during", "organisations.lead_hand_over": "T2"}


def own_scope(route: Route) -> str:
    """The user kind for whom a route exists."""
    return "admin" if route.area == "admin" else OWNERS.get(route.endpoint, "A")


def actor_kind_for(route: Route) -> str:
    if route.area == "send" and route.endpoint in OWNERS:
        return OWNERS[route.endpoint]
    return {"admin": "admin", "send": "A", "signed_in": "A", "public": "anon"}[route.area]


# --- finding the forms each route is sent from ---------------------------------------------


@dataclass
class Discovery:
    # (method, rule) -> {field name: [values seen, first is the default]}
    fields: dict = field(default_factory=dict)
    pages: int = 0

    def fields_for(self, route: Route) -> dict[str, list[str]]:
        return self.fields.get(route.key, {})


def _record(discovery: Discovery, key, name: str, value: str) -> None:
    if not name:
        return
    values = discovery.fields.setdefault(key, {}).setdefault(name, [])
    if value not in values:
        values.append(value)


def _match(adapter, path: str, method: str):
    try:
        rule, args = adapter.match(path, method=method, return_rule=True)
    except RequestRedirect as redirect:
        return _match(adapter, urlsplit(redirect.new_url).path, method)
    except HTTPException:
        return None
    for name, value in args.items():
        if isinstance(value, str):
            seen = PATH_VALUES.setdefault((rule.rule, name), [])
            if value not in seen:
                seen.append(value)
    return rule


def _controls(form) -> list[tuple[str, str]]:
    pairs = []
    for control in form.find_all(["input", "select", "textarea"]):
        name = control.get("name")
        if not name:
            continue
        if control.name == "select":
            options = [o.get("value", o.get_text()) for o in control.find_all("option")] or [""]
            pairs.extend((name, value) for value in options)
        elif control.name == "textarea":
            pairs.append((name, control.get_text()))
        elif control.get("type") in ("submit", "button", "image", "reset", "file"):
            if control.get("value") is not None:
                pairs.append((name, control["value"]))
        else:
            pairs.append((name, control.get("value", "")))
    for element in form.find_all(attrs={"hx-vals": True}):
        pairs.extend(_hx_vals(element))
    return pairs


def _hx_vals(element) -> list[tuple[str, str]]:
    import json

    raw = element.get("hx-vals", "")
    if raw.startswith("js:") or raw.startswith("javascript:"):
        return []
    try:
        values = json.loads(raw)
    except ValueError:
        return []
    return [(str(k), str(v)) for k, v in values.items()] if isinstance(values, dict) else []


def discover_page(discovery: Discovery, adapter, page_url: str, html: str) -> list[str]:
    """Record the forms of one page; return the links it has."""
    soup = BeautifulSoup(html, "html.parser")
    page_path = urlsplit(page_url).path
    for form in soup.find_all("form"):
        method = (form.get("method") or "get").upper()
        controls = _controls(form)
        targets = {(form.get("action") or page_path, method)}
        for element in form.find_all(attrs={"formaction": True}):
            targets.add((element["formaction"], (element.get("formmethod") or method).upper()))
        for verb in ("post", "put", "patch", "delete", "get"):
            for element in [form, *form.find_all(attrs={f"hx-{verb}": True})]:
                if element.get(f"hx-{verb}"):
                    targets.add((element[f"hx-{verb}"], verb.upper()))
        for target, verb in targets:
            rule = _match(adapter, urlsplit(target).path, verb)
            if rule is None:
                continue
            key = (verb, rule.rule)
            discovery.fields.setdefault(key, {})
            for name, value in controls:
                _record(discovery, key, name, value)
            for name, value in parse_qsl(urlsplit(target).query, keep_blank_values=True):
                _record(discovery, key, name, value)
    # Elements outside forms that post by themselves.
    for verb in ("post", "put", "patch", "delete"):
        for element in soup.find_all(attrs={f"hx-{verb}": True}):
            if element.find_parent("form") is not None:
                continue
            rule = _match(adapter, urlsplit(element[f"hx-{verb}"]).path, verb.upper())
            if rule is not None:
                key = (verb.upper(), rule.rule)
                discovery.fields.setdefault(key, {})
                for name, value in _hx_vals(element):
                    _record(discovery, key, name, value)
    links = []
    for element in soup.find_all(["a", "link"], href=True):
        links.append(element["href"])
    for element in soup.find_all(attrs={"hx-get": True}):
        links.append(element["hx-get"])
    for href in links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        rule = _match(adapter, parts.path, "GET")
        if rule is not None:
            key = ("GET", rule.rule)
            discovery.fields.setdefault(key, {})
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                _record(discovery, key, name, value)
    return [href for href in links if href.startswith("/") and not href.startswith("//")]


def discover(app, world: World, actors: dict[str, Actor], routes: list[Route], max_pages: int = 250) -> Discovery:
    """GET every page each kind of user can reach (and the pages they link
    to), noting the fields of every form and the query names of every link."""
    discovery = Discovery()
    adapter = app.url_map.bind("localhost")
    for kind, scope in (("anon", "A"), ("A", "A"), ("admin", "admin")):
        client = actors[kind].client
        queue = []
        for route in routes:
            if route.method == "GET":
                queue.extend(url for url, _ in urls_for(route, world, scope, limit=6))
        seen, per_shape = set(), {}
        while queue and len(seen) < max_pages:
            url = queue.pop(0)
            if url in seen or url.startswith("/static/"):
                continue
            # A few pages of each shape (rule and query names) are enough.
            parts = urlsplit(url)
            rule = _match(adapter, parts.path, "GET")
            shape = (rule.rule if rule else parts.path, tuple(sorted({k for k, _ in parse_qsl(parts.query)})))
            if per_shape.get(shape, 0) >= 2:
                continue
            per_shape[shape] = per_shape.get(shape, 0) + 1
            seen.add(url)
            result = send(client, "GET", url)
            if result.status != 200 or result.mimetype != "text/html":
                continue
            discovery.pages += 1
            queue.extend(discover_page(discovery, adapter, url, result.body))
    return discovery


# --- form data ---------------------------------------------------------------------------

GENERIC_FIELDS = ("person_id", "confirmed", "view", "q", "page")


_emails = itertools.count(1)
NEW_PASSWORD = "violet harbour lantern seven"


def base_form(route: Route, discovery: Discovery, world: World, ids: list[int], credentials: bool = False) -> MultiDict:
    """The fields the route's forms send, with their first values (or a
    plausible value where empty); every id-like field carries `ids`; a
    confirmation is always given. Email and password fields hold A's sign-in
    if credentials, else a new address and a good new password (so Register
    gets past its checks, and Sign in fails)."""
    fields = discovery.fields_for(route) or {name: [""] for name in GENERIC_FIELDS}
    data = MultiDict()
    for name, values in fields.items():
        if name == "csrf_token":
            continue
        if ID_FIELD.search(name):
            for value in ids:
                data.add(name, str(value))
        elif re.search(r"email", name):
            data.add(name, world.users["A"].email if credentials else f"new.person{next(_emails)}@school.example")
        elif re.search(r"password", name):
            data.add(name, PASSWORD if credentials else NEW_PASSWORD)
        else:
            data.add(name, values[0] or plausible(name))
    if "confirmed" not in data:
        data.add("confirmed", "yes")
    return data


_PLAUSIBLE = [
    (re.compile(r"day$"), "14"),
    (re.compile(r"month$"), "3"),
    (re.compile(r"year$"), "2016"),
    (re.compile(r"postcode"), "DM1 2AB"),
    (re.compile(r"(^|_)(given|family|name|town|address|organisation|reason|message|body|subject|text|comment)"), "Plausible value"),
]


def plausible(name: str) -> str:
    """A value a person might type in an empty field of this name, so a form
    gets past its first checks and the hostile value meets the deeper code."""
    for pattern, value in _PLAUSIBLE:
        if pattern.search(name):
            return value
    return ""


# --- hostile values ------------------------------------------------------------------------

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'

SHARP_VALUES = [
    "",
    XSS_SCRIPT,
    XSS_IMG,
    "' OR '1'='1' --",
    "²",  # str.isdigit() is True, int() refuses it
    "٣",  # an Arabic-Indic digit: isdigit() and int() both accept it
    "-1",
    "99999999999999999999",
    "\x00",
    "A" * 5000,
    "Zoë Ñandú 𝔘𝔫𝔦 😀 \u202e",
]

HOSTILE_VALUES = SHARP_VALUES + [
    " ",
    "\t\r\n",
    "0",
    "00000000001",
    "1.5",
    "1e309",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "%",
    "_",
    "%%25",
    "\\",
    "../../../etc/passwd",
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "'; DROP TABLE person; --",
    '" OR 1=1 --',
    "1 UNION SELECT email, password_hash FROM portal_user --",
    "{{7*7}}",
    "${7*7}",
    "%s%s%s%n",
    "①",
    "１２",
    "2026-02-30",
    "31/12/9999",
    "0000-00-00",
    "İstanbul ǅemal ß ﬁ",
    "\ufeff\u200b\u00ad",
    "𝟘𝟙𝟚",
    "Ω" * 300,
]

HTML_TEMPLATES = [
    "<script>alert('{m}')</script>",
    '"><img src=x onerror=alert("{m}")>',
    "'><svg onload=alert({m})>",
    "</textarea><b id={m}>",
    "</title><i>{m}</i>",
    '<a href="javascript:alert({m})">{m}</a>',
    "<iframe srcdoc='{m}'></iframe>",
    '" hx-get="/{m}" x="',
]

QUERY_NAMES = ["q", "page", "view", "status", "form", "person", "user", "action", "from", "to", "next", "change", "added", "updated"]


def is_sign_in_redirect(result: Result) -> bool:
    return result.status in (302, 303) and urlsplit(result.location).path == "/sign-in"


def off_site(location: str) -> bool:
    """Would a browser following this Location leave the site? Browsers
    drop tabs and newlines, trim control characters and spaces, and read a
    backslash as a slash, so those tricks count."""
    if not location:
        return False
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("".join(map(chr, range(0x21)))).replace("\\", "/")
    parts = urlsplit(cleaned)
    if parts.scheme and (parts.scheme not in ("http", "https") or not parts.netloc):
        return True  # javascript:, data:, or http:host (another scheme's host)
    return bool(parts.netloc) and (parts.hostname or "") != "localhost"
