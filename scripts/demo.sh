#!/usr/bin/env bash
# Runs the service on the embedded SQLite default with a demo authority ready,
# on http://127.0.0.1:5000 (development mode: plain HTTP, so cookies are not
# marked Secure). Prints the demo sign-ins first.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
export SEND_PORTAL_ENV="${SEND_PORTAL_ENV:-development}"
# One SECRET_KEY for demo-data and the server, kept between runs: it signs the
# sessions and encrypts the demo admin's two-factor key.
if [ -z "${SECRET_KEY:-}" ]; then
  mkdir -p instance
  [ -s instance/demo_secret_key ] || (umask 077 && .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" > instance/demo_secret_key)
  SECRET_KEY="$(cat instance/demo_secret_key)"
  export SECRET_KEY
fi
.venv/bin/flask --app app init-db
.venv/bin/flask --app app demo-data
exec .venv/bin/flask --app app run --host 127.0.0.1 --port "${PORT:-5000}"
