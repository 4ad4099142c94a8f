"""The floor: the same queries and rows as the Select Person page, served by
a bare WSGI function that talks to the database driver (sqlite3 or psycopg)
directly. No Flask, no ORM, no templates, no sessions: what is left of a
request here is what the database and the server cost, so the app's figures
are read as ratios to these.

The SQL below is the shape `send_portal.caseload.queries` gives the app
(tests/test_bench_smoke.py checks that both return the same rows). The only
app code used is the filter's folding (`send_portal.names.query_terms`),
which must be the same, and `months_ago` for the Recent cut-off.

Served as `gunicorn bench.floor:application` with FLOOR_DATABASE_URL set. The
professional is named by the X-Bench-Professional header: the floor signs
nobody in, but it still reads the professional's record, as the app must.
/send/team-caseload is the professional's organisation's team caseload (its
members' involvements, with the Professional column), as in the app.
"""
from __future__ import annotations

import html
import os
from collections import Counter
from datetime import date, datetime
from urllib.parse import parse_qs

from send_portal.caseload.queries import months_ago
from send_portal.names import query_terms

PAGE_SIZE = 50
RECENT_MONTHS = 18
LIVE = "i.professional_id = {p} AND i.deleted_at IS NULL AND i.status IN ('awaiting', 'authenticated')"
AWAITING = "Awaiting authentication"
ACTIONS = {"hide": ("active", "recent"), "unhide": ("hidden",)}
TEAM_PATH = "/send/team-caseload"
HIDE_AUDIT = "Person hidden by professional"
UNHIDE_AUDIT = "Person unhidden by professional"
# A SQLite walk of the name index beats reading and sorting the whole caseload
# when the caseload is a large enough share of everyone (see queries.py).
WALK_FACTOR = 1.0


# --- connections ------------------------------------------------------------


def connect(url: str):
    """A DB-API connection from an SQLAlchemy-style URL; returns (conn, dialect)."""
    if url.startswith("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None, check_same_thread=False,
                               detect_types=sqlite3.PARSE_DECLTYPES)
        sqlite3.register_converter("DATETIME", lambda raw: datetime.fromisoformat(raw.decode()))
        # The app's own pragmas (send_portal/__init__.py).
        for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        return conn, "sqlite"
    import psycopg
    from sqlalchemy.engine import make_url  # parsing the URL only, as the app does

    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    params = {"host": parsed.host, "port": parsed.port, "user": parsed.username, "password": parsed.password,
              "dbname": parsed.database, **parsed.query}
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None}), "postgresql"


class Db:
    """A connection and its dialect's parameter style."""

    def __init__(self, conn, dialect: str):
        self.conn = conn
        self.dialect = dialect
        self.mark = "?" if dialect == "sqlite" else "%s"

    def begin(self, write: bool = False) -> None:
        if self.dialect == "sqlite":
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        # psycopg begins a transaction on the first statement by itself.

    def param(self, value):
        """SQLite keeps datetimes as text: written as SQLAlchemy writes them,
        so comparisons with stored values are the same as the app's."""
        if self.dialect == "sqlite" and isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def execute(self, sql: str, params=()):
        params = [self.param(p) for p in params]
        return self.conn.execute(sql.replace("?", self.mark) if self.mark != "?" else sql, params)

    def commit(self) -> None:
        self.conn.commit() if self.dialect == "postgresql" else self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.dialect == "postgresql":
            self.conn.rollback()
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


# --- the caseload queries -----------------------------------------------------


def _view_sql(view: str, today: date, months: int) -> tuple[str, list]:
    if view == "active":
        return "i.hidden_at IS NULL AND (i.ended_on IS NULL OR i.ended_on > ?)", [today]
    if view == "hidden":
        return "i.hidden_at IS NOT NULL", []
    cutoff = datetime.combine(months_ago(today, months), datetime.min.time())
    return "i.hidden_at IS NULL AND i.last_activity_at >= ?", [cutoff]


def _upper(term: str) -> str:
    return term[:-1] + chr(ord(term[-1]) + 1)


