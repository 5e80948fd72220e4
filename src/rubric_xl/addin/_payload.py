"""Build, from an .xlsx file, the payload the xlwings JS client (``getBookData``)
would send for that workbook open in Excel: for the benchmark, the server tests
and for replaying a user's file against the server when investigating a report.

Mirrors xlwings-server's ``static/js/custom-scripts/index.js`` (``getBookData``)
and ``workbook-metadata.js``: values from A1 to the last used cell, ``""`` for
empty cells, dates as ISO text ``YYYY-MM-DDTHH:MM:SS.000Z``, defined names with
unqualified addresses.  Formula cells carry their cached value (what Excel shows).
"""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

CLIENT_VERSION = "0.37.8"  # xlwings version the JS client reports (config.xlwingsVersion)
VISIBILITY = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}
_REF = re.compile(r"^(?:'?(?P<sheet>.+?)'?!)?\$?(?P<c1>[A-Z]+)\$?(?P<r1>\d+)(?::\$?(?P<c2>[A-Z]+)\$?(?P<r2>\d+))?$")


def js_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, _dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(v, _dt.date):
        return f"{v.isoformat()}T00:00:00.000Z"
    if isinstance(v, _dt.time):
        return ""
    if hasattr(v, "is_finite"):  # Decimal written by a test
        return float(v)
    return v


def _sheet_payload(ws) -> dict:
    used = [(c.row, c.column) for row in ws.iter_rows() for c in row if c.value is not None]
    if used:
        r0 = min(r for r, _ in used)
        c0 = min(c for _, c in used)
        r1 = max(r for r, _ in used)
        c1 = max(c for _, c in used)
        first = f"{get_column_letter(c0)}{r0}"
        last = f"{get_column_letter(c1)}{r1}"
        address = first if first == last else f"{first}:{last}"
        values = [[js_value(ws.cell(r, c).value) for c in range(1, c1 + 1)] for r in range(1, r1 + 1)]
        nrows, ncols = r1 - r0 + 1, c1 - c0 + 1
    else:
        address, values, nrows, ncols = None, [[""]], 0, 0
    return {
        "name": ws.title, "visibility": VISIBILITY.get(ws.sheet_state, "Visible"),
        "show_gridlines": bool(ws.sheet_view.showGridLines if ws.sheet_view.showGridLines is not None else True),
        "print_area": None, "notes": [], "notes_supported": False,
        "used_range_address": address, "used_range_row_count": nrows, "used_range_column_count": ncols,
        "values": values, "pictures": [], "shapes": [], "charts": [], "tables": [], "pivot_tables": None,
    }


def _names(wb) -> list[dict]:
    index = {ws.title: i for i, ws in enumerate(wb.worksheets)}
    out = []
    for name, dn in wb.defined_names.items():
        m = _REF.match((dn.attr_text or "").strip())
        sheet = m["sheet"] if m else None
        if m and sheet in index:
            addr = f"{m['c1']}{m['r1']}" + (f":{m['c2']}{m['r2']}" if m["c2"] else "")
            if addr.split(":")[0] == addr.split(":")[-1]:
                addr = addr.split(":")[0]
            out.append({"name": name, "refers_to": "=" + dn.attr_text, "type": "Range",
                        "sheet_index": index[sheet], "address": addr, "scope_sheet_name": None,
                        "scope_sheet_index": None, "book_scope": True})
        else:
            out.append({"name": name, "refers_to": "=" + (dn.attr_text or ""), "type": "Error",
                        "sheet_index": None, "address": None, "scope_sheet_name": None,
                        "scope_sheet_index": None, "book_scope": True})
    return out


def payload_from_xlsx(path: str | Path, *, selection: str = "A1") -> dict:
    wb = load_workbook(path, data_only=True)
    try:
        return {
            "client": "Office.js", "version": CLIENT_VERSION,
            "book": {"name": Path(path).name, "active_sheet_index": 0, "selection": selection,
                     "calculation": "Automatic"},
            "sheets": [_sheet_payload(ws) for ws in wb.worksheets],
            "names": _names(wb),
        }
    finally:
        wb.close()
