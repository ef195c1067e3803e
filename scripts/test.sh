#!/usr/bin/env bash
# Install everything the tests need (Chromium, PostgreSQL, PgBouncer, Redis, Python packages) and run the
# whole suite: every database test on SQLite and on a PostgreSQL server the tests start, browser tests included.
# The tests start their own servers on free ports: the packages' system services are not started on install
# (and pgbouncer's and redis-server's are disabled), so nothing is left running system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)  # invoice PDFs
[ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)  # the several-hosts test
[ -x /usr/bin/redis-server ] || need+=(redis-server)  # the job queue on Redis
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # policy-rc.d exit 101: the packages' services are not started on install (containers lack systemd anyway)
  policy=/usr/sbin/policy-rc.d; added_policy=""
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null; $SUDO chmod +x $policy; added_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
  [ -z "$added_policy" ] || $SUDO rm -f $policy
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now pgbouncer redis-server >/dev/null 2>&1 || true
  fi
fi
scripts/setup-env.sh test
# One test process per core (pytest-xdist); each has its own PostgreSQL server and databases.
# worksteal: an idle worker takes tests queued for a busy one, so a few long tests (live servers,
# worker processes) at the end of one queue do not keep the other core idle.
exec .venv/bin/python -m pytest -p no:cacheprovider -n auto --dist worksteal "$@"
