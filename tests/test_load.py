"""Load and faults against gunicorn with several workers, on 127.0.0.1 only,
bounded in time: on SQLite (and on PostgreSQL when TEST_POSTGRES_URL is set,
through the same database_url fixture)."""
from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select, text as sql

from send_portal.audit import DELETE_BY_PROFESSIONAL
from send_portal.extensions import db
from send_portal.models import AuditEntry, Involvement

from .conftest import PASSWORD
from .live import Browser, Gunicorn

CLIENTS = 16
PROFESSIONALS = 4
CHILDREN_PER_CLIENT = 6
DURATION = 8.0  # seconds of load


@pytest.fixture
def world(app, make_user, make_person):
    """Four professionals; each of the 16 clients owns its own children within
    one professional's caseload, so every write has one known last writer."""
    professionals = [make_user("Pro", f"Fessional{n}", email=f"pro{n}@school.example") for n in range(PROFESSIONALS)]
    clients = []
    for c in range(CLIENTS):
        owner = professionals[c % PROFESSIONALS]
        children = [make_person(f"Child{c:02d}x{k}", f"Client{c:02d}", owner).id for k in range(CHILDREN_PER_CLIENT)]
        clients.append((owner.email, children))
    db.session.commit()
    return clients


def run_client(base, email, children, stop_at, seed, results, errors):
    rng = random.Random(seed)
    browser = Browser(base)
    browser.sign_in(email, PASSWORD)
    state = {pid: "active" for pid in children}  # this client's exact knowledge
    accepted = []  # (action, [ids])
    while time.monotonic() < stop_at:
        choice = rng.random()
        try:
            if choice < 0.35:
                status, body, _ = browser.get(f"/send/select-person?q={rng.choice(['c', 'ch', 'child', 'cli', 'x'])}", htmx=True)
            elif choice < 0.5:
                status, body, _ = browser.get(rng.choice(["/send/select-person/hidden", "/send/select-person/recent", "/send/select-person"]))
            else:
                active = [p for p, s in state.items() if s == "active"]
                hidden = [p for p, s in state.items() if s == "hidden"]
                if choice < 0.75 and active:
                    action, view, ids = "hide", "active", rng.sample(active, k=min(len(active), rng.randint(1, 3)))
                elif choice < 0.95 and hidden:
                    action, view, ids = "unhide", "hidden", rng.sample(hidden, k=min(len(hidden), rng.randint(1, 3)))
                elif active and rng.random() < 0.5:
                    action, view, ids = "delete", "active", [rng.choice(active)]
                else:
                    continue
                data = {"person_id": [str(i) for i in ids], "view": view, "q": "", "page": "1", "confirmed": "yes"}
                status, body, _ = browser.post(f"/send/select-person/{action}", data, htmx=rng.random() < 0.5)
                if status in (200, 303):
                    for pid in ids:
                        state[pid] = {"hide": "hidden", "unhide": "active", "delete": "deleted"}[action]
                    accepted.append((action, ids))
            if status >= 500 or "database is locked" in body:
                errors.append((status, body[:300]))
        except Exception as error:  # noqa: BLE001 - any client failure is a test failure
            errors.append(("exception", repr(error)))
    results.append((state, accepted))


