"""How a sheet prints: A4 page setup and row heights from text (openpyxl has no
autofit).  Shared by the generated templates (``workbook.styles``) and the
auditor's report.xlsx (``audit._reports``); it imports only openpyxl.

Widths are Excel column-width units (about one Latin digit of the default
font); a CJK character takes about two.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing this module does not import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

HEADER_FONT = "宋体"
CJK_UNITS = 2.15  # width of one CJK character in column-width units (11 pt 宋体: 15 px of 7)
LATIN_UNITS = 1.1
POINTS_PER_LINE = {9: 12.0, 10: 13.2, 11: 14.4, 12: 15.6, 14: 18.6, 16: 21.6}


def text_units(text: str) -> float:
    """Width of *text* in column-width units at 11 pt (CJK characters count double)."""
    return sum(_units(ch) for ch in str(text))


def _units(ch: str) -> float:
    return CJK_UNITS if ord(ch) > 0x2E7F else LATIN_UNITS


def lines_needed(text: str | None, width: float, size: float = 11) -> int:
    """Lines that *text* wraps to in a column *width* units wide at *size* pt
    (explicit line breaks count; characters fill each line greedily); 1 for
    empty text."""
    if not text:
        return 1
    usable = max((width - 0.8) * 11 / size, CJK_UNITS)
    lines = 0
    for part in str(text).split("\n"):
        lines += 1
        used = 0.0
        for ch in part:
            u = _units(ch)
            if used + u > usable and used > 0:
                lines += 1
                used = 0.0
            used += u
    return lines


def line_height(size: float = 11) -> float:
    """Points per wrapped line at *size* pt."""
    return POINTS_PER_LINE.get(int(size), round(size * 1.31, 1))


MAX_ROW_HEIGHT = 409.0  # Excel's limit (points); taller text stays cut, as in Excel itself


def row_height(texts: list[tuple[str | None, float, float]], minimum: float = 18.0) -> float:
    """The height (points) a row needs so that every wrapped ``(text, width, size)``
    fits, at most :data:`MAX_ROW_HEIGHT`."""
    need = max((lines_needed(t, w, s) * line_height(s) + 4 for t, w, s in texts if t), default=0.0)
    return round(min(max(minimum, need), MAX_ROW_HEIGHT), 1)


def page_setup(ws: "Worksheet", *, landscape: bool = False, title_rows: str | None = None,
               title_cols: str | None = None, header: str | None = None, fit_height: int = 0,
               print_area: str | None = None) -> None:
    """A4, fit to the page width (as many pages down as needed, or *fit_height*),
    the sheet name top right, *header* top left, "第 N 页，共 M 页" at the foot,
    repeated title rows/columns, optional print area."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = fit_height
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if title_rows:
        ws.print_title_rows = title_rows
    if title_cols:
        ws.print_title_cols = title_cols
    if print_area:
        ws.print_area = print_area
    if header:  # "&" starts a header code; keep the whole header under Excel's 255 characters
        header = header.replace("&", "&&")[:120]
    for part, text in ((ws.oddHeader.left, header), (ws.oddHeader.right, "&A"),
                       (ws.oddFooter.center, "第 &P 页，共 &N 页")):
        if text:
            part.text = text
            part.font = HEADER_FONT
            part.size = 9
