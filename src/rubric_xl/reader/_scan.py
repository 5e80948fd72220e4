"""Scan XML parts without trusting them: safe expat, and a worksheet's cells as
python-calamine positions them.

Worksheets are scanned with expat callbacks (one linear pass, nothing kept but
cell positions).  ``defusedxml``'s ElementTree wrapper would do the same job
with the pure-Python parser, five times slower on a 3 MB ledger sheet; the
parser made here applies the same protections: a document type declaration
(the only place entities can be declared) is refused, so no entity is ever
expanded and no external resource is ever fetched.

Cell positions follow calamine (``xlsx/cells_reader.rs``), because calamine
reads the values: a ``<row r>`` sets the current row; a ``<c r>`` has that
position and moves the column cursor; a ``<c>`` without ``r`` takes the
cursor's position; each ``<c>`` advances the column by one and each
``</row>`` advances the row and resets the column.  Names are matched by
local name (the prefix is ignored), as calamine does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable
from xml.parsers import expat

from ._refs import col_letters as letters, col_number

# Bounds of every sheet the reader reads.  A template's largest sheet is the
# ledger (20 columns, 502 rows); the bounds leave room for inserted rows and
# columns while keeping calamine's dense grid small (≤ 2 million cells).
MAX_ROWS = 10_000
MAX_COLS = 200
MAX_CELLS = 400_000  # <c> elements in one sheet (the ledger template has 10,000)
_CELL = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")


MEMO_PART = 1024 * 1024  # parts up to this size are remembered by content
MEMO_ENTRIES = 8  # per function, least recently used dropped first


def by_content(fn: Callable[..., Any]) -> Callable[..., Any]:
    """*fn* of a part's bytes (and hashable arguments), remembered for a part
    byte-for-byte equal to one checked before: the template's parts recur in
    every workbook of a batch.  Only results are kept (a part that raises is
    checked again each time); the results must not be changed by callers."""
    cache: dict[tuple, Any] = {}

    def wrapped(data: bytes, *args: Any) -> Any:
        if len(data) > MEMO_PART:
            return fn(data, *args)
        key = (data, *args)
        try:
            out = cache[key] = cache.pop(key)  # the most recently used last
            return out
        except KeyError:
            pass
        out = fn(data, *args)
        try:
            while len(cache) >= MEMO_ENTRIES:
                cache.pop(next(iter(cache)))
        except (KeyError, RuntimeError, StopIteration):  # another thread got there first
            pass
        cache[key] = out
        return out

    wrapped.__doc__, wrapped.__name__, wrapped.__wrapped__ = fn.__doc__, fn.__name__, fn  # type: ignore[attr-defined]
    return wrapped


class ScanError(Exception):
    """A part that cannot be read safely.  ``where`` is a cell (``D28``), or ``""``."""

    def __init__(self, msg: str, where: str = ""):
        super().__init__(msg)
        self.msg = msg
        self.where = where


_SEEN_CELLS: dict[str, tuple[int, int] | None] = {}  # the same references recur in every workbook


def parse_cell(text: str) -> tuple[int, int] | None:
    """``D28`` → (28, 4), 1-based; ``None`` unless plain letters then digits."""
    try:
        return _SEEN_CELLS[text]
    except KeyError:
        pass
    m = _CELL.fullmatch(text)
    rc = None
    if m and int(m.group(2)) >= 1:
        rc = (int(m.group(2)), col_number(m.group(1)))
    if len(_SEEN_CELLS) < 200_000:
        _SEEN_CELLS[text] = rc
    return rc


def safe_parser() -> expat.XMLParserType:
    """An expat parser that refuses DTDs (hence entity declarations) and never
    resolves external entities.  Names stay as written (``x:c``): calamine
    matches local names and ignores namespaces, and so do the callers."""
    p = expat.ParserCreate()

    def refuse(*_args):
        raise ScanError("含有文档类型声明（DTD）或实体，不是 Excel 写出的内容")

    def declaration(_version, encoding, _standalone):
        if encoding and encoding.lower().replace("-", "") != "utf8":
            raise ScanError(f"使用了 {encoding[:20]} 编码（Excel 写出的内容都是 UTF-8）")

    p.XmlDeclHandler = declaration
    p.StartDoctypeDeclHandler = refuse
    p.EntityDeclHandler = refuse
    p.UnparsedEntityDeclHandler = refuse
    p.ExternalEntityRefHandler = refuse
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return p


def parse(data: bytes, parser: expat.XMLParserType) -> None:
    """Feed *data* to *parser*; malformed XML becomes a :class:`ScanError`."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\0" in data[:64]:
        raise ScanError("不是 UTF-8 编码的 XML（Excel 写出的内容都是 UTF-8）")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ScanError(f"XML 格式错误（第{exc.lineno}行第{exc.offset + 1}列）") from None


