#!/usr/bin/env bash
# Quick start 1: score the bundled example city against the 2005 rubric.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/rubric-xl score --rules rules/shanxi-2005.yaml --facts examples/shanxi-2005-full.yaml "$@"
