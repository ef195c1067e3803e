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
.venv/bin/python -m pip install -q --disable-pip-version-check -U pip "setuptools>=70.1" wheel
extra=${1:-}
if [ -n "$extra" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extra]"
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
fi
.venv/bin/python -m core.translations_tool compile
