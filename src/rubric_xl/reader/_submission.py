"""Read a submission out of an opened workbook: _meta, then every input by name.

Inputs are located by their workbook-scoped defined names only (``fact_id`` for
single cells, ``<table>__<column>`` for ledger columns), never by position, so
moved rows, renamed sheets and reordered columns still read correctly.  A
formula in an input cell is never trusted: the cell counts as blank and the
formula is reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..conventions import META_KEYS, META_SHEET, PROP_PREFIX, column_name
from ..errors import Problem
from ..rules.model import Fact
from ..rules.pack import RulePack
from ._cells import cell_to_raw, error_at, float_decimal
from ._container import Workbook
from ._refs import Ref, a1, parse_ref


@dataclass
class Submission:
    """The raw inputs of one workbook, ready for ``convert_facts``."""

    file: str
    meta: dict[str, str]
    unit: str | None
    raw: dict[str, Any] = field(default_factory=dict)
    locs: dict[str, str] = field(default_factory=dict)  # fact id / "t[i].col" / "t[i]" -> "sheet!A1"
    problems: list[Problem] = field(default_factory=list)

    def where(self, key: str) -> str:
        loc = self.locs.get(key)
        return f"{self.file} {loc}" if loc else f"{self.file}: {key}"

    def add(self, key_or_loc: str, msg: str, level: str = "error", *, raw_loc: bool = False) -> None:
        loc = f"{self.file} {key_or_loc}" if raw_loc else self.where(key_or_loc)
        self.problems.append(Problem(loc, msg, level))


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        d = float_decimal(v)
        return str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")
    return str(v).strip() if v is not None else ""


def read_meta(book: Workbook) -> tuple[dict[str, str], list[Problem]]:
    """The template's identity from the ``_meta`` sheet, or else from the custom
    document properties.  Empty when the workbook is not a rubric-xl template."""
    problems: list[Problem] = []
    meta: dict[str, str] = {}
    if book.sheet(META_SHEET) is not None:
        for row in book.grid(META_SHEET):
            if len(row) >= 2:
                key = _text(row[0])
                if key in META_KEYS and key not in meta:
                    meta[key] = _text(row[1])
    props = {k[len(PROP_PREFIX):]: v for k, v in book.custom.items()
             if k.startswith(PROP_PREFIX) and k[len(PROP_PREFIX):] in META_KEYS}
    if not meta.get("pack_id"):
        if props.get("pack_id"):
            meta = {**props, **{k: v for k, v in meta.items() if v}}
    else:
        for key in ("pack_id", "pack_hash"):
            if props.get(key) and meta.get(key) and props[key] != meta[key]:
                problems.append(Problem(f"{book.path} {META_SHEET}", (
                    f"_meta 中的 {key}（{meta[key]}）与文档属性 {PROP_PREFIX}{key}（{props[key]}）不一致，"
                    "以 _meta 为准"), "warning"))
    return meta, problems


def _locate(book: Workbook, sub: Submission, name: str, what: str) -> Ref | None:
    text = book.name(name)
    if text is None:
        sub.add(name, f"工作簿中找不到名称 {name}（{what}）；模板可能被改动，请用原模板重新填报")
        return None
    ref = parse_ref(text)
    if ref is None:
        sub.add(name, f"名称 {name}（{what}）的引用无效：{text}（单元格或工作表可能已被删除）")
        return None
    if book.sheet(ref.sheet) is None:
        sub.add(name, f"名称 {name}（{what}）指向不存在的工作表“{ref.sheet}”")
        return None
    return ref


def _read_cell(book: Workbook, sub: Submission, f: Fact, key: str, sheet: str, row: int,
               col: int) -> Any:
    sub.locs[key] = f"{sheet}!{a1(row, col)}"
    value = book.value(sheet, row, col)
    if (row, col) in book.formula_cells(sheet):
        sub.add(key, f"{f.label}：输入单元格中是公式，公式的计算结果不作为填报数据；请直接填写数值或文字")
        error = error_at(book, sheet, row, col)
        if error is None:
            return None
        value = error  # a cell showing #DIV/0! is invalid by the input contract, never blank
    if value == "":  # calamine shows an error value (#DIV/0!) as "": the contract says invalid
        value = error_at(book, sheet, row, col) or value
    raw, warning = cell_to_raw(value, f, book.date1904)
    if warning:
        sub.add(key, f"{f.label}：{warning}", "warning")
    return raw


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _read_table(book: Workbook, sub: Submission, f: Fact) -> list[dict]:
    cols: list[tuple[Fact, Ref]] = []
    for c in f.columns or []:
        name = column_name(f.id, c.id)
        ref = _locate(book, sub, name, f"{f.label}的“{c.label}”列")
        if ref is None:
            continue
        if not ref.is_column:
            sub.add(name, f"名称 {name} 应指向单独一列，实际为 {ref.cell()}:{ref.cell(ref.row2, ref.col2)}")
            continue
        cols.append((c, ref))
    if not cols:
        return []
    rows: list[dict] = []
    height = max(r.row2 - r.row1 + 1 for _, r in cols)
    used = max(len(book.grid(r.sheet)) - r.row1 + 1 for _, r in cols)
    for i in range(min(height, max(used, 0))):
        cells = [(c, ref, ref.row1 + i) for c, ref in cols if ref.row1 + i <= ref.row2]
        values = [book.value(ref.sheet, row, ref.col1) for _, ref, row in cells]
        if all(_blank(v) for v in values):
            continue
        k = len(rows) + 1
        first = cells[0]
        sub.locs[f"{f.id}[{k}]"] = f"{first[1].sheet}!{a1(first[2], first[1].col1)}"
        row_raw: dict[str, Any] = {}
        for c, ref, row in cells:
            row_raw[c.id] = _read_cell(book, sub, c, f"{f.id}[{k}].{c.id}", ref.sheet, row, ref.col1)
        rows.append(row_raw)
    _outside(book, sub, f, cols)
    return rows


def _outside(book: Workbook, sub: Submission, f: Fact, cols: list[tuple[Fact, Ref]]) -> None:
    """Data typed below a column's named range would be silently lost: report it."""
    extra: list[int] = []
    for _, ref in cols:
        grid = book.grid(ref.sheet)
        for row in range(ref.row2 + 1, len(grid) + 1):
            if not _blank(book.value(ref.sheet, row, ref.col1)):
                extra.append(row)
    if extra:
        _, ref = cols[0]
        rows = sorted(set(extra))
        sub.add(f"{ref.sheet}!{a1(rows[0], ref.col1)}", (
            f"{f.label}：第{rows[0]}行起有 {len(rows)} 行数据在填报区域（第{ref.row1}–{ref.row2}行）之外，"
            "未被读取；请在表格区域内填写（可在表格中插入行）"), raw_loc=True)


def read_submission(book: Workbook, pack: RulePack, meta: dict[str, str] | None = None) -> Submission:
    """Every input of *pack* read from *book* by defined name."""
    if meta is None:
        meta, _ = read_meta(book)
    sub = Submission(book.path, meta, meta.get("unit") or None)
    for f in pack.model.facts:
        if f.type == "table":
            sub.raw[f.id] = _read_table(book, sub, f)
            continue
        ref = _locate(book, sub, f.id, f.label)
        if ref is None:
            sub.raw[f.id] = None
            continue
        if not ref.is_cell:
            sub.add(f.id, f"名称 {f.id}（{f.label}）应指向单个单元格，已读取其左上角 {ref.cell()}", "warning")
        sub.raw[f.id] = _read_cell(book, sub, f, f.id, ref.sheet, ref.row1, ref.col1)
    if not sub.unit:
        text = book.name("info_unit")
        ref = parse_ref(text) if text else None
        if ref is not None:
            sub.unit = _text(book.value(ref.sheet, ref.row1, ref.col1)) or None
    return sub
