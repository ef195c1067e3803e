#!/usr/bin/env bash
# Fuzz the JSON API with schemathesis, once per role, against a throwaway demo instance.
#
#   scripts/api-fuzz.sh [max examples per operation, default 10]
#
# Creates a demo instance (`kontor demo`, every bundled module and its demo data) in a temporary
# folder, adds a user with no role, serves it with `kontor run` on a free port of 127.0.0.1, and runs
# `st run --checks all --continue-on-failure` as admin, books (accountant), sales (salesperson),
# viewer and the user with no role. Prints per role the cases run, the 5xx answers, the answers
# that do not match the documented schema and the other failed checks; the reports (JSON, NDJSON,
# JUnit) stay in the folder printed at the end. Exits 1 when any role saw a 5xx or a schema violation.
#
# schemathesis runs from its own virtualenv (ST_VENV, default /tmp/st), made on first use; it is
# not a dependency of Kontor. Module lifecycle operations (install, purge, marketplace) are left
# out: they would change the instance under the other operations' feet.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES=${1:-${MAX_EXAMPLES:-10}}
ST_VENV=${ST_VENV:-/tmp/st}
ST_VERSION=${ST_VERSION:-4.32.5}
ROLES=${ROLES:-"admin books sales viewer norole"}
PY=.venv/bin/python
KONTOR=.venv/bin/kontor

if [ ! -x "$ST_VENV/bin/st" ]; then
  echo "Installing schemathesis $ST_VERSION into $ST_VENV …"
  python3.11 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install -q "schemathesis==$ST_VERSION"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kontor-fuzz.XXXXXX")
export KONTOR_INSTANCE="$work/instance"
export KONTOR_SECRET_KEY
KONTOR_SECRET_KEY=$($PY -c "import secrets; print(secrets.token_hex(32))")
unset KONTOR_DATABASE_URL KONTOR_PLUGINS
mkdir -p "$KONTOR_INSTANCE" "$work/reports"

echo "Demo instance in $KONTOR_INSTANCE …"
$KONTOR demo >"$work/demo.log" 2>&1 || { cat "$work/demo.log"; exit 1; }
$KONTOR users create norole --full-name "No Role" >>"$work/demo.log" 2>&1

port=$($PY -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
base="http://127.0.0.1:$port"
$KONTOR run --host 127.0.0.1 --port "$port" --no-reload >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if $PY -c "import urllib.request; urllib.request.urlopen('$base/api/v1/openapi.json', timeout=2)" 2>/dev/null; then
    break
  fi
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done

summary="$work/summary.txt"
: >"$summary"
for role in $ROLES; do
  token=$($KONTOR users token "$role" --name fuzz)
  echo "Fuzzing as $role (max $MAX_EXAMPLES examples per operation) …"
  set +e
  "$ST_VENV/bin/st" run "$base/api/v1/openapi.json" --url "$base" \
    --checks all --continue-on-failure --max-examples "$MAX_EXAMPLES" --seed 1 \
    --header "Authorization: Bearer $token" \
    --exclude-path-regex '^/api/v1/modules' --exclude-method-regex '^(HEAD|OPTIONS)$' \
    --request-timeout 30 --warnings off --no-color \
    --report junit,ndjson --report-dir "$work/reports/$role" \
    >"$work/reports/$role.log" 2>&1
  set -e
  $PY - "$role" "$work/reports/$role" >>"$summary" <<'EOF'
"""Count the cases, 5xx answers, schema violations and other failed checks of one role's run."""
import json
import sys
from collections import Counter
from pathlib import Path

role, folder = sys.argv[1], Path(sys.argv[2])
cases = server_errors = 0
failures: Counter = Counter()
examples: dict[str, str] = {}
for path in folder.glob("*.ndjson"):
    for raw in path.read_text().splitlines():
        event = json.loads(raw)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response") or {}
            cases += 1
            if int(response.get("status_code") or 0) >= 500:
                server_errors += 1
        cases_by_id = recorder.get("cases") or {}
        for case_id, check_list in (recorder.get("checks") or {}).items():
            for check in check_list:
                if check.get("status") == "FAILURE" or check.get("status") == "failure":
                    name = check.get("name", "?")
                    failures[name] += 1
                    case = (cases_by_id.get(case_id) or {}).get("value") or {}
                    query = "&".join(f"{k}={v}" for k, v in (case.get("query") or {}).items())
                    examples.setdefault(name, f"{case.get('method', '?')} {case.get('path', '?')}"
                                              + (f"?{query}"[:160] if query else ""))
schema = sum(n for name, n in failures.items() if "schema" in name)
others = {name: n for name, n in failures.items() if "schema" not in name and name != "not_a_server_error"}
print(f"{role:8} cases={cases} 5xx={server_errors} schema_violations={schema} "
      f"other_failed_checks={sum(others.values())} {dict(sorted(others.items()))}")
for name, label in sorted(examples.items()):
    print(f"{'':8}   first {name}: {label}")
EOF
done

echo
echo "Per role (reports and logs in $work/reports):"
cat "$summary"
if grep -Eq '5xx=[1-9]|schema_violations=[1-9]' "$summary"; then
  exit 1
fi
