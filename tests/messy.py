"""Office-like messy submissions for every pack (used by tests/test_messy_parity.py).

A clean random submission is filled into the generated template, then input
cells are overwritten as office staff really type and paste: every spelling
the input contract accepts (docs/input-contract.md) — 是/否 with spaces, TRUE /
FALSE as text or as Excel booleans, whole numbers stored as floats, dates as
Excel dates or bare serial numbers — and values that break it: √ × 对 错 yes,
numbers and dates typed as text (" 18", "１８", 很多, "2005.7.20", "2005年7月20日",
"七月十日", "2005-W28-4"), 20050714 typed into a date cell, a date with a time,
"95%" typed into a percentage cell (stored as 0.95 in a percent-formatted
cell, as Excel and WPS do), out-of-range numbers, booleans in number cells,
spreadsheet error values (#DIV/0!, #N/A …) and blanks.  An Excel TRUE/FALSE is
written only into yes/no cells: LibreOffice reads one in a number or text cell
as 1/0 (docs/input-contract.md).

Everything is seeded: the same seed gives the same workbooks.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from rubric_xl.rules.contract import ERROR_VALUES
from rubric_xl.workbook import build_template, fill_workbook

EPOCH = dt.date(1899, 12, 30)
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
CN_MONTHS = "一二三四五六七八九十"

Cell = tuple[Any, str | None]  # (value written, number format or None to keep the template's)


def _serial(d: dt.date) -> int:
    return (d - EPOCH).days


def _cn_date(d: dt.date) -> str:
    def cn(n: int) -> str:
        return CN_MONTHS[n - 1] if n <= 10 else ("十" + CN_MONTHS[n - 11] if n < 20 else
                                                 CN_MONTHS[n // 10 - 1] + "十" + (CN_MONTHS[n % 10 - 1] if n % 10 else ""))
    return f"{cn(d.month)}月{cn(d.day)}日"


def accepted(rng: random.Random, f, v: Any) -> Cell:
    """Another spelling of the clean value *v* that the contract reads as *v*."""
    t = f.type
    if t == "bool":
        return rng.choice([("是", None), (" 是 ", None), ("TRUE", None), ("true", None), (True, None), (1, None),
                           ("1", None)] if v else
                          [("否", None), ("否 ", None), ("FALSE", None), ("False", None), (False, None), (0.0, None),
                           (" 0", None)])
    if t == "int":
        return rng.choice([(int(v), None), (float(v), None), (float(v), "General")])
    if t in ("decimal", "percent"):
        return rng.choice([(float(v), None), (float(v), "0.00"), (float(v), "General")])
    if t == "date":
        moment = dt.datetime(v.year, v.month, v.day)
        return rng.choice([(moment, None), (moment, "yyyy/m/d"), (_serial(v), "General")])
    if t == "enum":
        return rng.choice([(v, None), (f" {v} ", None), (f"{v} ", None)])
    return (f" {v} ", None)


def invalid(rng: random.Random, f, v: Any) -> Cell:
    """A value that breaks the contract for *f* (near the clean value *v*)."""
    t = f.type
    error = (rng.choice(ERROR_VALUES), None)
    if t == "bool":
        return rng.choice([("√", None), ("×", None), ("对", None), ("错", None), ("yes", None), ("No", None),
                           ("2", None), (0.5, None), ("有", None), ("是的", None), error])
    if t == "int":
        n = int(v if v is not None else 3)
        return rng.choice([(f" {n}", None), (str(n), None), (str(n).translate(FULL_WIDTH), None),
                           (n + 0.5, None), (-1 - n, None), ("十八", None), ("很多", None), error])
    if t in ("decimal", "percent"):
        d = Decimal(v if v is not None else 95)
        out = [(f" {d}", None), (str(d).translate(FULL_WIDTH), None), (f"约{d}", None), (-3.5, None), error]
        if t == "percent":
            frac = float(max(d, Decimal(2)) / 100)  # "95%" typed: Excel stores 0.95 in a 0% cell
            out += [(frac, "0%"), (frac, "0.0%"), (1.0, "0%"), (f"{d}%", None), (150.0, None), (100.01, None)]
        return rng.choice(out)
    if t == "date":
        d = v if isinstance(v, dt.date) else dt.date(2005, 7, 20)
        return rng.choice([
            (f"{d.year}.{d.month}.{d.day}", None), (f"{d.year}/{d.month}/{d.day}", None),
            (f"{d.year}年{d.month}月{d.day}日", None), (_cn_date(d), None), (d.isoformat(), None),
            (f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}-{d.isocalendar()[2]}", None),
            (int(d.strftime("%Y%m%d")), "General"), (20.5, "General"),
            (dt.datetime(d.year, d.month, d.day, rng.choice((6, 12, 18))), "yyyy-mm-dd hh:mm"), error])
    if t == "enum":
        return rng.choice([("2级", None), ("四级", None), (2, None), ("一 级", None), error])
    return error


def blank(rng: random.Random) -> Cell:
    return rng.choice([(None, None), ("   ", None), ("", None)])


def _put(ws, ref, cell: Cell) -> None:
    value, fmt = cell
    c = ws.cell(ref.row, ref.col)
    c.value = value
    if fmt is not None:
        c.number_format = fmt


def messy_rubric(pack, facts_list: list[dict], outdir: Path, prefix: str, seed: int) -> tuple[list[Path], Any]:
    """One messy workbook per clean submission; returns (paths, layout)."""
    from rubric_xl.workbook.inputs import FORMATS

    rng = random.Random(seed)
    wb, layout = build_template(pack)
    facts_by_id = {f.id: f for f in pack.model.facts if f.type != "table"}
    paths = []
    for i, facts in enumerate(facts_list):
        fill_workbook(wb, pack, facts)
        p_acc = rng.choice((0.2, 0.5, 0.9))
        p_bad = rng.choice((0.0, 0.0, 0.01, 0.03, 0.08))
        p_blank = rng.choice((0.0, 0.0, 0.02))
        for fid, f in facts_by_id.items():
            ref = layout.inputs[fid]
            ws = wb[ref.sheet]
            v = facts.get(fid)
            x = rng.random()
            if x < p_bad:
                _put(ws, ref, invalid(rng, f, v))
            elif x < p_bad + p_blank:
                _put(ws, ref, blank(rng))
            elif v is not None and x < p_bad + p_blank + p_acc:
                _put(ws, ref, accepted(rng, f, v))
        path = outdir / f"{prefix}-{i:04d}.xlsx"
        wb.save(path)
        for fid, f in facts_by_id.items():  # the next submission starts from the template's formats
            ref = layout.inputs[fid]
            wb[ref.sheet].cell(ref.row, ref.col).number_format = FORMATS.get(f.type, "General")
        paths.append(path)
    return paths, layout


def messy_ledgers(pack, facts_list: list[dict], outdir: Path, prefix: str, seed: int,
                  rows: int = 30) -> tuple[list[Path], Any]:
    """One messy ledger workbook per clean submission (spellings, invalid values and
    spreadsheet error values in the rows)."""
    from rubric_xl.workbook.inputs import FORMATS

    rng = random.Random(seed)
    table = pack.model.ledger.table
    cols = {c.id: c for c in pack.facts[table].columns}
    wb, layout = build_template(pack, ledger_rows=rows)
    tl = layout.tables[table]
    paths = []
    for i, facts in enumerate(facts_list):
        fill_workbook(wb, pack, facts)
        p_acc = rng.choice((0.2, 0.6))
        p_bad = rng.choice((0.0, 0.005, 0.02, 0.05))
        touched = []
        for r, row in enumerate(facts[table]):
            for cid, c in cols.items():
                ref = tl.columns[cid].data.cell(r)
                v = row.get(cid)
                x = rng.random()
                cell = None
                if x < p_bad:
                    cell = invalid(rng, c, v)  # error values (#N/A …) included: the row is 有误
                elif v is not None and x < p_bad + p_acc and c.type != "text":
                    cell = accepted(rng, c, v)
                if cell is not None:
                    _put(wb[ref.sheet], ref, cell)
                    touched.append((ref, FORMATS.get(c.type, "General")))
        path = outdir / f"{prefix}-{i:04d}.xlsx"
        wb.save(path)
        for ref, fmt in touched:
            wb[ref.sheet].cell(ref.row, ref.col).number_format = fmt
        paths.append(path)
    return paths, layout
