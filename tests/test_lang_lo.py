"""LibreOffice parity of the rule language's growth: the native formulas of
tests/packs/lang-demo.yaml (two tables, parameters, days(), coalesce(),
decisions, top-level derived values in rows, expr metrics, sum with where,
all_options / empty_label, groupings by a decision) recalculated by LibreOffice
give the engine's rows and roll-ups.

The workbooks are laid out here, not by the template generator (which places
one table today): per table a sheet with the input columns, the status right
after them, then errors, warnings and each decision, the defined names the
formulas read (``<table>__<column>``, :func:`result_name`), the top-level facts
as defined names on 信息, and one 汇总 cell per roll-up line and metric.
"""
from __future__ import annotations

import datetime as dt
import random
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import lo
import pytest
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from lang_demo import PACK, random_submission
from rubric_xl.engine.facts import read_facts
from rubric_xl.engine.ledger import plan_for
from rubric_xl.formulas import compile_ledger
from rubric_xl.formulas._ledger import result_name
from rubric_xl.rules.lowered import lowered_ledgers

CAPACITY = 12  # data rows per table sheet
CENT = Decimal("0.01")
LEDGERS = lowered_ledgers(PACK)


def _name(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"'{sheet}'!{ref}")


def _cell_value(v):
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return float(v) if v != v.to_integral_value() else int(v)
    return v


def build(raw: dict, path: Path) -> tuple[Path, dict]:
    """The workbook of one submission and where each result is: {(table, kind, …): (sheet, row, col)}."""
    wb = Workbook()
    info = wb.active
    info.title = "信息"
    for r, f in enumerate([f for f in PACK.model.facts if f.type != "table"], start=1):
        info.cell(r, 1, f.label)
        c = info.cell(r, 2, _cell_value(raw.get(f.id)))
        if f.type == "date":
            c.number_format = "yyyy-mm-dd"
        _name(wb, f.id, "信息", f"$B${r}")
    where: dict = {}
    summary = None
    for lg in LEDGERS:
        sheet = "台账" if lg.index == 0 else lg.label
        ws = wb.create_sheet(sheet)
        cols = list(lg.columns)
        letters = {cid: get_column_letter(i + 1) for i, cid in enumerate(cols)}
        lf = compile_ledger(PACK, letters.__getitem__, lg, sheet)
        assert not lf.reasons  # a small table: its errors formula names every reason itself
        for name, value in lf.constants.items():
            if name not in wb.defined_names:
                wb.defined_names[name] = DefinedName(name, attr_text=value)
        results = ["status", "errors", "warnings", *lf.decisions]
        for i, cid in enumerate(cols + results, start=1):
            ws.cell(1, i, cid)
        last = CAPACITY + 1
        for cid, letter in letters.items():
            _name(wb, f"{lg.table}__{cid}", sheet, f"${letter}$2:${letter}${last}")
        for k, which in enumerate(results):
            col = len(cols) + 1 + k
            letter = get_column_letter(col)
            _name(wb, lf.names[which], sheet, f"${letter}$2:${letter}${last}")
            for r in range(2, last + 1):
                ws.cell(r, col, lf.row(which, r))
                where[(lg.index, "row", r - 1, which)] = (sheet, r, col)
        for i, row in enumerate(raw.get(lg.table) or []):
            for cid, v in row.items():
                c = ws.cell(2 + i, cols.index(cid) + 1, _cell_value(v))
                if isinstance(v, dt.date):
                    c.number_format = "yyyy-mm-dd"
        summary = summary or wb.create_sheet("汇总")
        r = summary.max_row + 1
        for ri, ru in enumerate(lf.rollups):
            lines = [(g.key, g) for g in ru.groups] + ([("\x00total", ru.total)] if ru.total else [])
            for key, gf in lines:
                for c, (mid, formula) in enumerate(gf.metrics.items(), start=2):
                    cell = summary.cell(r, c)
                    cell.value = ArrayFormula(cell.coordinate, formula) if lf.array else formula
                    where[(lg.index, "metric", ri, key, mid)] = ("汇总", r, c)
                r += 1
    wb.save(path)
    return path, where


