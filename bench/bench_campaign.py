"""Campaign store benchmark: import 1,000 distinct filled workbooks in one call.

Run: .venv/bin/python bench/bench_campaign.py [--count 1000] [--pg URL]
(prints figures; not a test).  Target on the 2-core machine: ≤ 60 s for the
import of 1,000 workbooks through the CLI (start-up included).

The workbooks are the real template filled by the real filler with random
facts, one unit each (单位0000 …), so the campaign has 1,000 units.  Timed:
``rubric-xl campaign import DIR`` as a user runs it, then ``status``,
``report --format json`` and ``verify`` over the stored events, on SQLite and,
when ``--pg`` or ``RUBRIC_XL_TEST_PG`` gives a server, on PostgreSQL.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from openpyxl import load_workbook

from rubric_xl import load_pack
from rubric_xl.samples import random_facts
from rubric_xl.workbook import fill_workbook, template_bytes

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / ".venv" / "bin" / "rubric-xl")


def generate(pack, folder: Path, count: int, seed: int = 2005) -> list[str]:
    wb = load_workbook(io.BytesIO(template_bytes(pack)))
    rng = random.Random(seed)
    units = []
    for i in range(count):
        unit = f"单位{i:04d}"
        facts = random_facts(pack, rng, blank_rate=0.01)
        fill_workbook(wb, pack, facts, template="模板", info={"unit": unit})
        wb.save(folder / f"{unit}.xlsx")
        units.append(unit)
    return units


def timed(*args: str) -> float:
    return timed_out(*args)[0]


def timed_out(*args: str) -> tuple[float, str]:
    t = time.perf_counter()
    res = subprocess.run([CLI, "campaign", *args], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if res.returncode not in (0, 1):
        raise SystemExit(f"{args[0]} failed ({res.returncode}): {res.stderr[-2000:]}")
    return wall, res.stdout


def pg_database(url: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = "bench_" + uuid.uuid4().hex[:12]
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def run(db: str, label: str, folder: Path, units_file: Path, count: int) -> None:
    timed("init", "--rules", str(ROOT / "rules" / "shanxi-2005.yaml"), "--period", "bench",
          "--units", str(units_file), "--db", db)
    wall, out = timed_out("import", str(folder), "--db", db, "--format", "json")
    outcomes = [f["outcome"] for f in json.loads(out)["files"]]
    assert outcomes.count("new") == count, {o: outcomes.count(o) for o in set(outcomes)}
    print(f"[{label}] campaign import of {count} workbooks (CLI, start-up included): {wall:.1f} s "
          f"= {count / wall:.0f} workbooks/s (target ≤ 60 s)")
    for cmd in (["status", "--format", "json"], ["report", "--format", "json"], ["verify"]):
        print(f"[{label}] campaign {cmd[0]} over {count} units: {timed(*cmd, '--db', db):.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--pg", default=os.environ.get("RUBRIC_XL_TEST_PG"))
    args = ap.parse_args()
    pack = load_pack(ROOT / "rules" / "shanxi-2005.yaml")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load average {load:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="rubric-xl-bench-campaign-") as tmp:
        folder = Path(tmp) / "上报"
        folder.mkdir()
        t = time.perf_counter()
        units = generate(pack, folder, args.count)
        print(f"generated {len(units)} workbooks in {time.perf_counter() - t:.1f} s (not timed)")
        units_file = Path(tmp) / "units.txt"
        units_file.write_text("\n".join(units) + "\n", encoding="utf-8")
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", folder, units_file, args.count)
        if args.pg:
            url, drop = pg_database(args.pg)
            try:
                run(url, "postgresql", folder, units_file, args.count)
            finally:
                drop()
        else:
            print("[postgresql] skipped: no server (give --pg URL or set RUBRIC_XL_TEST_PG)")


if __name__ == "__main__":
    main()
