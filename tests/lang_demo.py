"""Random submissions of tests/packs/lang-demo.yaml (every feature of the rule
language's growth), shared by the engine, durable and LibreOffice tests."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from rubric_xl import load_pack

PACK_PATH = Path(__file__).resolve().parent / "packs" / "lang-demo.yaml"
PACK = load_pack(PACK_PATH)
BODIES = ["甲县", "乙县", "丙县"]
# dates around month ends, the year end and a leap day
DAYS = [dt.date(2019, 1, 31), dt.date(2019, 2, 28), dt.date(2019, 3, 1), dt.date(2019, 6, 30),
        dt.date(2019, 7, 1), dt.date(2019, 11, 30), dt.date(2019, 12, 1), dt.date(2019, 12, 31),
        dt.date(2020, 1, 1), dt.date(2020, 2, 29), dt.date(2020, 3, 1)]


def _maybe(rng: random.Random, v, p: float = 0.35):
    return None if rng.random() < p else v


def random_submission(rng: random.Random, body: str | None = None, rows: int | None = None) -> dict:
    report = rng.choice(DAYS[3:])
    n = rng.choice([0, 1, 2, 5, 8]) if rows is None else rows
    tasks = []
    for i in range(n):
        tasks.append({k: v for k, v in {
            "task_name": f"任务{i + 1}",
            "category": rng.choice(["水", "水", "气"]),  # 土 stays empty (all_options)
            "deadline": _maybe(rng, rng.choice(DAYS)),
            "done_date": _maybe(rng, rng.choice(DAYS), 0.5),
            "complaints": _maybe(rng, rng.choice([0, 2, 3, 4])),
            "amount": _maybe(rng, Decimal(rng.choice(["0.5", "1.25", "3", "10.1"]))),
        }.items() if v is not None})
    cases = []
    for i in range(rng.choice([0, 1, 3, 6])):
        cases.append({"case_name": f"案件{i + 1}",
                      "found_by": rng.choice(["排污单位自查", "交叉执法检查", "日常检查"]),
                      "violation": rng.choice(["偷排漏排", "监测数据弄虚作假", "超标排放"]),
                      **({"rectified_voluntarily": rng.choice(["是", "否"])} if rng.random() < 0.7 else {})})
    return {"reporting_body": body or rng.choice(BODIES), "report_date": report,
            "planned": rng.choice([0, 3, 6]), "tasks": tasks, "cases": cases}
