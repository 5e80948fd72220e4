"""Generate, distribute and fill the standard submission workbook of a rule pack.

Public API::

    from rubric_xl.workbook import build_template, template_bytes, distribute, fill_template
    wb, layout = build_template(pack, unit="太原市")     # openpyxl Workbook + WorkbookLayout
    data = template_bytes(pack)                         # reproducible .xlsx bytes
    rows = distribute(pack, load_units("shanxi-cities"), "out/")   # files + manifest.csv
    data = fill_template("模板.xlsx", facts)             # the template itself is never modified

The workbook follows the conventions in docs/ARCHITECTURE.md.  Native score
formulas are compiled from the same pack by :mod:`rubric_xl.formulas`
(``write_formulas(wb, pack, layout)``), which reads every address from the
:class:`WorkbookLayout`.
"""
from .build import LEDGER_ROWS, build_template, template_bytes
from .distribute import ManifestRow, distribute, safe_filename
from .fill import fill_template, fill_workbook
from ..layout import (CategoryLayout, CellRef, ColumnLayout, ItemLayout, RangeRef, SummaryBlock,
                      TableLayout, WorkbookLayout)
from .meta import TEMPLATE_VERSION, fingerprint, read_meta
from .output import workbook_bytes
from .units import BUILTIN_UNITS, load_units, parse_units

__all__ = [
    "build_template", "template_bytes", "workbook_bytes",
    "distribute", "ManifestRow", "safe_filename", "load_units", "parse_units", "BUILTIN_UNITS",
    "fill_template", "fill_workbook", "read_meta", "fingerprint",
    "TEMPLATE_VERSION", "LEDGER_ROWS",
    "WorkbookLayout", "CellRef", "RangeRef", "ItemLayout", "CategoryLayout", "ColumnLayout",
    "TableLayout", "SummaryBlock",
]
