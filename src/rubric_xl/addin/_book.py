"""Read a submitted workbook from the payload the xlwings JS client sends.

The payload (``xlwings.getBookData()`` in the task pane) becomes an ``xw.Book``;
inputs are found by their workbook-scoped defined names, which are the fact ids
(see docs/ARCHITECTURE.md, workbook conventions), so moved rows or columns still
read correctly.  Nothing here trusts a cell's position.
"""
from __future__ import annotations

import contextlib
import operator
import re
from dataclasses import dataclass
from typing import Any, Iterator

from . import _env, _limits

_env.ensure()  # before the first ``import xlwings`` of the process

import xlwings as xw  # noqa: E402

from openpyxl.utils import get_column_letter  # noqa: E402

from ..conventions import column_name  # noqa: E402
from ..errors import InputFileError, Problem  # noqa: E402
from ..rules import RulePack  # noqa: E402
from ..rules import contract  # noqa: E402

from ..conventions import META_SHEET  # noqa: E402
from ..reader._meta import parse_meta_rows  # noqa: E402
FORMAT_MESSAGE = "收到的工作簿数据格式不正确（应为评分助手发送的工作簿内容）。"


def check_xlwings() -> None:
    if not xw.__pro__:
        raise RuntimeError(_env.LICENCE_MESSAGE)


@contextlib.contextmanager
def open_book(payload: dict) -> Iterator[xw.Book]:
    """An ``xw.Book`` over *payload*, closed afterwards (the book list is global)."""
    check_xlwings()
    if not isinstance(payload, dict) or not isinstance(payload.get("sheets"), list) \
            or not isinstance(payload.get("names"), list) or not isinstance(payload.get("book"), dict):
        raise InputFileError(FORMAT_MESSAGE, [])
    book = xw.Book(json=payload)
    try:
        yield book
    finally:
        book.close()


def _check_sheet(sheet: Any) -> None:
    """A sheet as the JS client sends it: ``values`` a rectangle (a list of rows of
    equal length) and a used range inside it.  A used range beyond the values is
    cut to them (cells outside are blank), so no address in the payload makes the
    server convert more cells than were sent."""
    values = sheet.get("values") if isinstance(sheet, dict) else None
    if not isinstance(values, list) or not all(isinstance(r, list) for r in values) \
            or len({len(r) for r in values}) > 1:
        raise InputFileError(FORMAT_MESSAGE, [])  # not from the xlwings JS client
    address = sheet.get("used_range_address")
    if address:
        m = _AREA.match(str(address))
        rows, cols = len(values), len(values[0]) if values else 0
        if m is None or int(m["r1"]) > rows or _col(m["c1"]) > cols:
            sheet["used_range_address"] = None  # nothing sent: an empty sheet
        elif m["c2"]:
            r2, c2 = min(int(m["r2"]), rows), min(_col(m["c2"]), cols)
            sheet["used_range_address"] = f"{m['c1']}{m['r1']}:{get_column_letter(c2)}{r2}"


@dataclass(frozen=True)
class Cell:
    sheet: str
    address: str  # A1 style without $, e.g. D12

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{self.address}"


