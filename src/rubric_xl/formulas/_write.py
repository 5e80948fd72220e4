"""Write compiled formulas into a generated template (the builder's hook).

:func:`write_formulas` takes the workbook and the
:class:`rubric_xl.workbook.layout.WorkbookLayout` that ``build_template``
returned and fills every result cell it reserved: item points and explanations,
category subtotals, total, grade, eligibility and the provisional flag on 评分;
status, decisions, errors and warnings of every pre-formatted ledger row on
each ledger sheet (one per table of the pack); the roll-up lines on 汇总.  It also adds conditional formatting that marks zeroed
items, items that lost points, unfinished items and ledger rows with problems.
"""
from __future__ import annotations

from typing import Any

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from ..conventions import STARTED_NAME
from ..errors import PackError, Problem
from ..rules import wording
from ..rules.pack import RulePack
from ._ledger import compile_ledger
from ._rubric import compile_rubric
from ._xl import ROW

ZEROED_FILL = PatternFill("solid", start_color="FFF4C7C3", end_color="FFF4C7C3")  # red: 不得分
LOST_FILL = PatternFill("solid", start_color="FFFCE8B2", end_color="FFFCE8B2")  # amber: 扣分
TODO_FILL = PatternFill("solid", start_color="FFE8EAED", end_color="FFE8EAED")  # grey: 待填
INVALID_FILL = PatternFill("solid", start_color="FFFFC7CE", end_color="FFFFC7CE")  # red: 有误 (not the grey of 待填)
INVALID_FONT = Font(color="FF9C0006", bold=True)
ERROR_FONT = Font(color="FFC5221F")
WARN_FONT = Font(color="FFB06000")


def _ensure_name(wb: Workbook, name: str, ref: str) -> None:
    if name not in wb.defined_names:
        wb.defined_names[name] = DefinedName(name, attr_text=ref)


def write_formulas(wb: Workbook, pack: RulePack, layout: Any) -> int:
    """Fill the result cells of *layout* (a ``WorkbookLayout``) with formulas;
    return how many cells got one.

    Raises :class:`PackError` when a rule cannot be compiled, or when the layout
    lacks a place for a result (e.g. a roll-up line the template has no row for).
    """
    count = 0
    if pack.model.kind == "rubric":
        count += _write_rubric(wb, pack, layout)
    if pack.model.kind == "ledger" and pack.model.ledger is not None:
        count += _write_ledger(wb, pack, layout)
    return count


def _put(wb: Workbook, ref, formula: str) -> int:
    wb[ref.sheet].cell(ref.row, ref.col).value = formula
    return 1


def _write_rubric(wb: Workbook, pack: RulePack, layout: Any) -> int:
    rf = compile_rubric(pack)
    n = 0
    missing = [i for i in rf.items if i not in layout.items]
    if missing:
        raise PackError("填报模板缺少评分项的位置", [Problem(pack.source, f"第{i}项") for i in missing])
    for iid, f in rf.items.items():
        il = layout.items[iid]
        n += _put(wb, il.points, f.points) + _put(wb, il.explain, f.explain)
        _ensure_name(wb, f.points_name, il.points.absolute)
        _ensure_name(wb, f.explain_name, il.explain.absolute)
    if len(layout.categories) != len(rf.categories):
        raise PackError("填报模板的类别与规则包不符", [Problem(pack.source, "categories")])
    for cat, formula in zip(layout.categories, rf.categories):
        n += _put(wb, cat.points, formula)
    results = (("total_points", layout.total, rf.total), ("grade", layout.grade, rf.grade),
               ("eligible", layout.eligible, rf.eligible), ("provisional", layout.provisional, rf.provisional))
    for name, ref, formula in results:
        if formula is None:
            continue
        if ref is None:
            raise PackError("填报模板缺少评分结果的位置", [Problem(pack.source, name)])
        n += _put(wb, ref, formula)
        _ensure_name(wb, name, ref.absolute)
    # a named formula, no cell: the items read it (the workbook need not make room for it)
    wb.defined_names[STARTED_NAME] = DefinedName(STARTED_NAME, attr_text=rf.started[1:])
    _mark_items(wb, layout)
    return n


