"""Open a workbook file without trusting it.

The file is read once into memory (it is never written); a named pipe, a
device or anything but a regular file is refused without waiting on it.  Its
kind is sniffed from the bytes, not the extension: an OLE/CFB file is a legacy
``.xls`` or an encrypted workbook; a zip must hold a workbook part.

Before python-calamine sees anything, the container is parsed here, the way
calamine resolves it (``_rels/.rels`` → the workbook's folder, the workbook's
relationships, case-insensitive part names): bounded entry count, sizes and
compression ratio; every part read is decompressed with its CRC checked and
parsed as XML (DTDs refused); duplicate part or sheet names and broken
relationship targets are errors.  Each sheet the reader will read (``_meta``
and every sheet a defined name points at) is scanned in one pass
(:mod:`._scan`): formula cells, error values, out-of-bounds cells and
dimensions, and — for a plainly written sheet — its cells, decoded when first
read (:mod:`._values`).  Only a sheet with a cell that is not plainly written
is read by calamine, which then opens (once) a copy rebuilt from exactly the
parts that were checked, so it can never read anything else.
"""
from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
import re
from xml.etree.ElementTree import Element, ParseError
from xml.etree.ElementTree import fromstring as plain_fromstring

import python_calamine as pc
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..conventions import META_SHEET
from ..errors import InputFileError, Problem
from ._refs import parse_ref
from ._scan import MEMO_PART, ScanError, SheetScan, by_content, first_attribute, raw_attributes, scan_sheet
from ._values import UNSURE, decode, style_kinds

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
MAX_FILE = 64 * 1024 * 1024  # bytes on disk
MAX_ENTRIES = 4096  # zip entries
MAX_UNPACKED = 256 * 1024 * 1024  # declared, all entries together
MAX_PART = 64 * 1024 * 1024  # one part that is read
MAX_SMALL_PART = 16 * 1024 * 1024  # workbook, relationships, styles, properties (parsed as a tree)
MAX_RATIO = 200  # uncompressed / compressed, for parts over 1 MiB (zip bombs)
MAX_STRINGS = 2_000_000  # shared strings a workbook may declare (calamine reserves that many)
SHEET_STATES = ("visible", "hidden", "veryHidden")
UNPACKED_ENTRIES = 16  # zip entries remembered unpacked, by their stored bytes (least recently used dropped)
_UNPACKED: dict[tuple, bytes] = {}
SHEET_TYPES = ("worksheet", "chartsheet", "dialogsheet")
# a plainly written cell's value by its bytes (and the styles' kinds it was decoded with, kept
# in the entry, and the date system): values are immutable (str, float, bool, date)
DECODED_ENTRIES = 65_536
DECODED_BYTES = 256  # longer values are decoded each time (the memo stays under ~30 MB)
_DECODED: dict[tuple, tuple[Any, Any]] = {}
# Attributes calamine takes as written, without decoding ``&#49;`` or ``&amp;``
# (by local name): the container check must see the same text.
RAW_ATTRIBUTES = {"Relationship": ("Id", "Target", "Type"), "sheet": ("id", "state"), "workbookPr": ("date1904",)}


# no declaration, or one naming UTF-8 (and no byte-order mark, no UTF-16)
_UTF8_DECL = re.compile(rb"""(?!\xef\xbb\xbf|\xff\xfe|\xfe\xff)(?:<\?xml(?:\s+version\s*=\s*["'][^"']*["'])?"""
                        rb"""(?:\s+encoding\s*=\s*["'](?i:utf-?8)["'])?(?:\s+standalone\s*=\s*["'][^"']*["'])?\s*\?>|(?!<\?xml)[^\0]{2})""")


@by_content
def _tree(data: bytes) -> Element:
    """A small part's tree (read only by the callers)."""
    if b"<!" not in data and _UTF8_DECL.match(data):
        return plain_fromstring(data)
    return fromstring(data)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Refused(Exception):
    def __init__(self, msg: str):
        super().__init__(msg)
        self.msg = msg


