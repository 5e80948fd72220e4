"""Turn a cell value (as python-calamine returns it) into a raw fact value.

What a cell may hold and what it means is the input contract
(:mod:`rubric_xl.rules.contract`), shared with the engine, the add-in and the
native formulas: floats become exact ``Decimal`` via ``repr``, date serial
numbers become dates, and nothing else is reinterpreted — a number or date
typed as text is invalid (有误) here exactly as in the workbook's formulas.

python-calamine shows a spreadsheet error value (``#DIV/0!``) as an empty
string (and so does the reader's own decoding); the sheet's scan keeps those
cells' errors so that they read as the error, never as blank
(:func:`error_cells` does the same on a sheet's bytes).
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ..rules import contract
from ..rules.model import Fact

MAX_SERIAL = contract.SERIAL_MAX
serial_date = contract.serial_date

_ERROR_CELL = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\br="\$?([A-Za-z]{1,3})\$?([0-9]+)"[^>]*?\bt="e"[^>]*>'
    rb'(?:(?!</(?:[A-Za-z_][\w.-]*:)?c>).){0,2000}?<(?:[A-Za-z_][\w.-]*:)?v>([^<]{1,16})</', re.S)
_ERROR_CELL_T_FIRST = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\bt="e"[^>]*?\br="\$?([A-Za-z]{1,3})\$?([0-9]+)"[^>]*>'
    rb'(?:(?!</(?:[A-Za-z_][\w.-]*:)?c>).){0,2000}?<(?:[A-Za-z_][\w.-]*:)?v>([^<]{1,16})</', re.S)


def float_decimal(v: float | int) -> Decimal:
    """A spreadsheet number as the exact decimal the user typed (``93.5``)."""
    if isinstance(v, int):
        return Decimal(v)
    return Decimal(repr(v))


def _col(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, col) → error text (``#DIV/0!``) of every error-valued cell of a
    sheet's XML (``t="e"``); bounded regular expressions, no evaluation."""
    if b't="e"' not in xml:
        return {}
    out: dict[tuple[int, int], str] = {}
    for rx in (_ERROR_CELL, _ERROR_CELL_T_FIRST):
        for m in rx.finditer(xml):
            out[(int(m.group(2)), _col(m.group(1)))] = m.group(3).decode("ascii", "replace").strip()
    return out


def cell_to_raw(value: Any, fact: Fact, date1904: bool = False) -> tuple[Any, str | None]:
    """(raw value for the input contract, Chinese warning or ``None``)."""
    if contract.is_blank(value):
        return None, None
    return contract.cell_value(value, fact, date1904), None


def error_at(book: Any, sheet: str, row: int, col: int) -> str | None:
    """The error value (``#N/A``) shown by a cell that python-calamine read as
    empty, or ``None`` (found by the sheet's scan when the file was opened)."""
    return book.error_value(sheet, row, col)
