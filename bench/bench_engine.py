"""Engine benchmark: pack load, 2005 submissions, a 2,000-row ledger.

Run: .venv/bin/python bench/bench_engine.py   (prints figures; not a test)
Targets (2-core machine): pack load + validation ≤ 100 ms; median ≤ 250 µs per
2005 submission (facts conversion + all 44 items + explanations); ≤ 50 ms per
2,000-row ledger.
"""
from __future__ import annotations

import platform
import random
import statistics
import time
from pathlib import Path

from rubric_xl import load_pack, score, to_dict
from rubric_xl.samples import random_facts

ROOT = Path(__file__).resolve().parents[1]


def timeit(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    for name in ("shanxi-2005", "xinzhou-2024"):
        path = ROOT / "rules" / f"{name}.yaml"
        if not path.exists():
            print(f"{name}: pack missing, skipped")
            continue
        loads = timeit(lambda: load_pack(path), 30)
        print(f"{name}: pack load + validation median {statistics.median(loads) * 1e3:.1f} ms "
              f"(min {min(loads) * 1e3:.1f} ms, first {loads[0] * 1e3:.1f} ms)")

    pack = load_pack(ROOT / "rules" / "shanxi-2005.yaml")
    rng = random.Random(2005)
    subs = [random_facts(pack, rng) for _ in range(2000)]
    score(pack, subs[0])  # build the plan once
    times = []
    for facts in subs:
        t = time.perf_counter()
        card = score(pack, facts)
        times.append(time.perf_counter() - t)
    assert len(card.items) == 44
    times.sort()
    print(f"shanxi-2005: {len(subs)} random submissions, per submission median "
          f"{statistics.median(times) * 1e6:.0f} µs, p95 {times[int(len(times) * .95)] * 1e6:.0f} µs "
          "(convert + score 44 items + explanations)")
    t = time.perf_counter()
    for facts in subs[:500]:
        to_dict(score(pack, facts))
    print(f"shanxi-2005: with JSON-ready dict {((time.perf_counter() - t) / 500) * 1e6:.0f} µs per submission")

    lpath = ROOT / "rules" / "xinzhou-2024.yaml"
    if lpath.exists():
        lpack = load_pack(lpath)
        facts = random_facts(lpack, random.Random(2024), rows=2000)
        score(lpack, facts)
        lt = timeit(lambda: score(lpack, facts), 15)
        print(f"xinzhou-2024: 2,000-row ledger median {statistics.median(lt) * 1e3:.1f} ms "
              f"(min {min(lt) * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