def _whose(column: str, ids: list[int]) -> str:
    """One professional's rows, or a team's (one range of the key a member)."""
    return f"{column} = ?" if len(ids) == 1 else f"{column} IN ({', '.join('?' * len(ids))})"


def _matches_sql(professional_ids: list[int], view: str, terms: list[str], today: date, months: int) -> tuple[str, str, list]:
    """(FROM, WHERE, params) of a filtered list: the range of the longest
    term in caseload_name_token, one row an involvement by shared_prefix,
    each other term's range as a set of involvements (see queries._matches)."""
    drive = max(terms, key=len)
    hidden = view == "hidden"
    where = _whose("c.professional_id", professional_ids) + " AND c.hidden = ? AND c.token >= ? AND c.token < ? AND c.shared_prefix < ?"
    params = [*professional_ids, hidden, drive, _upper(drive), len(drive)]
    for term in terms:
        if term != drive:
            where += (" AND c.involvement_id IN (SELECT o.involvement_id FROM caseload_name_token o"
                      f" WHERE {_whose('o.professional_id', professional_ids)} AND o.hidden = ? AND o.token >= ? AND o.token < ?)")
            params += [*professional_ids, hidden, term, _upper(term)]
    if view == "active":
        where += " AND (c.ended_on IS NULL OR c.ended_on > ?)"
        params.append(today)
    elif view == "recent":
        where += " AND c.last_activity_at >= ?"
        params.append(datetime.combine(months_ago(today, months), datetime.min.time()))
    return "caseload_name_token c", where, params


def professional(db: Db, professional_id: int):
    """(id, given_name, email, may_see_children) of a professional."""
    row = db.execute(
        "SELECT id, given_name, email, role, verification, is_deactivated FROM portal_user WHERE id = ?",
        (professional_id,),
    ).fetchone()
    if row is None:
        return None
    return row[0], row[1], row[2], row[3] == "professional" and row[4] == "verified" and not row[5]


def team_members(db: Db, professional_id: int) -> list[int] | None:
    """The members of the professional's organisation, where it shares a
    team caseload (else None: no team list), in id order."""
    rows = db.execute(
        "SELECT u.id FROM portal_user u JOIN organisation o ON o.id = u.organisation_id"
        " WHERE o.id = (SELECT organisation_id FROM portal_user WHERE id = ?) AND o.shares_caseload"
        " AND u.role = 'professional' ORDER BY u.id",
        (professional_id,),
    ).fetchall()
    return [r[0] for r in rows] or None


