"""Engine benchmark: pack load, 2005 submissions, a 2,000-row ledger.

Run: .venv/bin/python bench/bench_engine.py [--base REV] [--rounds N] [--ledger]
(prints figures; not a test; ``--ledger``: the ledger figures only).

Targets (2-core machine): pack load + validation ≤ 100 ms; one 2005 submission
(facts conversion + all 44 items + explanations, random near-threshold data,
the per-item memo emptied before each submission) median ≤ 50 µs, p95 ≤ 100 µs;
the same including the JSON-ready card (``to_dict``) median ≤ 100 µs; a
2,000-row ledger end to end (cell conversion included) ≤ 25 ms.

``--base REV`` also measures the code of git revision REV (its ``src`` is
exported to a temporary folder) in the same run, alternating base and current
process by process, so that the ratio is honest on a shared machine.
``--instructions`` (needs valgrind) counts the CPU instructions per submission
instead (cachegrind; the difference of a short and a long run, so start-up and
pack loading drop out): a figure the machine's load does not change — of the
current code alone without ``--base``; ``convert`` is the facts conversion alone.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timeit(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def measure(n: int = 2000) -> dict[str, float]:
    """The figures of the code importable as ``rubric_xl`` (µs / ms)."""
    from rubric_xl import load_pack, score, to_dict
    from rubric_xl.engine.rubric import plan_for
    from rubric_xl.samples import random_facts

    out: dict[str, float] = {}
    for name in ("shanxi-2005", "xinzhou-2024"):
        path = ROOT / "rules" / f"{name}.yaml"
        loads = timeit(lambda: load_pack(path), 10)
        out[f"load {name} ms"] = statistics.median(loads) * 1e3

    pack = load_pack(ROOT / "rules" / "shanxi-2005.yaml")
    subs = [random_facts(pack, random.Random(2005 + i)) for i in range(n)]
    plan = plan_for(pack)
    for facts in subs[:8]:  # build the plans (the pack function and reader: on the 3rd submission)
        score(pack, facts)

    def per_submission(name: str, fn, memo: bool) -> None:
        """Wall-clock median and p95, and the median of the thread's CPU time
        (which leaves out the time other processes had the core)."""
        wall, cpu = [], []
        for facts in subs:
            if not memo:
                for ip in plan.items:
                    ip.memo.clear()
            c = time.thread_time()
            t = time.perf_counter()
            fn(facts)
            wall.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
        wall.sort()
        out[f"{name} median µs"] = statistics.median(wall) * 1e6
        if not memo:
            out[f"{name} p95 µs"] = wall[int(len(wall) * .95)] * 1e6
        out[f"{name} CPU median µs"] = statistics.median(cpu) * 1e6

    per_submission("score", lambda f: score(pack, f), memo=False)
    per_submission("score+to_dict", lambda f: to_dict(score(pack, f)), memo=False)
    per_submission("score warm memo", lambda f: score(pack, f), memo=True)

    out.update(measure_ledger())
    return out


def measure_ledger() -> dict[str, float]:
    """The 2,000-row ledger (xinzhou-2024): end to end (``score``: cell conversion,
    rows, roll-ups), and the CPU time of its conversion alone (``convert_facts``)."""
    from rubric_xl import load_pack, score
    from rubric_xl.engine.facts import convert_facts
    from rubric_xl.samples import random_facts

    out: dict[str, float] = {}
    lpack = load_pack(ROOT / "rules" / "xinzhou-2024.yaml")
    facts = random_facts(lpack, random.Random(2024), rows=2000)
    score(lpack, facts)
    lt = timeit(lambda: score(lpack, facts), 15)
    out["ledger 2000 rows median ms"], out["ledger 2000 rows min ms"] = \
        statistics.median(lt) * 1e3, min(lt) * 1e3
    for name, fn in (("ledger 2000 rows CPU median ms", score), ("ledger conversion CPU median ms", convert_facts)):
        cpu = []
        for _ in range(15):
            c = time.thread_time()
            fn(lpack, facts)
            cpu.append(time.thread_time() - c)
        out[name] = statistics.median(cpu) * 1e3
    return out


def workload(kind: str, n: int) -> None:
    """*n* submissions of one kind (no timing; for --instructions)."""
    from rubric_xl import load_pack, score, to_dict
    from rubric_xl.engine.rubric import plan_for
    from rubric_xl.samples import random_facts

    if kind == "ledger":
        lpack = load_pack(ROOT / "rules" / "xinzhou-2024.yaml")
        facts = random_facts(lpack, random.Random(2024), rows=2000)
        score(lpack, facts)
        for _ in range(n):
            score(lpack, facts)
        return
    pack = load_pack(ROOT / "rules" / "shanxi-2005.yaml")
    subs = [random_facts(pack, random.Random(2005 + i)) for i in range(INSTRUCTION_RUNS[kind][1])]
    plan = plan_for(pack)
    for facts in subs[:8]:
        score(pack, facts)
    if kind == "convert":  # the facts conversion alone
        from rubric_xl.engine.facts import convert_facts
        for facts in subs[:n]:
            convert_facts(pack, facts)
        return
    for facts in subs[:n]:
        for ip in plan.items:
            ip.memo.clear()
        card = score(pack, facts)
        if kind == "score+to_dict":
            to_dict(card)


# kind -> (short run, long run): instructions per submission = difference / (long − short)
INSTRUCTION_RUNS = {"convert": (50, 350), "score": (50, 350), "score+to_dict": (50, 350), "ledger": (0, 2)}


def _instructions(src: str, kind: str) -> float:
    def count(n: int) -> int:
        res = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                              sys.executable, __file__, "--workload", kind, str(n)],
                             env=dict(os.environ, PYTHONPATH=src), capture_output=True, text=True, check=True, cwd=ROOT)
        line = next(ln for ln in res.stderr.splitlines() if "I   refs:" in ln or "I refs:" in ln)
        return int(line.rsplit(":", 1)[1].replace(",", "").strip())
    short, long = INSTRUCTION_RUNS[kind]
    return (count(long) - count(short)) / (long - short)


def _worker(src: str, ledger: bool = False) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=src)
    res = subprocess.run([sys.executable, __file__, "--worker", *(["--ledger"] if ledger else [])], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", help="git revision to measure alongside (interleaved)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--instructions", action="store_true", help="count instructions (valgrind)")
    ap.add_argument("--ledger", action="store_true", help="the ledger figures only")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workload", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(measure_ledger() if args.ledger else measure()))
        return
    if args.workload:
        workload(args.workload[0], int(args.workload[1]))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at start")
    if args.instructions and not args.base:
        print("instructions per submission (valgrind cachegrind; ledger: per 2,000-row ledger):")
        for kind in INSTRUCTION_RUNS:
            print(f"  {kind:16} {_instructions(str(ROOT / 'src'), kind) / 1e6:8.3f} M")
        return
    if not args.base:
        for k, v in (measure_ledger() if args.ledger else measure()).items():
            print(f"  {k}: {v:.1f}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", args.base, "src"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        if args.instructions:
            print("instructions per submission (valgrind cachegrind; ledger: per 2,000-row ledger):")
            for kind in ["ledger"] if args.ledger else INSTRUCTION_RUNS:
                b = _instructions(str(Path(tmp) / "src"), kind)
                c = _instructions(str(ROOT / "src"), kind)
                print(f"  {kind:16} base {b / 1e6:8.3f} M   current {c / 1e6:8.3f} M   {b / c:5.2f}×")
            return
        runs: dict[str, list[dict]] = {"base": [], "current": []}
        for _ in range(args.rounds):  # base and current alternate, process by process
            runs["base"].append(_worker(str(Path(tmp) / "src"), args.ledger))
            runs["current"].append(_worker(str(ROOT / "src"), args.ledger))
    print(f"medians of {args.rounds} alternating runs each (load average {os.getloadavg()[0]:.1f} at end):")
    print(f"  {'figure':32} {'base ' + args.base[:10]:>16} {'current':>10} {'ratio':>7}")
    for k in runs["current"][0]:
        b = statistics.median(r[k] for r in runs["base"])
        c = statistics.median(r[k] for r in runs["current"])
        print(f"  {k:32} {b:16.1f} {c:10.1f} {b / c:6.2f}×")


if __name__ == "__main__":
    main()