def test_sixteen_clients_filter_switch_hide_unhide_and_delete(world, database_url, tmp_path):
    log = tmp_path / "gunicorn.log"
    server = Gunicorn(database_url, workers=4, log_path=log).start()
    try:
        results, errors = [], []
        stop_at = time.monotonic() + DURATION
        threads = [
            threading.Thread(target=run_client, args=(server.base, email, children, stop_at, n, results, errors))
            for n, (email, children) in enumerate(world)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DURATION + 60)
    finally:
        server.stop()
    assert not errors, errors[:5]
    assert len(results) == CLIENTS
    server_log = log.read_text(errors="replace")
    assert "database is locked" not in server_log and "Traceback" not in server_log, server_log[-3000:]

    # Every involvement ends in the state of its last accepted write.
    db.session.remove()
    expected = {}
    writes = Counter()
    deletes_accepted = 0
    for state, accepted in results:
        expected.update(state)
        for action, ids in accepted:
            writes[action] += 1
            if action == "delete":
                deletes_accepted += len(ids)
    assert writes["hide"] > 10 and writes["unhide"] > 5, writes  # the load really wrote
    involvements = {i.person_id: i for i in db.session.scalars(select(Involvement))}
    for person_id, state in expected.items():
        involvement = involvements[person_id]
        actual = "deleted" if involvement.deleted_at else ("hidden" if involvement.hidden_at else "active")
        assert actual == state, (person_id, actual, state)
    delete_entries = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == DELETE_BY_PROFESSIONAL))
    assert delete_entries == deletes_accepted


def writer(base, email, children, stop, accepted, errors):
    browser = Browser(base, timeout=5)
    try:
        browser.sign_in(email, PASSWORD)
    except Exception as error:  # noqa: BLE001
        errors.append(repr(error))
        return
    ids = list(children)
    rng = random.Random(1)
    while not stop.is_set() and ids:
        action = rng.choice(["hide", "unhide", "delete"]) if len(ids) > 5 else rng.choice(["hide", "unhide"])
        batch = ids[:] if action != "delete" else [ids[-1]]
        view = {"hide": "active", "unhide": "hidden", "delete": "active"}[action]
        try:
            status, _, _ = browser.post(f"/send/select-person/{action}", {"person_id": [str(i) for i in batch], "view": view, "confirmed": "yes"})
        except Exception:  # noqa: BLE001 - the server is being killed
            return
        if status == 303:
            accepted.append((action, batch))
            if action == "delete":
                ids.remove(batch[0])


def test_sigkill_in_the_middle_of_writes_leaves_a_consistent_database(app, make_user, make_person, database_url, tmp_path):
    professional = make_user("Sam", "Patel", email="sam@school.example")
    children = [make_person(f"Child{n:02d}", "Kill", professional).id for n in range(50)]
    db.session.commit()
    db.session.remove()

    server = Gunicorn(database_url, workers=2).start()
    stop, accepted, errors = threading.Event(), [], []
    thread = threading.Thread(target=writer, args=(server.base, "sam@school.example", children, stop, accepted, errors))
    thread.start()
    time.sleep(2.5)
    server.kill()  # master and workers at once, mid-write
    stop.set()
    thread.join(30)
    assert not errors, errors
    assert accepted, "writes were in flight when the server was killed"

    # The database is whole, and no write is half-applied: each deleted
    # involvement has exactly one delete audit entry, and each entry its delete.
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(sql("PRAGMA integrity_check")).scalar() == "ok"
    deleted = {i.person_id for i in db.session.scalars(select(Involvement).where(Involvement.deleted_at.is_not(None)))}
    audited = [e.person_id for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == DELETE_BY_PROFESSIONAL))]
    assert sorted(audited) == sorted(deleted)
    for involvement in db.session.scalars(select(Involvement)):
        assert (involvement.deleted_at is None) == (involvement.status == "authenticated")
    # Each hidden flag was written with its audit entry (hide and unhide alternate).
    hides = Counter(e.person_id for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("Person hidden%"))))
    unhides = Counter(e.person_id for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("Person unhidden%"))))
    for involvement in db.session.scalars(select(Involvement)):
        assert (hides[involvement.person_id] - unhides[involvement.person_id]) == (1 if involvement.hidden_at else 0)

    # It starts again and serves.
    db.session.remove()
    again = Gunicorn(database_url, workers=2).start()
    try:
        browser = Browser(again.base)
        browser.sign_in("sam@school.example", PASSWORD)
        status, body, _ = browser.get("/send/select-person")
        assert status == 200 and re.search(r"Showing 1 to \d+ of \d+ people|No people found", body)
    finally:
        again.stop()
