"""Open a workbook file without trusting it.

The file is read once into memory (it is never written).  Its kind is sniffed
from the bytes, not the extension: an OLE/CFB file is a legacy ``.xls`` or an
encrypted workbook; a zip must hold ``xl/workbook.xml``.  The workbook part
(sheets, defined names, the 1904 date system), the custom document properties
and — on demand — which cells of a sheet hold formulas are read here with
``zipfile`` and ``xml.etree``; cell values come from python-calamine.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import python_calamine as pc

from ..errors import InputFileError, Problem
from ._refs import col_number

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
MAX_UNPACKED = 256 * 1024 * 1024  # refuse zip bombs before calamine sees them
MAX_XML_PART = 16 * 1024 * 1024


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass(frozen=True)
class Sheet:
    name: str
    state: str  # visible | hidden | veryHidden
    part: str | None  # zip path of the sheet XML


class Workbook:
    """An opened workbook: parts parsed from the zip, values via calamine."""

    def __init__(self, path: str, data: bytes, zf: zipfile.ZipFile):
        self.path = path
        self._zip = zf
        self.sheets: list[Sheet] = []
        self._by_name: dict[str, Sheet] = {}
        self.date1904 = False
        self._names: dict[str, str] = {}  # lower-case name -> reference text (workbook scope)
        self._local_names: dict[str, list[str]] = {}
        self._grids: dict[str, list[list[Any]]] = {}
        self._formulas: dict[str, set[tuple[int, int]]] = {}
        self._parse_workbook()
        self.custom = self._custom_properties()
        try:
            self._cal = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception as exc:  # calamine's errors: zip, xml, password …
            raise _bad(path, f"文件已损坏，无法读取单元格内容（{type(exc).__name__}）") from None

    # -- parts ---------------------------------------------------------------

    def _xml(self, part: str) -> ET.Element | None:
        try:
            info = self._zip.getinfo(part)
        except KeyError:
            return None
        if info.file_size > MAX_XML_PART:
            raise _bad(self.path, f"工作簿内部文件 {part} 过大，疑似损坏")
        try:
            return ET.fromstring(self._zip.read(info))
        except (ET.ParseError, zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise _bad(self.path, f"文件已损坏（{part} 无法解析）") from None

    def _rels(self, part: str) -> dict[str, str]:
        folder, name = posixpath.split(part)
        root = self._xml(posixpath.join(folder, "_rels", name + ".rels"))
        out: dict[str, str] = {}
        if root is None:
            return out
        for rel in root:
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            out[rel.get("Id", "")] = full
        return out

    def _parse_workbook(self) -> None:
        root = self._xml("xl/workbook.xml")
        if root is None:
            raise _bad(self.path, "不是 Excel 工作簿（压缩包中没有 xl/workbook.xml）")
        rels = self._rels("xl/workbook.xml")
        for part in root:  # workbookPr, sheets, definedNames … (any namespace, strict OOXML too)
            tag = _local(part.tag)
            if tag == "workbookPr":
                self.date1904 = part.get("date1904", "0").lower() in ("1", "true")
            elif tag == "sheets":
                for el in part:
                    rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
                    sheet = Sheet(el.get("name", ""), el.get("state", "visible"), rels.get(rid))
                    self.sheets.append(sheet)
                    self._by_name.setdefault(sheet.name, sheet)
            elif tag == "definedNames":
                for el in part:
                    name = el.get("name", "")
                    if not name or name.startswith("_xlnm."):
                        continue
                    text = el.text or ""
                    if el.get("localSheetId") is None:
                        self._names[name.lower()] = text
                    else:
                        self._local_names.setdefault(name.lower(), []).append(text)

    def _custom_properties(self) -> dict[str, str]:
        root = self._xml("docProps/custom.xml")
        out: dict[str, str] = {}
        if root is None:
            return out
        for prop in root:
            if _local(prop.tag) != "property":
                continue
            value = next(iter(prop), None)
            if value is not None:
                out[prop.get("name", "")] = (value.text or "").strip()
        return out

    # -- names and values ------------------------------------------------------

    @property
    def has_names(self) -> bool:
        return bool(self._names or self._local_names)

    def name(self, name: str) -> str | None:
        """The reference text of a defined name (workbook scope first)."""
        key = name.lower()
        if key in self._names:
            return self._names[key]
        local = self._local_names.get(key)
        return local[0] if local and len(local) == 1 else None

    def sheet(self, name: str) -> Sheet | None:
        return self._by_name.get(name)

    def grid(self, sheet: str) -> list[list[Any]]:
        """The sheet's values from A1; empty for a sheet that does not exist."""
        grid = self._grids.get(sheet)
        if grid is None:
            try:
                grid = self._cal.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except pc.WorksheetNotFound:
                grid = []
            except Exception as exc:
                raise _bad(self.path, f"工作表“{sheet}”已损坏，无法读取（{type(exc).__name__}）") from None
            self._grids[sheet] = grid
        return grid

    def value(self, sheet: str, row: int, col: int) -> Any:
        grid = self.grid(sheet)
        if row - 1 < len(grid):
            r = grid[row - 1]
            if col - 1 < len(r):
                return r[col - 1]
        return ""

    def formula_cells(self, sheet: str) -> set[tuple[int, int]]:
        """(row, col) of every cell of *sheet* that holds a formula."""
        found = self._formulas.get(sheet)
        if found is None:
            info = self.sheet(sheet)
            xml = b""
            if info is not None and info.part:
                try:
                    xml = self._zip.read(info.part)
                except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError):
                    pass
            found = self._formulas[sheet] = _formula_refs(xml)
        return found