def _mark_items(wb: Workbook, layout: Any) -> None:
    """有误 red with a dark red bold font, zeroed items red, items below their 分值
    amber, 待填 grey (G:H of the row)."""
    for il in layout.items.values():
        ws = wb[il.points.sheet]
        g, h, d = (f"${il.points.column}{il.row}", f"${il.explain.column}{il.row}",
                   f"${il.max.column}{il.row}")
        rng = f"{il.points.coord}:{il.explain.coord}"
        # a scored explanation always ends with 得X.XX分; a zeroed one with 不得分 or its flag
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f'{g}="{wording.INVALID}"'], fill=INVALID_FILL, font=INVALID_FONT, stopIfTrue=True))
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f'AND(ISNUMBER({g}),{g}=0,RIGHT({h},6)<>"得0.00分")'], fill=ZEROED_FILL, stopIfTrue=True))
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f"AND(ISNUMBER({g}),ISNUMBER({d}),{g}<{d})"], fill=LOST_FILL, stopIfTrue=True))
        ws.conditional_formatting.add(rng, FormulaRule(formula=[f"ISTEXT({g})"], fill=TODO_FILL))


def _write_ledger(wb: Workbook, pack: RulePack, layout: Any) -> int:
    """Every ledger (table) of the pack, pack order: its row results on its sheet,
    its roll-up lines in its blocks on 汇总."""
    from ..rules.lowered import lowered_ledgers  # noqa: PLC0415

    n = 0
    ledgers = lowered_ledgers(pack)
    for lg in ledgers:
        n += _write_table(wb, pack, layout, lg, several=len(ledgers) > 1)
    return n


def _write_table(wb: Workbook, pack: RulePack, layout: Any, lg: Any, several: bool) -> int:
    table = lg.table
    tl = layout.tables.get(table)
    if tl is None or not all(k in tl.results for k in ("status", "errors", "warnings")):
        raise PackError("填报模板缺少台账结果列", [Problem(pack.source, f"表格 {table} 的 状态/错误/警告 列")])
    helpers = [tl.helpers[k] for k in sorted(getattr(tl, "helpers", {}), key=lambda k: int(k[7:]))]
    lf = compile_ledger(pack, lambda cid: tl.columns[cid].data.column, ledger=lg, sheet=tl.sheet,
                        helper_ref=lambda i: helpers[i].data.column if i < len(helpers) else "A")
    if len(lf.reasons) != len(helpers):
        raise PackError("填报模板缺少台账辅助列", [Problem(pack.source, f"表格 {table} 的有误原因列")])
    for name, value in lf.constants.items():  # e.g. the error codes the reasons name
        _ensure_name(wb, name, value)
    n = 0
    for which in ("status", *lf.decisions, "errors", "warnings"):
        col = tl.results.get(which)
        if col is None:
            raise PackError("填报模板缺少台账结果列", [Problem(pack.source, f"表格 {table} 的 {which} 列")])
        ws = wb[col.data.sheet]
        template = lf.decisions[which] if which in lf.decisions else getattr(lf, which)
        for r in range(col.data.first_row, col.data.last_row + 1):
            ws.cell(r, col.data.col).value = template.replace(ROW, str(r))
            n += 1
        _ensure_name(wb, lf.names.get(which, col.name), col.data.absolute)
    for col, template in zip(helpers, lf.reasons):  # a wide table's 有误 reasons (hidden)
        ws = wb[col.data.sheet]
        for r in range(col.data.first_row, col.data.last_row + 1):
            ws.cell(r, col.data.col).value = template.replace(ROW, str(r))
            n += 1
    for which, font in (("errors", ERROR_FONT), ("warnings", WARN_FONT)):
        col = tl.results[which]
        top = f"${col.data.column}{col.data.first_row}"
        wb[col.data.sheet].conditional_formatting.add(
            col.data.coord, FormulaRule(formula=[f'LEN({top})>0'], font=font))
    if not layout.summary:
        return n
    mine = None if lg.index == 0 else table
    blocks = [b for b in layout.summary if getattr(b, "table", None) == mine]
    if len(blocks) != len(lf.rollups):
        where = f"ledgers[{lg.index}].groupings" if several else "ledger.groupings"
        raise PackError("汇总表与规则包的分组不符", [Problem(pack.source, where)])
    ws = wb[layout.summary_sheet]
    for block, ru in zip(blocks, lf.rollups):
        for key, row in block.group_rows:
            gf = ru.group(key)
            if gf is None:
                raise PackError("汇总表的行无法编译", [Problem(pack.source, f"{ru.label} {key}")])
            if gf.label is not None:
                ws.cell(row, 1).value = gf.label
                n += 1
            for mid, formula in gf.metrics.items():
                _put_rollup(ws, row, block.metric_cols[mid], formula, lf.array)
                n += 1
        if block.total_row is not None and ru.total is not None:
            for mid, formula in ru.total.metrics.items():
                _put_rollup(ws, block.total_row, block.metric_cols[mid], formula, lf.array)
                n += 1
    return n


def _put_rollup(ws, row: int, col: int, formula: str, array: bool) -> None:
    """A roll-up cell: an array formula when the compiler asks (IF over a column)."""
    cell = ws.cell(row, col)
    cell.value = ArrayFormula(cell.coordinate, formula) if array else formula
