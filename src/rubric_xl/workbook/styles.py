"""Fonts, fills, borders and sheet-level settings shared by the sheet builders."""
from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.worksheet import Worksheet

from .._print import line_height, lines_needed, page_setup, row_height, text_units  # noqa: F401

FONT = "宋体"  # present on every Chinese Windows/WPS install, unlike 等线
TITLE_FONT = "黑体"

BODY = Font(name=FONT, size=11)
BOLD = Font(name=FONT, size=11, bold=True)
SMALL = Font(name=FONT, size=10, color="595959")
WARN = Font(name=FONT, size=10, color="C00000", bold=True)  # an answer that costs points
TITLE = Font(name=TITLE_FONT, size=16, bold=True)
SUBTITLE = Font(name=FONT, size=11, color="404040")
RESULT = Font(name=FONT, size=11, color="1F3864")

HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
SECTION_FILL = PatternFill("solid", fgColor="E7E6E6")
ITEM_FILL = PatternFill("solid", fgColor="F2F2F2")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
RESULT_FILL = PatternFill("solid", fgColor="E2EFDA")
COSTLY_FILL = PatternFill("solid", start_color="FFF4C7C3", end_color="FFF4C7C3")  # an answer that costs points
COSTLY_FONT = Font(color="FFC00000", bold=True)

_thin = Side(style="thin", color="A6A6A6")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)

WRAP = Alignment(wrap_text=True, vertical="center")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center")
TOP = Alignment(vertical="top")
TOP_CENTER = Alignment(horizontal="center", vertical="top")

UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)

LINE_HEIGHT = line_height(11)  # points per line of 11-pt 宋体


def fit_row(ws: Worksheet, row: int, texts: dict[int, str], widths: dict[int, float],
            minimum: float = 18.0, sizes: dict[int, float] | None = None) -> None:
    """Set the row height so that the wrapped *texts* (col → text) fit; *sizes*
    gives the font size (points) of a column whose text is not 11 pt."""
    sizes = sizes or {}
    ws.row_dimensions[row].height = row_height(
        [(t, widths[c], sizes.get(c, 11)) for c, t in texts.items()], minimum)


def style(cell, font=BODY, fill=None, border=True, align=WRAP, locked=True, fmt=None, formula=False) -> None:
    """Style *cell*.  Its text stays text unless *formula*: a pack's or a user's
    text that starts with ``=`` never becomes a formula."""
    if not formula and cell.data_type == "f":
        cell.data_type = "s"
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


def print_setup(ws: Worksheet, title_rows: str | None = None, landscape: bool = False,
                header: str | None = None, print_area: str | None = None) -> None:
    page_setup(ws, landscape=landscape, title_rows=title_rows, header=header, print_area=print_area)
