"""Shared fixtures: an app on a fresh database per test, users and people,
and `client_request`, which signs in, parses every page with BeautifulSoup
and checks what every page must have."""
from __future__ import annotations

import contextvars
import os
import re
import shutil
from collections import Counter
from datetime import date, datetime

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import text as sql_text

os.environ["SEND_PORTAL_ENV"] = "testing"
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from send_portal import create_app  # noqa: E402
from send_portal.auth.passwords import hash_password  # noqa: E402
from send_portal.extensions import db, limiter  # noqa: E402
from send_portal.models import (  # noqa: E402
    Involvement,
    InvolvementStatus,
    Person,
    User,
    Verification,
)

PASSWORD = "correct horse battery staple"


# --- the cost of a fresh app per test -----------------------------------------------
# Every test gets its own app (below), and a new app compiled each template
# it renders again. The compiled code is the same from one app to the next, so
# it is kept for the test session through Jinja's public bytecode cache. Each
# test still has its own app, config and database; a changed template is
# compiled again (its source is checksummed).


class _KeptTemplateCode(BytecodeCache):
    """Jinja's compiled templates, shared by every app of the test session
    whose template environment is set up the same way."""

    def __init__(self):
        self._code: dict = {}

    @staticmethod
    def _key(bucket):
        env = bucket.environment
        autoescape = getattr(env.autoescape, "__func__", env.autoescape)
        settings = (
            type(env), tuple(sorted(env.extensions)), env.optimized, autoescape, env.finalize, env.undefined,
            env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
            env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline, env.is_async,
        )
        return settings, bucket.key

    def load_bytecode(self, bucket):
        code = self._code.get(self._key(bucket))
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[self._key(bucket)] = bucket.bytecode_to_string()


TEMPLATE_CODE = _KeptTemplateCode()

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


# --- markers: the quick tier (./scripts/test.sh --quick) leaves these out ------------
# `-m "not browser and not hostile and not slow"`; the full run (./scripts/test.sh)
# runs them all. browser: everything in tests/browser/ (Chromium).

# Tests that attack the service: every route tried by the wrong users and
# fuzzed (tests/hostile_support.py), and the hostile inputs of issue 12.
HOSTILE_MODULES = {"test_hostile.py", "test_admin_inputs.py", "test_import_safety.py"}
# Tests that take seconds each (measured with --durations): real servers
# under load, the Nu Html Checker's crawls, brute-force comparisons.
SLOW_MODULES = {"test_load.py", "test_html_validity.py"}
SLOW_TESTS = {
    "test_add_person_drafts.py": {"test_two_save_child_posts_at_once_add_the_child_once"},
    "test_caseload_search.py": {"test_random_changes_keep_the_filter_equal_to_brute_force"},
    "test_migrations.py": {"test_every_revision_upgrades_to_head_and_matches_the_models"},
    "test_page_weight.py": {"test_first_load_of_select_person_is_within_50_kb_gzipped"},
}


def _runs_vnu(function) -> bool:
    """A test that calls the Nu Html Checker (tests/test_html_validity.py's
    vnu_errors) needs Java and takes seconds: it is slow wherever it is."""
    code = getattr(function, "__code__", None)
    return code is not None and "vnu_errors" in code.co_names


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    modules = {}
    for item in items:
        path = item.path
        if path.parent.name == "browser":
            item.add_marker(pytest.mark.browser)
        if path.name in HOSTILE_MODULES:
            item.add_marker(pytest.mark.hostile)
        name = getattr(item, "originalname", item.name)
        if path.name in SLOW_MODULES or name in SLOW_TESTS.get(path.name, ()) or _runs_vnu(getattr(item, "function", None)):
            item.add_marker(pytest.mark.slow)
        if path.name in SLOW_TESTS:
            modules[path.name] = getattr(item, "module", None)
    # A renamed test would silently leave the list and join the quick tier.
    for module_name, module in modules.items():
        missing = [t for t in SLOW_TESTS[module_name] if module is not None and not hasattr(module, t)]
        if missing:
            raise pytest.UsageError(f"tests/conftest.py SLOW_TESTS names tests that {module_name} no longer has: {missing}")


# TEST_POSTGRES_URL (a server URL such as postgresql+psycopg://postgres@127.0.0.1:54329/postgres)
# runs the suite on PostgreSQL: each test gets a database copied from a migrated template.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


