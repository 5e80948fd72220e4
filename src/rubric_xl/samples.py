"""Random but valid submissions for any pack: for benchmarks, property tests and
the spreadsheet equality proofs.  Values cluster around each pack's thresholds
so that deductions, caps and zeroing conditions all occur.
"""
from __future__ import annotations

import datetime as _dt
import random
from decimal import Decimal
from typing import Any

from .rules.model import Fact, LateRule, StepRule
from .rules.pack import RulePack


def _interesting_numbers(pack: RulePack) -> dict[str, list[Decimal]]:
    """Thresholds the pack compares each fact with, to sample near them."""
    out: dict[str, list[Decimal]] = {}
    for ci in pack.items:
        for cr in ci.rules:
            r = cr.rule
            if isinstance(r, StepRule) and r.value in pack.facts:
                out.setdefault(r.value, []).extend([r.threshold, r.threshold - r.step, r.threshold + r.step])
    return out


def _deadline_dates(pack: RulePack) -> dict[str, list[_dt.date]]:
    out: dict[str, list[_dt.date]] = {}
    for ci in pack.items:
        for cr in ci.rules:
            if isinstance(cr.rule, LateRule) and cr.deadline is not None:
                for d in cr.rule.dates:
                    out.setdefault(d, []).append(cr.deadline.date)
    return out


def random_value(f: Fact, rng: random.Random, near: list[Decimal] | None = None,
                 deadlines: list[_dt.date] | None = None) -> Any:
    t = f.type
    if t == "bool":
        return rng.random() < 0.8
    if t == "int":
        hi = int(f.max) if f.max is not None else 40
        if near and rng.random() < 0.6:
            v = int(rng.choice(near)) + rng.randint(-2, 2)
        else:
            v = rng.choice([0, 0, 1, 2, rng.randint(0, hi)])
        lo = int(f.min or 0)
        return max(lo, min(hi, v))
    if t in ("decimal", "percent"):
        lo = f.min if f.min is not None else Decimal(0)
        hi = f.max if f.max is not None else (Decimal(100) if t == "percent" else Decimal(20))
        if near and rng.random() < 0.6:
            v = rng.choice(near) + Decimal(rng.randint(-300, 300)) / 100
        else:
            v = lo + (hi - lo) * Decimal(rng.randint(0, 10000)) / 10000
        v = max(lo, min(hi, v)).quantize(Decimal("0.01"))
        if t == "percent" and 0 < v <= 1:  # the input contract: a "95%" stored as 0.95 is invalid
            v = Decimal(0)
        return v
    if t == "date":
        if deadlines:
            d = rng.choice(deadlines)
        else:
            d = _dt.date(2024, 1, 1)
        return d + _dt.timedelta(days=rng.randint(-20, 10))
    if t == "enum":
        return rng.choice(f.options or [""])
    if t == "text":
        return "单位" + str(rng.randint(1, 9999))
    raise ValueError(t)


def random_facts(pack: RulePack, rng: random.Random | int | None = None, *,
                 blank_rate: float = 0.0, rows: int | None = None) -> dict[str, Any]:
    """A facts mapping (native Python values) valid for *pack*.

    *blank_rate*: chance that each fact is left blank (None).  *rows*: number of
    rows for table facts (default random 0–30).
    """
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    near = _interesting_numbers(pack)
    dl = _deadline_dates(pack)
    all_deadlines = [d.date for d in pack.model.deadlines]
    out: dict[str, Any] = {}
    for fid, f in pack.facts.items():
        if f.type == "table":
            n = rows if rows is not None else rng.randint(0, 30)
            out[fid] = [_row(f, rng, all_deadlines) for _ in range(n)]
            continue
        if rng.random() < blank_rate or (f.blank_allowed and rng.random() < 0.1):
            out[fid] = None
            continue
        out[fid] = random_value(f, rng, near.get(fid), dl.get(fid) or all_deadlines)
    return out


def _row(table: Fact, rng: random.Random, deadlines: list[_dt.date]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for c in table.columns or []:
        if not c.required and rng.random() < 0.3:
            row[c.id] = None
            continue
        row[c.id] = random_value(c, rng, None, deadlines)
    return row
