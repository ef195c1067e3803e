#!/usr/bin/env bash
# Install Kontor, create an instance on SQLite with demo data, and serve it on http://127.0.0.1:5000
# with one job worker (and the scheduler) beside the web server; Ctrl+C stops both.
# The instance's marketplace offers the example third-party module, to try installing one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
export KONTOR_INSTANCE=${KONTOR_INSTANCE:-$PWD/instance}
export KONTOR_MARKETPLACE=${KONTOR_MARKETPLACE:-$KONTOR_INSTANCE/marketplace}
if [ ! -f "$KONTOR_MARKETPLACE/index.json" ]; then
  work=$(mktemp -d)
  cp -r tests/example_plugin "$work/src"
  .venv/bin/python -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$work/dist" "$work/src" >/dev/null
  .venv/bin/kontor modules marketplace publish "$work"/dist/*.whl --to "$KONTOR_MARKETPLACE"
  rm -rf "$work"
fi
.venv/bin/kontor demo
echo
# The worker runs background jobs (campaigns, imports, exports, mail) and the schedules; it leaves
# when the web server does, letting a running job finish first (SIGTERM).
.venv/bin/kontor worker --threads 2 --scheduler &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true' EXIT
echo "Kontor is starting on http://127.0.0.1:5000 with a job worker (Ctrl+C stops both)."
.venv/bin/kontor run --host 127.0.0.1 --port 5000
