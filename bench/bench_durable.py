"""Both executors on the same submissions in one run: the engine and durable-rules.

Run: .venv/bin/python bench/bench_durable.py [N]   (prints figures; not a test)
For each pack: N distinct random submissions (default 1,000), already converted
(read_facts), scored by the default engine and by rubric_xl.durable in
alternation; prints each one's median and p95 per submission and the ratio,
and checks the two cards are equal.  The last measured anchor (5 items): durable
289–408 µs, plain Python 8.5–14 µs per submission.
"""
from __future__ import annotations

import platform
import random
import statistics
import sys
import time
from pathlib import Path

from rubric_xl import durable, engine, load_pack
from rubric_xl.engine.card import to_dict
from rubric_xl.engine.facts import read_facts
from rubric_xl.samples import random_facts

ROOT = Path(__file__).resolve().parents[1]


def p95(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.95) - 1]


def main(n: int) -> None:
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"{n} submissions per pack")
    for name in ("shanxi-2005", "xinzhou-2024"):
        pack = load_pack(ROOT / "rules" / f"{name}.yaml")
        rng = random.Random(f"bench-{name}")
        blank = 0.05 if pack.model.kind == "rubric" else 0.0  # a ledger needs its top-level facts
        subs = [read_facts(pack, random_facts(pack, rng, blank_rate=blank, rows=rng.randint(0, 30)),
                           facts_file=True)[0] for _ in range(n)]
        t = time.perf_counter()
        durable.ruleset_for(pack)
        durable.score_values(pack, subs[0])  # compile + register once
        setup = time.perf_counter() - t
        engine.score_values(pack, subs[0])
        times: dict[str, list[float]] = {"engine": [], "durable": []}
        same = 0
        for values in subs:
            t0 = time.perf_counter()
            a = engine.score_values(pack, values)
            t1 = time.perf_counter()
            b = durable.score_values(pack, values)
            t2 = time.perf_counter()
            times["engine"].append(t1 - t0)
            times["durable"].append(t2 - t1)
            same += to_dict(a) == to_dict(b)
        unit = f"{len(pack.items)} items" if pack.model.kind == "rubric" else "ledger, 0–30 rows"
        rules = len(durable.ruleset_for(pack).rules)
        print(f"{name} ({unit}; {rules} durable rules, compile + register {setup * 1e3:.1f} ms):")
        for k, xs in times.items():
            print(f"  {k:8s} median {statistics.median(xs) * 1e6:9.1f} µs   p95 {p95(xs) * 1e6:9.1f} µs")
        ratio = statistics.median(times["durable"]) / statistics.median(times["engine"])
        ratio95 = p95(times["durable"]) / p95(times["engine"])
        print(f"  ratio durable / engine: median ×{ratio:.1f}, p95 ×{ratio95:.1f}; identical cards {same}/{n}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
