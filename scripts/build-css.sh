#!/usr/bin/env bash
# Rebuild static/css/portal.css from static/src/*.scss with the vendored
# GOV.UK Frontend release. Run by a developer when styles change; the output
# is committed, so neither the app nor CI needs Node.js.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm init -y >/dev/null && npm install --silent sass@1.108.2 govuk-frontend@6.3.0 )
"$work/node_modules/.bin/sass" --no-source-map --style=compressed --quiet-deps \
  --load-path="$work/node_modules" static/src/portal.scss static/css/portal.css
echo "static/css/portal.css: $(wc -c < static/css/portal.css) bytes, $(gzip -9c static/css/portal.css | wc -c) gzipped"
