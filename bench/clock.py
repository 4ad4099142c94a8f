"""The statutory clock's scenario (issue 15): `python -m bench.clock`.

Adds open EHC cases to a bench database (20,000 among 1,000,000 people with
--large: 85% with a plan and an annual review to come, 15% before the final
plan, in the request, assessment and draft stages, with advice requested
from professionals who work with them), an LA administrator, and measures
/admin/clock (the full page, as an administrator opens it) against the
caseload's full page (the `big` caseload, as run.py measures it), in
alternating rounds on the same gunicorn server. The target: the clock's p50
within 2x the caseload page's.

The cases are written with raw SQL like bench/build.py, so their stored clock
columns are set here, by the app's own rule (send_portal.clock.deadlines).

Hooking into run.py (for the lead): in run_engine, after the app server has
started and `info` is known, call

    from .clock import ensure_open_cases, measure_clock
    ensure_open_cases(url)          # before app_server.start(), once per database
    results["clock"] = measure_clock(app_server.port, args, log)

and add "TWO_FACTOR_REQUIRED": "nobody" to the app server's env (LA admins
must otherwise set up two-factor sign-in first: a step before the page, not
part of what is measured)

and report results["clock"]["rows"] (same keys as the scenario rows) and
results["clock"]["target"]."""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from .build import BENCH_PASSWORD, caseload_email
from .client import CSRF_HEADER, CSRF_INPUT, Client, Request, run_load

ADMIN_EMAIL = "clock.admin@bench.example"
OPEN_CASES = {"large": 20_000, "default": 2_000}
PRE_PLAN_SHARE = 0.15
CLOCK_LIMIT = 2.0
SEED = 15


def _app(url: str):
    from .run import make_app

    return make_app(url)