def caseload(db: Db, professional_id: int, view: str = "active", query: str = "", page: int = 1,
             page_size: int = PAGE_SIZE, recent_months: int = RECENT_MONTHS, today: date | None = None,
             may_see: bool = True, team: list[int] | None = None):
    """(total, page, rows); a row is (person_id, given, family, date_of_birth,
    case_status shown, last_activity_at), and for a team (its members' ids)
    the professional's name as well."""
    today = today or date.today()
    terms = query_terms(query)
    denied = "" if may_see else " AND 1 = 0"
    ids = list(team) if team else [professional_id]
    if terms:
        source, where, params = _matches_sql(ids, view, terms, today, recent_months)
        where += denied
    else:
        view_sql, view_params = _view_sql(view, today, recent_months)
        source = "involvement i"
        where = _whose("i.professional_id", ids) + LIVE.removeprefix("i.professional_id = {p}") + denied + " AND " + view_sql
        params = [*ids, *view_params]
    total = db.execute(f"SELECT count(*) FROM {source} WHERE {where}", params).fetchone()[0]
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    offset = (page - 1) * page_size
    limit = min(page_size, total - offset) if total else page_size
    backwards = total > 0 and offset > total - offset - limit  # read late pages from the end
    if backwards:
        offset = total - offset - limit
    asc, desc = ("DESC", "ASC") if backwards else ("ASC", "DESC")
    columns = ("p.id, p.given_name, p.family_name, p.date_of_birth,"
               " CASE WHEN i.status = 'awaiting' THEN 'Awaiting authentication' ELSE p.case_status END, p.last_activity_at")
    member = ""
    if team:  # the Professional column
        columns += ", u.given_name || ' ' || u.family_name"
        member = " JOIN portal_user u ON u.id = i.professional_id"
    if terms:
        # The page is chosen among the matches, then joined for its rows.
        if view == "recent":
            keys = f"c.last_activity_at {desc}, c.person_id {desc}, c.involvement_id {desc}"
            chosen = "c.last_activity_at AS key"
            order = f"m.key {desc}, m.person_id {desc}, m.involvement_id {desc}"
        else:
            keys = f"c.sort_name {asc}, c.person_id {asc}, c.involvement_id {asc}"
            chosen = "c.sort_name AS key"
            order = f"m.key {asc}, m.person_id {asc}, m.involvement_id {asc}"
        sql = (f"SELECT {columns} FROM (SELECT {chosen}, c.person_id, c.involvement_id FROM {source}"
               f" WHERE {where} ORDER BY {keys} LIMIT ? OFFSET ?) m"
               f" JOIN involvement i ON i.id = m.involvement_id JOIN person p ON p.id = m.person_id{member}"
               f" ORDER BY {order}")
    else:
        if view == "recent":
            order = f"i.last_activity_at {desc}, i.person_id {desc}, i.id {desc}"
        else:
            # Only the Active list may be read in name-index order (see queries.py).
            key = "p.sort_name" if view == "active" else "p.sort_name || ''"
            order = f"{key} {asc}, p.id {asc}" + (f", i.id {asc}" if team else "")  # a child of two members: two rows
        hint = ""
        if db.dialect == "sqlite" and view == "active" and total:
            people = db.execute("SELECT max(id) FROM person").fetchone()[0] or 0
            if (offset + limit) * people <= WALK_FACTOR * total * total:
                hint = " INDEXED BY ix_person_sort_name"
        sql = (f"SELECT {columns} FROM involvement i JOIN person p{hint} ON p.id = i.person_id{member} WHERE {where}"
               f" ORDER BY {order} LIMIT ? OFFSET ?")
    rows = db.execute(sql, [*params, limit, offset]).fetchall()
    if backwards:
        rows.reverse()
    return total, page, rows


def change(db: Db, pro, action: str, person_ids: list[int], view: str, now: datetime | None = None) -> int:
    """Hide or unhide: the chosen people in this view, each with its audit
    entry, in one transaction. Returns how many changed."""
    professional_id, given_name, email, may_see = pro
    now = now or datetime.utcnow()
    today = date.today()
    view_sql, view_params = _view_sql(view, today, 10_000)
    marks = ", ".join("?" * len(person_ids))
    lock = " FOR UPDATE OF i" if db.dialect == "postgresql" else ""
    db.begin(write=True)
    try:
        rows = db.execute(
            "SELECT i.id, p.id, p.given_name, p.family_name FROM involvement i JOIN person p ON p.id = i.person_id"
            f" WHERE {LIVE.format(p='?')}{'' if may_see else ' AND 1 = 0'} AND i.person_id IN ({marks}) AND {view_sql}"
            f" ORDER BY p.sort_name, p.id{lock}",
            [professional_id, *person_ids, *view_params],
        ).fetchall()
        if rows:
            ids = [r[0] for r in rows]
            db.execute(
                f"UPDATE involvement SET hidden_at = ? WHERE id IN ({', '.join('?' * len(ids))})",
                [now if action == "hide" else None, *ids],
            )
            audit = HIDE_AUDIT if action == "hide" else UNHIDE_AUDIT
            db.conn.cursor().executemany(
                "INSERT INTO audit_entry (occurred_at, action, changed_by_id, person_id, professional_id, person_name,"
                " professional_given_name, professional_portal_name, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)"
                .replace("?", db.mark),
                [(db.param(now), audit, professional_id, r[1], professional_id, f"{r[2]} {r[3]}", given_name, email) for r in rows],
            )
        db.commit()
        return len(rows)
    except Exception:
        db.rollback()
        raise


# --- HTML --------------------------------------------------------------------

esc = html.escape