class BookView:
    """What the add-in reads from one submitted workbook.

    Names are resolved from the payload's name list (sheet index and address, as
    the JS client sends them); each sheet's values are read once through xlwings
    (which turns ISO dates into datetimes and error values into blanks) and
    looked up by a name's address.
    """

    def __init__(self, book: xw.Book):
        self.book = book
        self.title = book.name or "工作簿"
        self._sheets = book.api["sheets"]
        for sheet in self._sheets:  # every way in: the pane, the functions, 写入得分
            _check_sheet(sheet)
        # Workbook-scoped names, case-insensitive like Excel.
        self._names: dict[str, dict] = {}
        for api in book.api["names"]:
            if api.get("book_scope", True) and api.get("name"):
                self._names.setdefault(str(api["name"]).lower(), api)
        self._grids: dict[int, list[list[Any]]] = {}
        self._needed: dict[int, tuple[int, int]] = {}  # sheet index → (last row, last column) read

    # -- _meta ----------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        try:
            sheet = self.book.sheets[META_SHEET]
        except (KeyError, ValueError, IndexError):
            raise InputFileError(
                "此工作簿不是 rubric-xl 生成的标准填报模板（缺少 _meta 工作表），"
                "评分助手无法确定应使用哪个规则包。请使用上级下发的填报模板。",
                [Problem(f"{self.title}", "缺少 _meta 工作表")]) from None
        values = []
        if self._sent_values(META_SHEET):  # an empty sheet has no used range
            values = sheet.used_range.options(ndim=2).value or []
        return parse_meta_rows(values)

    def _sent_values(self, sheet_name: str) -> bool:
        return any(s.get("name") == sheet_name and s.get("used_range_address") for s in self._sheets)

    # -- names ------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name.lower() in self._names

    def area(self, name: str) -> tuple[int, int, int, int, int] | None:
        """(sheet index, first row, first column, last row, last column), 1-based,
        of the range a workbook-scoped name refers to; ``None`` when it refers to
        no single range (missing, a constant, several areas, a deleted cell)."""
        api = self._names.get(name.lower())
        if api is None or api.get("sheet_index") is None or not api.get("address"):
            return None
        m = _AREA.match(str(api["address"]))
        idx = api["sheet_index"]
        if m is None or not 0 <= idx < len(self._sheets):
            return None
        r0, c0 = int(m["r1"]), _col(m["c1"])
        r1, c1 = (int(m["r2"]), _col(m["c2"])) if m["c2"] else (r0, c0)
        if not (1 <= r0 <= r1 <= MAX_ROW and 1 <= c0 <= c1 <= MAX_COL):
            return None  # not a cell Excel has
        return idx, r0, c0, r1, c1

    def cell(self, name: str) -> Cell | None:
        a = self.area(name)
        if a is None:
            return None
        return Cell(self._sheets[a[0]]["name"], f"{get_column_letter(a[2])}{a[1]}")

    def range(self, name: str):
        """The xlwings range a name refers to (for writing), or ``None``."""
        a = self.area(name)
        if a is None:
            return None
        idx, r0, c0, r1, c1 = a
        return self.book.sheets[idx].range((r0, c0), (r1, c1))

    def _need(self, idx: int, row: int, col: int) -> None:
        """Record that cell (*row*, *col*) of sheet *idx* will be read."""
        r, c = self._needed.get(idx, (0, 0))
        self._needed[idx] = (max(r, row), max(c, col))

    def _grid(self, idx: int) -> list[list[Any]]:
        """Sheet *idx*'s values, converted by xlwings, from A1 to the last row and
        column that will be read (never beyond what the client sent: the work is
        bounded by the payload, whatever the names say)."""
        grid = self._grids.get(idx)
        if grid is None:
            sent = self._sheets[idx].get("values") or [[]]
            want_r, want_c = self._needed.get(idx, (0, 0))
            rows = min(len(sent), want_r)
            cols = min(len(sent[0]) if rows else 0, want_c)
            grid = []
            if rows and cols:
                # error values stay their text (#DIV/0!): the input contract says invalid, not blank
                grid = self.book.sheets[idx].range((1, 1), (rows, cols)).options(
                    ndim=2, err_to_str=True).value or []
            self._grids[idx] = grid
        return grid

    def _at(self, idx: int, row: int, col: int) -> Any:
        grid = self._grid(idx)
        if row <= len(grid) and col <= len(grid[row - 1]):
            return grid[row - 1][col - 1]
        return None

    # -- facts ------------------------------------------------------------------
    def read_facts(self, pack: RulePack) -> tuple[dict[str, Any], dict[str, Cell], list[Problem]]:
        """Raw values by fact id, the cell of every value, and template problems.

        A fact whose name is missing or broken reads as blank (so its items are
        待填, never silently scored) and is reported as a template problem.
        Table facts read one column per ``<table>__<column>`` name; a row is any
        row with at least one value.  Only the cells the names point at are
        converted (see :meth:`_grid`).
        """
        raw: dict[str, Any] = {}
        cells: dict[str, Cell] = {}
        problems: list[Problem] = []
        scalars: dict[str, tuple[int, int, int]] = {}
        tables: dict[str, dict[str, tuple[int, int, int, int]]] = {}
        for fid, f in pack.facts.items():
            if f.type == "table":
                tables[fid] = self._table_columns(fid, f, problems)
                raw[fid] = []
                continue
            a = self.area(fid)
            if a is None:
                raw[fid] = None
                what = "缺少名称" if not self.has(fid) else "名称没有指向单元格"
                problems.append(Problem(fid, f"{f.label}：工作簿{what} {fid}，无法读取此项输入（模板被改动？）"))
                continue
            idx, r0, c0, _, _ = a  # a name over several cells: its first cell
            scalars[fid] = (idx, r0, c0)
            self._need(idx, r0, c0)
        for fid, (idx, r0, c0) in scalars.items():
            cells[fid] = Cell(self._sheets[idx]["name"], f"{get_column_letter(c0)}{r0}")
            raw[fid] = _clean(self._at(idx, r0, c0), pack.facts[fid])
        for fid, columns in tables.items():
            raw[fid] = self._read_table(fid, pack.facts[fid], columns, cells)
        return raw, cells, problems

    def _table_columns(self, fid: str, f, problems: list[Problem]) -> dict[str, tuple[int, int, int, int]]:
        """Each column's (sheet index, first row, column, last row), the last row
        cut at the table's last row with a value: beyond the rows the client sent
        every cell is blank, so a name over rows 3:1048576 costs what the data
        costs.  More rows than ``max_ledger_rows`` is an InputFileError."""
        columns: dict[str, tuple[int, int, int, int]] = {}
        for c in f.columns or []:
            name = column_name(fid, c.id)
            a = self.area(name)
            if a is None:
                problems.append(Problem(name, f"{f.label}：工作簿缺少列名称 {name}，此列按空白读取"))
                continue
            idx, r0, c0, r1, _ = a
            columns[c.id] = (idx, r0, c0, r1)
        last = {idx: self._last_data_row(idx, sorted({c for i, _, c, _ in columns.values() if i == idx}))
                for idx in {i for i, *_ in columns.values()}}
        for cid, (idx, r0, c0, r1) in columns.items():
            columns[cid] = (idx, r0, c0, min(r1, last[idx]))
        n = max((r1 - r0 + 1 for _, r0, _, r1 in columns.values()), default=0)
        cap = _limits.limits.max_ledger_rows
        if n > cap:
            sheet = self._sheets[next(iter(columns.values()))[0]].get("name")
            raise InputFileError(
                f"{f.label}（工作表 {sheet}）有 {n} 行数据，超出范围：评分助手每个工作簿最多评 {cap} 行。"
                f"请分成几个工作簿填报，或请管理员调整 {_limits.ENV_MAX_ROWS}。",
                [Problem(f"{self.title} {sheet}", f"{n} 行，超过 {cap} 行")])
        for idx, r0, c0, r1 in columns.values():
            self._need(idx, r1, c0)
        return columns

    def _last_data_row(self, idx: int, cols: list[int]) -> int:
        """The last sent row of sheet *idx* with a value in one of *cols* (0: none)."""
        values = self._sheets[idx].get("values") or [[]]
        cols = [c - 1 for c in cols if c <= len(values[0])]  # rows are of equal length
        if not cols:
            return 0
        pick = operator.itemgetter(*cols) if len(cols) > 1 else (lambda row: (row[cols[0]],))
        blank = ("",) * len(cols)
        for r in range(len(values), 0, -1):
            got = pick(values[r - 1])
            if got != blank and any(v not in ("", None) for v in got):
                return r
        return 0

    def _read_table(self, fid: str, f, columns: dict[str, tuple[int, int, int, int]],
                    cells: dict[str, Cell]) -> list[dict]:
        cols = {c.id: c for c in f.columns or []}
        n = max((r1 - r0 + 1 for _, r0, _, r1 in columns.values()), default=0)
        rows: list[dict] = []
        for i in range(n):
            row = {cid: (_clean(self._at(idx, r0 + i, col), cols[cid]) if r0 + i <= r1 else None)
                   for cid, (idx, r0, col, r1) in columns.items()}
            if all(v is None for v in row.values()):
                continue
            k = len(rows) + 1
            for cid, (idx, r0, col, _) in columns.items():
                cells[f"{fid}[{k}].{cid}"] = Cell(self._sheets[idx]["name"], f"{get_column_letter(col)}{r0 + i}")
            rows.append(row)
        return rows


_AREA = re.compile(r"^(?:.*!)?\$?(?P<c1>[A-Za-z]{1,3})\$?(?P<r1>\d{1,7})(?::\$?(?P<c2>[A-Za-z]{1,3})\$?(?P<r2>\d{1,7}))?$")
MAX_ROW, MAX_COL = 1_048_576, 16_384  # Excel's sheet size


def _col(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _clean(value: Any, f) -> Any:
    """Payload value → raw fact value by the input contract (rules/contract.py),
    exactly as the auditor reads a cell: blank text is blank, numbers exact."""
    if contract.is_blank(value):
        return None
    return contract.cell_value(value, f)