def ensure_open_cases(url: str, count: int | None = None, log=print) -> int:
    """Give `count` people (spread through the table) open cases, once; the
    number of open cases the database then has."""
    from sqlalchemy import func, select, text

    from send_portal.auth.passwords import hash_password
    from send_portal.clock.deadlines import clock_fields, london_today
    from send_portal.extensions import db
    from send_portal.models import Person, User

    app = _app(url)
    with app.app_context():
        people = db.session.scalar(select(func.count()).select_from(Person))
        count = count or (OPEN_CASES["large"] if people >= 1_000_000 else max(100, people // 50))
        have = db.session.scalar(select(func.count()).select_from(Person).where(Person.clock_due_on.is_not(None)))
        if not db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL)):
            top = db.session.scalar(select(func.max(User.id)))
            db.session.execute(User.__table__.insert(), [{
                "id": top + 1, "email": ADMIN_EMAIL, "given_name": "Clock", "family_name": "Admin", "role": "admin",
                "professional_type": None, "organisation": "Bench Borough Council",
                "password_hash": hash_password(BENCH_PASSWORD), "verification": "verified", "is_deactivated": False,
                "created_at": datetime.now(),
            }])
            db.session.commit()
        if have >= count:
            return have
        log(f"  adding {count - have:,} open cases")
        started = time.perf_counter()
        rng = random.Random(SEED)
        today = london_today()
        admin_id = db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL))
        step = max(1, people // count)
        ids = list(range(1 + step // 2, people + 1, step))[:count]
        updates, assessment_ids = [], []
        for pid in ids:
            case = SimpleNamespace(case_status="", assessment_outcome=None, request_received_on=None,
                                   assessment_decision_on=None, draft_plan_on=None, final_plan_on=None, next_review_on=None)
            if rng.random() < PRE_PLAN_SHARE:
                received = today - timedelta(days=rng.randint(0, 170))
                age = (today - received).days
                case.request_received_on = received
                case.case_status = "Deciding whether to assess"
                if age > 30 and rng.random() < 0.85:
                    case.assessment_decision_on = received + timedelta(days=rng.randint(25, min(60, age)))
                    case.assessment_outcome = "assess"
                    case.case_status = "Assessment in progress"
                    if age > 100 and rng.random() < 0.7:
                        case.draft_plan_on = received + timedelta(days=rng.randint(85, min(125, age)))
                        case.case_status = "Draft plan issued"
                    else:
                        assessment_ids.append(pid)
            else:
                final = today - timedelta(days=rng.randint(0, 5 * 365))
                received = final - timedelta(days=rng.randint(100, 190))
                case.request_received_on = received
                case.assessment_decision_on = received + timedelta(days=rng.randint(25, 55))
                case.assessment_outcome = "assess"
                case.draft_plan_on = received + timedelta(days=rng.randint(80, 120))
                case.final_plan_on = max(final, case.draft_plan_on + timedelta(days=15))
                case.case_status = "EHC plan issued"
                if rng.random() < 0.3:
                    case.twenty_week_exception_reason = rng.choice("ABCD")
            stage, due_on = clock_fields(case)
            updates.append({"pid": pid, "status": case.case_status, "received": case.request_received_on,
                            "decided": case.assessment_decision_on, "outcome": case.assessment_outcome,
                            "draft": case.draft_plan_on, "final": case.final_plan_on,
                            "reason": getattr(case, "twenty_week_exception_reason", None), "stage": stage, "due": due_on})
        db.session.execute(text(
            "UPDATE person SET case_status = :status, request_received_on = :received, assessment_decision_on = :decided, "
            "assessment_outcome = :outcome, draft_plan_on = :draft, final_plan_on = :final, "
            "twenty_week_exception_reason = :reason, clock_stage = :stage, clock_due_on = :due WHERE id = :pid"
        ), updates)
        # Advice: up to three professionals already working with each child in assessment are asked.
        involvements = []
        for start in range(0, len(assessment_ids), 500):
            involvements += db.session.execute(text(
                "SELECT id, person_id FROM involvement WHERE person_id IN (%s)" % ",".join(str(i) for i in assessment_ids[start:start + 500])
            )).all()
        received_on = {u["pid"]: u["decided"] for u in updates}
        top = db.session.scalar(select(func.coalesce(func.max(text("id")), 0)).select_from(text("form_request")))
        requests, responses = [], []
        rtop = db.session.scalar(select(func.coalesce(func.max(text("id")), 0)).select_from(text("form_response")))
        for iid, pid in involvements[: 3 * len(assessment_ids)]:
            top += 1
            asked = datetime.combine(received_on[pid], datetime.min.time()) + timedelta(days=rng.randint(1, 10), hours=10)
            requests.append({"id": top, "involvement_id": iid, "form_key": "advice", "title": "Advice for an EHC needs assessment",
                             "due_on": asked.date() + timedelta(days=42), "requested_by_id": admin_id, "requested_at": asked})
            if rng.random() < 0.5 and asked.date() + timedelta(days=40) < today:
                rtop += 1
                responses.append({"id": rtop, "involvement_id": iid, "form_key": "advice", "title": "Advice",
                                  "status": "submitted", "answers": "{}", "form_request_id": top, "created_at": asked,
                                  "updated_at": asked, "submitted_at": asked + timedelta(days=rng.randint(20, 45))})
        if requests:
            db.session.execute(text(
                "INSERT INTO form_request (id, involvement_id, form_key, title, due_on, requested_by_id, requested_at) "
                "VALUES (:id, :involvement_id, :form_key, :title, :due_on, :requested_by_id, :requested_at)"), requests)
        if responses:
            db.session.execute(text(
                "INSERT INTO form_response (id, involvement_id, form_key, title, status, answers, form_request_id, created_at, "
                "updated_at, submitted_at) VALUES (:id, :involvement_id, :form_key, :title, :status, :answers, "
                ":form_request_id, :created_at, :updated_at, :submitted_at)"), responses)
        if db.engine.dialect.name == "postgresql":  # the rows above were given their ids
            for table in ("portal_user", "form_request", "form_response"):
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        # Person.clock_advice_on, as the app keeps it on its own writes.
        from send_portal.clock import newest_unanswered_advice

        newest = newest_unanswered_advice(db.session.connection(), assessment_ids)
        if newest:
            db.session.execute(text("UPDATE person SET clock_advice_on = :day WHERE id = :pid"),
                               [{"pid": pid, "day": day} for pid, day in newest.items()])
        db.session.commit()
        from .build import analyse

        analyse(db.session)
        db.session.remove()
        db.engine.dispose()
        log(f"  {len(updates):,} open cases, {len(requests):,} advice requests in {time.perf_counter() - started:.1f} s")
        return have + len(updates)


def admin_client(port: int) -> Client:
    client = Client(port)
    page = client.get("/sign-in")
    client.csrf = CSRF_INPUT.search(page.body.decode()).group(1)
    response = client.send(Request("sign in", "POST", "/sign-in", form=[("email", ADMIN_EMAIL), ("password", BENCH_PASSWORD)]))
    if response.status not in (302, 303):
        raise RuntimeError(f"the clock admin could not sign in ({response.status})")
    page = client.get("/admin/clock")
    if page.status != 200:
        raise RuntimeError(f"/admin/clock answered {page.status}")
    client.csrf = CSRF_HEADER.search(page.body.decode()).group(1)
    return client


def measure_clock(port: int, args, log=print, group: str = "big") -> dict:
    """The clock page against the caseload page of `group`, in alternating rounds."""
    from .run import summarise

    from .client import LoadResult

    clock = admin_client(port)
    caseload = Client(port)
    caseload.sign_in(caseload_email(group), BENCH_PASSWORD)
    clients = getattr(args, "clients", 2)
    clock_plans = [[Request("clock page", "GET", "/admin/clock")] for _ in range(clients)]
    caseload_plans = [[Request("caseload page", "GET", "/send/select-person")] for _ in range(clients)]
    warm = max(0.3, args.seconds / 4)
    run_load(clock, clock_plans, warm)
    run_load(caseload, caseload_plans, warm)
    a, b = LoadResult(), LoadResult()
    for _ in range(args.rounds):
        a.merge(run_load(clock, clock_plans, args.seconds))
        b.merge(run_load(caseload, caseload_plans, args.seconds))
    clock_s, caseload_s = summarise(a)["clock page"], summarise(b)["caseload page"]
    ratio = round(clock_s["p50_ms"] / caseload_s["p50_ms"], 2)
    result = {
        "rows": [{"scenario": "statutory clock", "kind": "clock page", "app": clock_s},
                 {"scenario": "statutory clock", "kind": f"caseload page ({group})", "app": caseload_s}],
        "target": {"target": f"clock page p50 within {CLOCK_LIMIT}x of the {group} caseload page's", "value": ratio,
                   "met": ratio <= CLOCK_LIMIT},
        "errors": (a.errors + b.errors)[:5],
    }
    for row in result["rows"]:
        s = row["app"]
        log(f"    {row['kind']:22} p50 {s['p50_ms']:7.1f} ms  p95 {s['p95_ms']:7.1f} ms  {s['rps']:6.1f}/s  {s['bytes_raw']:,} B")
    log(f"    clock / caseload p50: x{ratio} ({'met' if ratio <= CLOCK_LIMIT else 'NOT met'})")
    return result


def measure_in_process(url: str, requests: int = 200, group: str = "big", log=print) -> dict:
    """Both pages through the app in this process (Flask's test client), one
    after the other, `requests` times each: no HTTP and no server, so less
    of a shared machine's noise. p50 and minimum, and the p50 ratio."""
    import re
    import statistics

    app = _app(url)
    app.config.update(TWO_FACTOR_REQUIRED="nobody", RATELIMIT_ENABLED=False)

    def signed_in(email):
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/sign-in", data={"email": email, "password": BENCH_PASSWORD, "csrf_token": token})
        if response.status_code not in (302, 303):
            raise RuntimeError(f"{email} could not sign in ({response.status_code})")
        return client

    pages = {"clock page": (signed_in(ADMIN_EMAIL), "/admin/clock"),
             f"caseload page ({group})": (signed_in(caseload_email(group)), "/send/select-person")}
    times: dict[str, list[float]] = {kind: [] for kind in pages}
    for n in range(requests + 10):
        for kind, (client, path) in pages.items():
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code}")
            if n >= 10:  # after warming up
                times[kind].append(elapsed * 1000)
    out = {kind: {"p50_ms": round(statistics.median(v), 2), "min_ms": round(min(v), 2), "n": len(v)} for kind, v in times.items()}
    clock, caseload = out["clock page"], out[f"caseload page ({group})"]
    out["ratio_p50"] = round(clock["p50_ms"] / caseload["p50_ms"], 2)
    for kind, v in out.items():
        log(f"    in process: {kind:22} {v}")
    return out


def main(argv=None) -> int:
    from .run import SECRET_KEY, Server, prepare_database, RESULTS

    parser = argparse.ArgumentParser(prog="python -m bench.clock", description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="1,000,000 people and 20,000 open cases")
    parser.add_argument("--size", default="default")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url")
    parser.add_argument("--pg-options", default="-c max_parallel_workers_per_gather=0")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--data-dir", default=str(RESULTS / "data"))
    parser.add_argument("--in-process", type=int, default=0, metavar="N",
                        help="also time both pages N times each in this process (no HTTP), alternating")
    args = parser.parse_args(argv)
    args.stamp = datetime.now().strftime("%Y%m%d-%H%M%S")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    url, _info, _built = prepare_database(args.engine, "large" if args.large else args.size, args, log)
    ensure_open_cases(url, log=log)
    env = {"DATABASE_URL": url, "SEND_PORTAL_ENV": "development", "SECRET_KEY": SECRET_KEY,
           "SIGN_IN_RATE_LIMIT": "10000 per minute",
           # The bench's administrator signs in with a password alone: two-factor
           # sign-in is a step before the page, not part of what is measured.
           "TWO_FACTOR_REQUIRED": "nobody"}
    server = Server("app:app", env, args.workers, RESULTS / "logs" / f"{args.stamp}-{args.engine}-clock.log")
    try:
        server.start("/healthz")
        result = measure_clock(server.port, args, log)
    finally:
        server.stop()
    if args.in_process:
        result["in_process"] = measure_in_process(url, args.in_process, log=log)
    print(result["target"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