def _num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    return Decimal(repr(v)).quantize(CENT)


def _shown(v, kind: str, empty: bool, empty_label: str | None):
    """An engine metric value as the 汇总 cell shows it."""
    if kind in ("all", "none") and empty and empty_label:
        return empty_label
    if isinstance(v, bool):
        return "是" if v else "否"
    if v is None:
        return ""
    return Decimal(v).quantize(CENT)


_KEY = re.compile(r"^(\w+)\[(\d+)\]\.(\w+)$")


def _cell_of(key: str) -> str | None:
    """``tasks[1].complaints`` (rows count from 1) → ``台账!E2`` (this harness's layout), as the reader names cells."""
    m = _KEY.match(key)
    if not m:
        return None
    lg = next(lg for lg in LEDGERS if lg.table == m[1])
    letter = get_column_letter(list(lg.columns).index(m[3]) + 1)
    return f"{'台账' if lg.index == 0 else lg.label}!{letter}{int(m[2]) + 1}"


def compare(raw: dict, out: Path, where: dict) -> list[str]:
    values, _ = read_facts(PACK, raw, cells=_cell_of, facts_file=True)  # invalid cells kept (有误)
    plan = plan_for(PACK)
    card = plan.run(values)
    top = plan.base(values)
    sheets = {}
    bad = []

    def got(key):
        sheet, r, c = where[key]
        if sheet not in sheets:
            sheets[sheet] = lo.sheet_rows(out, sheet)
        return lo.at(sheets[sheet], r, c)

    def check(what, g, w):
        if g != w:
            bad.append(f"{out.name} {what}: 公式 {g!r} ≠ 引擎 {w!r}")

    for lg, t in zip(LEDGERS, card.tables):
        tp = plan.tables[lg.index]
        for i, r in enumerate(t.rows, start=1):
            check(f"{lg.table} 第{i}行状态", got((lg.index, "row", i, "status")), r.status)
            check(f"{lg.table} 第{i}行错误", got((lg.index, "row", i, "errors")), "；".join(p.message for p in r.errors))
            check(f"{lg.table} 第{i}行警告", got((lg.index, "row", i, "warnings")), "；".join(p.message for p in r.warnings))
            for did, _, _ in lg.decisions:
                check(f"{lg.table} 第{i}行{did}", got((lg.index, "row", i, did)), r.values.get(did, "") if r.status != "有误" else "")
        for i in range(len(t.rows) + 1, min(len(t.rows) + 3, CAPACITY) + 1):
            check(f"{lg.table} 空行{i}", got((lg.index, "row", i, "status")), "")
        kinds = {m.id: m.kind for m in lg.aggregates}
        for ri, (g, ru) in enumerate(zip(lg.groupings, t.rollups)):
            for key in {k[3] for k in where if k[:3] == (lg.index, "metric", ri)}:
                if key == "\x00total":
                    metrics, empty = ru.total, False
                elif key is None:  # this submission's value of a top-level fact
                    (metrics,) = ru.groups.values()
                    empty = False
                else:
                    ekey = key or "（空白）"
                    metrics = ru.groups.get(ekey)
                    empty = metrics is None or ekey in ru.empty
                    if metrics is None:  # a line the engine lists only when it has rows
                        metrics = tp._metrics([], top)
                for mid, kind in kinds.items():
                    check(f"{lg.table} {g.label}/{key}/{mid}", _num(got((lg.index, "metric", ri, key, mid))),
                          _shown(metrics[mid], kind, empty, g.empty_label))
    return bad