@dataclass(frozen=True)
class _BookXml:
    """What ``workbook.xml`` says: date system, sheets (name, state, r:id), defined names."""

    date1904: bool
    sheets: tuple[tuple[str, str, str | None], ...]
    names: tuple[tuple[str, str], ...]  # lower-case name -> reference text (workbook scope)
    local_names: dict[str, tuple[str, ...]]
    # what readers derive from these alone (where each input is, which sheets are read), shared
    # by every workbook whose workbook.xml is byte for byte this one
    derived: dict = field(default_factory=dict, compare=False, hash=False, repr=False)


_BOOKS: dict[int, tuple[Element, _BookXml]] = {}  # id(tree) -> (tree, what it says): _tree remembers trees


def _workbook_says(root: Element) -> _BookXml:
    """Read *root* (``workbook.xml``, as calamine takes its elements: wherever
    they are); a tree remembered by content is read once.  Raises
    :class:`_Refused` with the Chinese reason."""
    hit = _BOOKS.get(id(root))
    if hit is not None and hit[0] is root:
        return hit[1]
    date1904 = False
    sheets: list[tuple[str, str, str | None]] = []
    names: dict[str, str] = {}
    local: dict[str, list[str]] = {}
    folded: set[str] = set()
    for el in root.iter():
        tag = _local(el.tag)
        if tag == "workbookPr":  # the last one counts, "1"/"true" only, as in calamine
            date1904 = el.get("date1904") in ("1", "true")
        elif tag == "sheet":
            name = el.get("name", "")
            if not name.strip():
                raise _Refused("工作簿中有一个没有名称的工作表，文件已损坏")
            state = el.get("state", "visible")
            if state not in SHEET_STATES:
                raise _Refused(f"工作表“{name}”的显示状态“{state}”无效，文件已损坏")
            rid = None
            for key, value in el.attrib.items():  # r:id in any namespace; the last one, as in calamine
                if _local(key) == "id":
                    rid = value
            if name.casefold() in folded:
                raise _Refused(f"工作簿中有两个名为“{name}”的工作表（Excel 不允许重名），文件已损坏或被改动")
            folded.add(name.casefold())
            sheets.append((name, state, rid))
        elif tag == "definedName":
            name = el.get("name", "")
            if not name or name.startswith("_xlnm."):
                continue
            text = "".join(el.itertext())
            if el.get("localSheetId") is None:
                if name.lower() in names:
                    raise _Refused(f"名称 {name} 被定义了两次，文件已损坏或被改动")
                names[name.lower()] = text
            else:
                local.setdefault(name.lower(), []).append(text)
    out = _BookXml(date1904, tuple(sheets), tuple(names.items()), {k: tuple(v) for k, v in local.items()})
    if len(_BOOKS) >= 8:
        _BOOKS.pop(next(iter(_BOOKS)))
    _BOOKS[id(root)] = (root, out)
    return out


@dataclass(frozen=True)
class Sheet:
    name: str
    state: str  # visible | hidden | veryHidden
    part: str  # zip path of the sheet XML (as calamine resolves it)


