#!/usr/bin/env bash
# The one command that passes the tests on a fresh machine: it installs what
# the tests need (Python packages in .venv, Debian's Chromium, lynx and w3m
# for the browser tests, PostgreSQL, the HTML validator), then runs every
# stage: the suite on SQLite, again on PostgreSQL, and the security checks.
# A failing stage does not stop the others; the script fails at the end if
# any did, after a summary. Extra arguments go to pytest.
#
# ./scripts/test.sh --quick [pytest arguments]: the fast tier for while you
# work: the suite on SQLite without the browser, hostile and slow tests
# (markers in pytest.ini), in parallel (pytest-xdist), after bandit; it
# installs only the Python packages and needs no Chromium, Java or PostgreSQL. The full run
# above stays the one CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
if [ "${1:-}" = "--quick" ]; then
  QUICK=1
  shift
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt

if [ "$QUICK" = "1" ]; then
  # bandit takes seconds, and a finding fails the full run (CI) as well.
  echo "== bandit =="
  bandit_status=0
  .venv/bin/bandit --quiet --recursive send_portal app.py || bandit_status=$?
  echo "== The quick tier on SQLite: not browser, not hostile, not slow (the full run is ./scripts/test.sh) =="
  pytest_status=0
  env -u TEST_POSTGRES_URL .venv/bin/python -m pytest -m "not browser and not hostile and not slow" \
    -p no:cacheprovider -n "${QUICK_WORKERS:-auto}" "$@" || pytest_status=$?
  [ "$bandit_status" -eq 0 ] || echo "FAILED: bandit (exit $bandit_status)"
  [ "$pytest_status" -eq 0 ] || echo "FAILED: pytest (exit $pytest_status)"
  [ "$bandit_status" -eq 0 ] && [ "$pytest_status" -eq 0 ]
  exit $?
fi

