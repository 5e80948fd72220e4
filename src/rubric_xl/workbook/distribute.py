"""One workbook per reporting unit, plus ``manifest.csv`` (unit, file, sha256)."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import InputFileError, Problem
from ..rules.pack import RulePack
from .build import LEDGER_ROWS, template_bytes

MANIFEST = "manifest.csv"
_BAD = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)


@dataclass(frozen=True)
class ManifestRow:
    unit: str
    file: str  # file name inside the output folder
    sha256: str


def safe_filename(name: str) -> str:
    """*name* made safe as a file name on Windows, macOS and Linux."""
    text = _BAD.sub("_", name).strip(" .")
    if _RESERVED.match(text):
        text = "_" + text
    return text


def unit_filename(pack: RulePack, unit: str) -> str:
    return safe_filename(f"{pack.id}_{unit}") + ".xlsx"


def manifest_text(rows: list[ManifestRow]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["unit", "file", "sha256"])
    for r in rows:
        w.writerow([r.unit, r.file, r.sha256])
    return "\ufeff" + buf.getvalue()  # BOM: Excel then shows the Chinese names correctly


def distribute(pack: RulePack, units: list[str], out_dir: str | Path, *,
               write: Callable[[Path, bytes | str], None] | None = None,
               ledger_rows: int = LEDGER_ROWS) -> list[ManifestRow]:
    """Write one pre-filled workbook per unit into *out_dir*, then ``manifest.csv``.

    Every file is written atomically (*write*, default
    :func:`rubric_xl.cli.common.write_atomic`); the manifest comes last, so a
    folder with a manifest is complete."""
    if write is None:
        from ..cli.common import write_atomic as write  # noqa: PLC0415
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputFileError("输出位置应为目录", [Problem(str(out), "这是一个文件")])
    files: dict[str, str] = {}
    problems = []
    for unit in units:
        name = unit_filename(pack, unit)
        key = name.lower()
        if key in files:
            problems.append(Problem(unit, f"文件名 {name} 与单位“{files[key]}”的文件名相同"))
        files[key] = unit
    if problems:
        raise InputFileError("单位名称对应的文件名重复", problems)
    rows = []
    for unit in units:
        data = template_bytes(pack, unit, ledger_rows=ledger_rows)
        name = unit_filename(pack, unit)
        write(out / name, data)
        rows.append(ManifestRow(unit, name, hashlib.sha256(data).hexdigest()))
    write(out / MANIFEST, manifest_text(rows))
    return rows
