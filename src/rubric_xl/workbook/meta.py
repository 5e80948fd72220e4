"""The ``_meta`` sheet, the custom document properties and the fingerprint.

``_meta`` (very hidden) holds key/value rows from A1: pack_id, pack_version,
pack_hash, template_version, unit, generator — then ``fingerprint``, which
changes whenever the pack, the template version or the generator's code does,
so a checked-in template can be tested for staleness.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from openpyxl.packaging.custom import StringProperty
from openpyxl.workbook import Workbook

from .._version import __version__
from ..conventions import META_SHEET, PROP_PREFIX
from ..errors import InputFileError, Problem
from ..reader._meta import missing_keys, parse_meta_rows
from ..rules.pack import RulePack
from . import styles
from .text import put

TEMPLATE_VERSION = "1"


def generator() -> str:
    return f"rubric-xl {__version__}"


def _sources() -> list[Path]:
    files = sorted(Path(__file__).parent.glob("*.py")) + [
        Path(__file__).parent.parent / name for name in ("_print.py", "layout.py", "_decimal.py")]
    try:  # the formula compiler's code shapes the template too
        import rubric_xl.formulas as fm  # noqa: PLC0415
    except ImportError:
        return files
    for folder in sorted(set(getattr(fm, "__path__", []))):
        files += sorted(Path(folder).rglob("*.py"))
    return files


def fingerprint(pack: RulePack) -> str:
    """sha256 of the pack hash, the template version, the generator and its code."""
    h = hashlib.sha256()
    for part in (pack.hash, TEMPLATE_VERSION, generator()):
        h.update(part.encode("utf-8") + b"\n")
    for path in _sources():
        h.update(path.name.encode("utf-8") + b"\0" + path.read_bytes().replace(b"\r\n", b"\n"))
    return h.hexdigest()


def meta_values(pack: RulePack, unit: str | None) -> dict[str, str]:
    return {"pack_id": pack.id, "pack_version": pack.version, "pack_hash": pack.hash,
            "template_version": TEMPLATE_VERSION, "unit": unit or "", "generator": generator(),
            "fingerprint": fingerprint(pack)}


def write_meta(wb: Workbook, values: dict[str, str]) -> None:
    ws = wb.create_sheet(META_SHEET)
    for row, (key, value) in enumerate(values.items(), start=1):
        ws.cell(row, 1, key)
        put(ws.cell(row, 2), value).number_format = "@"
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 70
    ws.sheet_state = "veryHidden"
    styles.protect(ws)
    props = wb.custom_doc_props
    for key, value in values.items():
        props.append(StringProperty(name=PROP_PREFIX + key, value=value))


def read_meta(wb: Workbook, source: str) -> dict[str, str]:
    """The _meta key/value rows of a template.  Raises InputFileError."""
    if META_SHEET not in wb.sheetnames:
        raise InputFileError("不是 rubric-xl 生成的填报模板",
                             [Problem(source, "缺少隐藏的 _meta 工作表，无法确定规则包；请使用 rubric-xl template build 生成的模板")])
    out = parse_meta_rows(wb[META_SHEET].iter_rows(min_col=1, max_col=2, values_only=True))
    missing = missing_keys(out)
    if missing:
        raise InputFileError("填报模板的 _meta 信息不完整",
                             [Problem(f"{source} _meta", f"缺少 {'、'.join(missing)}")])
    return out
