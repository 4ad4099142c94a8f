#!/usr/bin/env bash
# The one command that passes the tests on a fresh machine: it installs what
# the tests need (Python packages in .venv, Debian's Chromium for the browser
# tests), then runs the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt

apt_install() {
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if [ ! -f /tmp/.send-portal-apt-updated ]; then
    $SUDO apt-get update -qq && touch /tmp/.send-portal-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if [ "${SKIP_BROWSER_TESTS:-0}" != "1" ] && [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's Chromium for the browser tests..."
  apt_install chromium
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
PG_PORT="${PG_PORT:-54329}"
start_postgres() {
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
  $AS_PG "$PGBIN/initdb" -D "$PGWORK/data" -A trust -U postgres --no-sync >/dev/null
  # Durability settings are off: this server holds throwaway test data only.
  $AS_PG "$PGBIN/pg_ctl" -D "$PGWORK/data" -l "$PGWORK/log" -w start \
    -o "-p $PG_PORT -k $PGWORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  trap 'stop_postgres' EXIT
  export TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
}
stop_postgres() {
  $AS_PG "$PGBIN/pg_ctl" -D "$PGWORK/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGWORK"
}

run_pytest() {
  set +e
  "$@"
  local status=$?
  set -e
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here." >&2
    return 1
  fi
  return "$status"
}

echo "== The whole suite on SQLite (the embedded default), browser tests included =="
run_pytest .venv/bin/python -m pytest "$@"

if [ "${SKIP_POSTGRES:-0}" != "1" ] && [ "$#" -eq 0 ] || [ "${FORCE_POSTGRES:-0}" = "1" ]; then
  start_postgres
  echo "== The suite again on PostgreSQL (browser tests run once, above) =="
  run_pytest env TEST_POSTGRES_URL="$TEST_POSTGRES_URL" .venv/bin/python -m pytest -m "not browser" -p no:cacheprovider "$@"
fi

if [ "$#" -eq 0 ]; then
  echo "== Security checks =="
  # bandit: every finding is fixed or marked "# nosec <rule> - reason" in the code.
  .venv/bin/bandit --quiet --recursive send_portal app.py
  # pip-audit: known vulnerabilities in the pinned requirements. Where no
  # vulnerability service is reachable it says which packages it skipped.
  .venv/bin/pip-audit --requirement requirements.txt --progress-spinner off --desc off
fi
