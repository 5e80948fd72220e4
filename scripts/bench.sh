#!/usr/bin/env bash
# All benchmarks, one after the other; each prints its figures (they are not tests).
#   engine: pack load, 2005 submissions, 2,000-row ledger
#   audit:  500 distinct filled 2005 workbooks, then 200 filled ledgers, re-scored end to end (--jobs 2)
#   formulas: LibreOffice recalculation vs the engine on 200 submissions
#   addin:  server latency of a full re-score, 1,000 requests on loopback
#   campaign: import of 1,000 workbooks into the campaign store (SQLite, and PostgreSQL via scripts/pg.sh)
#   durable: the engine and the durable-rules executor on the same 1,000 submissions per pack
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --system
for b in engine audit formulas addin; do  # (audit: the 2005 rubric; the ledger below)
  echo "=== bench/bench_${b}.py"
  .venv/bin/python "bench/bench_${b}.py"
done
echo "=== bench/bench_audit.py --pack xinzhou-2024 --count 200 (filled ledgers)"
.venv/bin/python bench/bench_audit.py --pack xinzhou-2024 --count 200
echo "=== bench/bench_durable.py" && .venv/bin/python bench/bench_durable.py
. scripts/pg.sh  # a PostgreSQL server for the campaign benchmark (RUBRIC_XL_TEST_PG)
echo "=== bench/bench_campaign.py"
.venv/bin/python bench/bench_campaign.py
