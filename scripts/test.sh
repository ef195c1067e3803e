#!/usr/bin/env bash
# Install everything the tests need (Chromium, PostgreSQL, Python packages) and run the whole suite:
# every database test on SQLite and on a PostgreSQL server the tests start, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)  # invoice PDFs
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
scripts/setup-env.sh test
# One test process per core (pytest-xdist); each has its own PostgreSQL server and databases.
exec .venv/bin/python -m pytest -p no:cacheprovider -n auto "$@"