def _migrate(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """Run the real migrations once; each test gets a copy of the result."""
    if POSTGRES_URL:
        # One template per pytest-xdist worker (gw0, gw1...): workers run at once.
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        template = f"send_portal_template_{worker}" if worker else "send_portal_template"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(sql_text(f'DROP DATABASE IF EXISTS "{template}"'))
            conn.execute(sql_text(f'CREATE DATABASE "{template}"'))
        _migrate(_pg_url(template))
        yield template
        with admin.connect() as conn:
            conn.execute(sql_text(f'DROP DATABASE IF EXISTS "{template}"'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    yield path


def _pg_admin_engine():
    from sqlalchemy import create_engine

    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def database_url(template_database, tmp_path):
    if POSTGRES_URL:
        name = f"send_portal_test_{os.getpid()}_{_next()}"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(sql_text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
        yield _pg_url(name)
        with admin.connect() as conn:
            conn.execute(sql_text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path / "portal.sqlite3"
    shutil.copy(template_database, path)
    yield f"sqlite:///{path}"


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server would: the
    test's own app context (and its `g` and database session) is not shared
    with the request. Test data is committed before and re-read after."""

    def open(self, *args, **kwargs):
        db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            db.session.expire_all()


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    app.test_client_class = IsolatedClient
    app.instance_path = str(tmp_path)
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- making data ---------------------------------------------------------------

@pytest.fixture
def make_user(app):
    def make(
        given_name="Sam",
        family_name="Patel",
        role="professional",
        professional_type="senco",
        verified=True,
        email=None,
        password=PASSWORD,
    ):
        user = User(
            email=email or f"user{_next()}@school.example",
            given_name=given_name,
            family_name=family_name,
            role=role,
            professional_type=professional_type if role == "professional" else None,
            organisation="Riverside Primary School",
            password_hash=hash_password(password),
            verification=(Verification.VERIFIED if verified else Verification.PENDING).value,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def professional(make_user):
    return make_user("Sam", "Patel", email="sam.patel@school.example")


@pytest.fixture
def other_professional(make_user):
    return make_user("Jordan", "Okafor", professional_type="educational_psychologist", email="jordan.okafor@eps.example")


@pytest.fixture
def admin(make_user):
    return make_user("Alex", "Morgan", role="admin", email="alex.morgan@la.example")


@pytest.fixture
def make_person(app):
    def make(
        given_name="Amelia",
        family_name="Jones",
        professional=None,
        date_of_birth=date(2015, 3, 14),
        case_status="No open case",
        status=InvolvementStatus.AUTHENTICATED.value,
        hidden=False,
        ended_on=None,
        last_activity=None,
    ):
        person = Person(
            la_reference=f"REF{_next():06d}",
            date_of_birth=date_of_birth,
            gender="Female",
            case_status=case_status,
            last_activity_at=last_activity,
        )
        person.set_names(given_name, family_name)
        db.session.add(person)
        db.session.flush()
        if professional is not None:
            db.session.add(
                Involvement(
                    professional_id=professional.id,
                    person_id=person.id,
                    status=status,
                    hidden_at=datetime(2026, 1, 1) if hidden else None,
                    ended_on=ended_on,
                )
            )
        db.session.commit()
        return person

    return make


# --- requests as a user sees them -------------------------------------------------

CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


def check_page(soup: BeautifulSoup, partial: bool = False) -> None:
    """What every page and partial must have."""
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"duplicate ids: {duplicates}"
    for control in soup.select("input, select, textarea"):
        if control.get("type") in ("hidden", "submit", "button"):
            continue
        has_label = control.get("id") and soup.find("label", attrs={"for": control["id"]})
        assert has_label or control.get("aria-label") or control.get("aria-labelledby"), f"unlabelled control: {control}"
    for table in soup.find_all("table"):
        assert table.find("caption"), "every table has a caption"
        for th in table.find_all("th"):
            assert th.get("scope") in ("col", "row"), f"th without scope: {th}"
    if partial:
        assert soup.find("html") is None, "a partial is not a whole page"
        return
    assert soup.html.get("lang") == "en-GB"
    assert soup.title and soup.title.string.strip(), "every page has a title"
    assert len(soup.find_all("h1")) == 1, "every page has exactly one h1"
    assert soup.find("a", class_="govuk-skip-link")
    assert soup.find("main", id="main-content")


class ClientRequest:
    def __init__(self, client):
        self.client = client
        self.user = None

    def sign_in(self, user, password=PASSWORD):
        self.client.get("/sign-in")
        response = self.client.post(
            "/sign-in", data={"email": user.email, "password": password, "csrf_token": self.csrf_token("/sign-in")}
        )
        assert response.status_code == 302, response.data
        self.user = user
        return response

    def csrf_token(self, url="/accessibility") -> str:
        html = self.client.get(url).get_data(as_text=True)
        match = CSRF_RE.search(html)
        assert match, "every page carries the CSRF token for htmx"
        return match.group(1)

    def get(self, url, htmx=False, expected_status=200, headers=None, **kwargs):
        headers = dict(headers or {})
        if htmx:
            headers["HX-Request"] = "true"
        response = self.client.get(url, headers=headers, **kwargs)
        assert response.status_code == expected_status, (response.status_code, response.get_data(as_text=True)[:2000])
        return self.parse(response, partial=htmx and "HX-History-Restore-Request" not in headers)

    def get_response(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, htmx=False, expected_status=None, csrf=True, follow_redirects=False, headers=None):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        headers = dict(headers or {})
        if htmx:
            headers["HX-Request"] = "true"
        response = self.client.post(url, data=data, headers=headers, follow_redirects=follow_redirects)
        if expected_status is not None:
            assert response.status_code == expected_status, (response.status_code, response.get_data(as_text=True)[:2000])
        return response

    @staticmethod
    def parse(response, partial=False):
        soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        if response.mimetype == "text/html" and response.status_code < 300:
            check_page(soup, partial=partial)
        soup.response = response
        return soup


@pytest.fixture
def client_request(client):
    return ClientRequest(client)


def text(element) -> str:
    return " ".join(element.get_text(" ").split()) if element is not None else ""


def row_names(page) -> list[str]:
    return [text(th) for th in page.select("#caseload-results tbody th[scope=row]")]