apt_install() {
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if [ ! -f /tmp/.send-portal-apt-updated ]; then
    $SUDO apt-get update -qq && touch /tmp/.send-portal-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if [ "${SKIP_BROWSER_TESTS:-0}" != "1" ]; then
  # Chromium for the browser tests; lynx and w3m for the text-browser ones.
  missing=""
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
  command -v lynx >/dev/null || missing="$missing lynx"
  command -v w3m >/dev/null || missing="$missing w3m"
  if [ -n "$missing" ]; then
    echo "Installing Debian's$missing for the browser tests..."
    # shellcheck disable=SC2086
    apt_install $missing
  fi
fi

# The Nu Html Checker (vnu) for the HTML validity tests: a pinned release from
# the npm registry, run with the machine's Java.
VNU_VERSION=26.9.27
if [ ! -f .cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar ] || ! grep -q "\"version\": \"$VNU_VERSION\"" .cache/vnu/node_modules/vnu-jar/package.json 2>/dev/null; then
  command -v java >/dev/null || apt_install default-jre-headless
  command -v npm >/dev/null || apt_install npm
  mkdir -p .cache/vnu
  (cd .cache/vnu && npm install --silent --no-audit --no-fund --no-save "vnu-jar@$VNU_VERSION")
fi

# PostgreSQL, the production engine: a throwaway server on 127.0.0.1, stopped
# when this script ends. Set SKIP_POSTGRES=1 to run on SQLite alone.
PG_PORT_CHOSEN="${PG_PORT:-}"
PG_PORT="${PG_PORT:-54329}"
port_in_use() {
  .venv/bin/python -c "import socket, sys; s = socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1', int(sys.argv[1]))) == 0 else 1)" "$1"
}
start_postgres() {
  if port_in_use "$PG_PORT"; then
    if [ -n "$PG_PORT_CHOSEN" ]; then
      echo "PG_PORT $PG_PORT is in use on 127.0.0.1: choose another." >&2
      return 1
    fi
    # Another server (another run of this script, say) has the default port: take a free one.
    PG_PORT="$(.venv/bin/python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
    echo "Port 54329 is in use: the throwaway PostgreSQL server listens on $PG_PORT instead."
  fi
  if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    echo "Installing Debian's PostgreSQL for the PostgreSQL run..."
    apt_install postgresql
  fi
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  PGWORK="$(mktemp -d /tmp/send-portal-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PGWORK"; AS_PG="runuser -u postgres --"
  else
    AS_PG=""
  fi
  $AS_PG "$PGBIN/initdb" -D "$PGWORK/data" -A trust -U postgres --no-sync >/dev/null || return 1
  # Durability settings are off: this server holds throwaway test data only.
  $AS_PG "$PGBIN/pg_ctl" -D "$PGWORK/data" -l "$PGWORK/log" -w start \
    -o "-p $PG_PORT -k $PGWORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
    || { tail -5 "$PGWORK/log" >&2; return 1; }
  trap 'stop_postgres' EXIT
  export TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
}
stop_postgres() {
  $AS_PG "$PGBIN/pg_ctl" -D "$PGWORK/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGWORK"
}

FAILED_STAGES=()
NOT_CHECKED=()
stage() {
  # stage NAME COMMAND...: runs it, records a failure, never stops the script.
  local name="$1"; shift
  set +e
  "$@"
  local status=$?
  set -e
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here." >&2
  fi
  if [ "$status" -ne 0 ]; then
    FAILED_STAGES+=("$name (exit $status)")
  fi
  return 0
}

echo "== The whole suite on SQLite (the embedded default), browser tests included =="
stage "suite on SQLite" .venv/bin/python -m pytest "$@"

if [ "${SKIP_POSTGRES:-0}" != "1" ] && [ "$#" -eq 0 ] || [ "${FORCE_POSTGRES:-0}" = "1" ]; then
  echo "== The suite again on PostgreSQL (browser tests run once, above) =="
  if start_postgres; then
    stage "suite on PostgreSQL" env TEST_POSTGRES_URL="$TEST_POSTGRES_URL" .venv/bin/python -m pytest -m "not browser" -p no:cacheprovider "$@"
  else
    FAILED_STAGES+=("PostgreSQL server did not start (see above)")
  fi
fi

if [ "$#" -eq 0 ]; then
  echo "== Security checks =="
  # bandit: every finding is fixed or marked "# nosec <rule> - reason" in the code.
  stage "bandit" .venv/bin/bandit --quiet --recursive send_portal app.py
  # pip-audit: known vulnerabilities in the pinned requirements. It says "No
  # known vulnerabilities found" even when it could look up no package at all
  # (no vulnerability service reachable), so its JSON is read: a package it
  # skipped was not checked, and that is reported as such, never as a pass.
  mkdir -p .cache
  set +e
  .venv/bin/pip-audit --requirement requirements.txt --progress-spinner off --desc off --format json --output .cache/pip-audit.json 2>.cache/pip-audit.log
  audit_status=$?
  .venv/bin/python scripts/dependency_audit.py .cache/pip-audit.json .cache/pip-audit.log
  audit_verdict=$?
  set -e
  if [ "$audit_verdict" -eq 1 ] || { [ "$audit_status" -ne 0 ] && [ "$audit_verdict" -ne 2 ]; }; then
    FAILED_STAGES+=("pip-audit")
  elif [ "$audit_verdict" -eq 2 ]; then
    NOT_CHECKED+=("pip-audit: dependencies not checked for known vulnerabilities (no vulnerability service reachable)")
    if [ "${REQUIRE_DEPENDENCY_AUDIT:-0}" = "1" ]; then FAILED_STAGES+=("pip-audit (not checked)"); fi
  fi
fi

echo "== Summary =="
for item in "${NOT_CHECKED[@]+"${NOT_CHECKED[@]}"}"; do
  echo "NOT CHECKED: $item"
done
if [ "${#FAILED_STAGES[@]}" -ne 0 ]; then
  for item in "${FAILED_STAGES[@]}"; do echo "FAILED: $item"; done
  exit 1
fi
echo "Every stage that ran passed."