class Workbook:
    """An opened workbook: parts parsed from the zip, values via calamine."""

    def __init__(self, path: str, zf: zipfile.ZipFile, sheets: tuple[str, ...] = (), data: bytes | None = None):
        self.path = path
        self._data = data  # the file's bytes (the zip is read from them)
        self._also = frozenset(sheets)  # sheets read without a defined name (a 核定表's own sheets)
        self._zip = zf
        self._entries = {i.filename.lower(): i for i in zf.infolist()}
        self._checked: dict[str, bytes] = {}  # part (as calamine looks it up) -> bytes handed to calamine
        self.sheets: list[Sheet] = []
        self._by_name: dict[str, Sheet] = {}
        self.date1904 = False
        self._names: dict[str, str] = {}  # lower-case name -> reference text (workbook scope)
        self._local_names: dict[str, list[str]] = {}
        self.derived: dict = {}  # what workbook.xml alone decides (_BookXml.derived)
        self._grids: dict[str, list[list[Any]]] = {}
        self._scans: dict[str, SheetScan] = {}
        self._values: dict[str, dict[tuple[int, int], Any]] = {}  # sheets read without calamine
        self._by_col: dict[str, dict[int, list[int]]] = {}  # sheet -> column -> rows with a cell (rows_in)
        self._kinds: tuple[str, ...] | None = None  # what each cell style makes of a number
        self._cal: Any = None
        self._base = self._package()
        self._parse_workbook()
        self.custom = self._custom_properties()
        self._check_strings_and_styles()
        for sheet in self._needed_sheets():
            self._scan(sheet)
        for sheet in list(self._scans):
            self._plain_values(sheet)

    # -- parts ---------------------------------------------------------------

    def _info(self, part: str) -> zipfile.ZipInfo | None:
        return self._entries.get(part.lower())  # calamine: case-insensitive part names

    def _read(self, part: str, limit: int = MAX_PART) -> bytes | None:
        """The checked bytes of *part* (``None`` when absent); they are what
        calamine will get."""
        info = self._info(part)
        if info is None:
            return None
        key = part.lower()
        if key in self._checked:
            return self._checked[key]
        if info.file_size > limit:
            raise _bad(self.path, f"工作簿内部文件 {part} 过大（{info.file_size // 1024} KB），疑似损坏或不是填报工作簿")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise _bad(self.path, f"工作簿内部文件 {part} 的压缩比异常（疑似“压缩炸弹”），已拒绝读取")
        stored = self._stored(info)
        if stored is not None:
            same = _UNPACKED.pop(stored, None)
            if same is not None:  # byte-for-byte the entry unpacked (and its CRC checked) before
                _UNPACKED[stored] = same
                self._checked[key] = same
                return same
        try:
            with self._zip.open(info) as fh:
                data = fh.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
            raise _bad(self.path, f"文件已损坏（{part} 无法解压或校验失败），请重新保存或重新提交") from None
        if len(data) != info.file_size:
            raise _bad(self.path, f"文件已损坏（{part} 的实际大小与记录不符），请重新保存或重新提交")
        self._checked[key] = data
        if stored is not None:
            while len(_UNPACKED) >= UNPACKED_ENTRIES:
                _UNPACKED.pop(next(iter(_UNPACKED)))
            _UNPACKED[stored] = data
        return data

    def _stored(self, info: zipfile.ZipInfo) -> tuple | None:
        """An entry's compressed bytes as stored (with its method, CRC and size),
        for an entry up to ``MEMO_PART``: equal stored bytes unpack to equal
        parts, so a template's untouched parts are unpacked once per process.
        ``None`` when the local header does not plainly agree with the directory."""
        if self._data is None or info.file_size > MEMO_PART or info.compress_size > MEMO_PART:
            return None
        at = info.header_offset
        head = self._data[at:at + 30]
        if len(head) != 30 or head[:4] != b"PK\x03\x04" or head[6] & 1:
            return None
        n, m = struct.unpack("<HH", head[26:30])
        name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
        if self._data[at + 30:at + 30 + n] != name:
            return None
        start = at + 30 + n + m
        raw = self._data[start:start + info.compress_size]
        if len(raw) != info.compress_size:
            return None
        return raw, info.compress_type, info.CRC, info.file_size

    def _xml(self, part: str) -> Element | None:
        """*part* parsed as a tree.  A part without ``<!`` (so without a DTD,
        hence without entity declarations) in UTF-8 goes to the C parser;
        any other to defusedxml, which refuses DTDs and entities."""
        data = self._read(part, MAX_SMALL_PART)
        if data is None:
            return None
        try:
            return _tree(data)
        except (ParseError, DefusedXmlException, ValueError):
            raise _bad(self.path, f"文件已损坏（{part} 无法解析），请重新保存或重新提交") from None

    def _as_written(self, part: str) -> None:
        """Refuse a character or entity reference in an attribute calamine reads
        as written: ``Target="s&#49;.xml"`` is ``s1.xml`` here but a part named
        ``s&#49;.xml`` to calamine, which could then read a part never checked
        as this sheet."""
        data = self._read(part, MAX_SMALL_PART) or b""
        try:
            tags = raw_attributes(data, frozenset(RAW_ATTRIBUTES))
        except ScanError as exc:
            raise _bad(self.path, f"文件已损坏（{part}：{exc.msg}）") from None
        for tag, attrs in tags:
            for key, value in attrs.items():
                if "&" in value and key.rpartition(":")[2] in RAW_ATTRIBUTES[tag]:
                    raise _bad(self.path, f"文件已损坏或被改动（{part} 中 <{tag}> 的属性 {key} 使用了字符引用"
                                          f"“{value[:60]}”，Excel 不会这样写）")

    def _relationships(self, part: str) -> dict[str, tuple[str, str]] | None:
        """Id -> (Target, Type) of a relationships part, as calamine reads it."""
        root = self._xml(part)
        if root is None:
            return None
        self._as_written(part)
        out: dict[str, tuple[str, str]] = {}
        for el in root.iter():
            if _local(el.tag) == "Relationship" and el.get("Id") is not None:
                target = el.get("Target", "")
                if "\\" in target:
                    raise _bad(self.path, f"文件已损坏（{part} 中的路径“{target}”无效）")
                out[el.get("Id", "")] = (target, el.get("Type", ""))
        return out

    def _package(self) -> str:
        """The workbook's folder, from ``_rels/.rels`` (``xl/``)."""
        rels = self._relationships("_rels/.rels")
        if rels is None:
            if self._info("xl/workbook.xml") is None:
                raise _bad(self.path, "不是 Excel 工作簿（压缩包中没有 xl/workbook.xml）")
            raise _bad(self.path, "文件已损坏（压缩包中没有 _rels/.rels），请重新保存或重新提交")
        target = None
        for tgt, typ in rels.values():
            if typ.endswith("/relationships/officeDocument"):
                target = tgt
        if target is None:
            raise _bad(self.path, "不是 Excel 工作簿（_rels/.rels 中没有指向工作簿的关系）")
        base = target[: target.rfind("/") + 1] if "/" in target else ""
        return base[1:] if base.startswith("/") else base

    def _parse_workbook(self) -> None:
        book = self._base + "workbook.xml"
        root = self._xml(book)
        if root is None:
            raise _bad(self.path, f"不是 Excel 工作簿（压缩包中没有 {book}）")
        self._as_written(book)
        rels_part = self._base + "_rels/workbook.xml.rels"
        rels = self._relationships(rels_part)
        if rels is None:
            raise _bad(self.path, f"文件已损坏（压缩包中没有 {rels_part}），请重新保存或重新提交")
        try:
            said = _workbook_says(root)
        except _Refused as exc:
            raise _bad(self.path, exc.msg) from None
        self.date1904 = said.date1904
        self.derived = said.derived
        for name, state, rid in said.sheets:
            sheet = self._sheet(name, state, rid, rels)
            self.sheets.append(sheet)
            self._by_name[sheet.name] = sheet
        self._names = dict(said.names)
        self._local_names = {k: list(v) for k, v in said.local_names.items()}

    def _sheet(self, name: str, state: str, rid: str | None, rels: dict[str, tuple[str, str]]) -> Sheet:
        if rid is None or rid not in rels:
            raise _bad(self.path, f"工作表“{name}”在工作簿关系中找不到（关系 {rid or '缺失'}），文件已损坏")
        target, typ = rels[rid]
        part = target[1:] if target.startswith("/") else self._base + target
        if typ.rsplit("/", 1)[-1] not in SHEET_TYPES:
            raise _bad(self.path, f"工作表“{name}”的关系类型无效，文件已损坏")
        if self._info(part) is None:
            raise _bad(self.path, f"工作表“{name}”的内容（{part}）在文件中不存在，文件已损坏；请重新保存或重新提交")
        return Sheet(name, state, part)

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

    # -- what calamine gets ------------------------------------------------------

    def _needed_sheets(self) -> list[str]:
        """``_meta`` and every sheet a defined name points at: the sheets read."""
        key = ("needed sheets", self._also)
        hit = self.derived.get(key)
        if hit is None:
            hit = self.derived[key] = self._wanted()
        return hit

    def _wanted(self) -> list[str]:
        wanted = {META_SHEET, *self._also}
        for text in [*self._names.values(), *(t for ts in self._local_names.values() for t in ts)]:
            ref = parse_ref(text)
            if ref is not None:
                wanted.add(ref.sheet)
        return [s.name for s in self.sheets if s.name in wanted]

    def _scan(self, sheet: str) -> None:
        part = self._by_name[sheet].part
        data = self._read(part)
        try:
            self._scans[sheet] = scan_sheet(data or b"")
        except ScanError as exc:
            where = f"{sheet}!{exc.where}" if exc.where else sheet
            raise InputFileError(f"无法读取工作簿：{self.path}", [
                Problem(f"{self.path} {where}", f"工作表“{sheet}”：{exc.msg}")]) from None

    def _check_strings_and_styles(self) -> None:
        for name in ("sharedStrings.xml", "styles.xml"):
            part = self._base + name
            data = self._read(part)
            if data is None:
                continue
            try:
                if name == "styles.xml":
                    self._kinds = style_kinds(data)
                    continue
                count = first_attribute(data, "sst", "uniqueCount")
            except ScanError as exc:
                raise _bad(self.path, f"文件已损坏（{part}：{exc.msg}）") from None
            if count is not None and (not count.isascii() or not count.isdigit() or int(count) > MAX_STRINGS):
                raise _bad(self.path, f"文件已损坏或被改动（{part} 声明的字符串个数“{count[:20]}”无效或超过 {MAX_STRINGS}）")

    def _plain_values(self, sheet: str) -> None:
        """Read *sheet* from its checked XML (:mod:`._values`) when the scan
        kept its cells; each cell is decoded when first asked for."""
        if self._scans[sheet].raw is not None:
            self._values[sheet] = {}

    def _decoded(self, sheet: str, values: dict[tuple[int, int], Any], rc: tuple[int, int]) -> Any:
        """The value of one cell of a sheet read without calamine; a cell that
        is not plainly written hands the whole sheet to calamine."""
        raw = self._scans[sheet].raw.get(rc)  # type: ignore[union-attr]
        if raw is None:
            return ""
        key = (raw, self.date1904)
        hit = _DECODED.get(key)  # the same cell bytes recur in every workbook of a batch
        if hit is not None and hit[0] is self._kinds:
            value = hit[1]
        else:
            value = decode(raw[0], raw[1], raw[2], self._kinds, self.date1904)
            if len(raw[1]) + len(raw[2]) <= DECODED_BYTES:
                if len(_DECODED) >= DECODED_ENTRIES:
                    _DECODED.clear()
                _DECODED[key] = (self._kinds, value)
        if value is UNSURE:
            del self._values[sheet]
            return self.value(sheet, *rc)
        values[rc] = value
        return value

    def _calamine(self) -> Any:
        """calamine on a copy of the checked parts (opened once, when a sheet needs it)."""
        if self._cal is None:
            self._cal = self._open_calamine()
            self._checked = {}  # calamine holds its copy
        return self._cal

    def _open_calamine(self) -> Any:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            for part, data in self._checked.items():
                zf.writestr(part, data)
        try:
            cal = pc.CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue()))
        except Exception as exc:  # calamine's errors: xml, relationships …
            raise _bad(self.path, f"文件已损坏，无法读取单元格内容（{type(exc).__name__}）") from None
        if list(cal.sheet_names) != [s.name for s in self.sheets]:
            raise _bad(self.path, "文件已损坏（工作表名称无法一致地读出），请重新保存或重新提交")
        return cal

