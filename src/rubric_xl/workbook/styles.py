"""Fonts, fills, borders and sheet-level settings shared by the sheet builders."""
from __future__ import annotations

import math

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.worksheet import Worksheet

FONT = "宋体"  # present on every Chinese Windows/WPS install, unlike 等线
TITLE_FONT = "黑体"

BODY = Font(name=FONT, size=11)
BOLD = Font(name=FONT, size=11, bold=True)
SMALL = Font(name=FONT, size=10, color="595959")
TITLE = Font(name=TITLE_FONT, size=16, bold=True)
SUBTITLE = Font(name=FONT, size=11, color="404040")
RESULT = Font(name=FONT, size=11, color="1F3864")

HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
SECTION_FILL = PatternFill("solid", fgColor="E7E6E6")
ITEM_FILL = PatternFill("solid", fgColor="F2F2F2")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
RESULT_FILL = PatternFill("solid", fgColor="E2EFDA")

_thin = Side(style="thin", color="A6A6A6")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)

WRAP = Alignment(wrap_text=True, vertical="center")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center")

UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)

LINE_HEIGHT = 14.4  # points per line of 11-pt 宋体


def text_units(text: str) -> float:
    """Width of *text* in column-width units (CJK characters count double)."""
    return sum(2.0 if ord(ch) > 0x2E7F else 1.1 for ch in text)


def lines_needed(text: str, width: float) -> int:
    if not text:
        return 1
    usable = max(width - 1.0, 1.0)
    return sum(max(1, math.ceil(text_units(part) / usable)) for part in str(text).split("\n"))


def fit_row(ws: Worksheet, row: int, texts: dict[int, str], widths: dict[int, float],
            minimum: float = 18.0) -> None:
    """Set the row height so that the wrapped *texts* (col → text) fit."""
    lines = max((lines_needed(t, widths[c]) for c, t in texts.items() if t), default=1)
    ws.row_dimensions[row].height = max(minimum, lines * LINE_HEIGHT + 4)


def style(cell, font=BODY, fill=None, border=True, align=WRAP, locked=True, fmt=None) -> None:
    cell.font = font
    if fill is not None:
        cell.fill = fill
    if border:
        cell.border = BORDER
    if align is not None:
        cell.alignment = align
    cell.protection = LOCKED if locked else UNLOCKED
    if fmt is not None:
        cell.number_format = fmt


def set_widths(ws: Worksheet, widths: dict[int, float]) -> None:
    from openpyxl.utils import get_column_letter

    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = w


def protect(ws: Worksheet) -> None:
    """Lock the sheet (no password): only unlocked cells can be edited.
    Users may still resize rows and columns and use filters."""
    p = ws.protection
    p.sheet = True
    p.formatColumns = False
    p.formatRows = False
    p.autoFilter = False
    p.sort = False
    p.selectLockedCells = False
    p.selectUnlockedCells = False


def print_setup(ws: Worksheet, title_rows: str | None = None, landscape: bool = False) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.font = FONT
    ws.oddFooter.center.size = 9