def _edge_submissions() -> list[dict]:
    """Boundaries: days across month and year ends, every decision branch, empty
    groups, a rate with denominator 0, an invalid cell (有误)."""
    d = dt.date
    tasks = [
        {"task_name": "月末", "category": "水", "deadline": d(2019, 2, 28), "done_date": d(2019, 3, 1)},
        {"task_name": "当天", "category": "水", "deadline": d(2019, 6, 30), "done_date": d(2019, 6, 30), "amount": Decimal("1.25")},
        {"task_name": "黑名单", "category": "气", "complaints": 3},
        {"task_name": "未满", "category": "气", "complaints": 2, "deadline": d(2019, 12, 31)},
        {"task_name": "跨年", "category": "水", "deadline": d(2019, 12, 31), "done_date": d(2020, 1, 1), "amount": Decimal("0.5")},
    ]
    cases = [{"case_name": f"案{i}", "found_by": f, "violation": v, **({"rectified_voluntarily": r} if r else {})}
             for i, (f, v, r) in enumerate([("交叉执法检查", "偷排漏排", None), ("交叉执法检查", "超标排放", None),
                                            ("排污单位自查", "偷排漏排", "是"), ("排污单位自查", "超标排放", "否"),
                                            ("日常检查", "超标排放", None)])]
    # invalid cells: text in a number column, and spreadsheet error values (written as error cells)
    bad = [{"task_name": "有误", "category": "水", "complaints": "很多"}, {"task_name": "正常", "category": "土"},
           {"task_name": "错误值", "category": "气", "deadline": "#N/A", "amount": "#DIV/0!"},
           {"task_name": "#VALUE!", "category": "水", "done_date": d(2019, 5, 1), "amount": Decimal(2)},
           {"task_name": "空值错", "category": "#NULL!"}]
    return [
        {"reporting_body": "甲县", "report_date": d(2020, 1, 1), "planned": 6, "tasks": tasks, "cases": cases},
        {"reporting_body": "乙县", "report_date": d(2019, 11, 30), "planned": 0, "tasks": [], "cases": []},
        {"reporting_body": "丙县", "report_date": d(2019, 10, 28), "planned": 1, "tasks": bad,
         "cases": [{"case_name": "错", "found_by": "路过", "violation": "超标排放"},
                   {"case_name": "对", "found_by": "日常检查", "violation": "#NAME?", "rectified_voluntarily": "#N/A"},
                   {"case_name": "好", "found_by": "日常检查", "violation": "偷排漏排"}]},
    ]


@pytest.fixture(scope="module")
def recalculated():
    src = Path(tempfile.mkdtemp(prefix="rxl-lang-"))
    rng = random.Random(2019)
    subs = _edge_submissions() + [random_submission(rng) for _ in range(12)]
    built = [build(raw, src / f"lang-{i:02d}.xlsx") for i, raw in enumerate(subs)]
    try:
        outs = lo.recalc([p for p, _ in built], src / "out")
    except lo.LibreOfficeMissing as exc:
        pytest.fail(f"需要 LibreOffice：{exc}")
    return [(raw, out, where) for raw, out, (_, where) in zip(subs, outs, built)]


def test_new_language_features_recalculate_like_the_engine(recalculated):
    bad = []
    for raw, out, where in recalculated:
        bad += compare(raw, out, where)
    assert not bad, f"{len(bad)} 处不一致：\n" + "\n".join(bad[:30])


def test_the_edge_submissions_reach_every_branch(recalculated):
    plan = plan_for(PACK)
    seen = set()
    for raw, _, _ in recalculated[:3]:
        card = plan.run(read_facts(PACK, raw, facts_file=True)[0])
        for t in card.tables:
            for r in t.rows:
                seen.add(r.status)
                seen.update(str(r.values.get(k)) for k in ("attention", "penalty_advice"))
    assert {"有误", "已完成", "进行中", "已登记", "黑名单", "逾期", "正常", "依法高限处罚", "严查重处",
            "从轻或不予处罚", "依法处罚"} <= seen, seen
