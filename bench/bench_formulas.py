"""Native formulas vs the engine: the same 200 random 2005 submissions scored by
LibreOffice recalculating the generated workbooks, and by the Python engine.

Run: .venv/bin/python bench/bench_formulas.py [N]   (prints figures; not a test)

The submissions are the seeded random set of tests/test_formulas_lo.py.  Timed:
writing the filled workbooks (openpyxl), LibreOffice recalculation (one
``soffice`` call, then two in parallel), reading the results back
(python-calamine), and the engine (facts conversion + all 44 items + totals) on
a fresh pack and again on a warm one (the engine memoises item results).
"""
from __future__ import annotations

import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import lo  # noqa: E402
from test_formulas_lo import SEED, SHANXI, random_rubric_facts, write_submissions  # noqa: E402

from rubric_xl import load_pack, score  # noqa: E402


def main(n: int = 200) -> None:
    print(f"machine: {platform.machine()}, python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}")
    pack = load_pack(SHANXI)
    subs = random_rubric_facts(pack, n, seed=SEED)
    tmp = Path(tempfile.mkdtemp(prefix="rxl-bench-formulas-"))
    try:
        t = time.perf_counter()
        paths, layout = write_submissions(pack, subs, tmp, "sx")
        write_s = time.perf_counter() - t

        lo.soffice()
        t = time.perf_counter()
        outs = lo.recalc(paths, tmp / "out1", workers=1)
        lo1_s = time.perf_counter() - t
        t = time.perf_counter()
        lo.recalc(paths, tmp / "out2", workers=2)
        lo2_s = time.perf_counter() - t

        t = time.perf_counter()
        for p in outs:
            lo.sheet_rows(p, layout.score_sheet)
        read_s = time.perf_counter() - t

        fresh = load_pack(SHANXI)  # no plan, no memo yet
        t = time.perf_counter()
        for facts in subs:
            score(fresh, facts)
        eng_cold = time.perf_counter() - t
        warm = []
        for _ in range(5):
            t = time.perf_counter()
            for facts in subs:
                score(fresh, facts)
            warm.append(time.perf_counter() - t)
        eng_warm = statistics.median(warm)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    per = lambda s: f"{s / n * 1e3:8.2f} ms/submission"  # noqa: E731
    print(f"{n} submissions of {pack.id} (44 items)")
    print(f"  write filled workbooks (openpyxl)   {write_s:8.2f} s  {per(write_s)}")
    print(f"  LibreOffice recalc, 1 soffice call  {lo1_s:8.2f} s  {per(lo1_s)}")
    print(f"  LibreOffice recalc, 2 in parallel   {lo2_s:8.2f} s  {per(lo2_s)}")
    print(f"  read results back (calamine)        {read_s:8.2f} s  {per(read_s)}")
    print(f"  engine, fresh pack (plan + score)   {eng_cold:8.4f} s  {per(eng_cold)}")
    print(f"  engine, warm (median of 5)          {eng_warm:8.4f} s  {per(eng_warm)}")
    print(f"  ratio LibreOffice (1 call) / engine fresh: {lo1_s / eng_cold:,.0f}×")
    print(f"  ratio LibreOffice (1 call) / engine warm:  {lo1_s / eng_warm:,.0f}×")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
