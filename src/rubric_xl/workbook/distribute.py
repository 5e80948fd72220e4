"""One workbook per reporting unit, plus ``manifest.csv`` (单位, 文件, SHA-256)."""
from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .._files import Inputs, find_input, os_error_text, output_is_input, write_output
from ..errors import InputFileError, Problem
from ..rules.pack import RulePack
from ..sheettext import safe_text
from .build import LEDGER_ROWS, template_bytes
from .units import check_units, unit_name, visible

MANIFEST = "manifest.csv"
MANIFEST_HEADER = ("单位", "文件", "SHA-256")
MAX_NAME_BYTES = 255  # a file name on ext4, NTFS (UTF-16 units), APFS
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
    w.writerow(MANIFEST_HEADER)
    for r in rows:
        w.writerow([safe_text(r.unit), safe_text(r.file), r.sha256])
    return "\ufeff" + buf.getvalue()  # BOM: Excel then shows the Chinese names correctly


def _name_problem(name: str) -> str | None:
    if len(name.encode("utf-8")) > MAX_NAME_BYTES or len(name.encode("utf-16-le")) // 2 > MAX_NAME_BYTES:
        return (f"单位名称过长，无法作为文件名（{name[:20]}…共 {len(name.encode('utf-8'))} 字节，"
                f"文件名最多 {MAX_NAME_BYTES} 字节）；请缩短单位名称")
    return None


def _same_file_key(name: str) -> str:
    """Names one file system holds as one file: case-insensitive (Windows,
    macOS) and normalisation-insensitive (macOS: ``é`` and ``e`` + U+0301,
    U+212B and ``Å``)."""
    return unicodedata.normalize("NFC", name).casefold()


def plan(pack: RulePack, units: list[str], source: str = "单位列表") -> dict[str, str]:
    """unit → file name, after checking every unit; raises :class:`InputFileError`."""
    problems: list[Problem] = []
    files: dict[str, str] = {}
    taken: dict[str, str] = {}
    for unit in units:
        try:
            clean = unit_name(unit)
        except ValueError as exc:
            problems.append(Problem(visible(unit)[:60], str(exc)))
            continue
        if clean is None:
            problems.append(Problem(source, "单位名称为空"))
            continue
        name = unit_filename(pack, clean)
        why = _name_problem(name)
        if why:
            problems.append(Problem(clean[:40], why))
            continue
        key = _same_file_key(name)
        if key in taken:
            problems.append(Problem(clean, f"文件名 {name} 与单位“{taken[key]}”的文件名相同"))
            continue
        taken[key] = clean
        files[clean] = name
    if problems:
        raise InputFileError("单位名称不能用于分发（无效或文件名重复）", problems)
    check_units(pack, list(files), source)
    return files


def distribute(pack: RulePack, units: list[str], out_dir: str | Path, *,
               ledger_rows: int = LEDGER_ROWS, inputs: Inputs = (), force: bool = False,
               source: str = "单位列表") -> list[ManifestRow]:
    """Write one pre-filled workbook per unit into *out_dir*, then ``manifest.csv``.

    Every unit is checked first (a name that cannot be a file name, a unit
    that is not one of the pack's reporting bodies), and *out_dir* must be
    empty unless *force*; nothing is written when anything is wrong.  Every
    file is written with the one output writer (:func:`rubric_xl._files.write_output`),
    never over one of *inputs*; the manifest comes last, so a folder with a
    manifest is complete."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputFileError("输出位置应为目录", [Problem(str(out), "这是一个文件")])
    files = plan(pack, units, source)
    inputs = list(inputs)
    if out.is_dir() and not force:
        try:
            present = next(iter(out.iterdir()), None)
        except OSError as exc:
            raise InputFileError("无法读取输出目录", [Problem(str(out), os_error_text(exc))]) from None
        if present is not None:
            raise InputFileError("输出目录不是空的", [Problem(
                str(out), f"目录中已有文件（如 {present.name}）；确认要覆盖其中的同名文件请加 --force，或换一个空目录")])
    for name in [*files.values(), MANIFEST]:
        clash = find_input(out / name, inputs)
        if clash is not None:
            raise InputFileError("输出文件不能是输入文件", [Problem(str(out / name), output_is_input(out / name, *clash))])
    rows = []
    for unit, name in files.items():
        data = template_bytes(pack, unit, ledger_rows=ledger_rows)
        write_output(out / name, data, inputs=inputs)
        rows.append(ManifestRow(unit, name, hashlib.sha256(data).hexdigest()))
    write_output(out / MANIFEST, manifest_text(rows), inputs=inputs)
    return rows
