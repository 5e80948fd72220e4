"""Read a submitted workbook from the payload the xlwings JS client sends.

The payload (``xlwings.getBookData()`` in the task pane) becomes an ``xw.Book``;
inputs are found by their workbook-scoped defined names, which are the fact ids
(see docs/ARCHITECTURE.md, workbook conventions), so moved rows or columns still
read correctly.  Nothing here trusts a cell's position.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any, Iterator

from . import _env

_env.ensure()  # before the first ``import xlwings`` of the process

import xlwings as xw  # noqa: E402

from openpyxl.utils import get_column_letter  # noqa: E402

from ..conventions import column_name  # noqa: E402
from ..errors import InputFileError, Problem  # noqa: E402
from ..rules import RulePack  # noqa: E402
from ..rules import contract as C  # noqa: E402

from ..conventions import META_SHEET  # noqa: E402
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
        # Workbook-scoped names, case-insensitive like Excel.
        self._names: dict[str, dict] = {}
        for api in book.api["names"]:
            if api.get("book_scope", True) and api.get("name"):
                self._names.setdefault(str(api["name"]).lower(), api)
        self._grids: dict[int, list[list[Any]]] = {}

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
        meta: dict[str, str] = {}
        for row in values:
            if not row or row[0] is None:
                continue
            key = str(row[0]).strip()
            val = row[1] if len(row) > 1 else None
            meta[key] = "" if val is None else str(val).strip()
        return meta

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

    def _grid(self, idx: int) -> list[list[Any]]:
        grid = self._grids.get(idx)
        if grid is None:
            sent = self._sheets[idx].get("values") or [[]]
            rows, cols = len(sent), max((len(r) for r in sent), default=0)
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
        row with at least one value.
        """
        raw: dict[str, Any] = {}
        cells: dict[str, Cell] = {}
        problems: list[Problem] = []
        for fid, f in pack.facts.items():
            if f.type == "table":
                raw[fid] = self._read_table(fid, f, cells, problems)
                continue
            a = self.area(fid)
            if a is None:
                raw[fid] = None
                what = "缺少名称" if not self.has(fid) else "名称没有指向单元格"
                problems.append(Problem(fid, f"{f.label}：工作簿{what} {fid}，无法读取此项输入（模板被改动？）"))
                continue
            idx, r0, c0, _, _ = a  # a name over several cells: its first cell
            cells[fid] = Cell(self._sheets[idx]["name"], f"{get_column_letter(c0)}{r0}")
            raw[fid] = _clean(self._at(idx, r0, c0), f)
        return raw, cells, problems

    def _read_table(self, fid: str, f, cells: dict[str, Cell], problems: list[Problem]) -> list[dict]:
        columns: dict[str, tuple[int, int, int, int]] = {}
        cols = {c.id: c for c in f.columns or []}
        for c in f.columns or []:
            name = column_name(fid, c.id)
            a = self.area(name)
            if a is None:
                problems.append(Problem(name, f"{f.label}：工作簿缺少列名称 {name}，此列按空白读取"))
                continue
            idx, r0, c0, r1, _ = a
            columns[c.id] = (idx, r0, c0, r1)
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


_AREA = re.compile(r"^(?:.*!)?\$?(?P<c1>[A-Za-z]{1,3})\$?(?P<r1>\d+)(?::\$?(?P<c2>[A-Za-z]{1,3})\$?(?P<r2>\d+))?$")


def _col(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _clean(value: Any, f) -> Any:
    """Payload value → raw fact value by the input contract (rules/contract.py),
    exactly as the auditor reads a cell: blank text is blank, numbers exact."""
    if C.is_blank(value):
        return None
    return C.cell_value(value, f)
