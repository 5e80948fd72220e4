"""Fill a template from a facts file: each value goes into the cell named after
its fact (``<table>__<column>`` ranges for ledger rows).  The template file is
only read; the filled workbook comes back as bytes."""
from __future__ import annotations

import copy
import datetime as _dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from openpyxl import load_workbook
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from .._files import read_bytes
from ..conventions import column_name
from ..engine.facts import convert_facts
from ..errors import FactsError, InputFileError, PackError, Problem
from ..factsfile import load_facts_file
from ..rules.model import Fact
from ..reader import open_workbook
from ..rules.pack import RulePack
from .meta import read_meta
from .output import workbook_bytes
from ..rules.catalog import require_pack
from .sheet_ledger import fit_filled_ledger
from .text import put

INFO_KEYS = {"unit": "info_unit", "filler": "info_filler", "phone": "info_phone", "date": "info_date"}


def open_template(path: str | Path) -> tuple[Workbook, bytes]:
    """Read *path* (never written) and open it with openpyxl, after the
    reader's container checks (zip bombs, entry counts, corrupt parts), so a
    hostile template is refused before openpyxl inflates it."""
    p = Path(path)
    data = read_bytes(p, "模板文件")
    try:
        open_workbook(p)
    except InputFileError as exc:
        why = "；".join(q.msg for q in exc.problems) or exc.message
        raise InputFileError("无法打开模板", [Problem(str(p), f"不是有效的 .xlsx 工作簿：{why}")]) from None
    try:
        wb = load_workbook(io.BytesIO(data))
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise InputFileError("无法打开模板", [Problem(str(p), "不是有效的 .xlsx 工作簿")]) from None
    return wb, data


def _target(wb: Workbook, name: str, source: str) -> tuple[Worksheet, tuple[int, int, int, int]]:
    dn = wb.defined_names.get(name)
    dests = list(dn.destinations) if dn is not None else []
    if len(dests) != 1 or dests[0][0] not in wb.sheetnames:
        raise InputFileError("模板缺少填报单元格", [Problem(source, f"没有名称 {name}（或它不指向单元格）；模板可能被改动")])
    sheet, ref = dests[0]
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return wb[sheet], (min_col, min_row, max_col, max_row)


def cell_value(f: Fact, value: Any) -> Any:
    """A converted fact value as it is entered in the workbook."""
    if value is None:
        return None
    if f.type == "bool":
        return "是" if value else "否"
    if f.type in ("int", "decimal", "percent"):
        d = Decimal(value)
        return int(d) if d == d.to_integral_value() else d
    return value  # date → Excel date, enum/text → text


def _put(ws: Worksheet, row: int, col: int, f: Fact, value: Any) -> None:
    cell = put(ws.cell(row, col), cell_value(f, value))
    if isinstance(cell.value, _dt.date) and cell.number_format in ("General", "@"):
        cell.number_format = "yyyy-mm-dd"


