"""`python -m bench`: build (or reuse) a database, serve the app and the floor
with gunicorn on 127.0.0.1, drive both with the same requests, and report
p50, p95, requests per second, ratios to the floor, response sizes and the
first-load weight of the Select Person page, on SQLite and PostgreSQL.

Noise: these machines are shared, so each scenario alternates between the app
and the floor in short rounds, and every target is a ratio within one run."""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from .build import BENCH_PASSWORD, SIZES, BuildInfo, analyse, build, caseload_email, read_build_info, reset_hide_pool
from .client import Client, LoadResult, Request, run_load

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
# What people type: the first one to four letters of real names, one
# keystroke at a time (each keystroke is a request), and a two-word query.
PREFIXES = ["s", "sm", "smi", "smit", "j", "jo", "jon", "jone", "a", "am", "ame", "amel",
            "m", "mu", "muh", "muha", "p", "pa", "pat", "pate", "z", "zo", "zoe", "o", "ol", "oli", "oliv",
            "k", "kh", "kha", "o'b", "l", "lu", "luk", "ł", "é", "el", "elo", "ch", "chl", "chlo", "am j"]
STATIC = ["/static/css/portal.css", "/static/vendor/htmx-2.0.11.min.js", "/static/js/portal.js"]
GZIP_LEVEL = 6
# Parallel plans suit reports, not page-sized queries: on a small machine a
# Gather Merge under LIMIT reads far ahead (docs/PERFORMANCE.md). Set in the
# connection URL, as a deployment would in DATABASE_URL.
PG_OPTIONS = "-c max_parallel_workers_per_gather=0"
PERSON_IDS = re.compile(rb'name="person_id"[^>]*value="(\d+)"')
PERSON_LINKS = re.compile(rb'href="/send/people/(\d+)')
SHOWING = re.compile(rb"of ([\d,]+) (?:people|person)")

# Targets from the issue, as (scenario kinds, what is compared, limit).
FILTER_LIMIT = 1.5
WRITE_LIMIT = 2.0
THROUGHPUT_FLOOR_SHARE = 0.6
SCALING_LIMIT = 1.5
# Issue 14, part 5: a keystroke in the team caseload of a 30,000-involvement
# organisation costs about what one in a 10,000 personal caseload does.
TEAM_LIMIT = 1.5


def list_path(group: str) -> str:
    """Where a group's list is: the team's in the team scope, else one's own."""
    return "/send/team-caseload" if group == "team" else "/send/select-person"