# -- names and values ------------------------------------------------------

    @property
    def has_names(self) -> bool:
        return bool(self._names or self._local_names)

    def name(self, name: str) -> str | None:
        """The reference text of a workbook-scoped defined name (the template's
        names are all workbook-scoped; a sheet-scoped one is not used)."""
        return self._names.get(name.lower())

    def local_name(self, name: str) -> str | None:
        """The reference text of a sheet-scoped name, when exactly one exists."""
        local = self._local_names.get(name.lower())
        return local[0] if local and len(local) == 1 else None

    def sheet(self, name: str) -> Sheet | None:
        return self._by_name.get(name)

    def grid(self, sheet: str) -> list[list[Any]]:
        """The sheet's values from A1; empty for a sheet that does not exist."""
        grid = self._grids.get(sheet)
        if grid is None:
            if sheet not in self._by_name:
                return []
            if sheet not in self._scans:  # every sheet read is scanned when the file is opened
                raise KeyError(f"sheet {sheet!r} was not scanned")
            values = self._values.get(sheet)
            if values is not None:
                for rc in self._scans[sheet].raw:  # type: ignore[union-attr]
                    if rc not in values:
                        self._decoded(sheet, values, rc)
                        if sheet not in self._values:  # handed to calamine
                            return self.grid(sheet)
                self._grids[sheet] = grid = _dense({k: v for k, v in values.items() if v != ""})
                return grid
            cal = self._calamine()  # its own Chinese error when calamine cannot open the copy
            try:
                grid = cal.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except Exception as exc:
                raise _bad(self.path, f"工作表“{sheet}”已损坏，无法读取（{type(exc).__name__}）") from None
            self._grids[sheet] = grid
        return grid

    def value(self, sheet: str, row: int, col: int) -> Any:
        values = self._values.get(sheet)
        if values is not None:
            try:
                return values[(row, col)]
            except KeyError:
                return self._decoded(sheet, values, (row, col))
        grid = self.grid(sheet)
        if row - 1 < len(grid):
            r = grid[row - 1]
            if col - 1 < len(r):
                return r[col - 1]
        return ""

    def cells_with_content(self, sheet: str) -> dict[tuple[int, int], Any] | None:
        """The (row, col) of every cell of *sheet* that may hold a value (any
        other cell is empty), when it is read without calamine; else ``None``."""
        scan = self._scans.get(sheet)
        return scan.raw if sheet in self._values and scan is not None else None

    def rows_in(self, sheet: str, cols: set[int]) -> list[int] | None:
        """The rows (ascending) where a cell of *cols* may hold a value: every
        other cell of them reads as ``""``.  ``None`` when the sheet is read by
        calamine (then any row may)."""
        scan = self._scans.get(sheet)
        if sheet not in self._values or scan is None or scan.raw is None:
            return None
        by_col = self._by_col.get(sheet)
        if by_col is None:  # once per sheet: the rows of each column's cells
            by_col = self._by_col[sheet] = {}
            for r, c in scan.raw:
                by_col.setdefault(c, []).append(r)
        if len(cols) == 1:
            return sorted(by_col.get(next(iter(cols)), ()))
        return sorted({r for c in cols for r in by_col.get(c, ())})

    def formula_cells(self, sheet: str) -> set[tuple[int, int]]:
        """(row, col) of every cell of *sheet* that holds a formula."""
        found = self._scans.get(sheet)
        return found.formulas if found is not None else set()

    def error_value(self, sheet: str, row: int, col: int) -> str | None:
        """The error value (``#N/A``) a cell holds (``t="e"``), which calamine
        reads as ``""``; ``None`` for any other cell."""
        found = self._scans.get(sheet)
        return found.errors.get((row, col)) if found is not None else None


