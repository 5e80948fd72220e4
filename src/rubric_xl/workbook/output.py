"""Workbook → bytes, reproducibly: fixed document timestamps and fixed zip
entry times, so the same pack and generator give byte-identical files.  This is
the one save path of templates, filled and distributed workbooks: each sheet's
filled-down formulas are stored once, as Excel stores them (:mod:`._shared`)."""
from __future__ import annotations

import datetime as _dt
import io
import zipfile

from openpyxl.workbook import Workbook
from openpyxl.writer.excel import ExcelWriter

from ._shared import share_formulas

FIXED_TIME = _dt.datetime(2000, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def workbook_bytes(wb: Workbook) -> bytes:
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "rubric-xl"
    wb.properties.lastModifiedBy = "rubric-xl"
    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # like openpyxl's save_workbook, minus "modified = now"
    return _normalise_zip(raw.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet") and info.filename.endswith(".xml"):
                data = share_formulas(data)
            dst.writestr(fixed, data)
    return out.getvalue()
