"""Auditor benchmark: re-score 500 distinct filled workbooks end to end.

Run: .venv/bin/python bench/bench_audit.py [--count 500] [--jobs 2] [--pack shanxi-2005]
(prints figures; not a test).  Target on the 2-core machine: ≥ 50 workbooks/s
with --jobs 2.

The workbooks are the real template filled by the real filler with random
facts (rubric_xl.samples), written to a temp folder.  Timed: the library
function (``score_workbooks`` + JSON report), then the CLI once, as a user runs
it (interpreter start-up and output file included).
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

from rubric_xl import load_pack
from rubric_xl.audit import render, score_workbooks
from rubric_xl.samples import random_facts
from rubric_xl.workbook import fill_workbook, template_bytes

ROOT = Path(__file__).resolve().parents[1]


def generate(pack, folder: Path, count: int, seed: int = 2005) -> list[Path]:
    """*count* distinct filled workbooks (one template, refilled and saved each time)."""
    wb = load_workbook(io.BytesIO(template_bytes(pack)))
    rng = random.Random(seed)
    ledger = pack.model.kind == "ledger"
    paths = []
    for i in range(count):
        facts = random_facts(pack, rng, blank_rate=0.01, rows=rng.randint(0, 40) if ledger else None)
        fill_workbook(wb, pack, facts, template="模板")  # every input is rewritten (blank clears)
        path = folder / f"{i // 100:02d}" / f"单位{i:04d}.xlsx"
        path.parent.mkdir(exist_ok=True)
        wb.save(path)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--pack", default="shanxi-2005")
    args = ap.parse_args()
    pack = load_pack(ROOT / "rules" / f"{args.pack}.yaml")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load average {load:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="rubric-xl-bench-") as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        t = time.perf_counter()
        paths = generate(pack, folder, args.count)
        size = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        print(f"generated {len(paths)} workbooks of {args.pack} ({size:.0f} KiB each) "
              f"in {time.perf_counter() - t:.1f} s (not timed below)")

        for jobs in sorted({1, args.jobs}):
            t = time.perf_counter()
            results = score_workbooks([str(folder)], jobs=jobs, encode_json=True)  # as the CLI does
            t_score = time.perf_counter() - t
            t = time.perf_counter()
            text = render(results, "json")
            t_report = time.perf_counter() - t
            wall = t_score + t_report
            assert len(results) == len(paths)
            failed = sum(1 for r in results if r.card is None)
            read = sum(r.seconds_read for r in results)
            scoring = sum(r.seconds_score for r in results)
            overhead = max(0.0, t_score - (read + scoring) / jobs)
            print(f"library --jobs {jobs}: {len(results) / wall:.0f} workbooks/s "
                  f"({wall:.2f} s for {len(results)}, {failed} not scorable; report {len(text) / 1e6:.1f} MB JSON)")
            print(f"  per workbook (CPU in workers): reading {read / len(results) * 1e3:.2f} ms "
                  f"(open zip, names, calamine values, _meta), scoring {scoring / len(results) * 1e3:.2f} ms "
                  f"(convert facts, engine, result-cell comparison)")
            print(f"  wall split: reading {read / jobs:.2f} s, scoring {scoring / jobs:.2f} s, "
                  f"other {overhead:.2f} s (listing, JSON text per workbook, pool, pickling), "
                  f"assembling the report {t_report:.2f} s")

        out = Path(tmp) / "result.json"
        cmd = [str(Path(sys.executable).parent / "rubric-xl"), "score", str(folder), "--jobs", str(args.jobs),
               "--format", "json", "-o", str(out)]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t
        print(f"CLI rubric-xl score DIR --jobs {args.jobs} --format json: exit {proc.returncode}, "
              f"{len(paths) / wall:.0f} workbooks/s ({wall:.2f} s incl. start-up); "
              f"stderr: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}")
        target = "met" if len(paths) / wall >= 50 else "NOT met"
        print(f"target ≥ 50 workbooks/s with --jobs {args.jobs}: {target}")


if __name__ == "__main__":
    main()
