#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with Kontor installed.
# Usage: scripts/setup-env.sh [extra]   e.g. "test" to add the test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
target="."
[ -n "${1:-}" ] && target=".[$1]"
echo "Installing Kontor and its dependencies into .venv …"
if ! { .venv/bin/python -m pip install -q --disable-pip-version-check -U pip "setuptools>=70.1" wheel &&
       .venv/bin/python -m pip install -q --disable-pip-version-check -e "$target"; } >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
.venv/bin/python -m core.translations_tool compile
