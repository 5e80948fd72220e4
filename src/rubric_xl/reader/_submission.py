"""Read a submission out of an opened workbook: _meta, then every input by name.

Inputs are located by their workbook-scoped defined names only (``fact_id`` for
single cells, ``<table>__<column>`` for ledger columns), never by position, so
moved rows, renamed sheets and reordered columns still read correctly.  A
formula in an input cell is never trusted: the cell counts as blank and the
formula is reported.

A name must point where the template put it: an input at one cell of the
填报 sheet, a ledger column at one column of 台账 (all columns over the same
rows), each cell named once.  A name pointing at another sheet (``_meta``,
评分, a hidden sheet), at a range, or at a cell another input already uses is
an error and the input counts as blank — except the 填报单位 fact the
template asks once, on 基本信息: its name may point at ``info_unit``'s cell.
A renamed template sheet is the visible sheet the names point at, if it is
not another template sheet.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..conventions import (INFO_SHEET, INPUT_SHEET, LEDGER_SHEET, META_KEYS, META_SHEET, PROP_PREFIX,
                           TEMPLATE_SHEETS, column_name, sheet_title, unit_fact)
from ..errors import Problem
from ..rules.model import Fact
from ..rules.pack import RulePack
from ._cells import cell_to_raw, error_at, float_decimal
from ._container import Workbook
from ._meta import cell_text, parse_meta_rows
from ._refs import Ref, a1, col_letters, parse_ref


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


def read_meta(book: Workbook) -> tuple[dict[str, str], list[Problem]]:
    """The template's identity from the ``_meta`` sheet, or else from the custom
    document properties.  Empty when the workbook is not a rubric-xl template."""
    problems: list[Problem] = []
    meta: dict[str, str] = {}
    if book.sheet(META_SHEET) is not None:
        meta = parse_meta_rows(book.grid(META_SHEET))
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


def role_sheet(book: Workbook, expected: str, texts: Iterable[str | None]) -> str:
    """The sheet names of one role must point at: *expected*, or — when it was
    renamed — the sheet most of *texts* point at, if that is not another
    template sheet."""
    if book.sheet(expected) is not None:
        return expected
    counts = Counter(r.sheet for r in map(parse_ref, (t for t in texts if t)) if r is not None)
    for sheet, _ in counts.most_common(1):
        if book.sheet(sheet) is not None and sheet not in TEMPLATE_SHEETS:
            return sheet
    return expected


def check_ref(book: Workbook, name: str, what: str, sheet: str) -> tuple[Ref | None, str | None]:
    """(the reference of workbook-scoped *name*, or ``None`` and the Chinese
    reason): it must exist, parse, and point at the visible sheet *sheet*.
    Decided by workbook.xml alone: found once for every workbook that shares it."""
    key = ("ref", name, what, sheet)
    hit = book.derived.get(key)
    if hit is None:
        hit = book.derived[key] = _check_ref(book, name, what, sheet)
    return hit


def _check_ref(book: Workbook, name: str, what: str, sheet: str) -> tuple[Ref | None, str | None]:
    text = book.name(name)
    if text is None:
        if book.local_name(name) is not None:
            return None, (f"名称 {name}（{what}）只定义在某个工作表内（应为工作簿级名称）；"
                          "模板可能被改动，请用原模板重新填报")
        return None, f"工作簿中找不到名称 {name}（{what}）；模板可能被改动，请用原模板重新填报"
    ref = parse_ref(text)
    if ref is None:
        return None, f"名称 {name}（{what}）的引用无效：{text}（单元格或工作表可能已被删除）"
    info = book.sheet(ref.sheet)
    if info is None:
        return None, f"名称 {name}（{what}）指向不存在的工作表“{ref.sheet}”"
    if ref.sheet != sheet:
        return None, (f"名称 {name}（{what}）应指向“{sheet}”工作表，实际指向 {_span(ref)}；"
                      "模板可能被改动，请用原模板重新填报")
    if info.state != "visible":
        return None, f"名称 {name}（{what}）指向隐藏的工作表“{ref.sheet}”；填报单元格必须在可见的工作表中"
    return ref, None


def _span(ref: Ref) -> str:
    return ref.cell() if ref.is_cell else f"{ref.cell()}:{a1(ref.row2, ref.col2)}"


def _locate(book: Workbook, sub: Submission, name: str, what: str, sheet: str) -> Ref | None:
    ref, why = check_ref(book, name, what, sheet)
    if why:
        sub.add(name, why)
    return ref


_UNREAD = object()


def _read_cell(book: Workbook, sub: Submission, f: Fact, key: str, sheet: str, row: int,
               col: int, loc: str | None = None, value: Any = _UNREAD) -> Any:
    """The raw value of one input cell (*value*: the cell's value, when read already)."""
    sub.locs[key] = loc or f"{sheet}!{a1(row, col)}"
    if value is _UNREAD:
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


def _read_table(book: Workbook, sub: Submission, f: Fact, taken: dict[tuple, str],
                owners: dict[str, str]) -> list[dict]:
    names = [(c, column_name(f.id, c.id)) for c in f.columns or []]
    own = sheet_title(f.label) if owners else LEDGER_SHEET  # several tables: one sheet each, by label
    sheet = role_sheet(book, own, (book.name(n) for _, n in names))
    owner = owners.get(sheet)  # *sheet* is another table's own sheet: never read as this table
    if owner is not None and owner != f.label:
        for c, name in names:
            sub.add(name, f"名称 {name}（{f.label}的“{c.label}”列）指向“{sheet}”工作表，那是{owner}的工作表；"
                          f"{f.label}应在自己的工作表（如“{sheet_title(f.label)}”）中，模板可能被改动，请用原模板重新填报")
        return []
    cols: list[tuple[Fact, Ref]] = []
    for c, name in names:
        ref = _locate(book, sub, name, f"{f.label}的“{c.label}”列", sheet)
        if ref is None:
            continue
        if not ref.is_column:
            sub.add(name, f"名称 {name} 应指向单独一列，实际为 {_span(ref)}")
            continue
        if _taken(sub, taken, name, (ref.sheet, "col", ref.col1), _span(ref)):
            continue
        cols.append((c, ref))
    if not cols:
        return []
    span = Counter((r.row1, r.row2) for _, r in cols).most_common(1)[0][0]  # the table's rows
    for c, ref in list(cols):
        if (ref.row1, ref.row2) != span:
            name = column_name(f.id, c.id)
            sub.add(name, (f"名称 {name} 的范围 {_span(ref)} 与台账其他列（第{span[0]}–{span[1]}行）不一致；"
                           "模板可能被改动，请用原模板重新填报"))
            cols.remove((c, ref))
    if not cols:
        return []
    rows: list[dict] = []
    height = max(r.row2 - r.row1 + 1 for _, r in cols)
    maybe = book.rows_in(sheet, {r.col1 for _, r in cols})  # a sheet read without calamine: rows with cells
    if maybe is None:
        used = max(len(book.grid(r.sheet)) - r.row1 + 1 for _, r in cols)
        offsets: Iterable[int] = range(min(height, max(used, 0)))
    else:
        offsets = [row - span[0] for row in maybe if 0 <= row - span[0] < height]
    value = book.value
    where = [(c, ref, f"{ref.sheet}!{col_letters(ref.col1)}") for c, ref in cols]  # the cell text but its row
    for i in offsets:
        cells = [(c, ref, ref.row1 + i, at) for c, ref, at in where if ref.row1 + i <= ref.row2]
        values = [value(ref.sheet, row, ref.col1) for _, ref, row, _ in cells]
        if all(_blank(v) for v in values):
            continue
        k = len(rows) + 1
        first = cells[0]
        sub.locs[f"{f.id}[{k}]"] = f"{first[3]}{first[2]}"
        row_raw: dict[str, Any] = {}
        for (c, ref, row, at), v in zip(cells, values):
            row_raw[c.id] = _read_cell(book, sub, c, f"{f.id}[{k}].{c.id}", ref.sheet, row, ref.col1,
                                       f"{at}{row}", v)
        rows.append(row_raw)
    _outside(book, sub, f, cols)
    return rows


def _outside(book: Workbook, sub: Submission, f: Fact, cols: list[tuple[Fact, Ref]]) -> None:
    """Data typed below a column's named range would be silently lost: report it."""
    extra: list[int] = []
    for _, ref in cols:
        maybe = book.rows_in(ref.sheet, {ref.col1})
        below = range(ref.row2 + 1, len(book.grid(ref.sheet)) + 1) if maybe is None else \
            [row for row in maybe if row > ref.row2]
        for row in below:
            if not _blank(book.value(ref.sheet, row, ref.col1)):
                extra.append(row)
    if extra:
        _, ref = cols[0]
        rows = sorted(set(extra))
        sub.add(f"{ref.sheet}!{a1(rows[0], ref.col1)}", (
            f"{f.label}：第{rows[0]}行起有 {len(rows)} 行数据在填报区域（第{ref.row1}–{ref.row2}行）之外，"
            "未被读取；请在表格区域内填写（可在表格中插入行）"), raw_loc=True)


def _taken(sub: Submission, taken: dict[tuple, str], name: str, key: tuple, shown: str) -> bool:
    """Report *name* when another input already reads the same cell or column."""
    other = taken.setdefault(key, name)
    if other != name:
        sub.add(name, f"名称 {name} 与名称 {other} 指向同一位置 {shown}；每个填报项应有自己的单元格，"
                      "模板可能被改动，请用原模板重新填报")
        return True
    return False


@dataclass(frozen=True)
class _Single:
    """Where one single-cell input is read, as workbook.xml alone decides it:
    its cell, or ``None`` and the problems that say why not (key, message)."""

    ref: Ref | None
    problems: tuple[tuple[str, str], ...] = ()
    loc: str = ""  # "sheet!A1" of its cell


def _singles(book: Workbook, pack: RulePack) -> tuple[dict[str, _Single], Ref | None, tuple[tuple[str, str, str], ...]]:
    """Every single input's :class:`_Single`, the ``info_unit`` cell the unit
    is read from (when the ``_meta`` has none) and the problems about it
    (key, message, level): found once per workbook.xml and pack."""
    key = ("singles", pack.hash)
    hit = book.derived.get(key)
    if hit is not None and hit[0] is pack:
        return hit[1]
    singles = [f for f in pack.model.facts if f.type != "table"]
    sheet = role_sheet(book, INPUT_SHEET, (book.name(f.id) for f in singles))
    taken: dict[tuple, str] = {}  # (sheet, row, col) -> the name reading it
    unit = unit_fact(pack.model.facts)  # conventions.unit_fact: asked once, in info_unit's cell
    unit_cell = _unit_cell(book)
    out: dict[str, _Single] = {}
    for f in singles:
        text = book.name(f.id)
        here = sheet
        if f is unit and unit_cell is not None and text is not None and parse_ref(text) == unit_cell:
            here = unit_cell.sheet  # the 填报单位 fact shares info_unit's cell on 基本信息; nothing else may
        ref, why = check_ref(book, f.id, f.label, here)
        if ref is None:
            out[f.id] = _Single(None, ((f.id, why or ""),))
        elif not ref.is_cell:
            out[f.id] = _Single(None, ((f.id, f"名称 {f.id}（{f.label}）应指向单个单元格，实际为 {_span(ref)}；"
                                                 "模板可能被改动，请用原模板重新填报"),))
        else:
            other = taken.setdefault((ref.sheet, ref.row1, ref.col1), f.id)
            if other != f.id:
                out[f.id] = _Single(None, ((f.id, f"名称 {f.id} 与名称 {other} 指向同一位置 {ref.cell()}；"
                                                     "每个填报项应有自己的单元格，模板可能被改动，请用原模板重新填报"),))
            else:
                out[f.id] = _Single(ref, (), f"{ref.sheet}!{a1(ref.row1, ref.col1)}")
    unit_ref, unit_problems = None, ()
    text = book.name("info_unit")
    if text is not None:
        ref, why = check_ref(book, "info_unit", "填报单位", role_sheet(book, INFO_SHEET, [text]))
        if ref is None or not ref.is_cell:
            unit_problems = (("info_unit", f"{why or '名称 info_unit（填报单位）应指向单个单元格'}；未读取填报单位",
                              "warning"),)
        else:
            unit_ref = parse_ref(text)
    plan = (out, unit_ref, unit_problems)
    book.derived[key] = (pack, plan)
    return plan


def read_submission(book: Workbook, pack: RulePack, meta: dict[str, str] | None = None) -> Submission:
    """Every input of *pack* read from *book* by defined name."""
    if meta is None:
        meta, _ = read_meta(book)
    sub = Submission(book.path, meta, meta.get("unit") or None)
    singles, unit_ref, unit_problems = _singles(book, pack)
    taken: dict[tuple, str] = {}  # (sheet, "col", col) -> the name reading it (ledger columns)
    tables = [f for f in pack.model.facts if f.type == "table"]
    owners = {sheet_title(t.label): t.label for t in tables} if len(tables) > 1 else {}
    for f in pack.model.facts:
        if f.type == "table":
            sub.raw[f.id] = _read_table(book, sub, f, taken, owners)
            continue
        single = singles[f.id]
        ref = single.ref
        if ref is None:
            sub.raw[f.id] = None
            for key, msg in single.problems:
                sub.add(key, msg)
            continue
        sub.raw[f.id] = _read_cell(book, sub, f, f.id, ref.sheet, ref.row1, ref.col1, single.loc)
    if not sub.unit:
        for key, msg, level in unit_problems:
            sub.add(key, msg, level)
        if unit_ref is not None:
            sub.unit = cell_text(book.value(unit_ref.sheet, unit_ref.row1, unit_ref.col1)) or None
    return sub


def _unit_cell(book: Workbook) -> Ref | None:
    """``info_unit``'s cell when it is one cell of the visible 基本信息 sheet."""
    text = book.name("info_unit")
    if text is None:
        return None
    ref, _ = check_ref(book, "info_unit", "填报单位", role_sheet(book, INFO_SHEET, [text]))
    return ref if ref is not None and ref.is_cell else None
