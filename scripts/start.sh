#!/usr/bin/env bash
# Install Kontor, create an instance on SQLite with demo data, and serve it on http://127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
export KONTOR_INSTANCE=${KONTOR_INSTANCE:-$PWD/instance}
.venv/bin/kontor demo
echo
echo "Kontor is starting on http://127.0.0.1:5000 (Ctrl+C stops it)."
exec .venv/bin/kontor run --host 127.0.0.1 --port 5000