def render_rows(view: str, query: str, total: int, page: int, rows, message: str = "", team: bool = False) -> str:
    first = 0 if total == 0 else (page - 1) * PAGE_SIZE + 1
    last = min(total, page * PAGE_SIZE)
    parts = [f'<div id="caseload-results"><p role="status">{esc(message)}</p><h2>{view.title()}</h2>',
             f"<p>Showing {first} to {last} of {total:,} people</p>" if total else "<p>No people found.</p>"]
    if rows:
        parts.append('<form method="post"><table><caption>People</caption><tbody>')
        # As the portal's rows: the date of birth only where a name repeats on the page.
        counts = Counter(f"{r[1]} {r[2]}" for r in rows)
        for pid, given, family, dob, status, last_activity, *member in rows:
            name = esc(f"{given} {family}")
            born = f"{dob:%-d %B %Y}"
            born_label = f", born {born}" if counts[f"{given} {family}"] > 1 else ""
            select = "" if team else (
                f'<td><input type="checkbox" name="person_id" value="{pid}" aria-label="Select {name}{born_label}"></td>')
            parts.append(
                f'<tr>{select}<th scope="row"><a href="/send/people/{pid}">{name}</a></th>'
                f"<td>{born}</td><td>{esc(status)}</td>"
                + (f"<td>{esc(member[0])}</td>" if member else "")
                + (f"<td>{last_activity:%-d %B %Y}</td>" if view == "recent" and last_activity else "")
                + "</tr>"
            )
        parts.append("</tbody></table></form>")
    parts.append("</div>")
    return "".join(parts)


def render_page(view: str, query: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Select Person</title></head>'
        f'<body><main><h1>Select Person</h1><form method="get"><input name="q" value="{esc(query)}"></form>'
        f"{body}</main></body></html>"
    )


# --- WSGI -----------------------------------------------------------------------

_db: Db | None = None


def _connection() -> Db:
    global _db
    if _db is None:  # one connection per worker process, opened after the fork
        _db = Db(*connect(os.environ["FLOOR_DATABASE_URL"]))
    return _db


def _respond(start_response, status: str, body: str):
    data = body.encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]


def application(environ, start_response):
    db = _connection()
    path = environ.get("PATH_INFO", "")
    method = environ["REQUEST_METHOD"]
    try:
        pro = professional(db, int(environ.get("HTTP_X_BENCH_PROFESSIONAL", "0")))
        if pro is None:
            return _respond(start_response, "404 Not Found", "no such professional")
        message, team = "", None
        if method == "POST" and path.startswith("/send/select-person/"):
            action = path.rsplit("/", 1)[1]
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = parse_qs(environ["wsgi.input"].read(length).decode())
            view = form.get("view", ["active"])[0]
            query = form.get("q", [""])[0]
            page = int(form.get("page", ["1"])[0] or 1)
            if action not in ACTIONS or view not in ACTIONS[action]:
                return _respond(start_response, "400 Bad Request", "bad action")
            ids = [int(i) for i in form.get("person_id", [])]
            count = change(db, pro, action, ids, view)
            message = f"{count} people {'hidden' if action == 'hide' else 'unhidden'}"
        elif method == "GET":
            args = parse_qs(environ.get("QUERY_STRING", ""))
            if path.startswith(TEAM_PATH):
                team = team_members(db, pro[0])
                if team is None:
                    return _respond(start_response, "404 Not Found", "no team caseload")
                path = path[len(TEAM_PATH):]
            else:
                path = path[len("/send/select-person"):]
            tail = path.strip("/")
            view = tail or "active"
            if view not in ("active", "hidden", "recent"):
                return _respond(start_response, "404 Not Found", "not found")
            query = args.get("q", [""])[0].strip()
            page = int(args.get("page", ["1"])[0] or 1)
        else:
            return _respond(start_response, "405 Method Not Allowed", "")
        db.begin()
        total, page, rows = caseload(db, pro[0], view, query, page, may_see=pro[3], team=team)
        db.rollback()
        body = render_rows(view, query, total, page, rows, message, team=team is not None)
        if environ.get("HTTP_HX_REQUEST") != "true":
            body = render_page(view, query, body)
        return _respond(start_response, "200 OK", body)
    except Exception:
        db.rollback()
        raise
