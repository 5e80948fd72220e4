"""A1 references: parse a defined name's text into a sheet and a cell range."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


@dataclass(frozen=True)
class Ref:
    """A rectangular range on one sheet; rows and columns are 1-based."""

    sheet: str
    row1: int
    col1: int
    row2: int
    col2: int

    @property
    def is_cell(self) -> bool:
        return self.row1 == self.row2 and self.col1 == self.col2

    @property
    def is_column(self) -> bool:
        return self.col1 == self.col2

    def cell(self, row: int | None = None, col: int | None = None) -> str:
        """``填报!D12`` for the top-left cell (or the given row/column)."""
        return f"{self.sheet}!{col_letters(col or self.col1)}{row or self.row1}"


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def a1(row: int, col: int) -> str:
    return f"{col_letters(col)}{row}"


def _split_sheet(text: str) -> tuple[str, str] | None:
    """``'填 报'!$D$12`` → (``填 报``, ``$D$12``); ``None`` without a sheet."""
    if text.startswith("'"):
        i = 1
        name = []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if text[i + 1:i + 2] == "'":  # '' is an escaped quote
                    name.append("'")
                    i += 2
                    continue
                break
            name.append(ch)
            i += 1
        rest = text[i + 1:]
        if not rest.startswith("!"):
            return None
        return "".join(name), rest[1:]
    sheet, bang, cells = text.partition("!")  # an unquoted name has no "!" of its own
    if not bang or not sheet:
        return None
    return sheet, cells


@lru_cache(maxsize=4096)  # the same names recur in every workbook of a batch
def parse_ref(text: str) -> Ref | None:
    """Parse ``Sheet!$D$12`` or ``'Sheet'!$F$3:$F$502``.

    ``None`` for anything else: ``#REF!`` (the cell was deleted), whole columns,
    external or multi-area references, formulas, constants.
    """
    text = text.strip()
    if text.startswith("="):
        text = text[1:]
    parts = _split_sheet(text)
    if parts is None:
        return None
    sheet, cells = parts
    if "[" in sheet or "#REF" in cells.upper() or "," in cells or "!" in cells:
        return None
    first, _, second = cells.partition(":")
    m1 = _CELL.match(first)
    m2 = _CELL.match(second) if second else m1
    if not m1 or not m2:
        return None
    r1, r2 = sorted((int(m1.group(2)), int(m2.group(2))))
    c1, c2 = sorted((col_number(m1.group(1)), col_number(m2.group(1))))
    if r1 < 1 or c1 < 1:
        return None
    return Ref(sheet, r1, c1, r2, c2)
