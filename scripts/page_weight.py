"""The first load of the Select Person page: HTML, CSS and JavaScript, gzipped.

Usage: .venv/bin/python scripts/page_weight.py [--budget 51200]
Builds the demo authority in a temporary SQLite database, signs in as the demo
SENCo (a full page of 50 rows), and adds up what a browser downloads on a
first visit. Exits 1 when the total is over the budget (50 KB by default)."""
from __future__ import annotations

import argparse
import gzip
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def measure() -> list[tuple[str, int, int]]:
    os.environ.setdefault("SEND_PORTAL_ENV", "development")
    os.environ.setdefault("SECRET_KEY", "page-weight")
    from send_portal import create_app
    from send_portal.demo import DEMO_PASSWORD

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/weight.sqlite3", "TESTING": True})
        runner = app.test_cli_runner()
        for command in (["init-db"], ["demo-data"]):
            result = runner.invoke(args=command)
            assert result.exit_code == 0, result.output
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/sign-in", data={"email": "senco@demo-la.example", "password": DEMO_PASSWORD, "csrf_token": token})
        html = client.get("/send/select-person").get_data()
        assert b"Showing 1 to 50" in html, "the demo SENCo should have a full page"
        rows = [("Select Person page (HTML, 50 rows)", len(html), gz(html))]
        text = html.decode()
        assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text) + re.findall(r'<script src="([^"]+)"', text)
        for url in assets:
            url = url.split("?")[0]  # the digest that versions it
            data = (ROOT / url.lstrip("/")).read_bytes()
            rows.append((url, len(data), gz(data)))
        with app.app_context():
            from send_portal.extensions import db

            db.engine.dispose()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=50 * 1024, help="bytes, gzipped (default 51200)")
    args = parser.parse_args()
    rows = measure()
    width = max(len(name) for name, _, _ in rows)
    print(f"{'resource':{width}}  {'raw':>9}  {'gzip':>9}")
    for name, raw, packed in rows:
        print(f"{name:{width}}  {raw:9,}  {packed:9,}")
    total_raw, total_gz = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"{'first load':{width}}  {total_raw:9,}  {total_gz:9,}  (budget {args.budget:,} gzipped)")
    if total_gz > args.budget:
        print(f"OVER BUDGET by {total_gz - args.budget:,} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