# --- servers ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the project's gunicorn.conf.py, bound to 127.0.0.1, in
    its own process group (stopped by its own id)."""

    def __init__(self, target: str, env: dict, workers: int, log: Path):
        self.port = free_port()
        self.target = target
        self.env = {**os.environ, **env, "BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers),
                    "LOG_LEVEL": "warning", "PYTHONPATH": str(ROOT)}
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, probe: str, timeout: float = 60) -> "Server":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"), self.target],
            cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.target} exited with {self.process.returncode}; see {self.log}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}{probe}", timeout=5).read()
                return self
            except urllib.error.HTTPError:
                return self  # it answers
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {self.target} did not answer in {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


# --- databases ---------------------------------------------------------------------


def make_app(url: str):
    os.environ.setdefault("SEND_PORTAL_ENV", "development")
    os.environ.setdefault("SECRET_KEY", SECRET_KEY)
    from send_portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def _head_revision(app) -> str | None:
    from sqlalchemy import text

    from send_portal.extensions import db

    with app.app_context():
        try:
            return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        finally:
            db.session.remove()


def prepare_database(engine: str, size_name: str, args, log) -> tuple[str, BuildInfo, bool]:
    """The database's URL, its build, and whether it was built now."""
    from flask_migrate import upgrade

    from send_portal.extensions import db

    size = SIZES[size_name]
    if engine == "sqlite":
        folder = Path(args.data_dir).resolve()  # Flask-SQLAlchemy reads relative paths from instance/
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{size_name}.sqlite3"
        url = f"sqlite:///{path}"
        if args.rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        server = make_url(args.postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
        name = f"send_portal_bench_{size_name}"
        served = server.set(database=name)
        if args.pg_options:
            served = served.update_query_dict({"options": args.pg_options})
        url = served.render_as_string(hide_password=False)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if args.rebuild and exists:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = False
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()

    app = make_app(url)
    with app.app_context():
        info = read_build_info(db.session)
        db.session.remove()
    if info is None or info.size != size_name:
        if engine == "sqlite":
            with app.app_context():
                db.engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            app = make_app(url)
        else:
            _empty_postgres(app)
        log(f"building the {size_name} database on {engine} ({size.people:,} people)...")
        info = build(app, size, log=lambda m: log(m))
        built = True
    else:
        before = _head_revision(app)
        with app.app_context():
            upgrade()
            if _head_revision(app) != before:
                log(f"  schema upgraded from {before}; analysing")
                analyse(db.session)
            db.session.remove()
        built = False
    changed = reset_hide_pool(app, info)
    if changed:
        log(f"  {changed} people of the hide pool were left hidden by an earlier run; unhidden")
    with app.app_context():
        db.engine.dispose()
    return url, info, built


def _empty_postgres(app) -> None:
    from sqlalchemy import text

    from send_portal.extensions import db

    with app.app_context():
        db.session.execute(text("DROP SCHEMA public CASCADE"))
        db.session.execute(text("CREATE SCHEMA public"))
        db.session.commit()
        db.engine.dispose()


# --- scenarios ---------------------------------------------------------------------


def scenarios(group: str, info: BuildInfo, clients: int, total: int) -> list[tuple[str, list[list[Request]]]]:
    """(name, one plan of requests per client thread)."""
    base = list_path(group)

    def rotate(requests, k):
        n = len(requests)
        shift = (k * n) // max(1, clients)
        return requests[shift:] + requests[:shift]

    filter_requests = [Request("filter keystroke", "GET", f"{base}?q={urllib.parse.quote(p)}", htmx=True) for p in PREFIXES]
    view_requests = [Request("view switch", "GET", f"{base}/{v}" if v else base, htmx=True) for v in ("hidden", "recent", "")]
    last = max(1, -(-total // 50))
    page_requests = [Request("paging", "GET", f"{base}?page={n}", htmx=True) for n in (2, 3, 4, 5, last) if n <= last]
    full = [Request("full page", "GET", base)]
    out = [
        ("full page", [full for _ in range(clients)]),
        ("filter keystroke", [rotate(filter_requests, k) for k in range(clients)]),
        ("view switch", [rotate(view_requests, k) for k in range(clients)]),
    ]
    if page_requests:
        out.append(("paging", [rotate(page_requests, k) for k in range(clients)]))
    if group == "big":
        pool = info.hide_pool
        sets = [pool[i:i + 50] for i in range(0, len(pool) - 49, 50)]
        plans = []
        for k in range(clients):
            mine = sets[k::clients] or sets[:1]
            plan = []
            for ids in mine:
                people = [("person_id", str(i)) for i in ids]
                plan.append(Request("hide 50", "POST", f"{base}/hide",
                                    form=[("view", "active"), ("q", ""), ("page", "1"), ("confirmed", "yes"), *people], htmx=True))
                plan.append(Request("unhide 50", "POST", f"{base}/unhide",
                                    form=[("view", "hidden"), ("q", ""), ("page", "1"), *people], htmx=True, closes=True))
            plans.append(plan)
        out.append(("hide and unhide 50", plans))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def summarise(result: LoadResult) -> dict[str, dict]:
    out = {}
    for kind, values in result.latencies.items():
        sample = result.samples.get(kind, b"")
        out[kind] = {
            "n": len(values),
            "p50_ms": round(percentile(values, 0.50) * 1000, 2),
            "p95_ms": round(percentile(values, 0.95) * 1000, 2),
            "mean_ms": round(statistics.fmean(values) * 1000, 2),
            "rps": round(result.count / result.elapsed, 1) if result.elapsed else 0.0,
            "bytes_raw": int(statistics.fmean(result.sizes[kind])),
            "bytes_gzip": len(gzip.compress(sample, GZIP_LEVEL)),
        }
    return out


def check_same_rows(app_body: bytes, floor_body: bytes, kind: str) -> list[str]:
    """The app and the floor answered with the same people and count."""
    problems = []
    if PERSON_IDS.findall(app_body) != PERSON_IDS.findall(floor_body):
        problems.append(f"{kind}: the app and the floor list different people")
    elif PERSON_LINKS.findall(app_body) != PERSON_LINKS.findall(floor_body):  # the team list has no checkboxes
        problems.append(f"{kind}: the app and the floor link different people")
    a, f = SHOWING.search(app_body), SHOWING.search(floor_body)
    if (a and a.group(1)) != (f and f.group(1)):
        problems.append(f"{kind}: the app says {a and a.group(1)!r} people, the floor {f and f.group(1)!r}")
    return problems


def measure(name, plans, app_client, floor_client, args, log) -> dict:
    # Warm both (each worker compiles its templates and statements once).
    warm = max(0.3, args.seconds / 4)
    run_load(app_client, plans, warm)
    run_load(floor_client, plans, warm)
    problems = []
    for plan in plans[:1]:
        for request in plan[: min(len(plan), 12)]:
            if request.method == "GET":
                problems += check_same_rows(app_client.send(request).body, floor_client.send(request).body, request.kind)
    app_result, floor_result = LoadResult(), LoadResult()
    for _ in range(args.rounds):
        app_result.merge(run_load(app_client, plans, args.seconds))
        floor_result.merge(run_load(floor_client, plans, args.seconds))
    app, floor = summarise(app_result), summarise(floor_result)
    rows = []
    for kind in app:
        a, f = app[kind], floor.get(kind)
        ratio = {
            "p50": round(a["p50_ms"] / f["p50_ms"], 2),
            "p95": round(a["p95_ms"] / f["p95_ms"], 2),
            "rps_share": round(a["rps"] / f["rps"], 2) if f["rps"] else None,
        } if f else {}
        rows.append({"scenario": name, "kind": kind, "app": a, "floor": f, "ratio": ratio})
    errors = app_result.errors[:5] + floor_result.errors[:5] + problems
    for error in errors:
        log(f"    ! {error}")
    return {"rows": rows, "errors": errors, "statuses": {"app": app_result.statuses, "floor": floor_result.statuses}}


def first_load(client: Client) -> dict:
    page = client.get("/send/select-person")
    items = {"/send/select-person": page.body}
    for path in STATIC:
        response = client.get(path)
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        items[path] = response.body
    out = {path: {"raw": len(body), "gzip": len(gzip.compress(body, GZIP_LEVEL))} for path, body in items.items()}
    out["total"] = {"raw": sum(v["raw"] for v in out.values()), "gzip": sum(v["gzip"] for v in out.values())}
    return out


def run_engine(engine: str, args, log) -> dict:
    size_name = "large" if args.large else args.size
    started = time.perf_counter()
    url, info, built = prepare_database(engine, size_name, args, log)
    from .clock import ensure_open_cases, measure_clock  # the statutory clock (issue 15)

    ensure_open_cases(url, log=log)
    stamp = args.stamp
    logs = RESULTS / "logs"
    env = {"DATABASE_URL": url, "SEND_PORTAL_ENV": "development", "SECRET_KEY": SECRET_KEY,
           "SIGN_IN_RATE_LIMIT": "10000 per minute", "FLOOR_DATABASE_URL": url,
           # The clock's LA admin signs in with a password alone (bench/clock.py).
           "TWO_FACTOR_REQUIRED": "nobody"}
    app_server = Server("app:app", env, args.workers, logs / f"{stamp}-{engine}-app.log")
    floor_server = Server("bench.floor:application", env, args.workers, logs / f"{stamp}-{engine}-floor.log")
    results = {"engine": engine, "size": size_name, "database_built_now": built, "build": {
        "people": info.people, "professionals": info.professionals, "involvements": info.involvements,
        "name_tokens": info.tokens, "caseloads": {}, "seconds": info.seconds}, "scenarios": []}
    try:
        app_server.start("/healthz")
        floor_server.start("/")
        groups = [g for g in info.caseloads if g in args.groups] if args.groups else list(info.caseloads)
        first = None
        for group in groups:
            professional_id = info.caseloads[group]
            app_client = Client(app_server.port)
            app_client.sign_in(caseload_email(group), BENCH_PASSWORD)
            floor_client = Client(floor_server.port, {"X-Bench-Professional": str(professional_id)})
            body = app_client.get(list_path(group)).body
            match = SHOWING.search(body)
            total = int(match.group(1).replace(b",", b"")) if match else 0
            results["build"]["caseloads"][group] = {"professional_id": professional_id, "active": total}
            if first is None:
                first = first_load(app_client)
            log(f"  {engine} {group}: {total:,} people in Active")
            for name, plans in scenarios(group, info, args.clients, total):
                if group == "senco" and name not in ("full page", "filter keystroke"):
                    continue  # the small caseload: the page and the filter only
                if args.scenarios and name not in args.scenarios:
                    continue
                measured = measure(name, plans, app_client, floor_client, args, log)
                for row in measured["rows"]:
                    row["group"] = group
                    results["scenarios"].append(row)
                    log("    " + table_line(row))
                results.setdefault("errors", []).extend(measured["errors"])
        results["first_load"] = first
        if not args.scenarios or "statutory clock" in args.scenarios:
            results["clock"] = measure_clock(app_server.port, args, log)
            results.setdefault("errors", []).extend(results["clock"]["errors"])
    finally:
        app_server.stop()
        floor_server.stop()
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


# --- report ---------------------------------------------------------------------------


def table_line(row: dict) -> str:
    a, f, r = row["app"], row["floor"] or {}, row["ratio"] or {}
    return (f"{row['group']:6} {row['kind']:17} app p50 {a['p50_ms']:7.1f} p95 {a['p95_ms']:7.1f} {a['rps']:6.1f}/s | "
            f"floor p50 {f.get('p50_ms', 0):6.1f} p95 {f.get('p95_ms', 0):6.1f} {f.get('rps', 0):6.1f}/s | "
            f"x{r.get('p50', 0):.2f} x{r.get('p95', 0):.2f} rps {r.get('rps_share', 0):.0%} | "
            f"{a['bytes_raw']:,} B ({a['bytes_gzip']:,} gz)")


def targets(run: dict) -> list[dict]:
    out = [run["clock"]["target"]] if run.get("clock") else []
    for row in run["scenarios"]:
        if row["group"] not in ("big", "huge") or not row["ratio"]:
            continue
        r, kind = row["ratio"], row["kind"]
        label = f"{row['group']} {kind}"
        if kind == "filter keystroke":
            out.append({"target": f"{label}: p50 within {FILTER_LIMIT}x of the floor", "value": r["p50"], "met": r["p50"] <= FILTER_LIMIT})
            out.append({"target": f"{label}: p95 within {FILTER_LIMIT}x of the floor", "value": r["p95"], "met": r["p95"] <= FILTER_LIMIT})
        if kind in ("hide 50", "unhide 50"):
            out.append({"target": f"{label}: p50 within {WRITE_LIMIT}x of the floor", "value": r["p50"], "met": r["p50"] <= WRITE_LIMIT})
            out.append({"target": f"{label}: p95 within {WRITE_LIMIT}x of the floor", "value": r["p95"], "met": r["p95"] <= WRITE_LIMIT})
        out.append({"target": f"{label}: throughput at least {THROUGHPUT_FLOOR_SHARE:.0%} of the floor's", "value": r["rps_share"],
                    "met": r["rps_share"] is not None and r["rps_share"] >= THROUGHPUT_FLOOR_SHARE})
    by = {(row["group"], row["kind"]): row for row in run["scenarios"]}
    team, big = by.get(("team", "filter keystroke")), by.get(("big", "filter keystroke"))
    if team and big:
        for q in ("p50", "p95"):
            value = round(team["app"][f"{q}_ms"] / big["app"][f"{q}_ms"], 2)
            out.append({"target": f"team caseload (30,000) filter keystroke: {q} at most {TEAM_LIMIT}x the personal 10,000 one's",
                        "value": value, "met": value <= TEAM_LIMIT})
    if team and team["ratio"]:
        for q in ("p50", "p95"):
            out.append({"target": f"team filter keystroke: {q} within {FILTER_LIMIT}x of the floor", "value": team["ratio"][q],
                        "met": team["ratio"][q] <= FILTER_LIMIT})
    for (group, kind), row in by.items():
        small = by.get(("big", kind))
        if group == "huge" and small:
            value = round(row["app"]["p95_ms"] / small["app"]["p95_ms"], 2)
            out.append({"target": f"100,000-involvement caseload {kind}: p95 at most {SCALING_LIMIT}x the 10,000 one's",
                        "value": value, "met": value <= SCALING_LIMIT})
    return out


def machine() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "cores": os.cpu_count(),
            "sqlite": sqlite3.sqlite_version}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        import gunicorn

        info["gunicorn"] = gunicorn.__version__
    except ImportError:
        pass
    return info


def postgres_version(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), connect_timeout=5) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001 - no server: the run says so
        return None


def print_table(report: dict) -> None:
    print()
    print(f"SEND Portal benchmark, {report['size']} size, {report['started']}")
    m = report["machine"]
    print(f"machine: {m.get('cpu', '?')}, {m['cores']} cores, {m.get('memory_gib', '?')} GiB, {m['platform']}; "
          f"load average {report['load_before']} before, {report['load_after']} after")
    print(f"gunicorn {m.get('gunicorn')} with {report['settings']['workers']} workers; {report['settings']['clients']} client threads; "
          f"{report['settings']['rounds']} rounds of {report['settings']['seconds']}s per side and scenario")
    for run in report["runs"]:
        b = run["build"]
        print()
        print(f"== {run['engine']} ({run.get('version', '')}): {b['people']:,} people, {b['professionals']:,} professionals, "
              f"{b['involvements']:,} involvements; caseloads " + ", ".join(
                  f"{g} {c['active']:,} active" for g, c in b["caseloads"].items()))
        header = f"{'group':6} {'request':17} {'app p50':>8} {'p95':>7} {'req/s':>7} | {'floor p50':>9} {'p95':>6} {'req/s':>7} | {'p50 x':>6} {'p95 x':>6} {'rps %':>6} | {'bytes':>8} {'gzip':>7}"
        print(header)
        print("-" * len(header))
        for row in run["scenarios"]:
            a, f, r = row["app"], row["floor"] or {}, row["ratio"] or {}
            print(f"{row['group']:6} {row['kind']:17} {a['p50_ms']:8.1f} {a['p95_ms']:7.1f} {a['rps']:7.1f} | "
                  f"{f.get('p50_ms', 0):9.1f} {f.get('p95_ms', 0):6.1f} {f.get('rps', 0):7.1f} | "
                  f"{r.get('p50', 0):6.2f} {r.get('p95', 0):6.2f} {(r.get('rps_share') or 0) * 100:5.0f}% | "
                  f"{a['bytes_raw']:8,} {a['bytes_gzip']:7,}")
        fl = run.get("first_load") or {}
        if fl:
            print("first load of Select Person: " + ", ".join(
                f"{Path(k).name or 'page'} {v['raw']:,} B ({v['gzip']:,} gz)" for k, v in fl.items() if k != "total")
                + f"; total {fl['total']['raw']:,} B ({fl['total']['gzip']:,} B gzip)")
        for t in run["targets"]:
            print(f"  [{'met' if t['met'] else 'NOT MET'}] {t['target']}: {t['value']}")
        for error in run.get("errors", []):
            print(f"  ! {error}")
    print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="1,000,000 people; caseloads of 100,000, 10,000 and 300")
    parser.add_argument("--size", choices=sorted(SIZES), default="default",
                        help="default: 100,000 people, 1,000 professionals, caseloads of 10,000 and 300")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both",
                        help="both (the default) skips PostgreSQL when no server is given")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL"),
                        help="a server the bench may create databases on (default: $BENCH_POSTGRES_URL or $TEST_POSTGRES_URL)")
    parser.add_argument("--pg-options", default=PG_OPTIONS,
                        help=f'PostgreSQL settings for the app and the floor alike (default "{PG_OPTIONS}"; "" for the server\'s own)')
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each measured round, per side (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="app/floor rounds per scenario, alternating (default 3)")
    parser.add_argument("--clients", type=int, default=2, help="client threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, for the app and the floor alike (default 2)")
    parser.add_argument("--groups", nargs="*", help="caseloads to measure (big, senco, huge, team: the team caseload)")
    parser.add_argument("--scenarios", nargs="*", help="full page, filter keystroke, view switch, paging, hide and unhide 50, statutory clock")
    parser.add_argument("--rebuild", action="store_true", help="build the database again even if one is there")
    parser.add_argument("--data-dir", default=str(RESULTS / "data"), help="where SQLite databases are kept (default bench/results/data)")
    parser.add_argument("--output", help="the JSON file (default bench/results/<time>-<size>.json)")
    args = parser.parse_args(argv)
    size_name = "large" if args.large else args.size
    args.stamp = datetime.now().strftime("%Y%m%d-%H%M%S")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    pg_version = None
    if "postgresql" in engines:
        pg_version = postgres_version(args.postgres_url) if args.postgres_url else None
        if pg_version is None:
            if args.engine == "postgresql":
                parser.error("no PostgreSQL server answers: give --postgres-url or set BENCH_POSTGRES_URL")
            log("PostgreSQL: no server given or none answers (set BENCH_POSTGRES_URL); SQLite only")
            engines = ["sqlite"]

    report = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "size": size_name,
              "machine": machine(), "load_before": [round(x, 2) for x in os.getloadavg()],
              "settings": {"seconds": args.seconds, "rounds": args.rounds, "clients": args.clients, "workers": args.workers,
                           "gzip_level": GZIP_LEVEL, "prefixes": PREFIXES, "pg_options": args.pg_options},
              "runs": []}
    for engine in engines:
        log(f"== {engine}")
        run = run_engine(engine, args, log)
        run["version"] = sqlite3.sqlite_version if engine == "sqlite" else pg_version
        run["targets"] = targets(run)
        report["runs"].append(run)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = Path(args.output) if args.output else RESULTS / f"{args.stamp}-{size_name}.json"
    output.write_text(json.dumps(report, indent=2, default=str))
    print_table(report)
    print(f"figures written to {output}")
    return 0
