"""Who a submitted workbook is from: every source of its identity must agree.

Sources: the 填报单位 cell of 基本信息 (``info_unit``), the unit written into
``_meta`` by ``template distribute``, the unit ``manifest.csv`` names for the
file, and a unit name that the file's own name contains.  They must agree
with each other and with the campaign's unit list.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .._files import read_text
from ..errors import InputFileError, Problem
from ..reader import Workbook
from ..reader._refs import parse_ref  # the reader's own A1-reference parser (one helper, not a copy)
from ..workbook.build import clean_unit
from ..workbook.distribute import MANIFEST_HEADER


def info_unit(book: Workbook) -> str | None:
    """The 填报单位 typed in the workbook (cell named ``info_unit``)."""
    text = book.name("info_unit")
    ref = parse_ref(text) if text else None
    if ref is None or book.sheet(ref.sheet) is None:
        return None
    v = book.value(ref.sheet, ref.row1, ref.col1)
    try:
        return clean_unit(str(v)) if v not in (None, "") else None
    except ValueError:
        return str(v)[:40]


_LEGACY_HEADER = ("unit", "file")  # manifests written before the header was Chinese


def load_manifest(path: str) -> dict[str, str]:
    """file name → unit from ``distribute``'s ``manifest.csv``."""
    text = read_text(path, "清单文件 manifest.csv")
    rows = list(csv.reader(io.StringIO(text)))
    header = [c.strip().lstrip("\ufeff").lower() for c in rows[0][:2]] if rows else []
    if header not in ([h.lower() for h in MANIFEST_HEADER[:2]], list(_LEGACY_HEADER)):
        raise InputFileError("清单文件格式不对", [Problem(
            path, f"第1行应为 {','.join(MANIFEST_HEADER)}（由 template distribute 生成）")])
    out: dict[str, str] = {}
    problems = []
    for no, row in enumerate(rows[1:], start=2):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            if any(c.strip() for c in row):
                problems.append(Problem(f"{path}:{no}", "应有单位和文件名两列"))
            continue
        out[row[1].strip()] = row[0].strip()
    if problems:
        raise InputFileError("清单文件有误", problems)
    return out


def name_unit(file: str, units: tuple[str, ...]) -> str | None:
    """The one campaign unit whose name the file name contains (``None`` when none or several)."""
    stem = Path(file).stem
    hits = [u for u in units if u in stem]
    hits = [u for u in hits if not any(u != o and u in o for o in hits)]  # 晋中市 in 晋中市开发区…
    return hits[0] if len(hits) == 1 else None


@dataclass
class Identity:
    unit: str | None
    problems: list[Problem]
    sources: dict[str, str]


def identify(file: str, shown: str, units: tuple[str, ...], meta_unit: str | None,
             cell_unit: str | None, manifest: dict[str, str] | None) -> Identity:
    """The unit of *file*, or problems (Chinese, naming the file) when the sources disagree."""
    sources: dict[str, str] = {}
    if cell_unit:
        sources["工作簿“基本信息”中的填报单位"] = cell_unit
    if meta_unit:
        sources["模板下发时写入的单位（_meta）"] = meta_unit
    if manifest is not None:
        expected = manifest.get(Path(file).name)
        if expected:
            sources["下发清单 manifest.csv 中此文件的单位"] = expected
    by_name = name_unit(file, units)
    if by_name:
        sources["文件名"] = by_name
    distinct = sorted(set(sources.values()))
    if not distinct:
        return Identity(None, [Problem(shown, "无法确定填报单位：工作簿“基本信息”中的填报单位为空，"
                                              "也不是为某个单位下发的模板；请填写填报单位后重新上报")], sources)
    if len(distinct) > 1:
        said = "；".join(f"{k}为“{v}”" for k, v in sources.items())
        return Identity(None, [Problem(shown, f"填报单位不一致：{said}；请核实是哪个单位的文件")], sources)
    unit = distinct[0]
    if unit not in units:
        return Identity(None, [Problem(shown, f"单位“{unit}”不在本次考核的单位名单中"
                                              f"（{'、'.join(units)}）")], sources)
    return Identity(unit, [], sources)
