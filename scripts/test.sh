#!/usr/bin/env bash
# Quick start 2: the whole test suite, including the LibreOffice and Chromium tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --system
.venv/bin/rubric-xl rules check rules/
.venv/bin/rubric-xl rules test rules/
. scripts/pg.sh  # a PostgreSQL server for the campaign store tests (RUBRIC_XL_TEST_PG)
if [ $# -eq 0 ]; then
  # latency tests first, alone: their p95 limits are about the server, not about a
  # LibreOffice recalculation running on the other core
  .venv/bin/python -m pytest -q -p no:cacheprovider -m load
  exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 -m "not load" --durations=25
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 "$@"
