#!/usr/bin/env bash
# Install Kontor, create an instance on SQLite with demo data, and serve it on http://127.0.0.1:$KONTOR_PORT
# (5000 unless set) with one job worker (and the scheduler) beside the web server; Ctrl+C stops both.
# The instance's marketplace offers the example third-party module, to try installing one.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${KONTOR_PORT:-5000}
# Say so before installing anything when the port is taken (on macOS, AirPlay Receiver listens on 5000).
if ! python3 -c "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
  echo "Port $port on 127.0.0.1 is in use by another program, so Kontor cannot be served there." >&2
  echo "Stop that program, or choose another port:  KONTOR_PORT=5050 bash scripts/start.sh" >&2
  exit 1
fi
echo "Installing Kontor and its Python packages into .venv (the first time takes a few minutes)…"
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
echo "Creating the instance in $KONTOR_INSTANCE with demo data (kept on later starts)…"
.venv/bin/kontor demo --serving-at "http://127.0.0.1:$port"
echo
# The worker runs background jobs (campaigns, imports, exports, mail) and the schedules; it leaves
# when the web server does, letting a running job finish first (SIGTERM).
.venv/bin/kontor worker --threads 2 --scheduler &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true' EXIT
echo "Starting the web server on http://127.0.0.1:$port and a job worker (Ctrl+C stops both)…"
.venv/bin/kontor run --host 127.0.0.1 --port "$port"