def _formula_refs(xml: bytes) -> set[tuple[int, int]]:
    """(row, col) of the cells holding a formula in a sheet's XML."""
    total = len(_FORMULA.findall(xml))
    if not total:
        return set()
    # Excel, WPS, LibreOffice and openpyxl write r="…" first and <f> right after
    # the tag: one pass in C.  Anything else: look back from each <f> for its cell.
    quick = _CELL_FORMULA.findall(xml)
    if len(quick) == total:
        return {(int(row), col_number(col.decode())) for col, row in quick}
    found = set()
    for m in _FORMULA.finditer(xml):
        start = _cell_start(xml, m.start())
        ref = _R_ATTR.search(xml, start, xml.find(b">", start)) if start >= 0 else None
        if ref:
            found.add((int(ref.group(2)), col_number(ref.group(1).decode())))
    return found


def _cell_start(xml: bytes, pos: int) -> int:
    """Where the ``<c …>`` tag enclosing *pos* starts (its attributes are short:
    look in a small window first, so many formulas stay linear)."""
    for lo in (max(0, pos - 512), 0):
        start = max(xml.rfind(b"<c ", lo, pos), xml.rfind(b":c ", lo, pos))
        if start >= 0 or lo == 0:
            return start
    return -1


_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_CELL_FORMULA = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c r="\$?([A-Za-z]{1,3})\$?([0-9]+)"[^>]*(?<!/)>\s*'
                           rb'<(?:[A-Za-z_][\w.-]*:)?f[\s>/]')
_R_ATTR = re.compile(rb'\br="\$?([A-Za-z]{1,3})\$?([0-9]+)"')


def _bad(path: str, msg: str) -> InputFileError:
    return InputFileError(f"无法读取工作簿：{path}", [Problem(path, msg)])


def open_workbook(path: str | Path, display: str | None = None) -> Workbook:
    """Open *path* read-only.  Raises :class:`InputFileError` in Chinese."""
    shown = display or str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise _bad(shown, "找不到此文件") from None
    except IsADirectoryError:
        raise _bad(shown, "这是一个目录，不是工作簿文件") from None
    except OSError as exc:
        raise _bad(shown, f"无法读取文件：{exc.strerror or exc}") from None
    return open_bytes(data, shown)


def open_bytes(data: bytes, shown: str) -> Workbook:
    if not data:
        raise _bad(shown, "文件为空（0 字节），不是 Excel 工作簿")
    if data.startswith(OLE_MAGIC):
        if ENCRYPTED_STREAM in data:
            raise _bad(shown, "工作簿已加密（设置了打开密码），无法读取；请取消密码后另存为 .xlsx 再提交")
        raise _bad(shown, "这是旧版 Excel 97-2003（.xls）文件；请在 Excel 或 WPS 中“另存为” Excel 工作簿（.xlsx）后再提交")
    if not data.startswith(b"PK"):
        raise _bad(shown, "不是 Excel 工作簿（.xlsx/.xlsm）文件")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise _bad(shown, "文件已损坏（zip 结构无法解析），请重新保存或重新提交") from None
    if sum(i.file_size for i in infos) > MAX_UNPACKED:
        raise _bad(shown, "文件解压后过大，疑似损坏或不是填报工作簿")
    if any(i.flag_bits & 0x1 for i in infos):
        raise _bad(shown, "工作簿已加密，无法读取；请取消密码后另存为 .xlsx 再提交")
    return Workbook(shown, data, zf)