def fill_workbook(wb: Workbook, pack: RulePack, facts: Mapping[str, Any], *, source: str = "facts",
                  template: str = "模板", info: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write *facts* (raw, as in a facts file) into the opened template *wb*.

    Values are converted and checked first (``convert_facts``): a bad value is
    a :class:`~rubric_xl.errors.FactsError` naming the fact, and nothing is
    written.  Blank facts clear their cell; ledger rows replace the old ones.
    Returns the converted values."""
    values = convert_facts(pack, facts, source)
    meta = read_meta(wb, template)
    _check_unit(pack, values, meta.get("unit", ""), source)
    if info:
        _fill_info(wb, info, meta.get("unit", ""), template)
    for f in pack.model.facts:
        if f.type == "table":
            _fill_table(wb, f, values[f.id], template)
        else:
            ws, (col, row, _, _) = _target(wb, f.id, template)
            _put(ws, row, col, f, values[f.id])
    fit_filled_ledger(wb, pack, values)  # print area and row heights for the rows filled
    return values


def _check_unit(pack: RulePack, values: dict[str, Any], unit: str, source: str) -> None:
    """A template made for one unit takes no facts naming another unit (the
    enum facts pre-filled at build, such as ``reporting_body``)."""
    if not unit:
        return
    for f in pack.model.facts:
        v = values.get(f.id)
        if f.type == "enum" and unit in (f.options or []) and v is not None and v != unit:
            raise FactsError("数据与模板的填报单位不符", [Problem(
                f"{source}: {f.id}", f"{f.label}为“{v}”，但此模板是下发给“{unit}”的")])


def _fill_info(wb: Workbook, info: Mapping[str, Any], locked_unit: str, template: str) -> None:
    for key, value in info.items():
        if value is None or value == "":
            continue
        name = INFO_KEYS[key]
        if key == "unit" and locked_unit and value != locked_unit:
            raise InputFileError("填报单位与模板不符", [Problem(
                f"{template} 基本信息", f"模板已指定填报单位“{locked_unit}”，不能改为“{value}”")])
        if key == "date" and isinstance(value, str):
            try:
                value = _dt.date.fromisoformat(value.strip())
            except ValueError:
                raise InputFileError("填报日期格式错误", [Problem("--date", f"应为 YYYY-MM-DD，实际为“{value}”")]) \
                    from None
        ws, (col, row, _, _) = _target(wb, name, template)
        cell = put(ws.cell(row, col), value)
        if isinstance(value, _dt.date):
            cell.number_format = "yyyy-mm-dd"


def _fill_table(wb: Workbook, f: Fact, rows: list[dict], template: str) -> None:
    cols = list(f.columns or [])
    targets = {c.id: _target(wb, column_name(f.id, c.id), template) for c in cols}
    sheets = {ws.title for ws, _ in targets.values()}
    if len(sheets) != 1:
        raise InputFileError("模板的台账结构异常", [Problem(template, f"表格 {f.label} 的列不在同一工作表上")])
    ws = next(iter(targets.values()))[0]
    first = max(b[1] for _, b in targets.values())
    last = min(b[3] for _, b in targets.values())
    if any(b[1] != first or b[3] != last for _, b in targets.values()):
        raise InputFileError("模板的台账结构异常", [Problem(template, f"表格 {f.label} 各列的行范围不一致")])
    if len(rows) > last - first + 1:
        last = grow_ledger(wb, ws, first, last, first + len(rows) - 1)
    for c in cols:
        col = targets[c.id][1][0]
        for r in range(first, last + 1):
            ws.cell(r, col).value = None
    for i, row in enumerate(rows):
        for c in cols:
            _put(ws, first + i, targets[c.id][1][0], c, row.get(c.id))


def grow_ledger(wb: Workbook, ws: Worksheet, first: int, last: int, new_last: int) -> int:
    """Extend the ledger rows ``first..last`` of *ws* to ``new_last``: the Excel
    table, every defined name over those rows, data validations, conditional
    formats, cell styles, row numbers and per-row formulas follow.  Returns
    *new_last*."""
    span_cols: set[int] = set()
    for table in ws.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        if max_row == last and min_row < first:
            table.ref = CellRange(min_col=min_col, min_row=min_row, max_col=max_col, max_row=new_last).coord
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
            span_cols.update(range(min_col, max_col + 1))
    for name, dn in list(wb.defined_names.items()):
        dests = list(dn.destinations)
        if len(dests) != 1 or dests[0][0] != ws.title:
            continue
        min_col, min_row, max_col, max_row = range_boundaries(dests[0][1].replace("$", ""))
        if min_row == first and max_row == last:
            dn.attr_text = dn.attr_text.rsplit("!", 1)[0] + "!" + _absolute(min_col, first, max_col, new_last)
            span_cols.update(range(min_col, max_col + 1))
    for dv in ws.data_validations.dataValidation:
        dv.sqref = MultiCellRange(_grow_ranges(dv.sqref, first, last, new_last))
    _grow_conditional_formats(ws, first, last, new_last)
    numbered = isinstance(ws.cell(last, 1).value, int) and 1 not in span_cols
    for col in sorted(span_cols | ({1} if numbered else set())):
        model = ws.cell(last, col)
        formula = model.value if isinstance(model.value, str) and model.value.startswith("=") else None
        for r in range(last + 1, new_last + 1):
            cell = ws.cell(r, col)
            if model.has_style:
                cell._style = copy.copy(model._style)
            if formula:
                cell.value = Translator(formula, origin=model.coordinate).translate_formula(cell.coordinate)
            elif col == 1 and numbered:
                cell.value = model.value + (r - last)
    return new_last


def _grow_ranges(sqref: MultiCellRange, first: int, last: int, new_last: int) -> str:
    out = []
    for rng in sqref.ranges:
        if rng.max_row == last and rng.min_row >= first:
            rng = CellRange(min_col=rng.min_col, min_row=rng.min_row, max_col=rng.max_col, max_row=new_last)
        out.append(rng.coord)
    return " ".join(out)


def _grow_conditional_formats(ws: Worksheet, first: int, last: int, new_last: int) -> None:
    old = [(_grow_ranges(cf.sqref, first, last, new_last), list(cf.rules)) for cf in ws.conditional_formatting]
    ws.conditional_formatting = ConditionalFormattingList()
    for sqref, rules in old:
        for rule in rules:
            ws.conditional_formatting.add(sqref, rule)


def _absolute(min_col: int, min_row: int, max_col: int, max_row: int) -> str:
    a, b = get_column_letter(min_col), get_column_letter(max_col)
    return f"${a}${min_row}:${b}${max_row}"


def fill_template(template: str | Path, facts: Mapping[str, Any] | str | Path, *,
                  rules: RulePack | str | Path | None = None,
                  info: Mapping[str, Any] | None = None) -> bytes:
    """Fill the template file *template* with *facts* (a mapping or a facts
    file) and return the filled workbook's bytes; *template* is never written.

    The pack comes from the template's ``_meta`` (found with :func:`require_pack`;
    *rules* adds a pack file or folder to look in, or is the pack itself) and
    must have the very content the template was made from."""
    wb, _ = open_template(template)
    meta = read_meta(wb, str(template))
    if isinstance(rules, RulePack):
        pack = rules
        if pack.id != meta["pack_id"] or pack.hash != meta["pack_hash"]:
            raise PackError("模板与规则包不符", [Problem(str(template), (
                f"模板由规则包 {meta['pack_id']}（校验码 {meta['pack_hash'][:12]}）生成，"
                f"给出的是 {pack.id}（校验码 {pack.short_hash}）"))])
    else:
        pack, _ = require_pack(meta["pack_id"], [rules] if rules is not None else [], meta["pack_hash"])
    if isinstance(facts, (str, Path)):
        source = str(facts)
        raw = load_facts_file(facts)
    else:
        source, raw = "facts", facts
    fill_workbook(wb, pack, raw, source=source, template=str(template), info=info)
    return workbook_bytes(wb)