def check_xml(data: bytes) -> None:
    """Only that *data* is well-formed XML without DTD or entities."""
    parse(data, safe_parser())


def first_attribute(data: bytes, element: str, attribute: str) -> str | None:
    """The *attribute* of the first element named *element* (local name),
    after checking the whole part is well-formed."""
    found: list[str | None] = []

    def start(name, attrs):
        if name.rpartition(":")[2] == element:
            found.append(attrs.get(attribute))
            p.StartElementHandler = None  # the rest only has to be well-formed

    p = safe_parser()
    p.StartElementHandler = start
    parse(data, p)
    return found[0] if found else None


_ATTRIBUTE = re.compile(r"""([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@by_content
def raw_attributes(data: bytes, elements: frozenset[str]) -> list[tuple[str, dict[str, str]]]:
    """(local name, attributes as written) of every start tag named one of
    *elements*: character and entity references are *not* decoded, because
    calamine reads some attributes (relationship targets, ``r:id`` …) that way.
    *data* must be well-formed (checked by the same pass)."""
    starts: list[tuple[str, int]] = []

    def start(name, _attrs):
        local = name.rpartition(":")[2]
        if local in elements:
            starts.append((local, p.CurrentByteIndex))

    p = safe_parser()
    p.StartElementHandler = start
    parse(data, p)
    out = []
    for local, at in starts:
        i, quote = at, None  # the tag ends at the first ">" outside a quoted value
        while True:
            ch = data[i:i + 1]
            if quote:
                if ch == quote:
                    quote = None
            elif ch in (b'"', b"'"):
                quote = ch
            elif ch == b">" or not ch:
                break
            i += 1
        tag = data[at:i].decode("utf-8")
        out.append((local, {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                            for m in _ATTRIBUTE.finditer(tag)}))
    return out


@dataclass
class SheetScan:
    """What a worksheet part holds: formula cells and the used extent (1-based)."""

    formulas: set[tuple[int, int]] = field(default_factory=set)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # cells holding an error value (t="e")
    # the byte-level pass only: (attributes, <v> element, <is> element) of every cell with content
    # (a cell whose <v/> is empty holds none: it reads as "", as in calamine)
    raw: dict[tuple[int, int], tuple[bytes, bytes, bytes]] | None = None
    rows: int = 0
    cols: int = 0
    cells: int = 0


def _bounds_error(row: int, col: int) -> ScanError:
    return ScanError(f"单元格 {letters(col)}{row} 超出模板的范围（最多 {MAX_ROWS} 行、{MAX_COLS} 列，"
                     f"即 A1:{letters(MAX_COLS)}{MAX_ROWS}）；请删除该单元格的内容后重新提交",
                     f"{letters(col)}{row}")


def _range(ref: str | None, what: str) -> tuple[int, int, int, int]:
    """``A1:B5`` (or ``A1``) within the bounds → (row1, col1, row2, col2)."""
    if ref is None:
        raise ScanError(f"{what}缺少 ref，文件已损坏")
    parts = ref.split(":")
    cells = [parse_cell(p) for p in parts]
    if len(parts) > 2 or any(c is None for c in cells):
        raise ScanError(f"{what}“{ref}”无效，文件已损坏")
    (r1, c1), (r2, c2) = cells[0], cells[-1]  # type: ignore[misc]
    if max(r1, r2) > MAX_ROWS or max(c1, c2) > MAX_COLS:
        raise ScanError(f"{what} {ref} 超出模板的范围（最多 {MAX_ROWS} 行、{MAX_COLS} 列，"
                        f"即 A1:{letters(MAX_COLS)}{MAX_ROWS}）；请删除范围之外的单元格后重新提交", ref)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _dimension(ref: str | None) -> None:
    _range(ref, "已用区域")


@by_content
def scan_sheet(data: bytes) -> SheetScan:
    """Scan a worksheet part: the byte-level pass (:func:`fast_scan`) when the
    part is written the plain way Excel, WPS and openpyxl write it, otherwise
    (and for every part that breaks a rule, to say which) the expat pass."""
    return fast_scan(data) or full_scan(data)


def full_scan(data: bytes) -> SheetScan:
    """Scan a worksheet part in one linear pass (expat callbacks).  Raises :class:`ScanError` for
    malformed XML, a DTD, an invalid or out-of-bounds reference or dimension,
    a cell that appears twice and a cell child calamine would reject.  Every cell
an array formula or data table covers counts as a formula cell (only its
first cell holds the ``<f>``; the others hold just the cached result).  A
shared formula's cells each hold an ``<f>`` (the first with the text and the
range, which must be within the bounds): each is a formula cell, whatever its
``si``."""
    out = SheetScan()
    seen: set[int] = set()  # row << 14 | col of every cell
    formulas = out.formulas
    phase = 0  # 0 before <sheetData>, 1 inside, 2 after
    row0 = col0 = 0  # calamine's cursor, 0-based
    depth = -1  # inside a <c>: element depth below it; -1 outside
    crow = ccol = 0  # the open cell, 1-based
    rows = cols = 0  # the extent
    formula = False
    error = False  # the open cell is t="e"
    text: list[str] = []  # the open error cell's <v> text

    def start(name, attrs):
        nonlocal phase, row0, col0, depth, crow, ccol, formula, error
        if depth >= 0:  # inside a <c>: only its direct children matter
            if depth == 0:
                if ":" in name:
                    name = name[name.index(":") + 1:]
                if name == "f":
                    formula = True
                    kind = attrs.get("t")
                    if kind == "array" or kind == "dataTable":  # its other cells hold only a cached <v>
                        spill(attrs.get("ref"), f"{letters(ccol)}{crow}")
                    elif kind == "shared" and attrs.get("ref") is not None:  # the cells below hold <f si>
                        anchor = f"{letters(ccol)}{crow}"
                        try:
                            _range(attrs["ref"], f"单元格 {anchor} 的共享公式范围")
                        except ScanError as exc:
                            raise ScanError(exc.msg, anchor) from None
                elif name == "v":
                    if error:
                        text.clear()
                        p.CharacterDataHandler = text.append
                elif name != "is":
                    raise ScanError(f"单元格 {letters(ccol)}{crow} 中有无法识别的内容 <{name}>，文件已损坏",
                                    f"{letters(ccol)}{crow}")
            depth += 1
            return
        if ":" in name:
            name = name[name.index(":") + 1:]
        if phase == 1:
            if name == "c":
                r = attrs.get("r")
                if r is None:
                    crow, ccol = row0 + 1, col0 + 1
                else:
                    rc = parse_cell(r)
                    if rc is None:
                        raise ScanError(f"单元格引用“{r}”无效，文件已损坏", r)
                    crow, ccol = rc
                    col0 = ccol - 1
                if crow > MAX_ROWS or ccol > MAX_COLS:
                    raise _bounds_error(crow, ccol)
                depth = 0
                formula = False
                error = attrs.get("t") == "e"
            elif name == "row":
                r = attrs.get("r")
                if r is not None:
                    if not (r.isascii() and r.isdigit() and len(r) <= 7) or int(r) < 1:
                        raise ScanError(f"行号“{r}”无效，文件已损坏")
                    row0 = int(r) - 1  # a row without cells is harmless: cells are checked
        elif phase == 0:
            if name == "dimension":
                _dimension(attrs.get("ref"))
            elif name == "sheetData":
                phase = 1

    def end(name):
        nonlocal phase, row0, col0, depth, rows, cols
        if depth > 0:
            depth -= 1
            if depth == 0 and p.CharacterDataHandler is not None:  # </v> of an error cell
                p.CharacterDataHandler = None
                value = "".join(text).strip()
                if 0 < len(value) <= 16:
                    out.errors[(crow, ccol)] = value
            return
        if depth == 0:  # </c>
            depth = -1
            key = crow << 14 | ccol
            if key in seen:
                raise ScanError(f"单元格 {letters(ccol)}{crow} 出现了两次，文件已损坏或被改动", f"{letters(ccol)}{crow}")
            seen.add(key)
            if len(seen) > MAX_CELLS:
                raise ScanError(f"单元格过多（超过 {MAX_CELLS} 个），不是填报工作簿")
            if formula:
                formulas.add((crow, ccol))
            if crow > rows:
                rows = crow
            if ccol > cols:
                cols = ccol
            col0 += 1
            return
        if phase == 1:
            if ":" in name:
                name = name[name.index(":") + 1:]
            if name == "row":
                row0 += 1
                col0 = 0
            elif name == "sheetData":
                phase = 2
                p.StartElementHandler = p.EndElementHandler = None  # the rest only has to be well-formed

    spilled = [0]

    def spill(ref: str | None, anchor: str) -> None:
        r1, c1, r2, c2 = _range(ref or anchor, f"单元格 {anchor} 的数组公式范围")
        spilled[0] += (r2 - r1 + 1) * (c2 - c1 + 1)
        if spilled[0] > MAX_CELLS:
            raise ScanError(f"数组公式覆盖的单元格过多（超过 {MAX_CELLS} 个），不是填报工作簿", anchor)
        formulas.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))

    p = safe_parser()
    p.StartElementHandler = start
    p.EndElementHandler = end
    parse(data, p)
    if phase == 0:  # calamine would read no cells at all: every input would silently be blank
        raise ScanError("内容不是工作表（没有 sheetData），文件已损坏；请重新保存或重新提交")
    out.cells, out.rows, out.cols = len(seen), rows, cols
    return out


# -- the byte-level pass ------------------------------------------------------------------------
#
# Excel, WPS and openpyxl write a worksheet the same plain way: no comments,
# CDATA or processing instructions, no prefixes on the elements up to the end
# of <sheetData>, every <row> and <c> with ``r`` first, attribute values in
# double quotes without references, and a cell holding at most an <f> then a
# <v> or an <is>.  For such a part, once expat (C, no Python callbacks) has
# checked it is well-formed and has no DTD, every "<" starts a tag, so the
# regular expressions below see exactly the elements expat sees, and the cells
# they find are the cells the expat pass finds.  The part is checked in pieces
# (:func:`fast_scan`): the part without its rows once per template, then the
# rows not yet remembered in one run, each then well-formed on its own, and
# every row read remembered by its bytes.  Whatever does not fit that shape — or breaks any rule — goes to the
# expat pass, which decides (and words the error).  ``tests/test_reader_values.py``
# and ``tests/test_scan_rows.py`` check both agree.

_ATTRS = rb'(?:[ \t\r\n]+[A-Za-z_][\w.:-]*="[^"&<]*")*'
_CELL_RX = re.compile(
    rb'<c r="([A-Z]{1,3}[1-9][0-9]{0,6})"(' + _ATTRS + rb')[ \t\r\n]*(?:/>|>'
    rb'(?:(<f)(' + _ATTRS + rb')[ \t\r\n]*(?:/>|>[^<]*</f>))?'
    rb'(<v[ \t\r\n]*/>|<v>[^<]*</v>)?(<is>[^<]*(?:<(?!/?(?:is|c|row|sheetData|v|f)[ \t\r\n/>])[^<]*)*</is>)?</c>)')
_ROW_RX = re.compile(rb'<row r="[1-9][0-9]{0,6}"' + _ATTRS + rb'[ \t\r\n]*/?>')
# every start of a cell or row tag, and whatever is not plain: comments, CDATA, a DTD,
# processing instructions, prefixed elements (counted against what the expressions above match)
_OPENS = re.compile(rb"<(?:c|row)[ \t\r\n/>]")  # every start of a cell or row tag
_ODD = re.compile(rb"<(?:[!?]|/?[^ \t\r\n/><]*:)")  # whatever is not plain (no "<" in a name: linear)
_DIM_RX = re.compile(rb'<dimension(' + _ATTRS + rb')[ \t\r\n]*/?>')
_DIM_OPEN = re.compile(rb"<dimension[ \t\r\n/>]")
_REF_ATTR = re.compile(rb'[ \t\r\n]ref="([^"]*)"')
_ERROR_T = re.compile(rb'[ \t\r\n]t="e"')
_KIND_T = re.compile(rb'[ \t\r\n]t="(array|dataTable|shared)"')  # of an <f>
_SHEET_DATA = re.compile(rb"<sheetData[ \t\r\n]*/?>")
_DECLARATION = re.compile(rb'<\?xml[ \t\r\n][^<>]*\?>')
# in the rows: another <sheetData> (calamine and the expat pass stop at its end), or a row's
# end tag written with space (``</row >``: the rows are split at ``</row>`` only)
_MISPLACED = re.compile(rb"</?sheetData[ \t\r\n/>]|</row[^>]")


_EMPTY_V = (b"/", b" ", b"\t", b"\r", b"\n")  # the third byte of an empty <v/> (<v>…</v> has ">")
CELL_T = re.compile(rb'[ \t\r\n]t="([^"]*)"')  # a cell's type (also read by ._values)
CELL_TYPES = frozenset({b"n", b"s", b"str", b"b", b"e", b"d", b"inlineStr"})  # the types Excel writes
_EMPTY_READS_BLANK = CELL_TYPES - {b"inlineStr"}  # types an empty <v/> leaves blank


def _holds_nothing(attrs: bytes) -> bool:
    """A cell of these attributes whose <v/> is empty reads as "" (calamine
    refuses an unknown type, and an inline string with a <v>, whole sheets)."""
    if b't="' not in attrs:
        return True
    m = CELL_T.search(attrs)
    return m is None or m.group(1) in _EMPTY_READS_BLANK


_SEEN_REFS: dict[bytes, tuple[int, int]] = {}  # b"D28" -> (28, 4): the same cells recur in every workbook


class _Rows:
    """What one ``<row>`` element holds (the byte-level pass's unit): its row
    number, the position of every cell (in document order, all in that row),
    the formula cells, the cells with content as (attributes, <v>, <is>), the
    error values and the extent."""

    __slots__ = ("row", "rcs", "formulas", "raw", "errors", "rows", "cols")

    def __init__(self, row: int):
        self.row = row
        self.rcs: list[tuple[int, int]] = []
        self.formulas: set[tuple[int, int]] = set()
        self.raw: dict[tuple[int, int], tuple[bytes, bytes, bytes]] = {}
        self.errors: dict[tuple[int, int], str] = {}
        self.rows = self.cols = 0


def _read_rows(pieces: list[bytes], numbers: list[int]) -> list[_Rows] | None:
    """The cells of each piece (a ``<row>`` element without its ``</row>``,
    numbered *numbers*), read together in one run, or ``None`` when the run
    is not plainly written, not well-formed on its own or breaks a rule
    (a cell outside its row's number, a row number twice).  Each piece's
    result depends on its bytes alone: every cell carries its ``r``."""
    chunk = b"</row>".join(pieces)
    if _ODD.search(chunk):
        return None
    try:  # balanced content ending inside an open <row>, under one root: well-formed on its own
        parse(b"<x>" + chunk + b"</row></x>", safe_parser())
    except ScanError:
        return None
    opens = len(_OPENS.findall(chunk))
    # each piece's cells matched in the piece itself (no match can span a </row>: an inline
    # string holds no row tag), so each cell is checked against the row it really sits in
    found = [_CELL_RX.findall(piece) for piece in pieces]
    cells = sum(map(len, found))
    if cells + len(_ROW_RX.findall(chunk)) != opens or cells > MAX_CELLS:
        return None
    if len(set(numbers)) != len(numbers):  # a row number twice
        return None
    out = [_Rows(n) for n in numbers]
    known = _SEEN_REFS
    for run, matched in zip(out, found):
        number = run.row
        for ref, attrs, f, fattrs, v, inline in matched:
            rc = known.get(ref)
            if rc is None:
                rc = parse_cell(ref.decode("ascii"))
                if rc is None:
                    return None
                if len(known) < 200_000:
                    known[ref] = rc
            if rc[0] != number:  # a cell outside its own row (Excel never writes one): the expat pass
                return None
            run.rcs.append(rc)
            if f:
                kind = _KIND_T.search(fattrs) if b't="' in fattrs else None
                if kind is not None and kind.group(1) == b"shared" and b"ref=" not in fattrs:
                    pass  # a follower of a shared formula (<f t="shared" si="0"/>): a formula cell
                elif kind is not None and kind.group(1) == b"array":
                    # an array formula of this one cell (the templates' error-safe roll-ups) is
                    # read as any formula cell; one spanning several cells goes to calamine
                    m = _REF_ATTR.search(fattrs)
                    if m is None or m.group(1) != ref:
                        return None
                elif kind is not None:
                    if kind.group(1) != b"shared":  # a data table
                        return None
                    m = _REF_ATTR.search(fattrs)  # a shared formula's range is within the bounds
                    if m is not None:
                        try:
                            _range(m.group(1).decode("utf-8"), "")
                        except ScanError:
                            return None  # the expat pass words the error
                run.formulas.add(rc)
            if inline or (v and (v[2:3] not in _EMPTY_V or not _holds_nothing(attrs))):  # <v/> holds nothing
                run.raw[rc] = (attrs, v, inline)
                if b'"e"' in attrs and v.startswith(b"<v>") and _ERROR_T.search(attrs):
                    if b"&" in v or b"\r" in v:  # a reference, or a CR expat reads as LF: the expat pass
                        return None
                    value = v[3:-4].decode("utf-8").strip()
                    if 0 < len(value) <= 16:
                        run.errors[rc] = value
    for run in out:
        if run.rcs:
            if len(set(run.rcs)) != len(run.rcs):  # a cell twice (a reference is written one way only)
                return None
            run.rows, run.cols = run.row, max(map(itemgetter(1), run.rcs))
    return out


# Rows recur byte for byte in every workbook of a batch made from one template (the
# prepared rows of a ledger, a rubric's headings and common answers): each row read is
# remembered by its bytes, and a sheet's rows not remembered are read together in one run.
ROW_MEMO = 16_384  # rows remembered, the oldest dropped first
ROW_MEMO_BYTES = 4096  # longer rows are not remembered
# how the text before each </row> starts: a <row> start tag (after rows without cells), whose
# number is group 1.  Read together, rows starting so are each well-formed on their own when
# their run is (each closes what it opens: the </row> after it must close its own <row>), so
# a remembered row sits in <sheetData> as it does in the part it was read from, never in a cell
_ROW_START = re.compile(rb'[ \t\r\n]*(?:<row r="[1-9][0-9]{0,6}"' + _ATTRS + rb'[ \t\r\n]*/>[ \t\r\n]*)*'
                        rb'<row r="([1-9][0-9]{0,6})"' + _ATTRS + rb'[ \t\r\n]*>')
_ROW_DONE: dict[bytes, _Rows] = {}


def _bounded(memo: dict) -> None:
    try:
        while len(memo) >= ROW_MEMO:
            memo.pop(next(iter(memo)))
    except (KeyError, RuntimeError, StopIteration):  # another thread got there first
        pass


@by_content
def _frame(data: bytes) -> bool:
    """A worksheet part with its rows taken out (``…<sheetData></sheetData>…``)
    is well-formed and has no DTD: the same for every workbook of a template."""
    try:
        parse(data, safe_parser())
    except ScanError:
        return False
    return True


def fast_scan(data: bytes) -> SheetScan | None:
    """What :func:`full_scan` returns for a plainly written, valid worksheet
    part, found at the byte level; ``None`` when the part is written another
    way or breaks a rule (the caller then runs :func:`full_scan`).

    The part is checked in pieces: the part without its rows (expat), then
    the rows not remembered, together (:func:`_read_rows`), each of which is
    then well-formed on its own; rows inserted into ``<sheetData>`` of a
    well-formed part leave it well-formed.  Each row read is remembered."""
    start = data.find(b"<sheetData")
    if start < 0 or data[start + 10:start + 11] not in (b">", b"/", b" ", b"\t", b"\r", b"\n"):
        return None
    opened = data.find(b">", start)  # the end of the <sheetData> tag: written without attributes
    if opened < 0 or not _SHEET_DATA.fullmatch(data, start, opened + 1):
        return None  # (a ">" may hide in an attribute): the expat pass
    if data[opened - 1:opened] == b"/":  # <sheetData/>: no rows, and no end tag anywhere
        return _whole(data, start) if data.find(b"</sheetData", opened) < 0 else None
    end = data.find(b"</sheetData>", opened)
    if end < 0:  # no end tag, or one written another way (</sheetData >): the expat pass
        return None
    head, body = data[:opened + 1], data[opened + 1:end]
    if _ODD.search(head, _declared(head)) or _OPENS.search(head) or _MISPLACED.search(body) \
            or not _frame(head + data[end:]):
        return None
    if not _dimensions_ok(head):
        return None
    pieces = body.split(b"</row>")
    if pieces.pop().strip(b" \t\r\n"):  # anything but white space after the last row: the expat pass decides
        return None
    runs: list[_Rows] = []
    fresh: list[bytes] = []
    numbers: list[int] = []
    done = _ROW_DONE
    start_row = _ROW_START.match
    for piece in pieces:
        hit = done.get(piece)
        if hit is not None:
            runs.append(hit)
            continue
        m = start_row(piece)
        if m is None:
            return None
        fresh.append(piece)
        numbers.append(int(m.group(1)))
    if fresh:
        got = _read_rows(fresh, numbers)
        if got is None:
            return None
        runs += got
        for piece, run in zip(fresh, got):
            if len(piece) <= ROW_MEMO_BYTES:
                _bounded(done)
                done[piece] = run
    return _joined(runs)


def _declared(data: bytes) -> int:
    """Where the part's text after its XML declaration starts (0 without one):
    the only ``<?`` allowed, and only at the very start."""
    m = _DECLARATION.match(data)
    return m.end() if m else 0


def _dimensions_ok(head: bytes) -> bool:
    """Every ``<dimension>`` before the rows plainly written, its range within the bounds."""
    dims = _DIM_RX.findall(head)
    if len(dims) != len(_DIM_OPEN.findall(head)):
        return False
    try:
        for attrs in dims:
            m = _REF_ATTR.search(attrs)
            _dimension(m.group(1).decode("utf-8") if m else None)
    except ScanError:
        return False
    return True


def _whole(data: bytes, start: int) -> SheetScan | None:
    """A part whose ``<sheetData/>`` holds no rows: well-formed, its dimensions within the bounds."""
    if _ODD.search(data, _declared(data), start) or _OPENS.search(data, 1, start) or not _frame(data):
        return None
    head = data[:start]
    if not _dimensions_ok(head):
        return None
    return SheetScan(raw={})


def _joined(runs: list[_Rows]) -> SheetScan | None:
    """The sheet's scan from its rows; ``None`` for a row number with cells
    twice (Excel never writes one; the expat pass decides)."""
    out = SheetScan(raw={})
    formulas, raw, errors = out.formulas, out.raw, out.errors
    seen: set[int] = set()
    cells = rows = cols = 0
    for run in runs:
        if not run.rcs:
            continue
        if run.row in seen:
            return None
        seen.add(run.row)
        cells += len(run.rcs)
        if run.rows > rows:
            rows = run.rows
        if run.cols > cols:
            cols = run.cols
        if run.formulas:
            formulas |= run.formulas
        if run.raw:
            raw.update(run.raw)
        if run.errors:
            errors.update(run.errors)
    if cells > MAX_CELLS or rows > MAX_ROWS or cols > MAX_COLS:
        return None
    out.cells, out.rows, out.cols = cells, rows, cols
    return out