def _dense(values: dict[tuple[int, int], Any]) -> list[list[Any]]:
    """Values by (row, col) as calamine's grid from A1 (``""`` for empty cells)."""
    if not values:
        return []
    rows = max(r for r, _ in values)
    cols = max(c for _, c in values)
    grid = [[""] * cols for _ in range(rows)]
    for (r, c), v in values.items():
        grid[r - 1][c - 1] = v
    return grid


def _bad(path: str, msg: str) -> InputFileError:
    return InputFileError(f"无法读取工作簿：{path}", [Problem(path, msg)])


def _read_file(path: str | Path, shown: str) -> bytes:
    """The bytes of a regular file; a pipe or device is refused, not waited on."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise _bad(shown, "找不到此文件") from None
    except IsADirectoryError:
        raise _bad(shown, "这是一个目录，不是工作簿文件") from None
    except PermissionError:
        raise _bad(shown, "没有读取此文件的权限") from None
    except OSError as exc:
        raise _bad(shown, f"无法读取文件（{type(exc).__name__}）") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise _bad(shown, "这是一个目录，不是工作簿文件")
        if not stat.S_ISREG(st.st_mode):
            raise _bad(shown, "不是普通文件（是命名管道、设备或套接字），已拒绝读取；请提交 .xlsx 工作簿文件")
        if st.st_size > MAX_FILE:
            raise _bad(shown, f"文件过大（{st.st_size // (1024 * 1024)} MB，上限 {MAX_FILE // (1024 * 1024)} MB），"
                              "不是填报工作簿")
        try:  # what the file holds (a request of MAX_FILE would allocate that much each time)
            data = fh.read(min(st.st_size, MAX_FILE) + 1)
            if len(data) > st.st_size:  # it grew while being read: the rest, up to the bound
                data += fh.read(MAX_FILE + 1 - len(data))
        except OSError as exc:
            raise _bad(shown, f"无法读取文件（{type(exc).__name__}）") from None
    if len(data) > MAX_FILE:
        raise _bad(shown, f"文件过大（上限 {MAX_FILE // (1024 * 1024)} MB），不是填报工作簿")
    return data


def open_workbook(path: str | Path, display: str | None = None, sheets: tuple[str, ...] = ()) -> Workbook:
    """Open *path* read-only.  Raises :class:`InputFileError` in Chinese.
    Besides ``_meta`` and the sheets defined names point at, *sheets* are
    checked and read too (a workbook read by position, not by name)."""
    shown = display or str(path)
    return open_bytes(_read_file(path, shown), shown, sheets)


def open_bytes(data: bytes, shown: str, sheets: tuple[str, ...] = ()) -> Workbook:
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
    if len(infos) > MAX_ENTRIES:
        raise _bad(shown, f"文件已损坏或不是填报工作簿（压缩包中有 {len(infos)} 个部件，上限 {MAX_ENTRIES}）")
    seen: set[str] = set()
    for info in infos:
        key = info.filename.lower()
        if "\\" in info.filename or key in seen:
            raise _bad(shown, f"文件已损坏或被改动（压缩包中的部件名“{info.filename}”重复或无效）")
        seen.add(key)
    if sum(i.file_size for i in infos) > MAX_UNPACKED:
        raise _bad(shown, "文件解压后过大，疑似损坏或不是填报工作簿")
    if any(i.flag_bits & 0x1 for i in infos):
        raise _bad(shown, "工作簿已加密，无法读取；请取消密码后另存为 .xlsx 再提交")
    return Workbook(shown, zf, sheets, data)
